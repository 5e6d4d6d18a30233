PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# `make demo` needs only provenance itself; `make test` adds the test extra.
RUNTIME := $(VENV)/.installed-runtime
TESTDEPS := $(VENV)/.installed-test
DOCSDEPS := $(VENV)/.installed-docs

.PHONY: demo test docs lint format typecheck bench bench-batch bench-recovery bench-repository fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME)

$(TESTDEPS): $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TESTDEPS)

$(DOCSDEPS): $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $(DOCSDEPS)

demo: $(RUNTIME)
	$(BIN)/provenance demo

test: $(TESTDEPS)
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

# The docs site (mkdocs.yml, docs/) into build/site; any warning fails it.
docs: $(DOCSDEPS)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# The lint gate: `make test` runs it first, so CI fails on a finding.
lint: $(TESTDEPS)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(TESTDEPS)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(TESTDEPS)
	$(BIN)/python -m pytest -q tests/test_typing.py

# Fuzz for FUZZ_SECONDS (half CLI subprocesses, half in-process); failures
# go to fuzz-findings/ (mutated file, recipe, output). make test runs ~30 s of it.
FUZZ_SECONDS ?= 600
FUZZ_JOBS ?= 1
fuzz: $(TESTDEPS)
	$(BIN)/python -m tests.fuzz --seconds $(FUZZ_SECONDS) --jobs $(FUZZ_JOBS) --findings fuzz-findings $(FUZZ_ARGS)

bench-batch: $(RUNTIME)
	$(BIN)/python benchmarks/bench_batch.py

# starts its own PostgreSQL with the tests' helper, hence the test extra
bench-repository: $(TESTDEPS)
	$(BIN)/python benchmarks/bench_repository.py

bench: $(RUNTIME)
	$(BIN)/python benchmarks/bench_sign_verify.py --sizes 100 1000 --runs 5

bench-recovery: $(RUNTIME)
	$(BIN)/python benchmarks/bench_recovery.py --quick

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
