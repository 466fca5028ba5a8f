# The whole set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lint typecheck test test-compat docs fuzz demo schema bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,lint,docs]'
	touch $(STAMP)

lint: install
	$(BIN)/ruff check src tests bench docs/*.py
	$(BIN)/ruff format --check src tests bench docs/*.py
	$(BIN)/mypy

test: lint docs
	$(BIN)/pytest -n 2 --dist loadgroup -q

# Every supported Prefect version: the server-version tests against servers of Prefect 3.4,
# 3.6, 3.8 and 3.9, and the offline tests with the oldest client (3.4); one locked
# environment each (compat/*.txt), cached in .cache/compat. See docs/compatibility.md.
test-compat: install
	compat/run.sh

# The documentation site (mkdocs.yml, docs/) into site/; --strict: any warning fails.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# Longer coverage-guided fuzzing (atheris) of the config loader and the command line than
# the short pass in `make test`; a crash fails and leaves its input in crash-<hash>.
# FUZZ_RUNS per fuzzer.
FUZZ_RUNS ?= 50000
fuzz: install
	$(BIN)/python tests/fuzz/fuzz_loader.py -runs=$(FUZZ_RUNS) -max_len=4096
	$(BIN)/python tests/fuzz/fuzz_cli.py -runs=$(FUZZ_RUNS) -max_len=128 -len_control=0

# The JSON Schema and the config reference page, both generated from the models.
schema: install
	$(BIN)/flowfleet schema > schema/flowfleet.schema.json
	$(BIN)/python docs/gen_reference.py > docs/reference.md

demo: install
	examples/quickstart/demo.sh

# Timings against `prefect deploy` and the raw API (SQLite and PostgreSQL servers); see
# docs/performance.md. Quick run: make bench BENCH_ARGS="--sizes 10,100 --runs 1"
BENCH_ARGS ?=
bench: install
	$(BIN)/pip install --quiet matplotlib
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site
