"""Sentences about a run's failures for `analysis_summary` (topics 'hallucination',
'formatting', 'punctuation', 'casing', 'keywords'), each only when there is something to say.
Every number is read by a query in asrlens/analysis/queries/failures_*.sql.
"""

from __future__ import annotations

import sqlalchemy as sa

from asrlens.db import named_query, query

KINDS_NAMED = 3
"""Formatting kinds named in the sentence."""
TERMS_NAMED = 3
"""Missed keyword terms named in the sentence."""


def _sql(conn, name: str, **params) -> list[dict]:
    return query(conn, named_query("analysis", name), **params)


def hallucination_sentence(conn: sa.Connection, *, run_id: str) -> str | None:
    rows = _sql(conn, "failures_hallucination", run_id=run_id)
    if not rows or not rows[0]["files_flagged"]:
        return None
    r = rows[0]
    parts = []
    if r["loops"]:
        parts.append(f"{r['loops']} repetition loops ({r['loop_words']} extra words)")
    if r["start_runs"] or r["end_runs"]:
        parts.append(f"{r['start_runs'] + r['end_runs']} runs of 4 or more inserted words at "
                     f"a file's start or end")
    if r["long_files"]:
        parts.append(f"{r['long_files']} files at least 1.5 times longer than their reference")
    if r["inserted_in_silence"]:
        parts.append(f"{r['inserted_in_silence']} inserted words over silence")
    checked = (f"silence checked in {r['files_silence_checked']} files with word times"
               if r["files_silence_checked"] else "no word times: silence not checked")
    return (f"Hallucination signals in {r['files_flagged']} of {r['files']} files: "
            f"{_join(parts)} ({checked}).")


def formatting_sentences(conn: sa.Connection, *, run_id: str) -> list[str]:
    rows = _sql(conn, "failures_formatting", run_id=run_id)
    out = []
    for scoring, label in (("run", "the run's normalizer"),
                           ("raw", "the raw transcripts (minimal normalization)")):
        total = next((r for r in rows if r["scoring"] == scoring and r["kind"] is None), None)
        if total is None or not total["formatting_errors"]:
            continue
        kinds = sorted((r for r in rows if r["scoring"] == scoring and r["kind"]),
                       key=lambda r: -r["formatting_errors"])[:KINDS_NAMED]
        named = _join([f"{r['kind']} {r['formatting_errors']}" for r in kinds])
        out.append(f"Under {label}, {total['formatting_errors']} of {total['errors']} errors "
                   f"({100 * total['share']:.1f}%) are formatting only ({named}).")
    return out


def punctuation_sentence(conn: sa.Connection, *, run_id: str) -> str | None:
    casing = _sql(conn, "failures_casing", run_id=run_id)
    if not casing or not casing[0]["hyp_marks"]:
        return None
    overall = next((r for r in _sql(conn, "failures_punctuation", run_id=run_id)
                    if r["mark"] is None), None)
    if overall is None or overall["punct_er"] is None:
        return None
    return (f"Punctuation error rate {overall['punct_er']:.3f} (NeMo's punct_er over . , ? !: "
            f"{overall['deletions']} missed, {overall['insertions']} added, "
            f"{overall['substitutions']} wrong marks, {overall['correct']} right).")


def casing_sentence(conn: sa.Connection, *, run_id: str) -> str | None:
    rows = _sql(conn, "failures_casing", run_id=run_id)
    if not rows or not rows[0]["files_hyp_cased"] or rows[0]["casing_error_rate"] is None:
        return None
    r = rows[0]
    return (f"Casing error rate {r['casing_error_rate']:.3f} ({r['casing_errors']} of "
            f"{r['words']} words recognized but written in another case).")


def keywords_sentence(conn: sa.Connection, *, run_id: str) -> str | None:
    rows = _sql(conn, "failures_keywords", run_id=run_id)
    total = next((r for r in rows if r["term"] is None), None)
    if total is None or not total["ref_occurrences"]:
        return None
    missed = [r for r in rows if r["term"] is not None and r["found"] < r["ref_occurrences"]]
    named = _join([f"'{r['term']}' ({r['ref_occurrences'] - r['found']} of "
                   f"{r['ref_occurrences']})" for r in missed[:TERMS_NAMED]])
    precision = ("n/a" if total["precision"] is None else f"{total['precision']:.3f}")
    terms = sum(1 for r in rows if r["term"] is not None and r["ref_occurrences"])
    sentence = (f"Keywords: recall {total['recall']:.3f} over {total['ref_occurrences']} "
                f"occurrences of {terms} terms, precision {precision}, keyword error rate "
                f"{total['keyword_error_rate']:.3f}")
    return sentence + (f"; missed most: {named}." if named else ".")


def failure_sentences(conn: sa.Connection, *, run_id: str, start: int) -> list[dict]:
    """analysis_summary rows from position `start` on."""
    found = [("hallucination", hallucination_sentence(conn, run_id=run_id))]
    found += [("formatting", s) for s in formatting_sentences(conn, run_id=run_id)]
    found += [("punctuation", punctuation_sentence(conn, run_id=run_id)),
              ("casing", casing_sentence(conn, run_id=run_id)),
              ("keywords", keywords_sentence(conn, run_id=run_id))]
    return [{"run_id": run_id, "position": start + i, "topic": topic, "sentence": sentence}
            for i, (topic, sentence) in enumerate((t, s) for t, s in found if s)]


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
