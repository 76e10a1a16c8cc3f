"""asrlens.scoring.rates: the one Python definition of the corpus rates, and the run_summary
view's SQL give the same numbers on the same counts."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from asrlens import db
from asrlens.scoring import rates
from asrlens.scoring.score import score_texts

PAIRS = [("the cat sat on the mat", "the cat sat on mat"),
         ("a b c d", "a x c d e"),
         ("hello world", ""),
         ("", "noise"),
         ("one two three", "one two three")]


def test_rates_of_summed_counts():
    totals = {"ref_words": 10, "hyp_words": 9, "hits": 7, "substitutions": 2, "deletions": 1,
              "insertions": 1, "ref_chars": 40, "char_errors": 6}
    assert rates.wer(totals) == pytest.approx(4 / 10)
    assert rates.mer(totals) == pytest.approx(4 / 11)
    assert rates.wil(totals) == pytest.approx(1 - (7 / 10) * (7 / 9))
    assert rates.cer(totals) == pytest.approx(6 / 40)
    assert rates.corpus_rates(totals) == pytest.approx({"wer": 0.4, "mer": 4 / 11,
                                                        "wil": 1 - 49 / 90})


def test_no_denominator_is_none_not_zero():
    empty = {c: 0 for c in rates.WORD_COUNTS}
    assert rates.corpus_rates(empty) == {"wer": None, "mer": None, "wil": None}
    assert rates.corpus_wer([], []) is None
    assert rates.corpus_wer([3, 0], [0, 0]) is None


def test_arrays_give_one_rate_per_element_with_nan_where_undefined():
    totals = {"substitutions": np.array([1.0, 0.0]), "deletions": np.array([0.0, 0.0]),
              "insertions": np.array([1.0, 2.0]), "ref_words": np.array([4.0, 0.0])}
    out = rates.wer(totals)
    assert out[0] == pytest.approx(0.5) and np.isnan(out[1])


def test_summed_counts_none_as_zero():
    rows = [{"ref_words": 3, "hits": None}, {"ref_words": 4, "hits": 2}]
    assert rates.summed(rows, ("ref_words", "hits")) == {"ref_words": 7, "hits": 2}


def test_python_rates_agree_with_the_run_summary_view(db_path):
    scores = [score_texts(ref, hyp) for ref, hyp in PAIRS]
    engine = db.connect(db_path)
    try:
        with engine.begin() as conn:
            db.insert_rows(conn, "runs", [{
                "run_id": "r", "dataset": "d", "engine": "e", "model": "m", "normalizer": "n",
                "reference_column": "transcript", "device": "cpu", "precision": "fp32",
                "status": "finished", "started_at": datetime.now(UTC).replace(tzinfo=None)}])
            db.insert_rows(conn, "utterance_errors", [
                {"run_id": "r", "utt_id": f"u{i}", **s.counts()} for i, s in enumerate(scores)])
        summary = db.query(engine, "select wer, mer, wil, cer from run_summary")
    finally:
        db.close(engine)
    assert len(summary) == 1
    rows = [s.counts() for s in scores]
    totals = rates.summed(rows, (*rates.WORD_COUNTS, "ref_chars", "char_substitutions",
                                 "char_deletions", "char_insertions"))
    expected = rates.corpus_rates(totals, ("wer", "mer", "wil", "cer"))
    assert all(v is not None for v in expected.values())
    assert summary[0] == pytest.approx(expected)
