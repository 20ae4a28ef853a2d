# Two commands on a fresh machine: `make run` and `make test`. Everything else installs itself.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench lint typecheck check install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: install
	$(VENV)/bin/fte up

test: install
	$(PY) -m pytest --cov=production --cov-report=term-missing:skip-covered --cov-fail-under=80

bench: install
	$(PY) bench/run.py

lint: install
	$(VENV)/bin/ruff check production tests bench

typecheck: install
	$(VENV)/bin/mypy

check: lint typecheck test

clean:
	rm -rf .fte .pytest_cache .mypy_cache .ruff_cache htmlcov .coverage .coverage.*
