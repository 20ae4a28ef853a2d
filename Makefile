# Two commands on a fresh machine: `make run` and `make test`. Everything else installs itself.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# checkov pins packaging<24, which pytest 9 cannot live with: it gets a venv of its own.
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_VERSION := 3.3.30
# The web app (web-form/): npm dependencies and the Vite build, each redone only when its inputs
# change (stamps); Debian's Chromium for the browser tests (Playwright never downloads one here).
WEB := web-form
WEB_DEPS := $(WEB)/node_modules/.installed
WEB_BUILD := $(WEB)/dist/.built
WEB_SOURCES := $(WEB)/vite.config.js $(wildcard $(WEB)/*.html) \
	$(shell find $(WEB)/src -type f ! -name '*.test.*' ! -name 'test-*' 2>/dev/null)
CHROMIUM := /usr/bin/chromium

.PHONY: run test bench lint typecheck check install web clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

$(CHECKOV):
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)

$(WEB_DEPS): $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund
	@touch $@

$(WEB_BUILD): $(WEB_DEPS) $(WEB_SOURCES)
	cd $(WEB) && npm run build
	@touch $@

web: $(WEB_BUILD)

$(CHROMIUM):
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

run: install web
	$(VENV)/bin/fte up

# Vitest, then pytest, whose tests/e2e/test_browser.py runs the Playwright suite against `fte up`.
test: install $(CHECKOV) web $(CHROMIUM)
	cd $(WEB) && npx vitest run
	CHECKOV_BIN=$(CHECKOV) $(PY) -m pytest --cov=production --cov-report=term-missing:skip-covered --cov-fail-under=80

bench: install
	$(PY) bench/run.py

lint: install $(WEB_DEPS)
	$(VENV)/bin/ruff check production tests bench
	cd $(WEB) && npm run lint

typecheck: install
	$(VENV)/bin/mypy

check: lint typecheck test

clean:
	rm -rf .fte .venv-checkov .pytest_cache .mypy_cache .ruff_cache htmlcov .coverage .coverage.* \
		$(WEB)/dist $(WEB)/test-results
