"""Section: results by group. The primary run's scored files grouped by a rule (`--group-by`:
a regex over utt_id, a labels-file column, or an SQL expression; by default the utt_id's
prefix, the chapter of an LJSpeech id): per group, files, reference words, corpus WER with
its 95% bootstrap interval, S/D/I, and each other run's WER; a plot of the groups' WERs
against the corpus WER; the groups that differ most named.
"""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa

from asrlens.compare import group_results, parse_rule
from asrlens.report import plots
from asrlens.report.context import ReportContext

TITLE = "Results by group"
TEMPLATE = "_groups.html"
PLOT_MAX_GROUPS = 60
"""Groups drawn at most (those with the most reference words); the table lists them all."""


def build(engine: sa.Engine, ctx: ReportContext) -> dict | None:
    """Per-group rows of the primary run (with the other runs' WERs); None without a run."""
    if ctx.run_id is None:
        return None
    rule = parse_rule(ctx.group_by)
    same_dataset = [r for r in ctx.run_ids if ctx.runs.get(r, {}).get("dataset") == ctx.dataset]
    with engine.connect() as conn:
        tables = {run: group_results(conn, run_id=run, dataset=ctx.dataset, rule=rule,
                                     seed=ctx.seed) for run in same_dataset}
    primary = tables[ctx.run_id]
    if not primary.rows:
        return None
    others = [r for r in same_dataset if r != ctx.run_id]
    other_wer = {run: {row["group_name"]: row["wer"] for row in tables[run].rows}
                 for run in others}
    rows = [{**row, "others": [other_wer[run].get(row["group_name"]) for run in others]}
            for row in primary.rows]
    single = single_group_line(primary.rows, rule=rule.text, run_id=ctx.run_id)
    return {
        "single": single,
        "run_id": ctx.run_id,
        "rule": rule.text,
        "rows": rows,
        "others": others,
        "corpus": primary.corpus,
        "outliers": primary.outliers,
        "plot": None if single else group_plot(primary.rows, corpus_wer=primary.corpus.get(
            "wer"), run_id=ctx.run_id, rule=rule.text),
    }


def single_group_line(rows: list[dict], *, rule: str, run_id: str) -> str | None:
    """Why the section has nothing to compare when every file is in one group (the LJSpeech
    sample: all of chapter LJ001); None with two groups or more."""
    if len(rows) != 1:
        return None
    row = rows[0]
    return (f"All {row['files']:,} scored files of run {run_id} are in one group, "
            f"{row['group_name']}, under {rule}: there is nothing to compare between groups "
            f"(no plot, and the sign and Wilcoxon tests over groups are not run); choose "
            f"another rule with --group-by, e.g. label:COLUMN or sql:EXPRESSION.")


def group_plot(rows: list[dict], *, corpus_wer: float | None, run_id: str,
               rule: str) -> plots.Plot:
    """Each group's WER (%) with its 95% interval, the corpus WER as a vertical line."""
    import matplotlib.pyplot as plt

    drawn = sorted(rows, key=lambda r: -r["ref_words"])[:PLOT_MAX_GROUPS]
    drawn = sorted((r for r in drawn if r["wer"] is not None), key=lambda r: r["group_name"])
    height = min(max(1.6, 0.22 * len(drawn) + 0.9), 14.0)
    with plots.plotting():
        fig, ax = plt.subplots(figsize=(plots.FIG_WIDTH_IN, height))
        y = np.arange(len(drawn))
        wer = np.array([100 * r["wer"] for r in drawn])
        low = np.array([100 * (r["wer_low"] if r["wer_low"] is not None else r["wer"])
                        for r in drawn])
        high = np.array([100 * (r["wer_high"] if r["wer_high"] is not None else r["wer"])
                         for r in drawn])
        if drawn:
            ax.errorbar(wer, y, xerr=[wer - low, high - wer], fmt="o", markersize=4,
                        color=plots.HIST_COLOR, ecolor=plots.HIST_COLOR, elinewidth=1,
                        capsize=2, label="group WER, 95% interval")
        if corpus_wer is not None:
            ax.axvline(100 * corpus_wer, color=plots.ACCENT_COLOR, linewidth=1,
                       label="corpus WER")
        ax.set_yticks(y)
        ax.set_yticklabels([r["group_name"] for r in drawn])
        ax.invert_yaxis()
        ax.legend(frameon=False, loc="best")
        left_out = len(rows) - len(drawn)
        plots.style_axes(ax, title=f"WER by group ({rule}), run {run_id}", xlabel="WER (%)",
                         ylabel="group")
        caption = ("Groups whose interval does not reach the red line differ from the corpus "
                   "WER beyond resampling noise.")
        if left_out:
            caption += f" {left_out} smaller groups are in the table only."
        return plots.to_plot(fig, caption=caption)
