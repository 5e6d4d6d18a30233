PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test typecheck bench bench-batch clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/provenance demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

typecheck: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_typing.py

bench-batch: $(STAMP)
	$(BIN)/python benchmarks/bench_batch.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_sign_verify.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
