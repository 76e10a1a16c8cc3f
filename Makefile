# Two entry points (see README.md):
#   make demo   set up .venv if missing, then run the main job on DATASET
#               (make demo DATASET=speechdata.zip ENGINE=wav2vec2 CHECKPOINT=w.pth)
#   make test   set up .venv if missing, then run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
DATASET ?= ../shared/data/ljspeech-sample
ENGINE ?= pocketsphinx
DB ?= asrlens.duckdb
OUT ?= asrlens-report
ASRLENS = $(VENV)/bin/asrlens

.PHONY: demo test lint clean

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[dev]'
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

clean:
	rm -rf $(OUT) $(DB) $(DB).wal
