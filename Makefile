# One command to install and run, one to install and test. Needs only Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCENARIO ?= scenarios/logistics.toml

.PHONY: install compile run test lint format bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (found: $$($(PYTHON) --version 2>&1))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Bytecode for every module, written once here rather than on a run's first start
# (compileall skips modules whose bytecode is current).
compile: $(STAMP)
	@$(BIN)/python -m compileall -q simulator

install: compile  ## create .venv, install the simulator with its test tools, byte-compile it

run: compile  ## simulate the logistics scenario and write reports/logistics/
	$(BIN)/simulate $(SCENARIO)

test: compile  ## run the whole test suite
	$(BIN)/python -m pytest -q

lint: $(STAMP)  ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)  ## side-by-side timings and memory; writes BENCHMARKS.md (several minutes)
	$(BIN)/python benchmarks/run.py

clean:  ## remove the virtualenv and generated reports
	rm -rf $(VENV) reports/*/ .pytest_cache .hypothesis
