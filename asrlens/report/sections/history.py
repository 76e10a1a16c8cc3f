"""Section "Run history" (`asrlens report --all-runs`): every run of the dataset, newest
first, with its WER and 95% interval, strict WER, speed and date, a WER-over-runs plot, and
a mark on the runs whose data fingerprint differs from the primary run's."""

from __future__ import annotations

import sqlalchemy as sa

from asrlens.fingerprint import compute_fingerprint, short
from asrlens.report import plots
from asrlens.report.context import ReportContext, run_columns, run_query
from asrlens.scoring.bootstrap import corpus_intervals

TITLE = "Run history"
TEMPLATE = "_history.html"


def build(engine: sa.Engine, ctx: ReportContext) -> dict | None:
    """The dataset's runs with their figures; None unless the report was asked for them."""
    if not ctx.all_runs:
        return None
    runs = run_query(engine, "history_runs", dataset=ctx.dataset)
    if not runs:
        return None
    for run in runs:
        counts = run_columns(engine, "run_file_counts", run_id=run["run_id"])
        run["interval"] = corpus_intervals(counts, seed=ctx.seed)["wer"]
        run["fingerprint"] = (run["data_fingerprint"]
                              or compute_fingerprint(engine, run["run_id"]).value)
        run["fingerprint_short"] = short(run["fingerprint"])
        run["anchor"] = _anchor(run["run_id"], ctx)
    reference = next((r["fingerprint"] for r in runs if r["run_id"] == ctx.run_id),
                     runs[0]["fingerprint"])
    for run in runs:
        run["other_data"] = run["fingerprint"] != reference
    return {"runs": runs, "reference_run": ctx.run_id or runs[0]["run_id"],
            "other_data": sum(r["other_data"] for r in runs), "plot": wer_over_runs(runs)}


def _anchor(run_id: str, ctx: ReportContext) -> str | None:
    """Where the run's figures are in this page: the Run section for the primary run, the
    comparison for the others given; None when the run is not in the report."""
    if run_id == ctx.run_id:
        return "run"
    return "compare" if run_id in ctx.run_ids else None


def wer_over_runs(runs: list[dict]) -> plots.Plot:
    """WER (%) of each run, oldest on the left, with its 95% interval as an error bar; runs on
    other data drawn hollow."""
    import matplotlib.pyplot as plt

    ordered = [r for r in reversed(runs) if r["wer"] is not None]
    with plots.plotting():
        fig, ax = plt.subplots(figsize=(plots.FIG_WIDTH_IN, plots.FIG_HEIGHT_IN))
        for i, r in enumerate(ordered):
            iv = r["interval"]
            low = 100 * (r["wer"] - iv.low) if iv.low is not None else 0.0
            high = 100 * (iv.high - r["wer"]) if iv.high is not None else 0.0
            ax.errorbar([i], [100 * r["wer"]], yerr=[[low], [high]], fmt="o", capsize=3,
                        color=plots.ACCENT_COLOR if r["other_data"] else plots.HIST_COLOR,
                        markerfacecolor="white" if r["other_data"] else None)
        ax.set_xticks(range(len(ordered)), [r["run_id"] for r in ordered], rotation=30,
                      ha="right", fontsize=7)
        plots.style_axes(ax, title="WER over runs", xlabel="run, oldest first",
                         ylabel="corpus WER (%)")
        return plots.to_plot(fig, caption=(
            "Each run's corpus WER with its 95% bootstrap interval. Hollow red points were "
            "scored on other data (their fingerprint differs): their WER is not comparable."))
