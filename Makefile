# mqmkg: every target has a "## help" comment; `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install serve test test-fast validate lint format export clean nginx comunica

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3 -m venv failed; installing python3-venv with apt-get"; \
	  apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

install: $(VENV)/.installed ## create .venv from pyproject.toml (test extras included)

serve: install ## build the store from graph/ and serve it on http://$(HOST):$(PORT)
	$(VENV)/bin/mqmkg serve --host $(HOST) --port $(PORT)

nginx: ## install Debian's nginx (for tests/test_deploy.py) with apt-get, only if it is missing
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  echo "nginx is missing; installing it with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; }

comunica: ## install Comunica from npm into tests/comunica (for tests/test_comunica.py), only if it is missing
	@[ -x tests/comunica/node_modules/.bin/comunica-sparql ] || { \
	  echo "installing Comunica into tests/comunica with npm"; \
	  cd tests/comunica && npm install --no-audit --no-fund --loglevel=error; }

test: install lint nginx comunica ## lint, run the test suite, then validate the graph
	$(PY) -m pytest
	$(VENV)/bin/mqmkg validate

test-fast: install ## run the test suite without the slow tests
	$(PY) -m pytest -m "not slow"

validate: install ## SHACL + QC queries + quote checks; exit 1 on any ERROR, 2 if it cannot run
	$(VENV)/bin/mqmkg validate

lint: install ## ruff check and format check; parse every .rq and check the canned queries' headers
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/mqmkg check-queries

format: install ## ruff format and fix
	$(VENV)/bin/ruff format src tests
	$(VENV)/bin/ruff check --fix src tests

export: install ## write dist/: Turtle, N-Triples, JSON-LD, checksums, VoID
	$(VENV)/bin/mqmkg export

clean: ## remove the venv and build outputs
	rm -rf $(VENV) dist .pytest_cache
