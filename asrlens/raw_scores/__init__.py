"""Raw scores: every run's files scored again under the minimal normalization.

    score_raw(engine, "sphinx")   # fills raw_errors and raw_alignment_ops; returns files scored

A run's WER depends on its normalizer (which reference column, which spellings count). To
show what the normalizer changes, each scored file is also scored on the raw transcript
column against the raw hypothesis with only case and punctuation folded (`minimal-v1`),
with the run's alignment mode. run_summary.raw_wer sits beside wer, and the view
normalizer_word_effects lists the words whose errors the normalizer removed or added.

This sits below the stages (it reads and writes the database, so it is not part of the pure
scoring core): infer calls it after every batch and import, analysis for runs made before raw
scores existed, and neither reaches into the other for it.

Only files whose raw texts changed, or that have no raw score yet, are scored, so calling it
after every batch, resume or re-import costs little; raw rows of files that are no longer
scored (failed on a retry) are removed. Runs made before raw scores existed get them the
next time they are analysed (`asrlens analyze`).
"""

from __future__ import annotations

import sqlalchemy as sa

from asrlens.db import delete_rows, insert_rows, named_query, query
from asrlens.scoring.normalize import MINIMAL
from asrlens.scoring.score import score_texts

RAW_NORMALIZER = MINIMAL
RAW_TABLES = ("raw_errors", "raw_alignment_ops")
BATCH_FILES = 5000
"""Files scored and inserted at a time (their rows are about 25 each)."""
_RAW_COUNTS = ("ref_words", "hyp_words", "hits", "substitutions", "deletions", "insertions",
               "wer")


def score_raw(engine_or_conn: sa.Engine | sa.Connection, run_id: str, *,
              commit: bool = False) -> int:
    """Score run `run_id`'s files under the minimal normalization where missing or stale;
    returns how many files were (re)scored, BATCH_FILES files at a time. In `conn`'s
    transaction, or with `commit`, committing `conn` after each batch: DuckDB holds what a
    transaction wrote in memory until it commits, so only then does memory stay flat. Each
    batch is whole, so a cut-short call leaves nothing half-scored."""
    if isinstance(engine_or_conn, sa.Engine):
        with engine_or_conn.begin() as conn:
            return score_raw(conn, run_id)
    conn = engine_or_conn
    runs = query(conn, named_query("raw_scores", "run_alignment"), run_id=run_id)
    if not runs:
        return 0
    alignment = runs[0]["alignment"]
    gone = [row["utt_id"] for row in query(conn, named_query("raw_scores", "raw_unscored_files"),
                                           run_id=run_id)]
    if gone:
        for table in RAW_TABLES:
            delete_rows(conn, table, run_id=run_id, utt_id=gone)
    scored = 0
    for batch in query(conn, named_query("raw_scores", "raw_batches"), run_id=run_id,
                       batch_files=BATCH_FILES):
        scored += _score_batch(conn, run_id, alignment, **batch)
        if commit:
            conn.commit()
    return scored


def _score_batch(conn: sa.Connection, run_id: str, alignment: str, *, first_utt_id: str,
                 last_utt_id: str) -> int:
    """Score the files from first_utt_id to last_utt_id whose raw score is missing or stale
    and replace their rows; returns how many were scored."""
    errors, ops, stale = [], [], []
    for row in query(conn, named_query("raw_scores", "raw_to_score"), run_id=run_id,
                     first_utt_id=first_utt_id, last_utt_id=last_utt_id):
        ref_text, hyp_text = RAW_NORMALIZER(row["transcript"]), RAW_NORMALIZER(row["hyp_raw"])
        if (row["ref_text"], row["hyp_text"]) == (ref_text, hyp_text):
            continue
        if row["ref_text"] is not None:  # a stale raw score: its rows are replaced
            stale.append(row["utt_id"])
        score = score_texts(ref_text, hyp_text, alignment=alignment)
        keys = {"run_id": run_id, "utt_id": row["utt_id"]}
        errors.append({**keys, "ref_text": ref_text, "hyp_text": hyp_text,
                       **{name: getattr(score, name) for name in _RAW_COUNTS}})
        ops.extend(score.op_rows(**keys))
    if stale:
        for table in RAW_TABLES:
            delete_rows(conn, table, run_id=run_id, utt_id=stale)
    insert_rows(conn, "raw_errors", errors)
    insert_rows(conn, "raw_alignment_ops", ops)
    return len(errors)
