# The README's two commands: `make run` (whole pipeline on generated data) and `make test`.
# Both create .venv from Python 3.10 and install the pinned set once (idempotent).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
LOCK := requirements.lock
STAMP := $(VENV)/.installed-$(shell cat $(LOCK) pyproject.toml 2>/dev/null | cksum | cut -d' ' -f1)
export TF_USE_LEGACY_KERAS := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
CITY ?= london
RUN_ARGS ?=

.PHONY: run test test-fast lint install image clean-venv system-packages

run: $(STAMP)
	$(VENV)/bin/traffic-pipeline run --city $(CITY) $(RUN_ARGS)

test: $(STAMP) system-packages
	$(PY) -m pytest tests

# Debian packages some tests need (browser, database server), installed when missing.
system-packages:
	@tests/system_packages.sh

test-fast: $(STAMP)
	$(PY) -m pytest tests -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

install: $(STAMP)

$(STAMP):
	@set -e; \
	if [ ! -x $(PY) ]; then \
	  if python3.10 --version >/dev/null 2>&1; then py=(python3.10); \
	  elif PYENV_VERSION=3.10.13 python3.10 --version >/dev/null 2>&1; then py=(env PYENV_VERSION=3.10.13 python3.10); \
	  else echo "error: Python 3.10 is required (TFX 1.16 supports 3.9-3.10). Install it, e.g. 'pyenv install 3.10.13' or your OS package python3.10, then re-run make." >&2; exit 1; fi; \
	  echo "creating $(VENV) with $$("$${py[@]}" --version)"; \
	  "$${py[@]}" -m venv $(VENV); \
	fi; \
	$(PY) -m pip install --quiet pip==24.2; \
	echo "installing the pinned package set from $(LOCK) (first time: several minutes)"; \
	$(PY) -m pip install --quiet -c $(LOCK) -e '.[dev]'; \
	rm -f $(VENV)/.installed-*; touch $@

image:
	docker build -f deploy/Dockerfile -t $${IMAGE:-traffic-embeddings:latest} .

clean-venv:
	rm -rf $(VENV)
