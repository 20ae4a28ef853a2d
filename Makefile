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

.PHONY: run test bench lint typecheck check install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

$(CHECKOV):
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)

run: install
	$(VENV)/bin/fte up

test: install $(CHECKOV)
	CHECKOV_BIN=$(CHECKOV) $(PY) -m pytest --cov=production --cov-report=term-missing:skip-covered --cov-fail-under=80

bench: install
	$(PY) bench/run.py

lint: install
	$(VENV)/bin/ruff check production tests bench

typecheck: install
	$(VENV)/bin/mypy

check: lint typecheck test

clean:
	rm -rf .fte .venv-checkov .pytest_cache .mypy_cache .ruff_cache htmlcov .coverage .coverage.*
