# Kaido: `make run` starts the broker, `make test` runs the whole suite.
# Both set themselves up first (a virtualenv in .venv with the project and its test tools).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test lint format bench clean mqtt-broker browser

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: install
	$(BIN)/python -m broker run

test: install mqtt-broker browser
	$(BIN)/python -m pytest -q

# The MQTT notification tests run against a real Mosquitto (Debian package mosquitto),
# installed here when missing and apt-get is usable (root); otherwise they are skipped.
mqtt-broker:
	@command -v mosquitto >/dev/null 2>&1 || test -x /usr/sbin/mosquitto || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	     mosquitto) >/dev/null 2>&1; } || \
	  echo "mosquitto is not installed: the MQTT notification tests will be skipped"

# The browser test of examples/subscriber drives Debian's chromium (and a Japanese font for
# Nara's names), installed here when missing and apt-get is usable (root); otherwise skipped.
browser:
	@{ test -x /usr/bin/chromium && test -e /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf; } || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	     chromium fonts-ipafont-gothic) >/dev/null 2>&1; } || \
	  test -x /usr/bin/chromium || \
	  echo "chromium is not installed: the browser test of examples/subscriber will be skipped"

lint: install
	$(BIN)/ruff check broker tests examples
	$(BIN)/ruff format --check broker tests examples
	$(BIN)/mypy

format: install
	$(BIN)/ruff format broker tests examples
	$(BIN)/ruff check --fix broker tests examples

bench: install
	$(BIN)/python tests/benchmarks/bench_entities.py
	$(BIN)/python tests/benchmarks/bench_notifications.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
