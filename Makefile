# The two commands for a fresh machine: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON_SYS ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(PYTHON_SYS) -m uv
TEST_DATA := $(CURDIR)/.data/test

.PHONY: run test setup browser lint stop

setup: $(VENV)/.synced

# uv comes from PyPI like every other dependency; the lock file decides every version.
$(VENV)/.synced: pyproject.toml uv.lock
	@$(PYTHON_SYS) -m uv --version >/dev/null 2>&1 || $(PYTHON_SYS) -m pip install --quiet --disable-pip-version-check uv
	$(UV) sync --frozen --python 3.11
	@touch $@

run: setup
	$(PY) -m config.run

# Chromium for the end-to-end tests comes from Debian (Playwright cannot download browsers here).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Debian's chromium for the end-to-end tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# Tests use their own embedded servers under .data/test, started once and stopped at the end.
test: setup browser lint
	@set -o pipefail; \
	export AKAGI_DATA_DIR=$(TEST_DATA); \
	trap '$(PY) -m config.embedded stop >/dev/null' EXIT; \
	$(PY) -m config.embedded start && $(PY) -m pytest $(PYTEST_ARGS)

stop: setup
	$(PY) -m config.embedded stop
