# The two commands of the README: `make demo` and `make test`. Both set up .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LINTED := src tests $(wildcard bench scripts)

.PHONY: demo test lint typecheck system-deps clean fixtures bench

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	bash demo/run.sh $(BIN)/netvet

test: $(STAMP) lint typecheck system-deps
	$(BIN)/python -m pytest

# Debian packages the tests start or drive themselves (a real snmpd on 127.0.0.1; chromium
# renders the HTML audit report).
# Installed when missing, as root (CI runs as root); elsewhere those tests skip with a reason.
system-deps:
	@if ! command -v snmpd >/dev/null && [ ! -x /usr/sbin/snmpd ] && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends snmpd >/dev/null; fi
	@if ! command -v chromium >/dev/null && [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends chromium >/dev/null; fi

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
