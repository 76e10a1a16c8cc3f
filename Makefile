# Two entry points (see README.md):
#   make demo   set up .venv from uv.lock if missing, then run the main job on DATASET
#               (make demo DATASET=speechdata.zip ENGINE=wav2vec2 CHECKPOINT=w.pth)
#   make test   set up .venv from uv.lock if missing, then run the whole test suite
#   make lock   re-resolve uv.lock after a change to pyproject.toml (or to upgrade: see docs/install.md)
# Any CPython 3.11-3.13 (requires-python); make PYTHON=python3.12 picks another.
PYTHON ?= python3
VENV ?= .venv
# The uv that installs the lock; pyproject.toml's dev extra pins the same version
# (tests/test_install.py checks that the two agree).
UV_VERSION = 0.13.9
UV = $(VENV)/bin/uv
DATASET ?= ../shared/data/ljspeech-sample
ENGINE ?= pocketsphinx
DB ?= asrlens.duckdb
OUT ?= asrlens-report
ASRLENS = $(VENV)/bin/asrlens
# uv uses the venv's interpreter, never one it downloads, and installs exactly the lock.
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test lint lock clean

$(UV):
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q uv==$(UV_VERSION)

# --locked: refuse to install when uv.lock no longer matches pyproject.toml (run make lock).
# The ray extra too, so `make test` runs the Ray tests (tests/test_ray.py) on a local cluster,
# and the whisper extra, so it runs the Whisper accuracy tests and `make demo` its second run.
$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --extra dev --extra ray --extra whisper
	touch $@

# ENGINE=wav2vec2 (the CLI's default) needs its weights in the torch hub cache or a
# CHECKPOINT=file; pocketsphinx ships its English model, so the demo runs offline.
demo: $(VENV)/.installed
	$(ASRLENS) run $(DATASET) --engine $(ENGINE) $(if $(CHECKPOINT),--checkpoint $(CHECKPOINT)) --out $(OUT) --db $(DB)
	$(ASRLENS) explore --seed 0 --no-wav2vec2 --out $(OUT)/explore --db $(DB)

test: $(VENV)/.installed
	$(VENV)/bin/python -m pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

# Re-resolve the lock from pyproject.toml, keeping every locked version that still fits.
# To move one dependency: make lock UPGRADE='--upgrade-package jiwer'; all: UPGRADE=--upgrade.
lock: | $(UV)
	$(UV) lock $(UPGRADE)

clean:
	rm -rf $(OUT) $(DB) $(DB).wal
