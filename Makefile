# Every target works on a fresh machine with only Python >= 3.10 and the package index:
# the virtual environment is created and filled on first use, and refreshed when
# pyproject.toml changes.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help install test lint format demo integration bench clean

help:
	@echo "make test         unit + emulator tests (offline)"
	@echo "make lint         ruff check, ruff format --check, mypy --strict"
	@echo "make demo         streaming chat demo (real API with XAI_API_KEY, else the local emulator)"
	@echo "make integration  tests against api.x.ai (skipped without XAI_API_KEY)"
	@echo "make bench        benchmarks (bench/)"

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

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
