"""Keyword error rate: how a run did on a short list of terms that matter (tables
`keywords`, `keyword_occurrences`; views `keyword_results`, `keyword_changes`).

A term is one or more words ('Gutenberg', 'Johann Gutenberg'). It is normalized with the
run's normalizer and looked for in the normalized words of both sides:

- a *reference occurrence* is the term's words in a row in the reference; it is *found* when
  each of its words is aligned as a hit ('equal') to hypothesis words that are themselves in
  a row (the term appears, at that place, in the hypothesis);
- a *hypothesis occurrence* is the term's words in a row in the hypothesis; it *matches* when
  it is the hypothesis side of a found reference occurrence.

Per term: recall = found / reference occurrences, precision = matching / hypothesis
occurrences. Keyword error rate = (reference occurrences not found + hypothesis occurrences
that match none) / reference occurrences.

    occurrences(["JOHANN GUTENBERG"], ops)   # rows for side 'ref' and side 'hyp'

Terms come from `--keywords FILE` (one term per line; blank lines and lines starting with
'#' skipped) for every file of the dataset, or `--keywords label:COLUMN`, a column of the
labels (utterance_labels) holding each file's own terms separated by ';'.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from asrlens.analysis.tags import Op
from asrlens.errors import AsrlensError

LABEL_PREFIX = "label:"
LABEL_SEPARATOR = ";"
"""Separates the terms of one file in a labels column."""


def read_terms(path: str | Path) -> list[str]:
    """The terms of a keywords file, in order, duplicates dropped; AsrlensError when the
    file cannot be read or holds no term."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AsrlensError(f"cannot read keywords file {path}: {exc}") from exc
    terms = list(dict.fromkeys(
        " ".join(line.split()) for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")))
    if not terms:
        raise AsrlensError(f"keywords file {path} holds no term (one term per line)")
    return terms


def split_label_terms(value: str | None) -> list[str]:
    """The terms of one labels cell ('Gutenberg; Mainz' -> ['Gutenberg', 'Mainz'])."""
    return [" ".join(t.split()) for t in (value or "").split(LABEL_SEPARATOR) if t.strip()]


def _runs(words: Sequence[str], term: Sequence[str]) -> list[int]:
    n = len(term)
    return [i for i in range(len(words) - n + 1) if list(words[i:i + n]) == list(term)]


def occurrences(terms: dict[str, list[str]], ops: Sequence[Op], *, keys: dict) -> list[dict]:
    """`keyword_occurrences` rows of one file.

    terms: term as written -> its normalized words; ops: the file's alignment; keys:
    {run_id, utt_id}. Each row: term, side ('ref' or 'hyp'), occurrence (0-based count of
    the term on that side of the file), position (first word's index), found (ref: found;
    hyp: matches a found reference occurrence).
    """
    ref = [o.ref_word for o in ops if o.ref_word is not None]
    hyp = [o.hyp_word for o in ops if o.hyp_word is not None]
    hyp_of_ref = {o.ref_pos: o.hyp_pos for o in ops if o.op == "equal"}
    rows = []
    for term, words in terms.items():
        if not words:
            continue
        matched_hyp = set()
        for k, start in enumerate(_runs(ref, words)):
            span = [hyp_of_ref.get(start + d) for d in range(len(words))]
            found = None not in span and span == list(range(span[0], span[0] + len(words)))
            if found:
                matched_hyp.add(span[0])
            rows.append({**keys, "term": term, "side": "ref", "occurrence": k,
                         "position": start, "found": found})
        for k, start in enumerate(_runs(hyp, words)):
            rows.append({**keys, "term": term, "side": "hyp", "occurrence": k,
                         "position": start, "found": start in matched_hyp})
    return rows


def term_summary(rows: Sequence[dict]) -> dict[str, dict]:
    """Per term: ref (occurrences), found, hyp (occurrences), matched, recall, precision —
    what the view keyword_results computes, for tests and callers without a database."""
    out: dict[str, dict] = {}
    for r in rows:
        t = out.setdefault(r["term"], {"ref": 0, "found": 0, "hyp": 0, "matched": 0})
        if r["side"] == "ref":
            t["ref"] += 1
            t["found"] += bool(r["found"])
        else:
            t["hyp"] += 1
            t["matched"] += bool(r["found"])
    for t in out.values():
        t["recall"] = t["found"] / t["ref"] if t["ref"] else None
        t["precision"] = t["matched"] / t["hyp"] if t["hyp"] else None
    return out
