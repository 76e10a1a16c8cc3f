"""Section 4, Distribution: how per-file WER is spread, and how it moves with duration,
speaking rate and level.

The numbers come from distribution_summary.sql (aggregated in DuckDB); the plots from
distribution_files.sql (a few numbers per scored file, fetched as numpy columns).
Scatters of many points are drawn as PNG so the page stays small and quick to open.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa

from asrlens.report import plots
from asrlens.report.context import ReportContext, run_columns, run_query
from asrlens.scoring import rates

TITLE = "Error distribution"
TEMPLATE = "_distribution.html"
WER_BIN_WIDTH = 0.05
"""Width of a WER histogram bin, as a fraction (5 percentage points)."""
WER_AXIS_MAX = 2.0
"""Largest per-file WER drawn (a fraction); files above it are drawn at it."""
SVG_MAX_POINTS = 1500
"""Scatters with more points than this are drawn as PNG instead of SVG."""
TREND_BINS = 10
"""The trend line is the WER of each of this many equal-count bins of files sorted by x..."""
TREND_MIN_FILES = 5
"""...with at least this many files in a bin (fewer bins for small runs)."""
SCATTER_POINT_SIZE = 9.0
"""Marker area in points^2."""


@dataclass(frozen=True)
class Explanatory:
    """A per-file quantity plotted against WER."""

    column: str         # column of distribution_files.sql
    corr_column: str    # its correlation with WER in distribution_summary.sql
    name: str           # what it is, in a few words
    title: str
    xlabel: str         # with units
    caption: str


EXPLANATORY = (
    Explanatory(
        "duration_s", "corr_duration", "duration", "WER against duration", "duration (s)",
        "Look for a slope: very short files often have high WER (one wrong word out of two), "
        "very long ones may overflow the model's context.",
    ),
    Explanatory(
        "words_per_s", "corr_words_per_s", "speaking rate", "WER against speaking rate",
        "speaking rate (reference words/s)",
        "Look at the right-hand side: fast speech usually costs deletions and substitutions.",
    ),
    Explanatory(
        "rms_dbfs", "corr_rms_dbfs", "level", "WER against level", "RMS level (dBFS)",
        "Look at the left-hand side: quiet recordings (low RMS level) are harder to recognize.",
    ),
)


def build(engine: sa.Engine, ctx: ReportContext) -> dict | None:
    """Summary figures, the WER histogram and three scatters for the primary run."""
    if ctx.run_id is None:
        return None
    summary = run_query(engine, "distribution_summary", run_id=ctx.run_id)[0]
    if not summary["files"]:
        return None
    files = run_columns(engine, "distribution_files", run_id=ctx.run_id)
    wer = _column(files, "wer")
    figures = [wer_histogram(wer, corpus_wer=summary["corpus_wer"])]
    for item in EXPLANATORY:
        corr = summary[item.corr_column]
        caption = item.caption + (
            f" Pearson correlation with WER: {corr:+.2f}." if corr is not None else ""
        )
        figures.append(
            scatter_against_wer(
                _column(files, item.column), wer, errors=_column(files, "errors"),
                ref_words=_column(files, "ref_words"), name=item.name, title=item.title,
                xlabel=item.xlabel, caption=caption,
            )
        )
    return {"summary": summary, "plots": figures}


def wer_histogram(wer: np.ndarray, *, corpus_wer: float | None) -> plots.Plot:
    """Histogram of per-file WER in percent, with the corpus WER marked."""
    import matplotlib.pyplot as plt

    wer = wer[np.isfinite(wer)]
    top = min(max(1.0, float(wer.max()) if wer.size else 1.0), WER_AXIS_MAX)
    edges = np.arange(0.0, top + WER_BIN_WIDTH, WER_BIN_WIDTH)
    with plots.plotting():
        fig, ax = plt.subplots(figsize=(plots.FIG_WIDTH_IN, plots.FIG_HEIGHT_IN))
        ax.hist(100 * np.clip(wer, 0.0, edges[-1] - 1e-9), bins=100 * edges,
                color=plots.HIST_COLOR, edgecolor="white", linewidth=0.5)
        if corpus_wer is not None:
            ax.axvline(100 * corpus_wer, color=plots.ACCENT_COLOR, linestyle="--",
                       label=f"corpus WER {100 * corpus_wer:.1f}%")
            ax.legend(frameon=False)
        plots.style_axes(ax, title="Per-file word error rate", xlabel="WER of the file (%)",
                         ylabel="files")
        return plots.to_plot(
            fig,
            caption="Look at the bar at 0% (files recognized perfectly) and the tail on the "
            "right: a few very bad files can carry much of the corpus WER (dashed line). "
            f"Files above {100 * top:.0f}% are counted in the last bar.",
        )


def scatter_against_wer(
    x: np.ndarray,
    wer: np.ndarray,
    *,
    errors: np.ndarray,
    ref_words: np.ndarray,
    name: str,
    title: str,
    xlabel: str,
    caption: str,
) -> plots.Plot:
    """Per-file WER (%) against x (`name`), with the WER of each tenth of the files sorted by
    x (errors over reference words of the files in it, as the corpus WER is computed)."""
    import matplotlib.pyplot as plt

    keep = np.isfinite(x) & np.isfinite(wer)
    x, y = x[keep], 100 * np.minimum(wer[keep], WER_AXIS_MAX)
    errors, ref_words = errors[keep], ref_words[keep]
    many = x.size > SVG_MAX_POINTS
    with plots.plotting():
        fig, ax = plt.subplots(figsize=(plots.FIG_WIDTH_IN, plots.FIG_HEIGHT_IN))
        if x.size:
            ax.scatter(x, y, s=SCATTER_POINT_SIZE, alpha=0.25 if many else 0.6,
                       color=plots.HIST_COLOR, linewidths=0, label="file")
            centers, wers = binned_wer(x, errors, ref_words, bins=TREND_BINS)
            if centers.size > 1:
                ax.plot(centers, 100 * wers, color=plots.ACCENT_COLOR, linewidth=2,
                        marker="o", markersize=3, label=f"WER of files grouped by {name}")
            ax.legend(frameon=False, loc="upper right")
        else:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        plots.style_axes(ax, title=title, xlabel=xlabel, ylabel="WER of the file (%)")
        return plots.to_plot(fig, caption=caption, fmt="png" if many else "svg")


def binned_wer(
    x: np.ndarray, errors: np.ndarray, ref_words: np.ndarray, *, bins: int
) -> tuple[np.ndarray, np.ndarray]:
    """(median x, WER as a fraction) of up to `bins` equal-count groups of files sorted by x.

    A group's WER is its errors over its reference words (not a mean of per-file rates).
    """
    bins = max(min(bins, x.size // TREND_MIN_FILES), 1)
    order = np.argsort(x, kind="stable")
    groups = [g for g in np.array_split(order, bins) if g.size and ref_words[g].sum() > 0]
    centers = np.array([np.median(x[g]) for g in groups])
    wers = np.array([rates.corpus_wer(errors[g], ref_words[g]) for g in groups])
    return centers, wers


def _column(columns: dict[str, np.ndarray], name: str) -> np.ndarray:
    """A fetched column as a float array (NULL is NaN)."""
    return np.asarray(columns[name], dtype=float)
