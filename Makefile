# The whole set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The development and CI set-up, exactly: every package pinned with its hashes. The
# product itself keeps ranges in pyproject.toml (users bring their own Prefect).
LOCK := requirements/dev.lock
UV := $(BIN)/uv
UV_BOOTSTRAP := uv==0.13.9

.PHONY: install lock lint typecheck test test-compat docs fuzz demo schema bench clean

install: $(STAMP)

# uv comes from pip into the venv (the lock pins the same release), then installs exactly
# the lock; `uv pip sync` also removes anything the lock does not name.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check $(UV_BOOTSTRAP)
	$(UV) pip sync --quiet --python $(BIN)/python $(LOCK)
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

# A deliberate refresh of the lock: the newest releases that pyproject.toml and
# requirements/newest.txt allow. Review the diff, then `make test`.
lock:
	@test -x $(UV) || { $(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet $(UV_BOOTSTRAP); }
	$(UV) pip compile pyproject.toml --extra test --extra lint --extra docs --upgrade \
		--generate-hashes --no-emit-index-url --universal --python-version 3.11 \
		-c requirements/newest.txt -o $(LOCK) --quiet
	for v in 3.1 3.4 3.6 3.8 3.9; do $(UV) pip compile compat/server-$$v.in --python-version 3.11 \
		--generate-hashes --no-emit-index-url -o compat/server-$$v.txt --quiet; done
	$(UV) pip compile pyproject.toml --extra test --extra docs --python-version 3.11 \
		--override compat/client-3.4-overrides.txt --generate-hashes --no-emit-index-url \
		-o compat/client-3.4.txt --quiet

lint: install
	$(BIN)/ruff check src tests bench docs/*.py
	$(BIN)/ruff format --check src tests bench docs/*.py

typecheck: install
	$(BIN)/mypy

# Property tests are derandomised (tests/conftest.py, hypothesis profile "ci"): the same
# examples on every run; HYPOTHESIS_PROFILE=explore draws new ones.
test: lint typecheck docs
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
	$(UV) pip install --quiet --python $(BIN)/python matplotlib
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site
