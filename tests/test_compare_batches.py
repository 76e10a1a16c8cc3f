"""`compare` reads the paired files a batch of rows at a time into columns of numbers
(issue 26: memory stays flat however many files the runs have). Its figures are those of
the whole lists of files: the same with batches of one row, and the same as the tests run on
per-file lists (speakers as cluster labels, alignment paths as strings)."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa
from test_compare import add_run, crafted_texts, make_db

from asrlens.compare import groups, pairs, parse_rule
from asrlens.compare import significance as sig
from asrlens.compare.pairs import compare_runs
from asrlens.db import query
from asrlens.scoring import rates

LETTERS = {"equal": "C", "substitute": "S", "delete": "D", "insert": "I"}


@pytest.fixture
def engine(tmp_path):
    ids, refs, hyps_a, hyps_b = crafted_texts(4, files=50, groups=6, sub_a=0.1, sub_b=0.15,
                                              ins=0.03, dele=0.03)
    hyps_b[3] = None  # failed in B: not paired
    engine = make_db(tmp_path / "c.duckdb", ids, refs)
    add_run(engine, "A", ids, refs, hyps_a)
    add_run(engine, "B", ids, refs, hyps_b)
    with engine.begin() as conn:  # speakers for most files; files 0, 7, 14, ... have none
        conn.execute(sa.text("update utterances set speaker = case when labels_line % 7 = 2 "
                             "then null else 'spk' || (labels_line % 4) end"))
    yield engine
    engine.dispose()


def _figures(c) -> tuple:
    return (c.files_a, c.files_b, c.files_shared, c.ref_words_a, c.ref_words_b, c.errors_a,
            c.errors_b, c.bootstrap, c.tests, c.groups,
            {run: (t.rows, t.corpus, t.outliers) for run, t in c.group_tables.items()})


@pytest.mark.parametrize("rule", [None, "regex:^G00[0-2]", "speaker",
                                  "sql:case when duration_s is null then 'n' end"])
def test_batches_of_one_row_give_the_figures_of_one_batch(engine, monkeypatch, rule):
    def run():
        with engine.connect() as conn:
            return compare_runs(conn, run_a="A", run_b="B", seed=3, replicates=300,
                                rule=None if rule is None else parse_rule(rule))

    whole = run()
    monkeypatch.setattr(pairs, "BATCH_FILES", 1)
    monkeypatch.setattr(groups, "FETCH_ROWS", 1)
    assert _figures(run()) == _figures(whole)
    assert whole.files_shared == 49 and whole.bootstrap.unit == "speaker"


def test_figures_equal_those_of_per_file_lists(engine):
    with engine.connect() as conn:
        c = compare_runs(conn, run_a="A", run_b="B", rule=None, seed=5, replicates=400)
    shared = query(engine, "select * from (select a.utt_id, a.ref_words as ra, "
                   "a.substitutions + a.deletions + a.insertions as ea, b.ref_words as rb, "
                   "b.substitutions + b.deletions + b.insertions as eb from utterance_errors a "
                   "join utterance_errors b on a.utt_id = b.utt_id and b.run_id = 'B' "
                   "where a.run_id = 'A') order by utt_id")
    speakers = {r["utt_id"]: r["speaker"] for r in query(engine, "select * from utterances")}
    ops = query(engine, "select run_id, utt_id, op from alignment_ops "
                        "order by run_id, utt_id, op_index")
    paths = {key: "".join(LETTERS[o["op"]] for o in group) for key, group in itertools.groupby(
        ops, key=lambda o: (o["run_id"], o["utt_id"]))}
    ids = [f["utt_id"] for f in shared]
    columns = {k: [f[k] for f in shared] for k in ("ea", "ra", "eb", "rb")}
    clusters = [speakers[u] or f"\0{u}" for u in ids]
    expected = sig.bootstrap_difference(columns["ea"], columns["ra"], columns["eb"],
                                        columns["rb"], seed=5, replicates=400,
                                        clusters=clusters)
    assert c.bootstrap == expected and expected.unit == "speaker"
    assert c.tests["mapsswe"] == sig.mapsswe([paths[("A", u)] for u in ids],
                                             [paths[("B", u)] for u in ids])
    assert c.tests["mcnemar"] == sig.mcnemar_test(columns["ea"], columns["eb"])
    assert [g["group_name"] for g in c.groups] == sorted({s or "(none)" for s in
                                                          (speakers[u] for u in ids)})
    assert c.wer_a == rates.corpus_wer(columns["ea"], columns["ra"])


def test_bootstrap_draws_the_same_files_however_its_draws_are_chunked(monkeypatch):
    # with a million files, fewer replicates are drawn at a time (scoring.bootstrap.CHUNK_DRAWS)
    import numpy as np

    from asrlens.scoring import bootstrap

    rng = np.random.default_rng(0)
    counts = {"errors": rng.integers(0, 9, 1001), "words": rng.integers(1, 20, 1001)}
    whole = bootstrap.resampled_totals(counts, seed=7, replicates=250)
    monkeypatch.setattr(bootstrap, "CHUNK_DRAWS", 3 * 1001 + 5)  # 3 replicates at a time
    chunked = bootstrap.resampled_totals(counts, seed=7, replicates=250)
    assert all(np.array_equal(whole[k], chunked[k]) for k in counts)


def test_rescored_runs_give_the_figures_of_one_batch(tmp_path, monkeypatch):
    # runs scored under different normalizers are rescored from their raw texts, batch by batch
    ids, refs, hyps_a, hyps_b = crafted_texts(6, files=30, groups=4, sub_a=0.1, sub_b=0.2)
    refs = [f"Mr. {r} 1455." for r in refs]
    engine = make_db(tmp_path / "n.duckdb", ids, refs)
    add_run(engine, "A", ids, refs, [f"mister {h} fourteen fifty five" for h in hyps_a],
            normalizer="ljspeech")
    add_run(engine, "B", ids, refs, hyps_b, normalizer="minimal")

    def run():
        with engine.connect() as conn:
            return compare_runs(conn, run_a="A", run_b="B", rule=None, seed=1, replicates=200)

    try:
        whole = run()
        monkeypatch.setattr(pairs, "BATCH_FILES", 4)
        batched = run()
    finally:
        engine.dispose()
    assert whole.normalizer == "ljspeech-v1" and whole.own_normalizers["B"] == "minimal-v1"
    assert _figures(batched) == _figures(whole) and batched.own_wer == whole.own_wer
    assert whole.files_shared == 30
