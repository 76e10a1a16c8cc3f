"""Unicode bidirectional controls in transcripts cannot spoof the report: every one is shown
as a visible `[U+202E]` wherever text is rendered (autoescape stays on). Checked in the HTML
and in headless Chromium, on the text the browser lays out."""

from __future__ import annotations

import json

import pytest
from synthetic import make_synthetic_db
from test_report_browser import DevTools, find_browser

from asrlens.db import connect
from asrlens.report import render_report
from asrlens.report.render import BIDI_CONTROLS, make_environment

SPOOF = ("pay \u202eyas\u202c then \u2067iso\u2069 \u200e\u200f\u061c "
         "\u202a\u202b\u202d\u2066\u2068 end")


def test_the_environment_shows_every_control_and_still_escapes():
    env = make_environment()
    html = env.from_string("<p>{{ text }}</p><p title='{{ text }}'>{{ text | upper }}</p>"
                           ).render(text=SPOOF + " <b>")
    assert not BIDI_CONTROLS.search(html)
    assert "pay [U+202E]yas[U+202C] then [U+2067]iso[U+2069]" in html
    for code in ("200E", "200F", "061C", "202A", "202B", "202D", "2066", "2068"):
        assert f"[U+{code}]" in html
    assert "&lt;b&gt;" in html and "<b>" not in html


@pytest.fixture
def spoofed_report(tmp_path):
    db = make_synthetic_db(tmp_path / "synth.duckdb", n_utts=20, n_runs=1, seed=3)
    engine = connect(db)
    with engine.begin() as conn:  # the worst file's texts carry the controls
        worst = conn.exec_driver_sql("select utt_id from utterance_errors order by wer desc, "
                                     "utt_id limit 1").scalar()
        conn.exec_driver_sql("update transcripts set hyp_raw = ?, hyp_norm = ?, ref_raw = ? "
                             "where utt_id = ?", (SPOOF, SPOOF, SPOOF, worst))
        conn.exec_driver_sql("update alignment_ops set hyp_word = ? where utt_id = ? and "
                             "hyp_word is not null", ("\u202eyas", worst))
        conn.exec_driver_sql("update utterances set transcript = ? where utt_id = ?",
                             (SPOOF, worst))
    engine.dispose()
    engine = connect(db, read_only=True)
    try:
        page = render_report(engine, out_dir=tmp_path / "report", audio="none", top_n=20)
    finally:
        engine.dispose()
    return page


def test_no_control_reaches_the_page_and_the_browser_shows_the_escapes(spoofed_report,
                                                                       tmp_path):
    html = spoofed_report.read_text(encoding="utf-8")
    assert "[U+202E]yas" in html
    assert not BIDI_CONTROLS.search(html)
    browser = find_browser()
    if browser is None:
        pytest.skip("no Chromium found; install Debian's `chromium` to run the browser test")
    tools = DevTools(browser, tmp_path / "profile")
    try:
        target = tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = tools.send("Target.attachToTarget",
                             {"targetId": target, "flatten": True})["sessionId"]
        tools.send("Page.enable", session=session)
        tools.send("Page.navigate", {"url": spoofed_report.resolve().as_uri()},
                   session=session)
        tools.wait_for_event("Page.loadEventFired")
        result = tools.send("Runtime.evaluate", {"expression": "JSON.stringify(["
                            "document.body.innerText, Array.from(document.querySelectorAll("
                            "'[title]')).map(e => e.title).join(' ')])",
                            "returnByValue": True}, session=session)
    finally:
        tools.close()
    text, titles = json.loads(result["result"]["value"])
    assert "pay [U+202E]yas[U+202C] then" in text  # shown, in logical order
    assert not BIDI_CONTROLS.search(text) and not BIDI_CONTROLS.search(titles)
