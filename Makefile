# mqmkg: every target has a "## help" comment; `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install install-runtime browser nginx comunica serve test test-fast validate lint format export bench bench-smoke screenshots clean

help: ## list the targets and the variables they read
	@echo "make TARGET [HOST=$(HOST)] [PORT=$(PORT)]"
	@echo
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -e 's/$$(HOST)/$(HOST)/g' -e 's/$$(PORT)/$(PORT)/g' \
	  | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'
	@echo
	@echo "Variables: HOST=$(HOST) PORT=$(PORT) (e.g. make serve PORT=8080), PYTHON=$(PYTHON), VENV=$(VENV)."
	@echo "Every setting is also an MQMKG_* environment variable: $(VENV)/bin/mqmkg --help lists them."

# Two stamps: the runtime (what `serve`, `validate`, `export` need) and the test tools on top.
$(VENV)/.runtime: pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3 -m venv failed; installing python3-venv with apt-get"; \
	  apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	@touch $@

$(VENV)/.installed: $(VENV)/.runtime
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

install-runtime: $(VENV)/.runtime ## create .venv with the runtime dependencies only

install: $(VENV)/.installed ## create .venv from pyproject.toml, test tools included

browser: ## install Debian's chromium for the browser tests (apt-get, only where missing)
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "chromium missing; installing Debian's chromium with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core; }

serve: install-runtime ## build the store from graph/ and serve it on http://$(HOST):$(PORT)/
	$(VENV)/bin/mqmkg serve --host $(HOST) --port $(PORT)

nginx: ## install Debian's nginx (for tests/test_deploy.py) with apt-get, only if it is missing
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  echo "nginx is missing; installing it with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; }

comunica: ## install Comunica from npm into tests/comunica (for tests/test_comunica.py), only if it is missing
	@[ -x tests/comunica/node_modules/.bin/comunica-sparql ] || { \
	  echo "installing Comunica into tests/comunica with npm"; \
	  cd tests/comunica && npm install --no-audit --no-fund --loglevel=error; }

test: install browser nginx comunica lint ## lint, run the test suite, then validate the graph
	$(PY) -m pytest
	$(VENV)/bin/mqmkg validate --quiet

test-fast: install browser ## run the test suite without the slow tests
	$(PY) -m pytest -m "not slow"

validate: install-runtime ## SHACL + QC queries + quote checks; exit 1 on any ERROR, 2 if it cannot run
	$(VENV)/bin/mqmkg validate --quiet

screenshots: install browser ## regenerate docs/screenshots/*.png with the browser tests that take them
	MQMKG_SCREENSHOTS_DIR=docs/screenshots $(PY) -m pytest -m browser -k screenshot -q

lint: install ## ruff check and format check; parse every .rq and check the canned queries' headers
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mqmkg check-queries

format: install ## ruff format and fix
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

export: install-runtime ## write dist/: the dumps, Wikidata links, source text, VoID, README, SHA256SUMS
	$(VENV)/bin/mqmkg export

$(VENV)/.bench: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install -q -e '.[test,bench]'
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "wrk missing; installing Debian's wrk with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	@touch $@

SIZES ?= S,M
bench: $(VENV)/.bench ## benchmark S and M against native Oxigraph, bare FastAPI+pyoxigraph, rdflib-endpoint (SIZES=S,M,L)
	$(PY) bench/run.py --sizes $(SIZES)

bench-smoke: $(VENV)/.bench ## a short benchmark run on S with three queries (no figures asserted)
	$(PY) bench/run.py --smoke

clean: ## remove the venv and build outputs
	rm -rf $(VENV) dist .pytest_cache bench/work
