"""The clustered bootstrap: speakers resampled instead of files, its coverage of the true WER
on seeded simulations with speaker effects, and where it is used (compare, report)."""

from __future__ import annotations

import numpy as np
import pytest
from speaker_simulation import coverage

from asrlens.compare.significance import bootstrap_difference
from asrlens.scoring.bootstrap import COUNT_COLUMNS, cluster_sums, corpus_intervals


def test_cluster_sums_add_each_speakers_files():
    sums = cluster_sums({"errors": [1, 2, 3, 4], "words": [10, 10, 10, 20]},
                        ["b", "a", "b", "c"])
    assert sums["errors"].tolist() == [2, 4, 4]  # a, b, c
    assert sums["words"].tolist() == [10, 20, 20]


def test_one_speaker_per_file_is_the_file_bootstrap():
    rng = np.random.default_rng(1)
    counts = {name: rng.integers(1, 20, 30).astype(float) for name in COUNT_COLUMNS}
    by_file = corpus_intervals(counts, seed=3, replicates=300)
    by_speaker = corpus_intervals(counts, seed=3, replicates=300,
                                  clusters=[f"s{i:02d}" for i in range(30)])
    assert by_speaker["wer"].unit == "speaker" and by_file["wer"].unit == "file"
    assert (by_speaker["wer"].low, by_speaker["wer"].high) == pytest.approx(
        (by_file["wer"].low, by_file["wer"].high))
    assert by_speaker["wer"].units == 30


def test_speaker_bootstrap_covers_the_true_wer_and_file_bootstrap_under_covers():
    # seeded: 300 simulated test sets of 40 speakers (BENCHMARKS.md has 2,000 of them)
    result = coverage(simulations=300, replicates=400, seed=0)
    assert 0.93 <= result.speaker <= 0.97, result
    assert result.file < 0.85, result  # files of one speaker are not independent
    assert result.speaker_width > 1.5 * result.file_width


def test_paired_difference_resamples_speakers_when_given():
    errors_a = [5, 5, 0, 0, 9, 9]
    errors_b = [4, 4, 0, 0, 3, 3]
    words = [10] * 6
    speakers = ["x", "x", "y", "y", "z", "z"]
    files = bootstrap_difference(errors_a, words, errors_b, words, seed=0, replicates=500)
    clustered = bootstrap_difference(errors_a, words, errors_b, words, seed=0,
                                     replicates=500, clusters=speakers)
    assert (files.unit, files.units, clustered.unit, clustered.units) == (
        "file", 6, "speaker", 3)
    assert clustered.difference == files.difference
    assert clustered.high - clustered.low >= files.high - files.low


def test_compare_resamples_speakers_and_groups_by_them_when_the_dataset_knows_them(tmp_path):
    import sqlalchemy as sa
    from click.testing import CliRunner
    from conftest import rows
    from test_compare import add_run, crafted_texts, make_db

    from asrlens.cli import cli

    ids, refs, hyps_a, hyps_b = crafted_texts(4, files=24, groups=4, sub_a=0.3, sub_b=0.1)
    db = tmp_path / "c.duckdb"
    engine = make_db(db, ids, refs)
    try:
        add_run(engine, "A", ids, refs, hyps_a)
        add_run(engine, "B", ids, refs, hyps_b)
        with engine.begin() as conn:  # speakers: three of them, across the id groups
            for i, utt in enumerate(ids):
                conn.execute(sa.text("update utterances set speaker = :s where utt_id = :u"),
                             {"s": f"spk{i % 3}", "u": utt})
    finally:
        engine.dispose()
    result = CliRunner().invoke(cli, ["compare", "A", "B", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "bootstrap resampling 3 speakers" in result.output
    assert "groups (speaker): 3" in result.output
    stored = rows(db, "select group_rule, resampled from run_comparisons")
    assert stored == [{"group_rule": "speaker", "resampled": "speaker"}]
    tests = rows(db, "select test, n from comparison_tests where test in ('sign', 'wilcoxon')")
    assert sorted((t["test"], t["n"]) for t in tests) == [("sign", 3), ("wilcoxon", 3)]
