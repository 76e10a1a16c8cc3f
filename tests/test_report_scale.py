"""The report in bounded memory (issue 26): per-file results come as numpy columns, never a
dict per file; the bootstrap draws in bounded chunks with the same intervals; the file table
holds the worst MAX_ROWS files with a note saying how to get all; each pair of runs is
compared once per page. On small data the page is the same as before.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from synthetic import make_synthetic_db

from asrlens.db import connect, query
from asrlens.report import render
from asrlens.report import summary as summary_module
from asrlens.report.context import run_columns
from asrlens.report.sections import compare, files, run
from asrlens.report.sections import summary as summary_section
from asrlens.scoring import bootstrap
from asrlens.scoring.bootstrap import COUNT_COLUMNS, corpus_intervals

N_UTTS = 200


@pytest.fixture(scope="module")
def synth_db(tmp_path_factory) -> Path:
    """200 generated utterances, two runs (run0, run1). Read it only."""
    return make_synthetic_db(tmp_path_factory.mktemp("scale") / "s.duckdb", n_utts=N_UTTS,
                             n_runs=2, seed=3)


@pytest.fixture
def synth(synth_db):
    engine = connect(synth_db, read_only=True)
    yield engine
    engine.dispose()


def make_ctx(engine, tmp_path, *runs):
    return render.resolve_context(engine, run_ids=list(runs), dataset=None, out_dir=tmp_path,
                                  audio="none", top_n=10, seed=0)


def per_file_counts(engine, run_id: str) -> list[dict]:
    """Every scored file's counts and speaker, in utt_id order, as dicts (the old way)."""
    return query(engine, """
        select e.utt_id, u.speaker, e.ref_words, e.hyp_words, e.hits, e.substitutions,
               e.deletions, e.insertions, e.ref_chars,
               e.char_substitutions + e.char_deletions + e.char_insertions as char_errors
        from utterance_errors as e
        join runs as r using (run_id)
        left join utterances as u on u.dataset = r.dataset and u.utt_id = e.utt_id
        where e.run_id = :run_id
        order by e.utt_id""", run_id=run_id)


def test_columns_come_as_arrays_in_row_order_with_nulls_as_nan(synth):
    columns = run_columns(synth, "distribution_files", run_id="run0")
    rows = query(synth, """
        select e.wer, a.rms_dbfs
        from utterance_errors as e
        join utterances as u on u.dataset = 'synthetic' and u.utt_id = e.utt_id
        left join audio_files as a on a.dataset = u.dataset and a.path = u.audio_path
        where e.run_id = 'run0' order by e.utt_id""")
    assert all(isinstance(v, np.ndarray) for v in columns.values())
    assert columns["wer"].tolist() == [r["wer"] for r in rows]
    expected = np.array([np.nan if r["rms_dbfs"] is None else r["rms_dbfs"] for r in rows])
    np.testing.assert_array_equal(columns["rms_dbfs"].astype(float), expected)


def test_the_bootstrap_gives_the_same_intervals_however_it_is_chunked(synth, monkeypatch):
    counts = run_columns(synth, "run_file_counts", run_id="run0")
    whole = corpus_intervals(counts, seed=5)
    monkeypatch.setattr(bootstrap, "CHUNK_DRAWS", 3 * len(counts["ref_words"]) + 1)
    assert corpus_intervals(counts, seed=5) == whole  # 3 replicates at a time, not 100


@pytest.mark.parametrize("speakers", [False, True])
def test_run_intervals_are_those_of_per_file_counts_and_speaker_clusters(
        synth_db, copy_db, speakers):
    path = copy_db(synth_db)
    engine = connect(path)
    try:
        if speakers:  # some files of unknown speaker: each is a unit of its own
            with engine.begin() as conn:
                query(conn, """update utterances set speaker = case hash(utt_id) % 3
                               when 0 then 'big' when 1 then null
                               else 's' || (hash(utt_id) % 7) end""")
        files_ = per_file_counts(engine, "run0")
        counts = {n: np.array([f[n] for f in files_], dtype=float) for n in COUNT_COLUMNS}
        clusters = ([f["speaker"] or f"\0{f['utt_id']}" for f in files_]
                    if any(f["speaker"] for f in files_) else None)
        expected = corpus_intervals(counts, seed=0, clusters=clusters)
        assert run.unit_intervals(engine, "run0", seed=0) == expected
        assert expected["wer"].unit == ("speaker" if speakers else "file")
    finally:
        engine.dispose()


def test_a_small_run_lists_all_its_files(synth, tmp_path):
    data = files.build(synth, make_ctx(synth, tmp_path, "run0"))
    scored = query(synth, "select count(*) as n from utterance_errors where run_id = 'run0'")
    assert data["files"] == data["files_total"] == scored[0]["n"]
    html = render.render_page(make_ctx(synth, tmp_path, "run0"),
                              render.build_sections(synth, make_ctx(synth, tmp_path, "run0"),
                                                    [files]))
    assert f"All {data['files']} files the run scored, worst first." in html


def test_a_large_run_lists_its_worst_files_and_says_how_to_get_all(synth, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setattr(files, "MAX_ROWS", 25)
    ctx = make_ctx(synth, tmp_path, "run0")
    data = files.build(synth, ctx)
    worst = query(synth, """
        select utt_id from utterance_errors where run_id = 'run0'
        order by wer desc nulls last, substitutions + deletions + insertions desc, utt_id
        limit 25""")
    assert [r[0] for r in data["payload"]["rows"]] == [r["utt_id"] for r in worst]
    assert data["files"] == 25 and data["files_total"] > 25
    shown_tags = {t for r in data["payload"]["rows"] for t in r[files.COLUMNS.index("tags")]
                  .split()}
    assert set(data["tags"]) == shown_tags  # the filter offers the tags it can find
    html = render.render_page(ctx, render.build_sections(synth, ctx, [files]))
    note = re.sub(r"\s+", " ", re.search(r'<p class="note">(.*?)</p>', html, re.S)[1])
    assert note.startswith(f"The 25 worst of the {data['files_total']} files the run scored")
    assert "<code>asrlens export --run run0 --format csv</code>" in note


def test_each_pair_of_runs_is_compared_once_per_page(synth, tmp_path, monkeypatch):
    calls = []
    real = summary_module.compare_runs

    def counting(conn, **kwargs):
        calls.append((kwargs["run_a"], kwargs["run_b"]))
        return real(conn, **kwargs)

    monkeypatch.setattr(summary_module, "compare_runs", counting)
    ctx = make_ctx(synth, tmp_path, "run0", "run1")
    sections = render.build_sections(synth, ctx, [summary_section, compare])
    assert calls == [("run0", "run1")]
    verdict = sections[0].data["summary"].verdicts[0]
    significance = sections[1].data["comparisons"][0]["significance"]
    assert significance["files_shared"] == verdict.files_shared


def test_the_report_caps_duckdb_memory(synth_db, copy_db, tmp_path):
    engine = connect(copy_db(synth_db), read_only=True)
    try:
        render.render_report(engine, run_ids=["run0"], out_dir=tmp_path / "r", audio="none")
        limit = query(engine, "select current_setting('memory_limit') as m")[0]["m"]
    finally:
        engine.dispose()
    assert limit.endswith("MiB") and 450 < float(limit.split()[0]) <= 512
