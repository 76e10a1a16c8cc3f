"""Section 5, Worst files: the files the primary run gets most wrong, each with its aligned
reference and hypothesis, word confidences, error tags and an audio player.

Only the top N files are fetched (worst_files.sql ranks in DuckDB); their alignment comes
from alignment_ops in op_index order (worst_alignment.sql). The aligned view is built in the
template from these rows, so every word is escaped by Jinja. A long file (a 30-minute
recording has over a thousand words) shows its first SHOWN_WORDS aligned words; the rest is
folded into a <details> element, one click away.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from asrlens.report import media
from asrlens.report.context import ReportContext, run_query

TITLE = "Worst files"
TEMPLATE = "_worst.html"
LOW_CONFIDENCE = 0.5
"""Hypothesis words with a confidence below this (in [0, 1]) are shown in italics."""
OP_CLASSES = {"equal": "eq", "substitute": "sub", "delete": "del", "insert": "ins"}
"""alignment_ops.op -> CSS class of the word in the aligned view."""
SHOWN_WORDS = 120
"""Aligned words (or words of a text) shown in the page; the rest is folded into <details>."""


@dataclass(frozen=True)
class AlignedWord:
    """One position of the aligned view: what was said, what was heard, how sure the engine was."""

    op: str                    # 'equal', 'substitute', 'delete', 'insert'
    css: str                   # 'eq', 'sub', 'del', 'ins'
    ref: str | None            # reference word (None for an insertion)
    hyp: str | None            # hypothesis word (None for a deletion)
    confidence: float | None   # engine confidence in `hyp`, in [0, 1]; None when not given
    low_confidence: bool
    tags: str | None           # error tags on this op, comma-separated
    start_s: float | None = None  # when the engine heard `hyp`, from the file's start


def build(engine: sa.Engine, ctx: ReportContext) -> dict | None:
    """The ctx.top_n worst files of the primary run, with alignment, tags and audio."""
    if ctx.run_id is None:
        return None
    files = run_query(engine, "worst_files", run_id=ctx.run_id, top_n=ctx.top_n)
    if not files:
        return None
    ranked = [f["utt_id"] for f in files]
    ops = run_query(engine, "worst_alignment", run_id=ctx.run_id, utt_ids=ranked)
    tag_rows = run_query(engine, "worst_tags", run_id=ctx.run_id, utt_ids=ranked)
    words = aligned_words(ops)
    tags: dict[str, list[dict]] = defaultdict(list)
    for row in tag_rows:
        tags[row["utt_id"]].append({"tag": row["tag"], "ops": row["ops"]})
    shown = [
        {
            **f,
            **fold_words(words.get(f["utt_id"], [])),
            "ref_text": fold_text(f["ref_norm"]),
            "hyp_text": fold_text(f["hyp_norm"]),
            "label_text": fold_text(f["ref_raw"]),
            "tags": tags.get(f["utt_id"], []),
            "audio": media.audio_source(ctx, f["audio_path"], start_s=f["start_s"],
                                        end_s=f["end_s"]),
        }
        for f in files
    ]
    return {
        "files": shown,
        "top_n": ctx.top_n,
        "audio_mode": ctx.audio,
        "has_confidence": any(w.confidence is not None for ws in words.values() for w in ws),
        "has_tags": bool(tag_rows),
        "has_start": any(w.start_s is not None for ws in words.values() for w in ws),
        "low_confidence": LOW_CONFIDENCE,
    }


def fold_words(words: list[AlignedWord], limit: int = SHOWN_WORDS) -> dict:
    """The aligned words split into those shown and those folded away (with their errors)."""
    folded = words[limit:]
    return {"words": words, "shown_words": words[:limit], "folded_words": folded,
            "folded_errors": sum(1 for w in folded if w.op != "equal")}


def fold_text(text: str | None, limit: int = SHOWN_WORDS) -> dict:
    """A text as its first `limit` words (head) and the rest (rest, rest_words)."""
    words = (text or "").split(" ")
    return {"head": " ".join(words[:limit]), "rest": " ".join(words[limit:]),
            "rest_words": max(0, len(words) - limit)}


def aligned_words(ops: list[dict]) -> dict[str, list[AlignedWord]]:
    """utt_id -> its AlignedWords in op_index order (rows come sorted by rank, op_index)."""
    words: dict[str, list[AlignedWord]] = defaultdict(list)
    for row in ops:
        confidence = row["confidence"]
        words[row["utt_id"]].append(
            AlignedWord(
                op=row["op"],
                css=OP_CLASSES.get(row["op"], row["op"]),
                ref=row["ref_word"],
                hyp=row["hyp_word"],
                confidence=confidence,
                low_confidence=confidence is not None and confidence < LOW_CONFIDENCE,
                tags=row["tags"],
                start_s=row["start_s"],
            )
        )
    return dict(words)
