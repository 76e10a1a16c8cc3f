"""The answer first: the report's summary section, `asrlens report --format markdown` and
`asrlens summary` render one Summary, so they give the same figures, and those figures are
the run_summary view's and the Run section's."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from conftest import rows
from htmlcheck import assert_well_formed, elements_by_id
from synthetic import make_synthetic_db

from asrlens.cli import cli
from asrlens.db import connect
from asrlens.report import render_report
from asrlens.report.summary import build_summary


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("summary")
    db = make_synthetic_db(tmp / "synth.duckdb", n_utts=300, n_runs=2, seed=1)
    engine = connect(db, read_only=True)
    try:
        page = render_report(engine, run_ids=["run0", "run1"], out_dir=tmp / "report",
                             audio="none", top_n=5, all_runs=True)
        summary = build_summary(engine, run_ids=["run0", "run1"])
    finally:
        engine.dispose()
    return db, page.read_text(encoding="utf-8"), summary


def invoke(*args):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_the_summary_opens_the_report_and_names_the_verdict(two_runs):
    db, html, summary = two_runs
    assert_well_formed(html)
    sections = re.findall(r'<section id="([^"]+)" class="report-section">', html)
    assert sections[:3] == ["summary", "history", "dataset"]
    truth = {r["run_id"]: r for r in rows(db, "select * from run_summary")}
    cells = re.findall(r'<tr data-run="(run\d)">.*?class="num summary-wer" data-value="([^"]+)"',
                       html, flags=re.S)
    assert [c[0] for c in cells] == ["run0", "run1"]
    for run_id, value in cells:
        assert float(value) == pytest.approx(truth[run_id]["wer"])
    verdict = summary.verdicts[0]
    assert (verdict.run_a, verdict.run_b) == ("run0", "run1")
    # synthetic run1 makes fewer errors on the same files: the bootstrap interval excludes 0
    assert truth["run1"]["wer"] < truth["run0"]["wer"]
    assert verdict.better == "run1" and verdict.high < 0 and verdict.p_b_better > 0.95
    assert 'data-better="run1"' in html
    assert "run1 is better than run0 by" in html
    assert verdict.tests == 4 and len(verdict.moved) >= 1
    assert len(summary.reasons) == 3
    # the summary links to every other section
    for section in sections[1:]:
        assert f'<a href="#{section}">' in html


def test_the_interval_is_the_run_sections(tmp_path):
    db = make_synthetic_db(tmp_path / "one.duckdb", n_utts=120, n_runs=1, seed=3)
    engine = connect(db, read_only=True)
    try:
        html = render_report(engine, out_dir=tmp_path / "r", audio="none").read_text("utf-8")
    finally:
        engine.dispose()
    run_row = re.search(r'<tr data-metric="wer">.*?data-low="([^"]+)" data-high="([^"]+)"', html,
                        flags=re.S)
    summary_row = re.search(r'<tr data-run="run0">.*?data-low="([^"]+)" data-high="([^"]+)"',
                            html, flags=re.S)
    assert run_row and summary_row and run_row.groups() == summary_row.groups()
    assert elements_by_id(html)["summary-runs"]["tag"] == "table"


def test_markdown_and_terminal_summaries_give_the_same_figures(two_runs):
    db, html, summary = two_runs
    markdown = invoke("report", "--run", "run0", "--run", "run1", "--format", "markdown",
                      "--db", str(db))
    text = invoke("summary", "--run", "run0", "--run", "run1", "--db", str(db))
    for r in summary.runs:
        wer = f"{100 * r.wer:.2f}%"
        low, high = f"{100 * r.wer_low:.2f}%", f"{100 * r.wer_high:.2f}%"
        strict = f"{100 * r.strict_wer:.2f}%"
        for output in (markdown, text, html):
            assert wer in output and low in output and high in output and strict in output
    p = f"{summary.verdicts[0].p_b_better:.3f}"
    for output in (markdown, text):
        assert f"P(run1 better) = {p}" in output
        assert summary.verdicts[0].sentence.split(" (")[0] in output
        assert "of 4 significance tests at 0.05" in output
    assert markdown.startswith("## asrlens: synthetic")
    assert "| run0 | pocketsphinx (en-us) | basic |" in markdown
    assert "Likely reasons (run0):" in markdown and "likely reasons (run0):" in text


def test_markdown_escapes_names(tmp_path):
    from asrlens.report.summary_text import md_escape

    assert md_escape("a|b_[c](x)") == "a\\|b\\_\\[c\\](x)"


def test_the_run_history_lists_every_run_newest_first_and_marks_other_data(two_runs, tmp_path):
    db, html, _ = two_runs
    table = re.search(r'<table class="sortable" id="history-table">(.*?)</table>', html,
                      flags=re.S).group(1)
    listed = re.findall(r'<tr data-run="([^"]+)"', table)
    newest_first = [r["run_id"] for r in rows(
        db, "select run_id from runs order by finished_at desc")]
    assert listed == newest_first and len(listed) == 2
    assert "other data" not in table and "same fingerprint" in html
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", table)  # to the second
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", html)  # no microseconds anywhere
    # a run on other data (a file left out) is marked
    engine = connect(db)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("delete from transcripts where run_id = 'run1' and utt_id = "
                                 "(select min(utt_id) from transcripts where run_id = 'run1')")
        page = render_report(engine, run_ids=["run0"], out_dir=tmp_path / "h", audio="none",
                             all_runs=True).read_text("utf-8")
    finally:
        engine.dispose()
    marked = re.findall(r'<tr data-run="([^"]+)" class="other-data">', page)
    assert marked == ["run1"]
