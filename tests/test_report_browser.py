"""The report in a real browser: headless Chromium opens it from a file:// URL.

Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe: commands
on fd 3, replies and events on fd 4, NUL-separated JSON), so only the standard library is
needed. The test skips, saying why, where no Chromium is installed (`.ci/run` installs
Debian's `chromium`).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from synthetic import make_synthetic_db

from asrlens.db import connect
from asrlens.report import render_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--mute-audio", "--remote-debugging-pipe",
)
TIMEOUT_S = 60.0
"""Longest wait for one DevTools reply or the page's load event, seconds."""
VIEW_WIDTH_PX = 1100
SCREENSHOT_MAX_HEIGHT_PX = 16000

PAGE_FACTS_JS = """JSON.stringify({
  images: Array.from(document.images).map(i => ({complete: i.complete, width: i.naturalWidth,
                                                 alt: i.alt})),
  svgs: document.querySelectorAll("figure.plot svg").length,
  svgSizes: Array.from(document.querySelectorAll("figure.plot svg"))
                 .map(s => s.getBoundingClientRect().width),
  sections: Array.from(document.querySelectorAll("section.report-section")).map(s => s.id),
  height: document.documentElement.scrollHeight,
  groupRows: Array.from(document.querySelectorAll("#groups-table tbody tr"))
                  .map(r => r.dataset.group),
  groupPlotHeight: (document.querySelector("#groups figure.plot svg") || {
                      getBoundingClientRect: () => ({height: 0})}).getBoundingClientRect().height,
  significance: Array.from(document.querySelectorAll("#compare-1-significance tbody tr"))
                     .map(r => [r.dataset.test, r.cells[3].textContent.trim(),
                                r.getBoundingClientRect().height > 0]),
  pBetter: (document.getElementById("compare-1-p-better") || {textContent: ""}).textContent,
})"""

SORT_JS = """(() => {
  const table = Array.from(document.querySelectorAll("table.sortable"))
                     .find(t => t.tBodies[0] && t.tBodies[0].rows.length > 2
                           && t.querySelector("thead th.num"));
  if (!table) return JSON.stringify(null);
  const headers = Array.from(table.querySelectorAll("thead th"));
  const column = headers.findIndex(h => h.classList.contains("num"));
  const values = () => Array.from(table.tBodies[0].rows).map(r => {
    const c = r.cells[column];
    return parseFloat((c.dataset.sort !== undefined ? c.dataset.sort : c.textContent)
                      .replace(/,/g, ""));
  });
  headers[column].click();
  const up = values();
  headers[column].click();
  const down = values();
  return JSON.stringify({id: table.id, up: up, down: down});
})()"""


def find_browser() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def _high_fd(fd: int) -> int:
    """`fd` moved to a descriptor >= 10, close-on-exec."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class DevTools:
    """A headless Chromium and its DevTools pipe: send commands, collect events."""

    def __init__(self, browser: str, profile: Path):
        # Pipe ends at fds >= 10 (close-on-exec), so the child's dup2 onto 3 and 4 never
        # lands on one of them; only the dup2 copies (inheritable) survive the exec.
        to_browser_r, self._to_browser = (_high_fd(fd) for fd in os.pipe())
        self._from_browser, from_browser_w = (_high_fd(fd) for fd in os.pipe())

        def map_fds():  # the child reads commands on fd 3 and writes replies to fd 4
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.process = subprocess.Popen(
            [browser, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=map_fds, close_fds=False,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send one command and wait for its reply; events seen meanwhile are kept."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        reply = self._read_until(lambda m: m.get("id") == self._next_id)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def wait_for_event(self, method: str) -> dict:
        for event in self.events:
            if event.get("method") == method:
                return event
        return self._read_until(lambda m: m.get("method") == method)

    def _read_until(self, wanted) -> dict:
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "method" in message:
                    self.events.append(message)
                if wanted(message):
                    return message
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (OSError, RuntimeError, TimeoutError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


def open_report(page: Path, tmp_path: Path):
    """Load `page` in Chromium; returns (facts dict, sort result, problems, requested urls,
    screenshot path)."""
    browser = find_browser()
    if browser is None:
        pytest.skip(f"no Chromium found (looked for {', '.join(BROWSERS)} on PATH); "
                    "install Debian's `chromium` to run the browser test")
    tools = DevTools(browser, tmp_path / "profile")
    try:
        target = tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = tools.send("Target.attachToTarget",
                             {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            tools.send(f"{domain}.enable", session=session)
        tools.send("Emulation.setDeviceMetricsOverride",
                   {"width": VIEW_WIDTH_PX, "height": 900, "deviceScaleFactor": 1,
                    "mobile": False}, session=session)
        tools.send("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
        tools.wait_for_event("Page.loadEventFired")

        def evaluate(expression: str):
            result = tools.send("Runtime.evaluate", {"expression": expression,
                                                     "returnByValue": True}, session=session)
            return json.loads(result["result"]["value"])

        facts = evaluate(PAGE_FACTS_JS)
        sort = evaluate(SORT_JS)
        height = min(facts["height"], SCREENSHOT_MAX_HEIGHT_PX)
        shot = tools.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": VIEW_WIDTH_PX, "height": height, "scale": 1},
        }, session=session)
        screenshot = tmp_path / "report.png"
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        problems = console_problems(tools.events)
        urls = [e["params"]["request"]["url"] for e in tools.events
                if e.get("method") == "Network.requestWillBeSent"]
    finally:
        tools.close()
    return facts, sort, problems, urls, screenshot


def console_problems(events: list[dict]) -> list[str]:
    """Console errors, uncaught exceptions and failed loads among DevTools events."""
    problems = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            problems.append(f"exception: {params['exceptionDetails'].get('text')}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            problems.append(f"console.{params['type']}: {params.get('args')}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            problems.append(f"log: {params['entry'].get('text')} {params['entry'].get('url')}")
        elif method == "Network.loadingFailed":
            problems.append(f"failed load: {params.get('errorText')}")
    return problems


def check_page(page: Path, tmp_path: Path, *, sections: list[str]):
    facts, sort, problems, urls, screenshot = open_report(page, tmp_path)
    assert problems == []
    assert all(url.startswith(("file:", "data:", "about:")) for url in urls), urls
    assert facts["sections"] == sections
    assert facts["images"], "the page has plots as images (spectrogram, scatters)"
    for image in facts["images"]:
        assert image["complete"] and image["width"] > 0, image
    assert facts["svgs"] >= 3 and min(facts["svgSizes"]) > 100
    assert screenshot.stat().st_size > 50_000
    print(f"screenshot: {screenshot}")
    return sort, facts


def test_sample_report_opens_cleanly_in_chromium(sphinx_db, tmp_path):
    engine = connect(sphinx_db, read_only=True)
    try:
        page = render_report(engine, out_dir=tmp_path / "report", audio="embed", top_n=5)
    finally:
        engine.dispose()
    sort, facts = check_page(page, tmp_path, sections=[
        "summary", "dataset", "explore", "run", "distribution", "groups", "worst", "files",
        "patterns", "why", "failures",
    ])
    # results by group: the 32 sample files are all of chapter LJ001: tabled, and one line
    # says why there is no plot
    assert facts["groupRows"] == ["LJ001"] and facts["groupPlotHeight"] == 0
    assert facts["significance"] == []  # one run: no significance table
    assert sort is not None, "a sortable table of files with a numeric column"
    assert sort["up"] == sorted(sort["up"]) and sort["down"] == sorted(sort["down"],
                                                                        reverse=True)


@pytest.mark.slow
def test_comparison_report_opens_cleanly_in_chromium(tmp_path, sample_dir):
    # 32 generated utterances carry the sample's ids (LJ001-0001..0032): point the dataset
    # at the sample so the explored file and the linked audio are real files.
    db = make_synthetic_db(tmp_path / "synth.duckdb", n_utts=32, n_runs=2, seed=1)
    engine = connect(db)
    with engine.begin() as conn:
        conn.exec_driver_sql("update datasets set root = ?", (str(sample_dir),))
    try:
        page = render_report(engine, run_ids=["run0", "run1"], out_dir=tmp_path / "report",
                             audio="link", top_n=5)
    finally:
        engine.dispose()
    _, facts = check_page(page, tmp_path, sections=[
        "summary", "dataset", "explore", "run", "distribution", "groups", "worst", "files",
        "patterns", "why",
        "compare",
    ])
    assert facts["groupRows"] == ["LJ001"] and facts["groupPlotHeight"] == 0  # one group: a line
    # the significance table of run1 against run0: the four tests, shown, with p-values
    assert [t for t, _, _ in facts["significance"]] == ["mapsswe", "sign", "wilcoxon",
                                                       "mcnemar"]
    p_values = {test: (p_text, shown) for test, p_text, shown in facts["significance"]}
    for test in ("mapsswe", "mcnemar"):
        p_text, shown = p_values[test]
        assert shown and (p_text == "<0.001" or 0.0 <= float(p_text) <= 1.0)
    for test in ("sign", "wilcoxon"):  # one group (LJ001): not run, so no p-value
        assert p_values[test] == ("-", True)
    assert 0.0 <= float(facts["pBetter"]) <= 1.0
