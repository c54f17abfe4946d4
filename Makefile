# The two commands of the README: `make demo` and `make test`. Both set up .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LINTED := src tests $(wildcard bench scripts)

.PHONY: demo test lint typecheck clean fixtures bench

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	bash demo/run.sh $(BIN)/netvet

test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

typecheck: $(STAMP)
	$(BIN)/mypy

# Regenerates the committed fixture images; needs the real tools (see tests/fixtures/README.md).
fixtures:
	bash tests/fixtures/make_fixtures.sh

bench: $(STAMP)
	bash bench/run.sh

clean:
	rm -rf $(VENV) build dist src/*.egg-info
