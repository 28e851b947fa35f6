# Two commands on a fresh machine: `make simulate SCENARIO=polgar` and `make test`.
# Each bootstraps .venv on first use and re-installs only when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SCENARIO ?= polgar
ARGS ?=

.PHONY: simulate test lint format bench bench-threads bench-whatif bench-verify clean

simulate: $(VENV)/.stamp-run
	$(BIN)/sim run $(SCENARIO) $(ARGS)

test: $(VENV)/.stamp-dev
	$(BIN)/python -m pytest -q $(ARGS)

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.stamp-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.stamp-dev
	$(BIN)/python bench/run.py $(ARGS)

# Real CPython threads against the threaded schedule (minutes; wants a quiet machine),
# and what each schedule costs the engine.
bench-threads: $(VENV)/.stamp-dev
	$(BIN)/python bench/schedules.py
	$(BIN)/python bench/gil_handoffs.py
	$(BIN)/python bench/gil_real.py $(ARGS)

bench-whatif: $(VENV)/.stamp-dev
	$(BIN)/python bench/whatif.py $(ARGS)

# Real runs on the wall clock beside the engine (a few minutes; see bench/verify.py).
bench-verify: $(VENV)/.stamp-dev
	$(BIN)/python bench/verify.py $(ARGS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.stamp-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.stamp-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.stamp-run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find results -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
