# One command to install and run, one to install and test. Needs only Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCENARIO ?= scenarios/logistics.toml

.PHONY: install compile run test soak screenshots lint format bench clean

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

# The tests of what can hang or race (worker deaths, signals, threads, clusters, the
# report's move into place, the sizing limits), run again and again: each pass has a
# time limit, and a pass that fails or overruns stops the loop.
SOAK_PASSES ?= 10
SOAK_TESTS  := tests/test_executor.py tests/test_interrupt.py tests/test_stops.py tests/test_concurrency.py \
	tests/test_report_folder.py tests/test_sizing.py tests/test_hostile_input.py \
	tests/test_sweep.py tests/test_pinning.py
soak: compile  ## repeat the tests of hangs and races SOAK_PASSES times
	@for pass in $$(seq $(SOAK_PASSES)); do \
		echo "soak pass $$pass of $(SOAK_PASSES)"; \
		timeout --kill-after=10 600 $(BIN)/python -m pytest -q -p no:cacheprovider $(SOAK_TESTS) || exit 1; \
	done

# The first screen of the shipped reports at desktop and phone widths, for the docs
# (needs the system's Chromium: apt-get install -y chromium).
screenshots: compile  ## write docs/images/<scenario>-<width>.png
	$(BIN)/python scripts/screenshots.py logistics portfolio

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
