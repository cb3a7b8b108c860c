# Every target works on a fresh machine with only Python >= 3.10 and the package index:
# the virtual environment is created and filled on first use, and refreshed when
# pyproject.toml changes.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help install test lint format demo integration bench soak clean

help:
	@echo "make test         unit + emulator tests (offline)"
	@echo "make lint         ruff check, ruff format --check, mypy --strict"
	@echo "make demo         streaming chat demo (real API with XAI_API_KEY, else the local emulator)"
	@echo "make integration  tests against api.x.ai (skipped without XAI_API_KEY)"
	@echo "make bench        benchmarks (bench/)"
	@echo "make soak         soak + chaos run: thousands of calls with injected faults, leak checks"

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "Python >= 3.10 is required (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	@touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest --cov --cov-report=term -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: $(STAMP)
	$(BIN)/python examples/demo.py

integration: $(STAMP)
	$(BIN)/python -m pytest integration_tests -q -p no:cacheprovider

# The bench has its own venv: langchain-xai (the incumbent it is compared with) must never be
# installed next to the package's own dependencies. BENCH_ARGS=--quick for a smaller run.
BENCH_VENV  := bench/.venv
BENCH_STAMP := $(BENCH_VENV)/.installed

$(BENCH_STAMP): pyproject.toml bench/requirements.txt
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "Python >= 3.10 is required (set PYTHON=...)"; exit 1; }
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e . -r bench/requirements.txt
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/run.py $(BENCH_ARGS)

# Thousands of ChatGrok calls through the emulator with injected faults (about a minute on two
# cores): every outcome checked exactly, descriptors and memory compared. SOAK_ARGS="--calls N".
soak: $(STAMP)
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
