"""The written summary of a run's analysis (table `analysis_summary`).

A few sentences: the overall figures, the worst files, the likely reasons (tags by share of
errors), the features most associated with WER and the most frequent confusions. Every
number is read by a query in asrlens/analysis/queries/ and only formatted here.
"""

from __future__ import annotations

import sqlalchemy as sa

from asrlens.db import named_query, query
from asrlens.vocabulary import FEATURES

WORST_FILES = 3
"""Files named in the summary."""
TOP_TAGS = 3
"""Tags named in the summary (the untagged share is always given)."""
TOP_FEATURES = 2
"""Features named in the summary, by strength of rank correlation."""
TOP_CONFUSIONS = 3
"""Confusions named in the summary."""
COUNT_FEATURES = frozenset({"ref_words", "n_digits", "n_abbreviations", "n_proper_nouns",
                            "n_rare_words", "n_hyphenated"})
"""Features that count things: the summary writes 'with 2 proper nouns'."""
MIN_FEATURE_FILES = 8
"""A feature is named only when it is known for at least this many files."""


def _sql(conn: sa.Connection, name: str, **params) -> list[dict]:
    """Rows of asrlens/analysis/queries/<name>.sql (the analysis stage's named queries)."""
    return query(conn, named_query("analysis", name), **params)


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def number(value: float) -> str:
    """A feature value as the summary writes it: integers plain, others to 2 decimals."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def overall_sentence(conn: sa.Connection, *, run_id: str) -> str | None:
    rows = _sql(conn, "summary_overall", run_id=run_id)
    if not rows or not rows[0]["files_scored"]:
        return f"Run {run_id} has no scored files: nothing to analyse."
    r = rows[0]
    wer = "n/a" if r["wer"] is None else f"{r['wer']:.3f}"
    return (f"Run {run_id} ({r['engine']}) scored {r['files_scored']} files: corpus WER {wer} "
            f"({r['errors']} errors over {r['ref_words']} reference words).")


def worst_files_sentence(conn: sa.Connection, *, run_id: str) -> str | None:
    rows = [r for r in _sql(conn, "worst_files", run_id=run_id, limit=WORST_FILES) if r["errors"]]
    if not rows:
        return None
    files = [f"{r['utt_id']} (WER {r['wer']:.3f}, {r['errors']} errors over {r['ref_words']} "
             f"words)" for r in rows]
    return f"The worst files are {_join(files)}."


def tags_sentence(conn: sa.Connection, *, run_id: str) -> str | None:
    rows = _sql(conn, "tag_shares", run_id=run_id)
    tagged = [r for r in rows if r["tag"] is not None][:TOP_TAGS]
    untagged = [r for r in rows if r["tag"] is None]
    if not untagged or not untagged[0]["errors"]:
        return None
    total = untagged[0]["errors"]
    parts = [f"{r['tag']} {r['share']:.0%} ({r['ops']})" for r in tagged]
    none = untagged[0]
    reasons = f"{_join(parts)}; " if parts else ""
    return (f"Likely reasons, by share of the {total} errors (an error may have several): "
            f"{reasons}{none['share']:.0%} ({none['ops']}) have no tag.")


def feature_sentences(conn: sa.Connection, *, run_id: str) -> list[str]:
    """Up to TOP_FEATURES sentences: the features with the strongest rank correlation with
    per-file WER and their worst bucket. A feature whose worst bucket holds the same files'
    figures as one already named (digits and norm_differs often do) is skipped."""
    overall = _sql(conn, "summary_overall", run_id=run_id)
    if not overall or overall[0]["wer"] is None:
        return []
    rows = _sql(conn, "strongest_features", run_id=run_id, limit=len(FEATURES))
    sentences, seen = [], set()
    for r in rows:
        evidence = (r["bucket_files"], r["bucket_wer"])
        if r["files"] < MIN_FEATURE_FILES or evidence in seen:
            continue
        seen.add(evidence)
        lead = ("The feature most associated with per-file WER is" if not sentences
                else "Next comes")
        sentences.append(
            f"{lead} {FEATURES.get(r['feature'], r['feature'])} (Spearman rank correlation "
            f"{r['spearman']:+.2f} over {r['files']} files): files {bucket_phrase(r)} have WER "
            f"{r['bucket_wer']:.3f} against {overall[0]['wer']:.3f} overall "
            f"(n={r['bucket_files']})."
        )
        if len(sentences) == TOP_FEATURES:
            break
    return sentences


def bucket_phrase(row: dict) -> str:
    """Which files a bucket holds, in words: 'with duration (s) between 1.83 and 3.20',
    'with 2 to 4 proper nouns'."""
    if row["feature"] == "norm_differs" and row["lo"] == row["hi"]:
        return ("whose raw and normalized transcripts differ" if row["lo"]
                else "whose raw and normalized transcripts agree")
    label = FEATURES.get(row["feature"], row["feature"])
    if row["feature"] in COUNT_FEATURES:
        if row["lo"] == row["hi"]:
            return f"with {number(row['lo'])} {label}"
        return f"with {number(row['lo'])} to {number(row['hi'])} {label}"
    if row["lo"] == row["hi"]:
        return f"with {label} = {number(row['lo'])}"
    return f"with {label} between {number(row['lo'])} and {number(row['hi'])}"


def confusions_sentence(conn: sa.Connection, *, run_id: str) -> str | None:
    rows = _sql(conn, "confusions", run_id=run_id, limit=TOP_CONFUSIONS)
    if not rows:
        return None
    pairs = [f"'{r['ref_word']}' heard as '{r['hyp_word']}' ({r['times']}x)" for r in rows]
    return f"The most frequent confusions: {_join(pairs)}."


def summarize(conn: sa.Connection, *, run_id: str) -> list[dict]:
    """The summary's rows for `analysis_summary`: run_id, position, topic, sentence."""
    topics: list[tuple[str, str | None]] = [
        ("overall", overall_sentence(conn, run_id=run_id)),
        ("worst_files", worst_files_sentence(conn, run_id=run_id)),
        ("tags", tags_sentence(conn, run_id=run_id)),
        *[("features", s) for s in feature_sentences(conn, run_id=run_id)],
        ("confusions", confusions_sentence(conn, run_id=run_id)),
    ]
    kept = [(topic, sentence) for topic, sentence in topics if sentence]
    return [{"run_id": run_id, "position": i, "topic": topic, "sentence": sentence}
            for i, (topic, sentence) in enumerate(kept)]
