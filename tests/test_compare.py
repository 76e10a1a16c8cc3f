"""Comparing two runs: the four sc_stats tests give NIST sc_stats's own p-values and verdicts,
the bootstrap gives known answers, only files scored in both runs are paired, and each run's
WER is over its own reference words.

Runs are built from crafted hypotheses scored by asrlens itself (score_texts), then exported
with `asrlens export --format trn`, scored by `sctk sclite` and tested by `sctk sc_stats`.
"""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats
from sctk import TEST_ABBREVIATIONS, require_sctk, sc_stats, sclite_sgml

from asrlens.cli import cli
from asrlens.compare import compare_runs, parse_rule
from asrlens.compare import significance as sig
from asrlens.db import connect, insert_rows, query
from asrlens.infer.export import export_run
from asrlens.scoring.score import score_texts

DATASET = "crafted"
VOCAB = [f"w{i}" for i in range(60)]
NOW = datetime(2026, 1, 1, 12, 0, 0)


# --- building runs from crafted hypotheses --------------------------------------------------


def crafted_texts(seed: int, *, files: int, groups: int, sub_a: float, sub_b: float,
                  ins: float = 0.0, dele: float = 0.0):
    """(ids, references, hyps of a, hyps of b): ids 'G000-0001' (group G000, as sclite names
    a speaker), words substituted at sub_a / sub_b, plus insertions and deletions."""
    rng = random.Random(seed)
    ids, refs, hyps_a, hyps_b = [], [], [], []
    for f in range(files):
        ids.append(f"G{f % groups:03d}-{f:04d}")
        ref = [rng.choice(VOCAB) for _ in range(rng.randint(3, 15))]
        refs.append(ref)
        for rate, hyps in ((sub_a, hyps_a), (sub_b, hyps_b)):
            hyp = []
            for word in ref:
                if rng.random() < dele:
                    continue
                hyp.append("x" + word if rng.random() < rate else word)
                if rng.random() < ins:
                    hyp.append("zz")
            hyps.append(hyp)
    return ids, [" ".join(r) for r in refs], [" ".join(h) for h in hyps_a], \
        [" ".join(h) for h in hyps_b]


def make_db(path: Path, ids: list[str], refs: list[str]):
    """A database with the dataset 'crafted' (no audio) and no run yet."""
    engine = connect(path)
    with engine.begin() as conn:
        insert_rows(conn, "datasets", [dict(
            name=DATASET, source="/nowhere", root="/nowhere", labels_path="labels.csv",
            labels_format="csv", n_labels=len(ids), n_audio=0, ingested_at=NOW)])
        insert_rows(conn, "utterances", [dict(
            dataset=DATASET, utt_id=u, transcript=r, normalized_transcript=r, audio_path=None,
            labels_line=i + 2) for i, (u, r) in enumerate(zip(ids, refs, strict=True))])
    return engine


def add_run(engine, run_id: str, ids: list[str], refs: list[str], hyps: list[str], *,
            normalizer: str = "basic") -> None:
    """A finished run whose files are scored by asrlens's own scorer (None hyp: failed)."""
    transcripts, errors, ops = [], [], []
    for utt_id, ref, hyp in zip(ids, refs, hyps, strict=True):
        transcripts.append(dict(run_id=run_id, utt_id=utt_id, ref_raw=ref, ref_norm=ref,
                                hyp_raw=hyp, hyp_norm=hyp, audio_s=1.0, compute_s=0.1,
                                error=None if hyp is not None else "failed",
                                created_at=NOW))
        if hyp is None:
            continue
        score = score_texts(ref, hyp)
        errors.append(dict(run_id=run_id, utt_id=utt_id, **score.counts()))
        ops += [dict(run_id=run_id, utt_id=utt_id, op_index=i, op=o.op, ref_word=o.ref_word,
                     hyp_word=o.hyp_word, ref_pos=o.ref_pos, hyp_pos=o.hyp_pos)
                for i, o in enumerate(score.ops)]
    with engine.begin() as conn:
        insert_rows(conn, "runs", [dict(
            run_id=run_id, dataset=DATASET, engine="crafted", model="crafted", checkpoint=None,
            checkpoint_sha256=None, normalizer=normalizer,
            reference_column="normalized_transcript", device="cpu", precision="fp32",
            options="{}", versions="{}", status="finished", started_at=NOW, finished_at=NOW,
            files_total=len(ids), audio_s=float(len(ids)), wall_s=1.0)])
        insert_rows(conn, "transcripts", transcripts)
        insert_rows(conn, "utterance_errors", errors)
        insert_rows(conn, "alignment_ops", ops)


def compare(engine, run_a="A", run_b="B", **kwargs):
    with engine.connect() as conn:
        return compare_runs(conn, run_a=run_a, run_b=run_b, rule=parse_rule(None),
                            seed=kwargs.pop("seed", 0), **kwargs)


# --- agreement with NIST sc_stats -----------------------------------------------------------

CRAFTED_PAIRS = {
    # Insertions and deletions next to a substitution can be aligned in two ways of equal
    # cost; sclite and jiwer break such ties differently, which moves MAPSSWE's segments. The
    # pair with insertions and deletions below has none of those ties.
    # name: (seed, files, groups, substitution rate of A, of B, insertion rate, deletion rate)
    "clearly different": (5, 30, 5, 0.03, 0.25, 0.0, 0.0),
    "not different": (1, 40, 5, 0.10, 0.10, 0.0, 0.0),
    "not different, with insertions and deletions": (2, 60, 8, 0.08, 0.08, 0.04, 0.04),
    "close": (8, 60, 8, 0.10, 0.12, 0.0, 0.0),
}


@pytest.mark.parametrize("pair", CRAFTED_PAIRS)
def test_the_four_tests_match_sc_stats(pair, tmp_path):
    require_sctk()
    seed, files, groups, sub_a, sub_b, ins, dele = CRAFTED_PAIRS[pair]
    ids, refs, hyps_a, hyps_b = crafted_texts(seed, files=files, groups=groups, sub_a=sub_a,
                                              sub_b=sub_b, ins=ins, dele=dele)
    engine = make_db(tmp_path / "c.duckdb", ids, refs)
    try:
        add_run(engine, "A", ids, refs, hyps_a)
        add_run(engine, "B", ids, refs, hyps_b)
        sgml = []
        for run in ("A", "B"):
            export_run(engine, run_id=run, fmt="trn", out=tmp_path / run)
            sgml.append(sclite_sgml(tmp_path / run / "ref.trn", tmp_path / run / "hyp.trn",
                                    title=run, out_dir=tmp_path / "sgml"))
        result = compare(engine)
    finally:
        engine.dispose()
    nist = sc_stats(sgml, work_dir=tmp_path / "sc_stats")
    # sc_stats is exact for the binomial tests up to 20 trials: the crafted pairs stay there
    assert result.tests["mcnemar"].n <= 20 and result.tests["sign"].n <= 20
    for abbrev, name in TEST_ABBREVIATIONS.items():
        winner, p_nist = nist[abbrev]
        test = result.tests[name]
        ours = "<0.001" if test.p_value < 0.001 else f"{test.p_value:.3f}"
        theirs = "<0.001" if p_nist == 0.0005 else f"{p_nist:.3f}"
        assert ours == theirs, f"{name}: asrlens p {test.p_value:.5f}, sc_stats {theirs}"
        assert (result.better_run(test) or "~") == winner, name
    if pair == "clearly different":
        assert all(result.tests[t].better == "a" for t in ("mapsswe", "mcnemar"))
    if pair.startswith("not different"):
        assert not any(t.significant for t in result.tests.values())


def test_sign_and_mcnemar_stay_exact_beyond_20_trials():
    # sc_stats switches to a normal approximation above 20 trials (which puts 13 of 35 at
    # p < 0.001); asrlens keeps the exact binomial there.
    wrong_only_a, wrong_only_b, wrong_both = 13, 22, 5
    errors_a = [1] * wrong_only_a + [0] * wrong_only_b + [1] * wrong_both
    errors_b = [0] * wrong_only_a + [1] * wrong_only_b + [1] * wrong_both
    result = sig.mcnemar_test(errors_a, errors_b)
    assert result.n == 35
    assert result.p_value == pytest.approx(stats.binomtest(13, 35, 0.5).pvalue)  # 0.175
    assert result.better is None
    groups_a = [10.0] * 13 + [20.0] * 22
    groups_b = [20.0] * 13 + [10.0] * 22
    sign = sig.sign_test(groups_a, groups_b)
    assert sign.p_value == pytest.approx(stats.binomtest(13, 35, 0.5).pvalue)


def test_ranks_and_p_values_agree_with_scipy_stats():
    # significance.py avoids importing scipy.stats (a second of every report's start-up)
    rng = np.random.default_rng(0)
    for _ in range(100):
        values = rng.integers(0, 5, size=int(rng.integers(1, 25))).astype(float)
        assert sig.average_ranks(values) == pytest.approx(stats.rankdata(values))
    assert sig.normal_p_value(1.96) == pytest.approx(2 * stats.norm.sf(1.96))
    for n, k in ((1, 0), (10, 3), (40, 12), (200, 90)):
        assert sig.binomial_p_value(k, n) == pytest.approx(min(1.0, 2 * stats.binom.cdf(k, n, 0.5)))


def test_mapsswe_cuts_segments_between_two_words_both_runs_got_right():
    # a: one substitution at word 2; b: one at word 7; two correct words in between close
    # a segment, and each segment keeps its bounding correct words.
    a = list("CCSCCCCCCC")
    b = list("CCCCCCCSCC")
    assert sig.mapsswe_segments(a, b) == [(1, 0), (0, 1)]
    # errors closer than two correct words fall in one segment
    assert sig.mapsswe_segments(list("CSCSCC"), list("CCCCCC")) == [(2, 0)]
    # an insertion counts as an error of its run and opens a segment
    assert sig.mapsswe_segments(list("CCICCC"), list("CCCCC")) == [(1, 0)]
    # segments where neither run erred are dropped; identical runs have none
    assert sig.mapsswe_segments(list("CCCC"), list("CCCC")) == []


# --- the bootstrap --------------------------------------------------------------------------


def test_bootstrap_of_identical_runs_gives_one_half():
    errors = [3, 0, 5, 2, 1, 0, 4]
    words = [10, 8, 12, 9, 7, 5, 11]
    result = sig.bootstrap_difference(errors, words, errors, words, seed=0)
    assert result.p_b_better == 0.5
    assert result.difference == 0.0 and result.low == 0.0 and result.high == 0.0


def test_bootstrap_of_exchangeable_runs_is_one_half_within_noise():
    rng = np.random.default_rng(7)
    words = rng.integers(5, 20, size=400)
    errors_a = rng.binomial(words, 0.15)
    errors_b = rng.binomial(words, 0.15)
    result = sig.bootstrap_difference(errors_a, words, errors_b, words, seed=0,
                                      replicates=2000)
    # the observed difference is itself noise: P(b better) sits near 0.5, not at 0 or 1
    assert 0.05 < result.p_b_better < 0.95
    assert result.low < 0 < result.high


def test_bootstrap_of_a_run_better_on_every_file_gives_one():
    words = [10, 8, 12, 9, 7, 5, 11]
    errors_a = [3, 2, 5, 2, 1, 1, 4]
    errors_b = [e - 1 for e in errors_a]
    result = sig.bootstrap_difference(errors_a, words, errors_b, words, seed=0)
    assert result.p_b_better == 1.0
    assert result.high < 0
    worse = sig.bootstrap_difference(errors_b, words, errors_a, words, seed=0)
    assert worse.p_b_better == 0.0


def test_bootstrap_is_reproducible_with_its_seed():
    rng = np.random.default_rng(1)
    words = rng.integers(5, 20, size=50)
    e_a, e_b = rng.binomial(words, 0.2), rng.binomial(words, 0.18)
    one = sig.bootstrap_difference(e_a, words, e_b, words, seed=3)
    two = sig.bootstrap_difference(e_a, words, e_b, words, seed=3)
    other = sig.bootstrap_difference(e_a, words, e_b, words, seed=4)
    assert one == two
    assert (one.low, one.high) != (other.low, other.high)


# --- pairing, own reference words, storage --------------------------------------------------


def test_only_files_scored_in_both_runs_are_paired(tmp_path):
    ids, refs, hyps_a, hyps_b = crafted_texts(2, files=30, groups=3, sub_a=0.1, sub_b=0.1)
    hyps_a[0] = None  # failed in a
    hyps_b[1] = hyps_b[2] = None  # failed in b
    engine = make_db(tmp_path / "c.duckdb", ids, refs)
    try:
        add_run(engine, "A", ids, refs, hyps_a)
        add_run(engine, "B", ids, refs, hyps_b)
        result = compare(engine)
    finally:
        engine.dispose()
    assert (result.files_a, result.files_b, result.files_shared) == (29, 28, 27)
    assert result.files_left_out == 3
    shared_refs = [r for r, a, b in zip(refs, hyps_a, hyps_b, strict=True)
                   if a is not None and b is not None]
    assert result.ref_words_a == sum(len(r.split()) for r in shared_refs)


def test_each_run_wer_is_over_its_own_reference_words(tmp_path):
    """Issue 11 item 12: runs scored under different normalizers keep their own denominators."""
    ids = ["G000-0001", "G000-0002", "G001-0003"]
    refs_a = ["mister smith went home", "it is ten past two", "hello"]
    refs_b = ["mr smith went home", "it is 2:10", "hello"]  # fewer words
    hyps = ["mister smith want home", "it is ten pass two", "hello there"]
    engine = make_db(tmp_path / "c.duckdb", ids, refs_a)
    try:
        add_run(engine, "A", ids, refs_a, hyps)
        add_run(engine, "B", ids, refs_b, refs_b, normalizer="other")
        result = compare(engine)
        from asrlens.report.context import run_query
        overview = run_query(engine, "compare_overview", run_a="A", run_b="B")[0]
    finally:
        engine.dispose()
    assert (result.ref_words_a, result.ref_words_b) == (10, 8)
    assert result.wer_a == pytest.approx(3 / 10)
    assert result.wer_b == 0.0
    assert overview["wer_a_shared"] == pytest.approx(3 / 10)
    assert overview["wer_b_shared"] == 0.0
    # with errors in b, its WER divides by b's own 8 words, not a's 10
    add = connect(tmp_path / "c.duckdb")
    try:
        with add.begin() as conn:
            query(conn, "update utterance_errors set substitutions = 3 "
                        "where run_id = 'B' and utt_id = 'G000-0002'")
        overview = run_query(add, "compare_overview", run_a="A", run_b="B")[0]
    finally:
        add.dispose()
    assert overview["wer_b_shared"] == pytest.approx(3 / 8)


def test_runs_of_different_datasets_or_unknown_runs_are_refused(tmp_path):
    from asrlens.errors import AsrlensError

    ids, refs, hyps_a, hyps_b = crafted_texts(2, files=6, groups=2, sub_a=0.1, sub_b=0.1)
    engine = make_db(tmp_path / "c.duckdb", ids, refs)
    try:
        add_run(engine, "A", ids, refs, hyps_a)
        with pytest.raises(AsrlensError, match="no run named 'nope'"):
            compare(engine, "A", "nope")
        with pytest.raises(AsrlensError, match="two different runs"):
            compare(engine, "A", "A")
    finally:
        engine.dispose()


def test_compare_command_prints_the_table_and_stores_it(tmp_path):
    ids, refs, hyps_a, hyps_b = crafted_texts(5, files=40, groups=5, sub_a=0.03, sub_b=0.25)
    db = tmp_path / "c.duckdb"
    engine = make_db(db, ids, refs)
    try:
        add_run(engine, "A", ids, refs, hyps_a)
        add_run(engine, "B", ids, refs, hyps_b)
        expected = compare(engine)
    finally:
        engine.dispose()
    result = CliRunner().invoke(cli, ["compare", "A", "B", "--db", str(db)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "B against A (dataset crafted): 40 files scored in both, 0 left out" in out
    for line in out.splitlines():
        if line.strip().startswith("McNemar"):
            assert line.rstrip().endswith(" A")
            p = expected.tests["mcnemar"].p_value
            assert (f"{p:.3f}" if p >= 0.001 else "<0.001") in line
    assert f"P(B better) = {expected.bootstrap.p_b_better:.3f}" in out
    engine = connect(db, read_only=True)
    try:
        comparison = query(engine, "select * from run_comparisons")[0]
        tests = {r["test"]: r for r in query(engine, "select * from comparison_tests")}
        groups = query(engine, "select * from group_results where run_id = 'A' "
                               "order by group_name")
    finally:
        engine.dispose()
    assert comparison["files_shared"] == 40 and comparison["files_left_out"] == 0
    assert comparison["group_rule"] == "regex:^[^-]+"
    assert comparison["p_b_better"] == expected.bootstrap.p_b_better
    assert set(tests) == set(sig.TESTS)
    assert tests["mcnemar"]["better_run"] == "A"
    assert tests["mcnemar"]["detail"]["files_wrong_only_a"] == \
        expected.tests["mcnemar"].detail["files_wrong_only_a"]
    assert [g["group_name"] for g in groups] == [f"G{g:03d}" for g in range(5)]
    assert sum(g["files"] for g in groups) == 40
    # running it again replaces the rows, it does not add to them
    again = CliRunner().invoke(cli, ["compare", "A", "B", "--db", str(db)])
    assert again.exit_code == 0, again.output
    engine = connect(db, read_only=True)
    try:
        assert query(engine, "select count(*) as n from comparison_tests")[0]["n"] == 4
        assert query(engine, "select count(*) as n from group_results")[0]["n"] == 10
    finally:
        engine.dispose()


def test_compare_command_errors_are_one_line(tmp_path):
    ids, refs, hyps_a, _ = crafted_texts(2, files=6, groups=2, sub_a=0.1, sub_b=0.1)
    db = tmp_path / "c.duckdb"
    engine = make_db(db, ids, refs)
    try:
        add_run(engine, "A", ids, refs, hyps_a)
    finally:
        engine.dispose()
    result = CliRunner().invoke(cli, ["compare", "A", "Z", "--db", str(db)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: no run named 'Z' in the database; runs: A"]
    bad = CliRunner().invoke(cli, ["compare", "A", "Z", "--group-by", "accent", "--db",
                                   str(db)])
    assert bad.exit_code == 1
    assert bad.output.startswith("Error: --group-by 'accent': give regex:PATTERN")
