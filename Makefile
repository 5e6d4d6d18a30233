PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# `make demo` needs only provenance itself; `make test` adds the test extra.
RUNTIME := $(VENV)/.installed-runtime
TESTDEPS := $(VENV)/.installed-test

.PHONY: demo test typecheck bench bench-batch bench-recovery bench-repository clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME)

$(TESTDEPS): $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TESTDEPS)

demo: $(RUNTIME)
	$(BIN)/provenance demo

test: $(TESTDEPS)
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

typecheck: $(TESTDEPS)
	$(BIN)/python -m pytest -q tests/test_typing.py

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
