"""`--normalizer whisper`: OpenAI Whisper's EnglishTextNormalizer (package whisper-normalizer).

Pairs that differ only in how they are written score 0 errors under it and more than 0 under
ljspeech; the package's version is recorded with the run; the report lists its rules; a
missing package is one error line before anything is stored.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import rows

from asrlens.cli import cli
from asrlens.db import connect
from asrlens.infer import infer
from asrlens.infer.recognizers.base import Hypothesis, Recognizer
from asrlens.scoring import normalize
from asrlens.scoring.normalize import LJSPEECH, WHISPER, get_normalizer
from asrlens.scoring.score import score_texts

pytest.importorskip("whisper_normalizer", reason="the whisper extra is not installed")

FORMATTING_PAIRS = [
    ("the fifteenth century", "the 15th century"),
    ("Mr. Smith came", "mister smith came"),
    ("a colour print", "a color print"),
    ("twenty-five letters", "25 letters"),
]
"""(reference, hypothesis): the same words, written two ways."""


@pytest.mark.parametrize(("reference", "hypothesis"), FORMATTING_PAIRS)
def test_formatting_differences_cost_nothing_under_whisper_but_do_under_ljspeech(
        reference, hypothesis):
    assert score_texts(WHISPER(reference), WHISPER(hypothesis)).errors == 0
    assert score_texts(LJSPEECH(reference), LJSPEECH(hypothesis)).errors > 0


def test_whisper_rules_lower_case_and_write_numbers_in_digits():
    assert WHISPER("Printing, in the only sense; with which.") == (
        "printing in the only sense with which")
    assert WHISPER("in fourteen fifty-five") == WHISPER("in 1455") == "in 1455"
    assert WHISPER("  ") == "" and WHISPER(None) == ""
    assert WHISPER("uh the (aside) book") == "the book"


def test_whisper_scores_the_raw_transcript():
    assert get_normalizer("whisper") is WHISPER and WHISPER.id == "whisper-v1"
    assert WHISPER.reference_column == "transcript"
    assert WHISPER.reference(transcript="in 1455", normalized="in fourteen fifty-five") == (
        "in 1455")
    assert WHISPER.package == "whisper-normalizer"
    assert any("EnglishTextNormalizer" in rule for rule in WHISPER.rule_list)


class Hears(Recognizer):
    """Hears every file as the same text."""

    name = "hears"
    model = "fixed"

    def __init__(self, text: str):
        self.text = text

    def transcribe(self, samples: np.ndarray) -> Hypothesis:
        return Hypothesis(text=self.text)


def test_a_run_records_the_normalizer_and_its_package_version(ingested_db, tmp_path):
    from importlib import metadata

    db = tmp_path / "w.duckdb"
    shutil.copy(ingested_db, db)
    engine = connect(db)
    try:
        infer(engine, recognizer=Hears("printing in the only sense"), normalizer="whisper",
              run_id="w", limit=1, progress=False)
    finally:
        engine.dispose()
    run = rows(db, "select * from runs where run_id = 'w'")[0]
    assert (run["normalizer"], run["reference_column"]) == ("whisper-v1", "transcript")
    assert run["versions"]["whisper-normalizer"] == metadata.version("whisper-normalizer")
    stored = rows(db, "select ref_norm, hyp_norm from transcripts where run_id = 'w'")[0]
    assert stored["hyp_norm"] == "printing in the only sense"
    assert stored["ref_norm"] == stored["ref_norm"].lower() and "," not in stored["ref_norm"]


def test_without_the_package_whisper_is_one_error_line_and_nothing_is_stored(
        ingested_db, tmp_path, monkeypatch):
    db = tmp_path / "missing.duckdb"
    shutil.copy(ingested_db, db)
    monkeypatch.setitem(__import__("sys").modules, "whisper_normalizer.english", None)
    normalize._whisper_english.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["infer", "--engine", "pocketsphinx", "--normalizer",
                                          "whisper", "--no-progress", "--db", str(db)])
    finally:
        normalize._whisper_english.cache_clear()
    assert result.exit_code == 1
    assert result.output.startswith("Error: --normalizer whisper needs the package "
                                    "whisper-normalizer")
    assert result.output.rstrip().endswith("pip install 'asrlens[whisper]'")
    assert len(result.output.strip().splitlines()) == 1
    assert rows(db, "select * from runs") == []


def test_the_report_lists_what_the_whisper_normalizer_changes():
    from asrlens.report.sections.run_scoring import _normalizer

    shown = _normalizer("whisper-v1")
    assert shown["rules"] == WHISPER.rule_list and len(shown["rules"]) >= 5
    assert any("fifteenth -> 15th" in rule for rule in shown["rules"])
