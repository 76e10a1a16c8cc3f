"""Section 6, Error patterns: which words the primary run confuses, drops and adds, and which
frequent words it gets wrong most often.

All counting is done in DuckDB over alignment_ops (patterns_*.sql); only the top rows of each
table are fetched.
"""

from __future__ import annotations

import math

import sqlalchemy as sa

from asrlens.report.context import ReportContext, run_query

TITLE = "Error patterns"
TEMPLATE = "_patterns.html"
TOP_PAIRS = 20
"""Substitution pairs listed."""
TOP_WORDS = 15
"""Deleted, inserted and error-prone words listed (each table)."""
FREQUENT_WORD_MIN = 5
"""A word needs at least this many occurrences in the references for its error rate to show..."""
FREQUENT_WORD_PER_REF_WORDS = 2000
"""...and at least one per this many reference words of the run (so 105 on 210,000 words)."""


def build(engine: sa.Engine, ctx: ReportContext) -> dict | None:
    """Top substitution pairs, deletions, insertions and per-word error rates of the run."""
    if ctx.run_id is None:
        return None
    totals = run_query(engine, "patterns_totals", run_id=ctx.run_id)[0]
    if not totals["ref_words"] and not totals["insertions"]:
        return None
    min_count = frequent_word_min(totals["ref_words"] or 0)
    pairs = run_query(engine, "patterns_substitutions", run_id=ctx.run_id, top_n=TOP_PAIRS)
    deleted = run_query(engine, "patterns_lone_words", run_id=ctx.run_id, op="delete",
                        top_n=TOP_WORDS)
    inserted = run_query(engine, "patterns_lone_words", run_id=ctx.run_id, op="insert",
                         top_n=TOP_WORDS)
    word_errors = run_query(
        engine, "patterns_word_errors", run_id=ctx.run_id, min_count=min_count, top_n=TOP_WORDS
    )
    return {
        "totals": totals,
        "pairs": pairs,
        "pairs_share": _share(pairs, totals["substitutions"]),
        "deleted": deleted,
        "deleted_share": _share(deleted, totals["deletions"]),
        "inserted": inserted,
        "inserted_share": _share(inserted, totals["insertions"]),
        "word_errors": word_errors,
        "min_count": min_count,
    }


def frequent_word_min(ref_words: int) -> int:
    """Least occurrences for a word's error rate to be listed, for a run of ref_words words."""
    return max(FREQUENT_WORD_MIN, math.ceil(ref_words / FREQUENT_WORD_PER_REF_WORDS))


def _share(rows: list[dict], total: int | None) -> float | None:
    """Fraction of `total` the listed rows' counts make up."""
    return sum(r["count"] for r in rows) / total if total else None
