"""Section "Hallucinations, formatting, punctuation, keywords": the failures `asrlens analyze`
measures beside WER (tables of docs/schema.md "Failures"). A database written by an asrlens
without them (opened read-only by `asrlens report`) gets no such section.

Each part is shown only when it has something to say: hallucination signals when a file is
flagged, formatting-only errors when there are some, punctuation when the recognizer writes
marks, casing when it writes mixed case, keywords when terms were given. With nothing to say
at all (or a run not analysed), the section is left out.
"""

from __future__ import annotations

import sqlalchemy as sa

from asrlens.db import named_query, query
from asrlens.report.context import ReportContext, run_query

TITLE = "Hallucinations, formatting, punctuation, keywords"
TEMPLATE = "_failures.html"
FLAGGED_FILES = 10
"""Flagged files listed at most."""
EXAMPLES_PER_KIND = 3
"""Example word pairs per formatting kind."""
NEEDED = 8
"""Tables and views of failures_tables.sql: all must be there (a newer schema than the file's)."""
SCORINGS = (("run", "under the run's normalizer"),
            ("raw", "against the raw transcripts (case and punctuation folded only)"))


def _sql(engine, name: str, **params) -> list[dict]:
    return query(engine, named_query("analysis", name), **params)


def build(engine: sa.Engine, ctx: ReportContext) -> dict | None:
    """The parts with something to say; None when there is none."""
    if ctx.run_id is None or len(run_query(engine, "failures_tables")) < NEEDED:
        return None
    run_id = ctx.run_id
    data = {"run_id": run_id, "hallucination": hallucination(engine, run_id),
            "formatting": formatting(engine, run_id),
            "punctuation": punctuation(engine, run_id),
            "keywords": keywords(engine, ctx)}
    if not any(data[k] for k in ("hallucination", "formatting", "punctuation", "keywords")):
        return None
    return data


def hallucination(engine, run_id: str) -> dict | None:
    summary = _sql(engine, "failures_hallucination", run_id=run_id)
    if not summary or not summary[0]["files_flagged"]:
        return None
    files = _sql(engine, "failures_flagged_files", run_id=run_id, limit=FLAGGED_FILES)
    return {"summary": summary[0], "files": files,
            "segments": any(f["max_no_speech_prob"] is not None for f in files)}


def formatting(engine, run_id: str) -> list[dict]:
    rows = _sql(engine, "failures_formatting", run_id=run_id)
    out = []
    for scoring, label in SCORINGS:
        total = next((r for r in rows if r["scoring"] == scoring and r["kind"] is None), None)
        if total is None or not total["formatting_errors"]:
            continue
        examples: dict[str, list[dict]] = {}
        for r in _sql(engine, "failures_formatting_examples", run_id=run_id, scoring=scoring,
                      per_kind=EXAMPLES_PER_KIND):
            examples.setdefault(r["kind"], []).append(r)
        kinds = sorted((r for r in rows if r["scoring"] == scoring and r["kind"]),
                       key=lambda r: -r["formatting_errors"])
        out.append({"scoring": scoring, "label": label, "total": total,
                    "kinds": [{**k, "examples": examples.get(k["kind"], [])} for k in kinds]})
    return out


def punctuation(engine, run_id: str) -> dict | None:
    casing = _sql(engine, "failures_casing", run_id=run_id)
    if not casing:
        return None
    c = casing[0]
    writes_marks, writes_case = bool(c["hyp_marks"]), bool(c["files_hyp_cased"])
    if not writes_marks and not writes_case:
        return None
    marks = _sql(engine, "failures_punctuation", run_id=run_id) if writes_marks else []
    return {"casing": c if writes_case else None, "writes_marks": writes_marks,
            "overall": next((m for m in marks if m["mark"] is None), None),
            "marks": [m for m in marks if m["mark"] is not None],
            "confusions": _sql(engine, "failures_punctuation_confusions", run_id=run_id)
            if writes_marks else []}


def keywords(engine, ctx: ReportContext) -> dict | None:
    per_run = {r: _sql(engine, "failures_keywords", run_id=r) for r in ctx.run_ids}
    if not per_run[ctx.run_id]:
        return None
    runs = [r for r in ctx.run_ids if per_run[r]]
    terms: dict[str, dict] = {}
    for run_id in runs:
        for row in per_run[run_id]:
            terms.setdefault(row["term"], {})[run_id] = row
    overall = terms.pop(None, {})
    rows = [{"term": t, "by_run": by_run} for t, by_run in terms.items()]
    return {"runs": runs, "overall": overall, "terms": rows}
