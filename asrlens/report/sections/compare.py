"""Section 7, Comparison: with several runs given (`--run A --run B`), their corpus figures side
by side and, for each run after the first, whether it differs significantly from the first
(sc_stats's four tests and the paired bootstrap, asrlens.compare) and the files whose WER
changed most from the first.

Files are matched by utt_id, so only runs of the same dataset are compared file by file.
"""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa

from asrlens.compare.report_text import TEST_LABELS, fmt_p, normalizer_line
from asrlens.compare.significance import TESTS
from asrlens.report import plots
from asrlens.report.context import ReportContext, run_columns, run_query
from asrlens.report.summary import compared

TITLE = "Run comparison"
TEMPLATE = "_compare.html"
ROWS = (
    # (label, run_summary column, filter used to show it)
    ("engine", "engine", "text"),
    ("model", "model", "text"),
    ("normalizer", "normalizer", "text"),
    ("device", "device", "text"),
    ("precision", "precision", "text"),
    ("status", "status", "text"),
    ("files scored", "files_scored", "int"),
    ("files failed", "files_failed", "int"),
    ("reference words", "ref_words", "int"),
    ("WER", "wer", "pct"),
    ("MER", "mer", "pct"),
    ("WIL", "wil", "pct"),
    ("CER", "cer", "pct"),
    ("substitutions", "substitutions", "int"),
    ("deletions", "deletions", "int"),
    ("insertions", "insertions", "int"),
    ("hours of audio", "audio_hours", "num"),
    ("real-time factor (wall-clock s / audio s)", "real_time_factor", "rtf"),
)
"""The comparison table's rows, top to bottom."""
SVG_MAX_POINTS = 1500
"""Scatters with more points than this are drawn as PNG instead of SVG."""
WER_AXIS_MAX = 2.0
"""Largest per-file WER drawn (a fraction); files above it are drawn at it."""


def build(engine: sa.Engine, ctx: ReportContext) -> dict | None:
    """Side-by-side run_summary rows and, per later run, the most changed files; None with
    fewer than two runs."""
    if len(ctx.run_ids) < 2:
        return None
    summaries = [run_query(engine, "compare_summary", run_id=r)[0] for r in ctx.run_ids]
    baseline = ctx.run_ids[0]
    comparisons = [
        compare_pair(engine, run_a=baseline, run_b=other, ctx=ctx) for other in ctx.run_ids[1:]
    ]
    return {
        "run_ids": list(ctx.run_ids),
        "baseline": baseline,
        "summaries": summaries,
        "rows": [
            {"label": label, "key": key, "fmt": fmt, "cells": [s[key] for s in summaries]}
            for label, key, fmt in ROWS
        ],
        "comparisons": comparisons,
        "top_n": ctx.top_n,
    }


def compare_pair(engine: sa.Engine, *, run_a: str, run_b: str, ctx: ReportContext) -> dict:
    """Overview counts and the ctx.top_n files with the largest |WER_b - WER_a|."""
    dataset_a = ctx.runs.get(run_a, {}).get("dataset")
    dataset_b = ctx.runs.get(run_b, {}).get("dataset")
    same_dataset = dataset_a == dataset_b
    if not same_dataset:
        return {"run_a": run_a, "run_b": run_b, "same_dataset": False,
                "dataset_a": dataset_a, "dataset_b": dataset_b, "overview": None, "changes": []}
    overview = run_query(engine, "compare_overview", run_a=run_a, run_b=run_b)[0]
    changes = run_query(engine, "compare_changes", run_a=run_a, run_b=run_b, top_n=ctx.top_n)
    files = run_columns(engine, "compare_files", run_a=run_a, run_b=run_b)
    return {"run_a": run_a, "run_b": run_b, "same_dataset": True, "dataset_a": dataset_a,
            "dataset_b": dataset_b, "overview": overview, "changes": changes,
            "significance": significance(engine, run_a=run_a, run_b=run_b, ctx=ctx),
            "plot": wer_scatter(files, run_a=run_a, run_b=run_b) if files["wer_a"].size
            else None}


def significance(engine: sa.Engine, *, run_a: str, run_b: str, ctx: ReportContext) -> dict:
    """The paired tests and bootstrap of run_b against run_a, ready for the template."""
    c = compared(engine, run_a=run_a, run_b=run_b, group_by=ctx.group_by, seed=ctx.seed,
                 memo=ctx.comparisons)  # the summary's; the page says how the data differ
    tests = [{"name": name, "label": TEST_LABELS[name], "n": c.tests[name].n,
              "statistic": c.tests[name].statistic, "p_value": c.tests[name].p_value,
              "p_text": fmt_p(c.tests[name].p_value), "better": c.better_run(c.tests[name]),
              "not_run": c.tests[name].detail.get("not_run")}
             for name in TESTS]
    return {"normalizer_line": normalizer_line(c),
            "files_shared": c.files_shared, "files_left_out": c.files_left_out,
            "wer_a": c.wer_a, "wer_b": c.wer_b, "bootstrap": c.bootstrap, "tests": tests,
            "rule": c.rule.text, "groups": len(c.groups),
            "other_data": c.data.describe() if c.data is not None and not c.data.same else ""}


def wer_scatter(files: dict[str, np.ndarray], *, run_a: str, run_b: str) -> plots.Plot:
    """Per-file WER (%) in run_b against run_a, with the diagonal of no change (files:
    compare_files.sql's columns)."""
    import matplotlib.pyplot as plt

    wer = np.column_stack([np.asarray(files["wer_a"], dtype=float),
                           np.asarray(files["wer_b"], dtype=float)])
    wer = 100 * np.minimum(wer[np.isfinite(wer).all(axis=1)], WER_AXIS_MAX)
    many = len(wer) > SVG_MAX_POINTS
    with plots.plotting():
        fig, ax = plt.subplots(figsize=(plots.FIG_WIDTH_IN * 0.7, plots.FIG_WIDTH_IN * 0.7))
        top = max(float(wer.max()) if wer.size else 0.0, 1.0) * 1.05
        ax.plot([0, top], [0, top], color=plots.ACCENT_COLOR, linewidth=1, label="no change")
        ax.scatter(wer[:, 0], wer[:, 1], s=9.0, alpha=0.25 if many else 0.6,
                   color=plots.HIST_COLOR, linewidths=0, label="file")
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.legend(frameon=False, loc="upper left")
        plots.style_axes(ax, title=f"Per-file WER: {run_b} against {run_a}",
                         xlabel=f"WER in {run_a} (%)", ylabel=f"WER in {run_b} (%)")
        return plots.to_plot(
            fig,
            caption=f"Each point is a file both runs scored. Points above the line got worse "
            f"in {run_b}, below it better; points far from the line are listed in the table.",
            fmt="png" if many else "svg",
        )
