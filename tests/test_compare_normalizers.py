"""Runs scored under different normalizers are compared under one: the same hypotheses give
a difference of 0 and no significant test, and each run's own figure is shown beside.

Both runs are imported from one hypothesis file (the same words for every file), one scored
under `minimal` (the raw transcript: digits stay digits) and one under `ljspeech` (the
normalized column: numbers spelled out), as a user trying both normalizers would do.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from click.testing import CliRunner
from conftest import rows

from asrlens.cli import cli
from asrlens.db import connect, insert_rows

N_FILES = 30


@pytest.fixture(scope="module")
def two_normalizers_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("norm")
    db = folder / "norm.duckdb"
    engine = connect(db)
    ids = [f"U{i:03}" for i in range(N_FILES)]
    with engine.begin() as conn:
        insert_rows(conn, "datasets", [dict(
            name="numbers", source="/nowhere", root="/nowhere", labels_path="labels.csv",
            labels_format="ljspeech", n_labels=N_FILES, n_audio=0, ingested_at=datetime.now())])
        insert_rows(conn, "utterances", [dict(
            dataset="numbers", utt_id=u, transcript=f"Mr. Smith paid {1400 + i} dollars.",
            normalized_transcript=f"Mister Smith paid fourteen {i + 1} dollars.",
            audio_path=None, labels_line=i + 1) for i, u in enumerate(ids)])
    engine.dispose()
    hyps = folder / "hyp.csv"  # what a recognizer hears: the spoken words
    hyps.write_text("".join(f"{u},mister smith paid fourteen {i + 1} dollars\n"
                            for i, u in enumerate(ids)))
    for run, normalizer in (("raw", "minimal"), ("spelled", "ljspeech")):
        result = CliRunner().invoke(cli, ["import-run", str(hyps), "--run", run, "--dataset",
                                          "numbers", "--normalizer", normalizer,
                                          "--no-analyze", "--db", str(db)])
        assert result.exit_code == 0, result.output
    stored = rows(db, "select run_id, wer from run_summary order by run_id")
    assert [r["run_id"] for r in stored] == ["raw", "spelled"]
    assert stored[0]["wer"] > 0.5 and stored[1]["wer"] == 0  # their own figures differ
    return db


@pytest.mark.parametrize("normalizer", [None, "minimal", "ljspeech"])
def test_identical_hypotheses_compare_as_equal_under_one_normalizer(two_normalizers_db,
                                                                     copy_db, normalizer):
    db = copy_db(two_normalizers_db)
    args = ["compare", "raw", "spelled", "--db", str(db)]
    if normalizer:
        args += ["--normalizer", normalizer]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    common = f"{normalizer or 'minimal'}-v1"  # the first run's by default
    line = result.output.splitlines()[1]
    assert line.startswith(f"Both runs rescored under normalizer {common} from their raw "
                           f"texts, so their figures compare: "), line
    if common == "minimal-v1":
        assert "spelled was scored under ljspeech-v1 (its own WER here: 0.00%)" in line
    else:
        assert "raw was scored under minimal-v1 (its own WER here: 60.00%)" in line
    (stored,) = rows(db, "select * from run_comparisons")
    assert stored["normalizer"] == common
    assert stored["wer_difference"] == 0 and stored["wer_a"] == stored["wer_b"]
    assert stored["errors_a"] == stored["errors_b"]
    assert stored["ref_words_a"] == stored["ref_words_b"]
    tests = rows(db, "select test, significant from comparison_tests")
    assert len(tests) == 4 and not any(t["significant"] for t in tests)


def test_the_report_says_which_normalizer_the_comparison_is_under(two_normalizers_db,
                                                                   tmp_path):
    result = CliRunner().invoke(cli, ["report", "--run", "raw", "--run", "spelled", "--audio",
                                      "none", "--out", str(tmp_path / "r"), "--db",
                                      str(two_normalizers_db)])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "r" / "index.html").read_text()
    start = html.index('id="compare-1-normalizer"')
    note = html[start:html.index("</p>", start)]
    assert "Both runs rescored under normalizer minimal-v1 from their raw texts" in note
    assert "spelled was scored under ljspeech-v1 (its own WER here: 0.00%)" in note
