"""Section: Speakers, when the dataset knows them (utterances.speaker, from its layout): per
speaker of the primary run, files, reference words and corpus WER with its 95% bootstrap
interval (the speaker's files resampled), the worst speakers named, and how many files each
speaker has (a test set dominated by a few speakers tells less than its file count says).
"""

from __future__ import annotations

import sqlalchemy as sa

from asrlens.compare.groups import NO_GROUP, SPEAKER_RULE, GroupRule, group_results
from asrlens.report.context import ReportContext, run_query

TITLE = "Speakers"
TEMPLATE = "_speakers.html"
WORST = 5
"""Speakers named as the worst (highest WER, at least MIN_WORDS reference words)."""
MIN_WORDS = 20
"""Reference words a speaker needs to be named among the worst (fewer: too noisy)."""


def build(engine: sa.Engine, ctx: ReportContext) -> dict | None:
    """Per-speaker rows of the primary run; None without a run or without speakers."""
    if ctx.run_id is None:
        return None
    files = run_query(engine, "speaker_files", dataset=ctx.dataset, run_id=ctx.run_id)
    if not files:
        return None
    with engine.connect() as conn:
        table = group_results(conn, run_id=ctx.run_id, dataset=ctx.dataset,
                              rule=GroupRule(SPEAKER_RULE, ""), seed=ctx.seed)
    counts = {f["speaker"]: f for f in files}
    rows = [{**row, "utterances": counts.get(row["group_name"], {}).get("utterances", 0)}
            for row in table.rows if row["group_name"] != NO_GROUP]
    ranked = sorted((r for r in rows if r["wer"] is not None and r["ref_words"] >= MIN_WORDS),
                    key=lambda r: (-r["wer"], r["group_name"]))
    sizes = sorted((f["utterances"] for f in files), reverse=True)
    top = max(1, len(sizes) // 10)
    return {
        "run_id": ctx.run_id,
        "rows": rows,
        "corpus": table.corpus,
        "worst": ranked[:WORST],
        "min_words": MIN_WORDS,
        "speakers": len(files),
        "unknown": next((r["files"] for r in table.rows if r["group_name"] == NO_GROUP), 0),
        "files_median": sizes[len(sizes) // 2],
        "files_max": sizes[0],
        "top_share": sum(sizes[:top]) / sum(sizes) if sum(sizes) else None,
        "top": top,
    }
