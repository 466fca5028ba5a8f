# The whole set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lint typecheck test fuzz demo schema bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,lint]'
	touch $(STAMP)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -n 2 --dist loadgroup -q

# Longer coverage-guided fuzzing (atheris) of the config loader and the command line than
# the short pass in `make test`; a crash fails and leaves its input in crash-<hash>.
# FUZZ_RUNS per fuzzer.
FUZZ_RUNS ?= 50000
fuzz: install
	$(BIN)/python tests/fuzz/fuzz_loader.py -runs=$(FUZZ_RUNS) -max_len=4096
	$(BIN)/python tests/fuzz/fuzz_cli.py -runs=$(FUZZ_RUNS) -max_len=128 -len_control=0

schema: install
	$(BIN)/flowfleet schema > schema/flowfleet.schema.json

demo: install
	examples/quickstart/demo.sh

# Timings against `prefect deploy` and the raw API (SQLite and PostgreSQL servers); see
# docs/performance.md. Quick run: make bench BENCH_ARGS="--sizes 10,100 --runs 1"
BENCH_ARGS ?=
bench: install
	$(BIN)/pip install --quiet matplotlib
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
