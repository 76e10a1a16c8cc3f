"""Section 1, Dataset: how much there is, what it is made of, and what ingest could not use."""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa

from asrlens.report import plots
from asrlens.report.context import ReportContext, run_columns, run_query

TITLE = "Dataset"
TEMPLATE = "_dataset.html"
ISSUE_EXAMPLES = 3
"""Examples shown per ingest-issue kind."""
SILENCE_NOTE_FRACTION = 0.5
"""Files with more than this fraction of silent 25 ms frames are counted as 'mostly silent'."""


def build(engine: sa.Engine, ctx: ReportContext) -> dict | None:
    """Counts, formats, duration/level/silence distributions and ingest issues of ctx.dataset."""
    overview = run_query(engine, "dataset_overview", dataset=ctx.dataset)
    if not overview:
        return None
    audio = run_columns(engine, "dataset_audio", dataset=ctx.dataset)
    issue_rows = run_query(engine, "dataset_issues", dataset=ctx.dataset, examples=ISSUE_EXAMPLES)
    return {
        "overview": overview[0],
        "formats": run_query(engine, "dataset_formats", dataset=ctx.dataset),
        "issues": group_issues(issue_rows),
        "mostly_silent": int(np.sum(audio["silence_fraction"] > SILENCE_NOTE_FRACTION)),
        "silence_threshold": SILENCE_NOTE_FRACTION,
        "clipped_files": int(np.sum(audio["clipped_fraction"] > 0)),
        "plots": audio_plots(audio) if audio["duration_s"].size else [],
    }


def group_issues(rows: list[dict]) -> list[dict]:
    """Issue rows (one per example) grouped by kind: [{kind, n, examples: [...]}, ...]."""
    kinds: dict[str, dict] = {}
    for row in rows:
        entry = kinds.setdefault(row["kind"], {"kind": row["kind"], "n": row["n"], "examples": []})
        entry["examples"].append(row)
    return list(kinds.values())


def audio_plots(audio: dict[str, np.ndarray]) -> list[plots.Plot]:
    """Duration histogram, level (RMS and peak) histograms and silence-fraction histogram
    (audio: dataset_audio.sql's columns)."""
    import matplotlib.pyplot as plt

    result = [
        plots.histogram(
            audio["duration_s"],
            title="Utterance durations",
            xlabel="duration (s)",
            caption="Look at the spread and the tails: very short or very long files are where "
            "recognizers and batching struggle.",
        )
    ]
    rms = plots.finite(audio["rms_dbfs"])
    peak = plots.finite(audio["peak_dbfs"])
    with plots.plotting():
        fig, ax = plt.subplots(figsize=(plots.FIG_WIDTH_IN, plots.FIG_HEIGHT_IN))
        if rms.size or peak.size:
            both = np.concatenate([rms, peak])
            bins = np.linspace(both.min() - 0.5, both.max() + 0.5, 40)
            ax.hist(rms, bins=bins, color=plots.HIST_COLOR, alpha=0.75, label="RMS level")
            ax.hist(peak, bins=bins, color=plots.ACCENT_COLOR, alpha=0.6, label="peak level")
            ax.legend(frameon=False)
        plots.style_axes(ax, title="Recording levels", xlabel="level (dBFS)", ylabel="files")
        result.append(
            plots.to_plot(
                fig,
                caption="Look for outliers: quiet files (low RMS) or peaks at 0 dBFS (clipping) "
                "often explain recognition errors.",
            )
        )
    result.append(
        plots.histogram(
            audio["silence_fraction"],
            title="Silence per file",
            xlabel="fraction of 25 ms frames more than 40 dB below the file's peak",
            caption="Look for files that are mostly silence: long pauses invite insertions, "
            "and an almost silent file is probably a bad recording.",
        )
    )
    return result
