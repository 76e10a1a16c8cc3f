"""Section "Why it fails": the written summary, feature vs WER, and error tags with examples.

Everything comes from the tables `asrlens analyze` fills (analysis_summary, feature_effects,
feature_correlations, op_tags); when the run has not been analysed the section says how to.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa

from asrlens.db import named_query, query
from asrlens.report import plots
from asrlens.report.context import ReportContext, run_query
from asrlens.vocabulary import FEATURES, TAG_DESCRIPTIONS

TITLE = "Why it fails"
TEMPLATE = "_why.html"
EXAMPLES_PER_TAG = 3
"""Examples shown for each error tag."""
EXAMPLE_WINDOW_OPS = 3
"""Aligned words shown either side of an example's error."""
PLOTTED_FEATURES = 4
"""Features with the strongest rank correlation drawn as WER-by-bucket bar charts."""


@dataclass(frozen=True)
class Cell:
    """One aligned word pair of an example; `focus` marks the tagged error."""

    op: str            # 'equal', 'substitute', 'delete', 'insert'
    ref: str
    hyp: str
    focus: bool


def build(engine: sa.Engine, ctx: ReportContext) -> dict | None:
    """The summary, the feature table and plots, the tag table with examples."""
    if ctx.run_id is None:
        return None
    summary = run_query(engine, "why_summary", run_id=ctx.run_id)
    if not summary:
        return {"analysed": False, "run_id": ctx.run_id}
    overall = query(engine, named_query("analysis", "summary_overall"),
                    run_id=ctx.run_id)
    corpus_wer = overall[0]["wer"] if overall else None
    features = feature_table(run_query(engine, "why_effects", run_id=ctx.run_id))
    tag_rows = query(engine, named_query("analysis", "tag_shares"), run_id=ctx.run_id)
    examples = tag_examples(run_query(
        engine, "why_tag_examples", run_id=ctx.run_id, per_tag=EXAMPLES_PER_TAG,
        window=EXAMPLE_WINDOW_OPS, seed=str(ctx.seed)))
    tags = [{**row, "description": TAG_DESCRIPTIONS.get(row["tag"], ""),
             "examples": examples.get(row["tag"], [])} for row in tag_rows if row["tag"]]
    untagged = next((row for row in tag_rows if row["tag"] is None), None)
    plotted = [f for f in features if f["spearman"] is not None][:PLOTTED_FEATURES]
    figures = [bucket_plot(f, corpus_wer=corpus_wer) for f in plotted]
    if tags:
        figures.insert(0, tag_plot(tags, untagged))
    return {
        "analysed": True, "run_id": ctx.run_id, "summary": summary, "corpus_wer": corpus_wer,
        "features": features, "max_buckets": max((len(f["buckets"]) for f in features),
                                                 default=0),
        "tags": tags, "untagged": untagged, "plots": figures,
        "window": EXAMPLE_WINDOW_OPS,
    }


def feature_table(rows: list[dict]) -> list[dict]:
    """why_effects rows grouped per feature (strongest correlation first) with its buckets."""
    out = []
    for feature, group in itertools.groupby(rows, key=lambda r: r["feature"]):
        buckets = [{**b, "range": bucket_label(b["lo"], b["hi"])} for b in group]
        out.append({
            "feature": feature, "label": FEATURES.get(feature, feature),
            "files": buckets[0]["feature_files"], "spearman": buckets[0]["spearman"],
            "buckets": buckets,
        })
    return out


def tag_examples(rows: list[dict]) -> dict[str, list[dict]]:
    """why_tag_examples rows -> tag -> examples, each {utt_id, cells: [Cell, ...]}."""
    out: dict[str, list[dict]] = {}
    for (tag, _, utt_id), group in itertools.groupby(
        rows, key=lambda r: (r["tag"], r["example"], r["utt_id"])
    ):
        cells = [Cell(op=r["op"], ref=r["ref_word"] or "", hyp=r["hyp_word"] or "",
                      focus=r["op_index"] == r["focus_index"]) for r in group]
        out.setdefault(tag, []).append({"utt_id": utt_id, "cells": cells})
    return out


def bucket_label(lo: float, hi: float) -> str:
    """A bucket's range as an axis label: '3', '1.8–3.2' or '-29.5 to -23.9'."""
    def fmt(v: float) -> str:
        if float(v).is_integer():
            return f"{v:.0f}"
        return f"{v:.3g}" if abs(v) < 1 else f"{v:.1f}"

    if lo == hi:
        return fmt(lo)
    return f"{fmt(lo)} to {fmt(hi)}" if lo < 0 else f"{fmt(lo)}–{fmt(hi)}"


def bucket_plot(feature: dict, *, corpus_wer: float | None) -> plots.Plot:
    """Bars of WER (%) per bucket of one feature, file counts on the bars, overall WER dashed."""
    import matplotlib.pyplot as plt

    buckets = feature["buckets"]
    labels = [b["range"] for b in buckets]
    wer = np.array([100 * (b["wer"] or 0.0) for b in buckets])
    with plots.plotting():
        fig, ax = plt.subplots(figsize=(plots.FIG_WIDTH_IN / 2 + 0.4, plots.FIG_HEIGHT_IN))
        bars = ax.bar(range(len(buckets)), wer, color=plots.HIST_COLOR)
        for bar, b in zip(bars, buckets, strict=True):
            ax.annotate(f"n={b['files']}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=7)
        if corpus_wer is not None:
            ax.axhline(100 * corpus_wer, color=plots.ACCENT_COLOR, linestyle="--",
                       label=f"overall {100 * corpus_wer:.1f}%")
            ax.legend(frameon=False, fontsize=7, loc="best")
        ax.set_xticks(range(len(buckets)), labels, fontsize=7)
        plots.style_axes(ax, title=f"WER by {feature['label']}",
                         xlabel=f"{feature['label']}, buckets of files",
                         ylabel="WER of the bucket (%)")
        rho = feature["spearman"]
        return plots.to_plot(
            fig, caption=f"Errors over reference words of the files in each bucket; Spearman "
            f"rank correlation with per-file WER {rho:+.2f} over {feature['files']} files.")


def tag_plot(tags: list[dict], untagged: dict | None) -> plots.Plot:
    """Horizontal bars: share of the run's errors carrying each tag."""
    import matplotlib.pyplot as plt

    names = [t["tag"] for t in tags] + (["(no tag)"] if untagged else [])
    shares = [100 * (t["share"] or 0.0) for t in tags] + (
        [100 * (untagged["share"] or 0.0)] if untagged else [])
    with plots.plotting():
        fig, ax = plt.subplots(figsize=(plots.FIG_WIDTH_IN / 2 + 0.4, plots.FIG_HEIGHT_IN))
        ax.barh(range(len(names)), shares, color=plots.HIST_COLOR)
        ax.set_yticks(range(len(names)), names)
        ax.invert_yaxis()
        plots.style_axes(ax, title="Error tags", xlabel="share of the run's errors (%)",
                         ylabel="tag")
        return plots.to_plot(
            fig, caption="An error may carry several tags, so the bars add up to more than "
            "100%; a long '(no tag)' bar means the rules explain little.")
