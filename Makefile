# mqmkg: every target has a "## help" comment; `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install browser serve test test-fast validate lint format export clean screenshots

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

browser: ## install Debian's chromium for the browser tests (apt-get, only where missing)
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "chromium missing; installing Debian's chromium with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core; }

serve: install ## build the store from graph/ and serve it on http://$(HOST):$(PORT)
	$(VENV)/bin/mqmkg serve --host $(HOST) --port $(PORT)

test: install browser lint ## lint, run the test suite, then validate the graph
	$(PY) -m pytest
	$(VENV)/bin/mqmkg validate

test-fast: install browser ## run the test suite without the slow tests
	$(PY) -m pytest -m "not slow"

validate: install ## SHACL + QC queries + quote checks; exit 1 on any ERROR, 2 if it cannot run
	$(VENV)/bin/mqmkg validate

screenshots: install browser ## regenerate docs/screenshots/*.png with the browser tests that take them
	MQMKG_SCREENSHOTS_DIR=docs/screenshots $(PY) -m pytest -m browser -k screenshot -q

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
