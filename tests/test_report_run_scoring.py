"""The report's run section says what each WER counts: scored, strict, raw, and why.

An imported run with three utterances left out of its file (so three failed files) and
hypotheses in lower case with an extra word: the page must show run_summary's three WERs,
the failed files grouped by reason, and the rules of both normalizers.
"""

from __future__ import annotations

from html import escape

import pytest
from htmlcheck import assert_well_formed, elements_by_id
from synthetic import make_synthetic_db

from asrlens.analysis import analyze
from asrlens.db import connect, query
from asrlens.infer.import_run import import_run
from asrlens.report import render_report
from asrlens.scoring.normalize import LJSPEECH, MINIMAL


def html_escape(text: str) -> str:
    """As Jinja's autoescape writes it (markupsafe: ' as &#39;)."""
    return escape(text, quote=True).replace("&#x27;", "&#39;")


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """(page, run_summary row) of an imported run with 3 of 20 files missing."""
    folder = tmp_path_factory.mktemp("imported")
    db = make_synthetic_db(folder / "s.duckdb", n_utts=20, n_runs=1, seed=0)
    engine = connect(db)
    try:
        utterances = query(engine, "select utt_id, transcript from utterances order by utt_id")
        hyp = folder / "cloud.csv"
        hyp.write_text("".join(f'{u["utt_id"]},"{u["transcript"].lower()} um"\n'
                               for u in utterances[3:]), encoding="utf-8")
        import_run(engine, hyp, run_id="cloud")
        analyze(engine, run_id="cloud")
        summary = query(engine, "select * from run_summary where run_id = 'cloud'")[0]
        path = render_report(engine, run_ids=["cloud"], out_dir=folder / "report", audio="none")
    finally:
        engine.dispose()
    return path.read_text(encoding="utf-8"), summary


def test_the_page_shows_the_scored_strict_and_raw_wer_of_run_summary(imported):
    html, summary = imported
    assert_well_formed(html)
    elements = elements_by_id(html)
    assert summary["files_failed"] == 3 and summary["strict_wer"] > summary["wer"]
    for element_id, column in (("run-wer-scored", "wer"), ("run-strict-wer", "strict_wer"),
                               ("run-raw-wer", "raw_wer")):
        assert float(elements[element_id]["data-value"]) == pytest.approx(summary[column])


def test_the_page_says_why_files_have_no_score(imported):
    html, summary = imported
    assert "<td>no hypothesis in the imported file</td><td class=\"num\">3</td>" in html
    assert "Imported from <code>" in html and "cloud.csv</code> (csv)" in html


def test_the_page_lists_the_rules_of_both_normalizers(imported):
    html, _ = imported
    assert LJSPEECH.rule_list and MINIMAL.rule_list
    for rule in (*LJSPEECH.rule_list, *MINIMAL.rule_list):
        assert f"<li>{html_escape(rule)}</li>" in html
