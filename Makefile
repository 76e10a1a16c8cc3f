# Two entry points (see README.md):
#   make demo   set up .venv if missing, then run the main job on DATASET
#   make test   set up .venv if missing, then run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
DATASET ?= ../shared/data/ljspeech-sample
ENGINE ?= pocketsphinx
DB ?= asrlens.duckdb
OUT ?= asrlens-report
ASRLENS = $(VENV)/bin/asrlens --db $(DB)

.PHONY: demo test lint clean

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(ASRLENS) ingest $(DATASET)
	$(ASRLENS) explore --seed 0 --out $(OUT)/explore

test: $(VENV)/.installed
	$(VENV)/bin/python -m pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(OUT) $(DB) $(DB).wal
