"""Section 3, Run: how the primary run was made, its corpus error rates with 95% bootstrap
intervals (over speakers when the dataset knows them, else over files), and its speed."""

from __future__ import annotations

import json
from dataclasses import replace

import sqlalchemy as sa

from asrlens.owner import shown_status
from asrlens.report.context import ReportContext, run_columns, run_query
from asrlens.report.sections.run_scoring import build_scoring
from asrlens.scoring.bootstrap import COUNT_COLUMNS, REPLICATES, Interval, corpus_intervals

TITLE = "Run"
TEMPLATE = "_run.html"
FAILURE_EXAMPLES = 10
"""Failed files listed by name."""
METRIC_LABELS = {
    "wer": ("WER", "word error rate: (S + D + I) / reference words"),
    "mer": ("MER", "match error rate: (S + D + I) / (H + S + D + I)"),
    "wil": ("WIL", "word information lost: 1 - (H / ref words)(H / hyp words)"),
    "cer": ("CER", "character error rate: character edits / reference characters"),
}


def build(engine: sa.Engine, ctx: ReportContext) -> dict | None:
    """The primary run's settings, corpus WER/MER/WIL/CER with intervals, and throughput."""
    if ctx.run_id is None:
        return None
    rows = run_query(engine, "run_summary", run_id=ctx.run_id)
    if not rows:
        return None
    summary = rows[0]
    intervals = unit_intervals(engine, ctx.run_id, seed=ctx.seed)
    metrics = [
        {
            "key": key,
            "label": METRIC_LABELS[key][0],
            "help": METRIC_LABELS[key][1],
            "value": summary[key],  # from the run_summary view: the page shows the SQL figure
            "interval": intervals[key],
        }
        for key in METRIC_LABELS
    ]
    throughput = run_query(engine, "run_throughput", run_id=ctx.run_id)[0]
    status = shown_status(run_query(engine, "run_status", run_id=ctx.run_id)[0])
    return {
        "summary": summary,
        "status": status,  # the recorded status, or 'stale' when its process is gone
        "incomplete": status != "finished",
        "metrics": metrics,
        "replicates": REPLICATES,
        "unit": intervals["wer"].unit,  # what the bootstrap resampled: 'file' or 'speaker'
        "units": intervals["wer"].units,
        "versions": _json(summary["versions"]),
        "options": _json(summary["options"]),
        "throughput": throughput,
        "failures": run_query(engine, "run_failures", run_id=ctx.run_id, limit=FAILURE_EXAMPLES),
        "scoring": build_scoring(engine, ctx.run_id, summary),
    }


def unit_intervals(engine: sa.Engine, run_id: str, *, seed: int) -> dict[str, Interval]:
    """Corpus rates with their bootstrap intervals, resampling speakers when the dataset
    knows any (a file of unknown speaker is a unit of its own), else files.

    The counts come summed per unit by run_unit_counts.sql, in the order
    bootstrap.cluster_sums would give them: the intervals are those of
    corpus_intervals(per-file counts, clusters=speakers), without a Python label per file.
    """
    units = run_columns(engine, "run_unit_counts", run_id=run_id)
    counts = {name: units[name] for name in COUNT_COLUMNS}
    intervals = corpus_intervals(counts, seed=seed)
    if not units["known"].any():
        return intervals
    return {name: replace(iv, unit="speaker") for name, iv in intervals.items()}


def _json(value) -> dict:
    """A JSON column as a dict (DuckDB returns JSON as text); {} when empty or unreadable."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return {"value": str(value)}
    return parsed if isinstance(parsed, dict) else {"value": parsed}
