# Everything runs from .venv, which `run` and `test` create or reuse themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP_QUIET ?= -q

.PHONY: run test lint bench screenshots system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_QUIET) --upgrade pip

# Reinstall whenever pyproject.toml changes; editable so the working tree is what runs.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install $(PIP_QUIET) -e '.[dev]'
	touch $@

system-deps:
	@./.ci/system-deps

run: system-deps $(STAMP)
	KIVY_NO_ARGS=1 KIVY_LOG_MODE=PYTHON $(BIN)/kiosk $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check kiosk sync tests bench
	$(BIN)/mypy

test: system-deps $(STAMP) lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench.run_all

screenshots: $(STAMP)
	$(BIN)/python -m kiosk.screenshots docs/screenshots

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
