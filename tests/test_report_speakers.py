"""The report's Speakers section: shown when the dataset knows its speakers, per-speaker WER
with intervals, the worst speakers, files per speaker; and the run's intervals resample
speakers."""

from __future__ import annotations

import re
import shutil

import pytest
import sqlalchemy as sa
from htmlcheck import assert_well_formed
from synthetic import make_synthetic_db

from asrlens.compare import group_results
from asrlens.compare.groups import GroupRule
from asrlens.db import connect
from asrlens.report import render
from asrlens.report.sections import run, speakers


@pytest.fixture(scope="module")
def plain_db(tmp_path_factory):
    return make_synthetic_db(tmp_path_factory.mktemp("speakers") / "s.duckdb", n_utts=200,
                             n_runs=1, seed=2)


@pytest.fixture(scope="module")
def speaker_db(plain_db, tmp_path_factory):
    path = tmp_path_factory.mktemp("speakers") / "with.duckdb"
    shutil.copy(plain_db, path)
    engine = connect(path)
    try:
        with engine.begin() as conn:  # 5 speakers, one of them with many more files
            conn.execute(sa.text(
                "update utterances set speaker = case when hash(utt_id) % 3 = 0 then 'big' "
                "else 'spk' || (hash(utt_id) % 6)::varchar end"))
            assert conn.execute(sa.text(
                "select count(distinct speaker) from utterances")).scalar() == 5
    finally:
        engine.dispose()
    return path


def _ctx(engine, tmp_path):
    return render.resolve_context(engine, run_ids=["run0"], dataset=None, out_dir=tmp_path,
                                  audio="none", top_n=10, seed=0, group_by=None)


def test_no_speakers_no_section_and_intervals_over_files(plain_db, tmp_path):
    engine = connect(plain_db, read_only=True)
    try:
        ctx = _ctx(engine, tmp_path)
        assert speakers.build(engine, ctx) is None
        assert run.build(engine, ctx)["unit"] == "file"
    finally:
        engine.dispose()


def test_speakers_section_shows_each_speaker_as_computed(speaker_db, tmp_path):
    engine = connect(speaker_db, read_only=True)
    try:
        ctx = _ctx(engine, tmp_path)
        data = speakers.build(engine, ctx)
        with engine.connect() as conn:
            expected = group_results(conn, run_id="run0", dataset="synthetic",
                                     rule=GroupRule("speaker", ""), seed=0)
        html = render.render_page(ctx, render.build_sections(engine, ctx, [run, speakers]))
        run_data = run.build(engine, ctx)
    finally:
        engine.dispose()
    assert_well_formed(html)
    assert data is not None and data["speakers"] == 5
    assert [r["group_name"] for r in data["rows"]] == [r["group_name"] for r in expected.rows]
    assert [r["wer"] for r in data["rows"]] == [r["wer"] for r in expected.rows]
    assert data["files_max"] == max(r["utterances"] for r in data["rows"])
    worst = data["worst"]
    assert worst and worst[0]["wer"] == max(r["wer"] for r in data["rows"]
                                            if r["ref_words"] >= speakers.MIN_WORDS)
    assert re.findall(r'<tr data-speaker="([^"]+)">', html) == [r["group_name"]
                                                                for r in data["rows"]]
    assert 'id="speakers-worst"' in html
    assert (run_data["unit"], run_data["units"]) == ("speaker", 5)
    assert "resamples of the 5 speakers" in html
