# Two commands on a fresh machine: `make simulate SCENARIO=polgar` and `make test`.
# Each bootstraps .venv on first use and re-installs only when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SCENARIO ?= polgar
ARGS ?=

.PHONY: simulate test test-wallclock lint format docs docs-serve bench bench-threads bench-whatif bench-verify bench-record-any bench-instant same-results clean

simulate: $(VENV)/.stamp-run $(VENV)/.stamp-bytecode
	$(BIN)/sim run $(SCENARIO) $(ARGS)

# The default suite leaves out what compares with the wall clock (marker `wallclock`).
test: $(VENV)/.stamp-dev $(VENV)/.stamp-bytecode
	$(BIN)/python -m pytest -q -m "not wallclock" $(ARGS)

# Real threads, processes and programs against the engine: wants a quiet machine.
test-wallclock: $(VENV)/.stamp-dev $(VENV)/.stamp-bytecode
	$(BIN)/python -m pytest -q -m wallclock $(ARGS)

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# The site (tutorial, how-to guides, reference, explanation) into site/.
docs: $(VENV)/.stamp-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-serve: $(VENV)/.stamp-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

format: $(VENV)/.stamp-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.stamp-dev $(VENV)/.stamp-bytecode
	$(BIN)/python bench/run.py $(ARGS)

# Real CPython threads against the threaded schedule (minutes; wants a quiet machine),
# and what each schedule costs the engine.
bench-threads: $(VENV)/.stamp-dev $(VENV)/.stamp-bytecode
	$(BIN)/python bench/schedules.py
	$(BIN)/python bench/gil_handoffs.py
	$(BIN)/python bench/gil_real.py $(ARGS)

# How soon `sim run polgar` prints its table, whole commands, `sim --help`, `sim list`.
bench-instant: $(VENV)/.stamp-dev $(VENV)/.stamp-bytecode
	$(BIN)/python bench/instant.py $(ARGS)

bench-whatif: $(VENV)/.stamp-dev $(VENV)/.stamp-bytecode
	$(BIN)/python bench/whatif.py $(ARGS)

# Real runs on the wall clock beside the engine (a few minutes; see bench/verify.py).
bench-verify: $(VENV)/.stamp-dev $(VENV)/.stamp-bytecode
	$(BIN)/python bench/verify.py $(ARGS)

# Programs that are not asyncio, recorded, against their real rewrites (a few minutes;
# wants a quiet machine), and what recording costs per intercepted call.
bench-record-any: $(VENV)/.stamp-dev $(VENV)/.stamp-bytecode
	$(BIN)/python bench/record_any.py $(ARGS)
	$(BIN)/python bench/record_overhead_any.py

# Every shipped scenario and example gives the same bytes as commit REV (default HEAD).
REV ?= HEAD
same-results: $(VENV)/.stamp-dev $(VENV)/.stamp-bytecode
	$(BIN)/python bench/same_results.py --against $(REV)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.stamp-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.stamp-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.stamp-run

# Python keeps its compiled modules unless PYTHONDONTWRITEBYTECODE is set; with it set,
# every `sim` would compile its own modules again first (about 70 ms of a 0.3 s start).
# So they are compiled here, once after each edit; the installed libraries already are.
$(VENV)/.stamp-bytecode: $(shell find sim -name '*.py') | $(BIN)/python
	$(BIN)/python -m compileall -q sim
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .import_linter_cache build dist site *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find results -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
