# podbrief: `make up`, `make demo` and `make test` install everything they need themselves.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
DEB_STAMP := $(VENV)/.debs
PACKAGES := -e packages/contracts -e packages/runtime -e services/ingest -e services/transcribe -e services/rank -e services/notify
PROJECT_FILES := pyproject.toml constraints.txt $(wildcard packages/*/pyproject.toml services/*/pyproject.toml)
# Debian packages the tests need: chromium (brief screenshot test), docker-compose (compose file check).
DEBS := chromium docker-compose
# PostgreSQL of the development and CI machines (trust auth); the tests that need it read this variable.
export PODBRIEF_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install up demo test test-fast lint bench docs clean

install: $(STAMP)

$(PY):
	python3 -m venv $(VENV)

# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build; 2.13.0 is the CPU build on this disk.
$(STAMP): $(PY) $(PROJECT_FILES)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -c constraints.txt $(PACKAGES) -e '.[test]'
	touch $(STAMP)

$(DEB_STAMP): $(PY)
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	touch $(DEB_STAMP)

up: $(STAMP)
	$(VENV)/bin/podbrief up

demo: $(STAMP)
	$(VENV)/bin/podbrief demo

lint: $(STAMP)
	$(VENV)/bin/ruff check packages services src tests bench
	$(VENV)/bin/mypy --strict packages/contracts/podbrief_contracts

test: $(STAMP) $(DEB_STAMP) lint
	$(PY) -m pytest -q -p no:cacheprovider

test-fast: $(STAMP) lint
	$(PY) -m pytest -q -p no:cacheprovider -m "not slow"

# wrk drives the API benchmark (it falls back to an httpx load generator without it).
bench: $(STAMP)
	@dpkg -s wrk >/dev/null 2>&1 || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk >/dev/null; }
	for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf var .pytest_cache
