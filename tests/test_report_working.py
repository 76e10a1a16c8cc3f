"""The report to work in, checked in a real browser (headless Chromium over DevTools, as
tests/test_report_browser.py): the file table filters by text and tag and pages, a click on
a word of an aligned transcript plays the audio from that word, and at 420 px the page has
no horizontal scroll. The 13,100-file report renders in under 30 s and stays responsive.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from synthetic import make_synthetic_db
from test_report_browser import DevTools, console_problems, find_browser

from asrlens.db import connect
from asrlens.report import render_report

PHONE_WIDTH_PX = 420
RENDER_LIMIT_S = 30.0
"""A 13,100-file report must render in less (the issue's bound, on the 2-core test VM)."""
FILTER_LIMIT_MS = 1000.0
"""Filtering the 13,100-file table must redraw in less."""


class Page:
    """One page open in headless Chromium at a given width."""

    def __init__(self, page: Path, tmp_path: Path, *, width: int):
        browser = find_browser()
        if browser is None:
            pytest.skip("no Chromium found: install Debian's `chromium` to run the browser test")
        self.tools = DevTools(browser, tmp_path / "profile")
        target = self.tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.tools.send("Target.attachToTarget",
                                       {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.tools.send(f"{domain}.enable", session=self.session)
        self.tools.send("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": 900, "deviceScaleFactor": 1,
                         "mobile": False}, session=self.session)
        # overlay scrollbars, as on a phone: the viewport is the whole width
        self.tools.send("Emulation.setScrollbarsHidden", {"hidden": True}, session=self.session)
        self.tools.send("Page.navigate", {"url": page.resolve().as_uri()}, session=self.session)
        self.tools.wait_for_event("Page.loadEventFired")

    def js(self, expression: str):
        """The value of a JavaScript expression (returned through JSON)."""
        result = self.tools.send("Runtime.evaluate", {
            "expression": f"JSON.stringify({expression})", "returnByValue": True,
            "awaitPromise": True}, session=self.session)
        if "exceptionDetails" in result:
            raise AssertionError(result["exceptionDetails"])
        value = result["result"].get("value")  # JSON.stringify(undefined) gives nothing
        return None if value is None else json.loads(value)

    def click(self, selector: str) -> None:
        """A real mouse click (a user gesture) in the middle of the element."""
        box = self.js(f"""(() => {{ const e = document.querySelector({json.dumps(selector)});
            e.scrollIntoView({{block: "center"}}); const r = e.getBoundingClientRect();
            return [r.x + r.width / 2, r.y + r.height / 2]; }})()""")
        for kind in ("mousePressed", "mouseReleased"):
            self.tools.send("Input.dispatchMouseEvent", {
                "type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1},
                session=self.session)

    def problems(self) -> list[str]:
        return console_problems(self.tools.events)

    def close(self) -> None:
        self.tools.close()


def table_rows() -> str:
    return "Array.from(document.querySelectorAll('#files-table tbody tr')).map(r => r.dataset.utt)"


@pytest.fixture(scope="module")
def two_run_report(tmp_path_factory, sample_dir) -> Path:
    """A comparison report of 32 generated files carrying the sample's ids, its dataset
    pointing at the real sample audio (linked), with the run history."""
    tmp = tmp_path_factory.mktemp("working")
    db = make_synthetic_db(tmp / "synth.duckdb", n_utts=32, n_runs=2, seed=1)
    engine = connect(db)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("update datasets set root = ?", (str(sample_dir),))
        return render_report(engine, run_ids=["run0", "run1"], out_dir=tmp / "report",
                             audio="link", top_n=5, all_runs=True)
    finally:
        engine.dispose()


def test_the_file_table_filters_by_text_and_tag(two_run_report, tmp_path):
    page = Page(two_run_report, tmp_path, width=1100)
    try:
        everything = page.js(table_rows())
        assert len(everything) >= 25  # every scored file of run0 on one page
        target = everything[-1]
        page.js(f"(() => {{ const s = document.getElementById('files-search'); "
                f"s.value = {json.dumps(target)}; s.dispatchEvent(new Event('input')); }})()")
        time.sleep(0.5)  # the search waits 120 ms after the last key
        assert page.js(table_rows()) == [target]
        assert page.js("document.getElementById('files-count').textContent").startswith("1 of")
        # a word of a reference finds the files whose texts hold it
        word = page.js("document.querySelector('#files-table tbody tr td.text').textContent"
                       ".split(' ')[0]")
        page.js(f"(() => {{ const s = document.getElementById('files-search'); "
                f"s.value = {json.dumps(word)}; s.dispatchEvent(new Event('input')); }})()")
        time.sleep(0.5)
        found = page.js("Array.from(document.querySelectorAll('#files-table tbody tr'))"
                        ".map(r => r.textContent.toLowerCase())")
        assert found and all(word.lower() in text for text in found)
        # by tag: every row left carries it, and fewer rows than all
        page.js("(() => { const s = document.getElementById('files-search'); s.value = ''; "
                "s.dispatchEvent(new Event('input')); })()")
        time.sleep(0.5)
        page.js("(() => { const t = document.getElementById('files-tag'); "
                "t.value = 'proper_noun'; t.dispatchEvent(new Event('change')); })()")
        tags = page.js("Array.from(document.querySelectorAll('#files-table tbody tr'))"
                       ".map(r => r.cells[8].textContent)")
        assert tags and len(tags) < len(everything)
        assert all("proper_noun" in t.split() for t in tags)
        assert page.problems() == []
    finally:
        page.close()


def test_clicking_a_word_plays_the_audio_from_its_start(two_run_report, tmp_path):
    page = Page(two_run_report, tmp_path, width=1100)
    try:
        word = page.js("""(() => { const w = Array.from(document.querySelectorAll(
              'article.worst-file [data-start]')).find(w => parseFloat(w.dataset.start) > 0.5);
              w.id = 'word-to-play'; return parseFloat(w.dataset.start); })()""")
        assert word > 0.5
        assert page.js("document.querySelector('#word-to-play').closest('article')"
                       ".querySelector('audio').currentTime") == 0
        page.click("#word-to-play")
        time.sleep(1.0)
        moved = page.js("document.querySelector('#word-to-play').closest('article')"
                        ".querySelector('audio').currentTime")
        assert moved >= word - 0.05  # at the word's start (or past it, playing)
        assert page.problems() == []
    finally:
        page.close()


def test_the_page_fits_420_px_without_horizontal_scroll(two_run_report, tmp_path):
    page = Page(two_run_report, tmp_path, width=PHONE_WIDTH_PX)
    try:
        sizes = page.js("[document.documentElement.scrollWidth, window.innerWidth, "
                        "document.body.scrollWidth]")
        assert sizes == [PHONE_WIDTH_PX] * 3, sizes
        wide = page.js(f"""Array.from(document.querySelectorAll('main *'))
            .filter(e => !e.closest('.table-wrap') && e.getBoundingClientRect().right
                         > {PHONE_WIDTH_PX} + 1).map(e => e.tagName + '.' + e.className)""")
        assert wide == []
        # the plots stack: each as wide as the column at most
        figures = page.js("Array.from(document.querySelectorAll('figure.plot'))"
                          ".map(f => f.getBoundingClientRect().width)")
        assert figures and max(figures) <= PHONE_WIDTH_PX
        assert page.js("Array.from(document.querySelectorAll('section.report-section'))"
                       ".map(s => s.id).slice(0, 3)") == ["summary", "history", "dataset"]
        assert page.problems() == []
    finally:
        page.close()


@pytest.mark.slow
def test_a_13100_file_report_renders_in_time_and_pages(tmp_path):
    import asrlens.explore  # noqa: F401  torch's import (once per process) is not the render's

    db = make_synthetic_db(tmp_path / "big.duckdb", n_utts=13_100, n_runs=1, seed=0)
    engine = connect(db, read_only=True)
    try:
        started = time.perf_counter()
        page_path = render_report(engine, out_dir=tmp_path / "report", audio="none")
        render_s = time.perf_counter() - started
    finally:
        engine.dispose()
    print(f"13,100-file report rendered in {render_s:.1f} s, "
          f"{page_path.stat().st_size / 1e6:.1f} MB")
    assert render_s < RENDER_LIMIT_S
    page = Page(page_path, tmp_path, width=1100)
    try:
        assert page.js("document.querySelectorAll('#files-table tbody tr').length") == 200
        total = page.js("document.getElementById('files-count').textContent")
        assert total.endswith(" files match") and int(total.split()[0]) > 12_000
        first = page.js(table_rows())
        page.click("#files-next")
        second = page.js(table_rows())
        assert len(second) == 200 and not set(first) & set(second)
        assert page.js("document.getElementById('files-page').textContent").startswith("page 2")
        elapsed = page.js("""(() => { const t = document.getElementById('files-tag');
            const s = performance.now(); t.value = 'rare_word';
            t.dispatchEvent(new Event('change')); return performance.now() - s; })()""")
        print(f"filtering 13,100 rows by tag and drawing a page: {elapsed:.0f} ms")
        assert elapsed < FILTER_LIMIT_MS
        assert page.problems() == []
    finally:
        page.close()
