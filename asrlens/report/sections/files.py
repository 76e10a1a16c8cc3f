"""Section "All files": the files the primary run scored, in a table the page filters by
text and by error tag, searches by id and words, sorts and pages (PAGE_ROWS at a time).

The rows travel once, as compact JSON inside the page (a <script type="application/json">
that Jinja's tojson escapes); files.js draws only the visible page, so a 13,100-file run
stays responsive. Every text is set with textContent, never parsed as HTML. A run of more
than MAX_ROWS files lists its MAX_ROWS worst, and the note says so and how to get them all
(a million rows would make a page of hundreds of MB that no browser opens).
"""

from __future__ import annotations

import sqlalchemy as sa

from asrlens.report.context import ReportContext, run_query

TITLE = "All files"
TEMPLATE = "_files.html"
PAGE_ROWS = 200
"""Rows drawn per page of the table."""
MAX_ROWS = 20_000
"""Files the table holds at most: the worst ones (about 4 MB of page for 20,000 files)."""
COLUMNS = ("utt_id", "wer", "errors", "substitutions", "deletions", "insertions", "ref_words",
           "duration_s", "tags", "ref_norm", "hyp_norm")
"""The fields of each row, in the order the JSON arrays hold them (files.js reads them so)."""


def build(engine: sa.Engine, ctx: ReportContext) -> dict | None:
    """The scored files (the MAX_ROWS worst at most) as arrays of COLUMNS, with the tags
    seen; None without a run."""
    if ctx.run_id is None:
        return None
    files = run_query(engine, "files_all", run_id=ctx.run_id, max_rows=MAX_ROWS)
    if not files:
        return None
    worst = {}
    rows = []
    for rank, f in enumerate(files, start=1):
        if rank <= ctx.top_n:
            worst[f["utt_id"]] = rank
        rows.append([_plain(f[c]) for c in COLUMNS])
    tags = sorted({t for f in files for t in f["tags"].split()})
    return {"payload": {"columns": list(COLUMNS), "rows": rows, "worst": worst,
                        "page_rows": PAGE_ROWS},
            "files": len(rows), "files_total": files[0]["files_total"], "run_id": ctx.run_id,
            "tags": tags, "page_rows": PAGE_ROWS}


def _plain(value):
    """A JSON-ready value: floats rounded to 4 decimals (WER, seconds), others as they are."""
    return round(value, 4) if isinstance(value, float) else value
