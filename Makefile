# thinkio: the two commands a newcomer needs are `make run` and `make test` (see README.md).
# Everything they need is installed by these targets on a fresh machine.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint unit setup fuzz-long clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff check thinkio tests fuzz protocol
	$(PY) -m mypy thinkio

unit: $(STAMP)
	HYPOTHESIS_PROFILE=ci $(PY) -m pytest tests fuzz -q

## The whole test run: lint, unit and fuzz (bounded `ci` profile).
test: lint unit

## A long fuzz campaign: make fuzz-long SECONDS=600
SECONDS ?= 600
fuzz-long: $(STAMP)
	$(PY) -m fuzz.campaign --seconds $(SECONDS)

clean:
	rm -rf $(VENV) .hypothesis .mypy_cache .ruff_cache .pytest_cache
