"""Error rates from counts: the one definition of WER, MER, WIL and CER in Python.

A corpus rate is a rate of summed counts (Σ errors / Σ reference words), never a mean of
per-file rates. Every function takes a mapping of count columns (utterance_errors' names)
whose values are numbers or numpy arrays of the same shape (one value per group, replicate
or file), and gives the rate with NaN where its denominator is 0:

    totals = summed(rows)                 # {"hits": ..., "substitutions": ..., ...}
    corpus_rates(totals)                  # {"wer": 0.261, "mer": ..., "wil": ..., "cer": ...}
    RATES["wer"](resampled)               # one WER per bootstrap replicate (an array)

The run_summary view (schema.sql) states the same formulas in SQL for the database's side;
tests/test_scoring_rates.py checks that the two agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np

Counts = Mapping[str, "np.ndarray | float | int"]

WORD_COUNTS = ("ref_words", "hyp_words", "hits", "substitutions", "deletions", "insertions")
"""The word counts of utterance_errors that the rates read."""


def ratio(num, den):
    """num / den elementwise, NaN where den is 0 (a float for scalars, else an array)."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    return float(out) if out.ndim == 0 else out


def word_errors(t: Counts):
    """Substitutions + deletions + insertions."""
    return t["substitutions"] + t["deletions"] + t["insertions"]


def char_errors(t: Counts):
    """Character edits: the char_errors total if given, else the sum of the char_ columns."""
    if "char_errors" in t:
        return t["char_errors"]
    return t["char_substitutions"] + t["char_deletions"] + t["char_insertions"]


def wer(t: Counts):
    """Word error rate: (S + D + I) / N (N: reference words)."""
    return ratio(word_errors(t), t["ref_words"])


def mer(t: Counts):
    """Match error rate: (S + D + I) / (H + S + D + I)."""
    errors = word_errors(t)
    return ratio(errors, t["hits"] + errors)


def wip(t: Counts):
    """Word information preserved: (H / N) (H / P) (P: hypothesis words)."""
    return ratio(t["hits"], t["ref_words"]) * ratio(t["hits"], t["hyp_words"])


def wil(t: Counts):
    """Word information lost: 1 - WIP."""
    return 1 - wip(t)


def cer(t: Counts):
    """Character error rate: character edits / reference characters (spaces included)."""
    return ratio(char_errors(t), t["ref_chars"])


RATES: dict[str, Callable[[Counts], object]] = {"wer": wer, "mer": mer, "wil": wil, "cer": cer}
"""The corpus rates asrlens reports, by the name of their run_summary column."""


def summed(rows: Iterable[Mapping], columns: Iterable[str] = WORD_COUNTS) -> dict[str, int]:
    """Each column's total over `rows` (dicts with those keys; None counts as 0)."""
    rows = list(rows)
    return {c: sum(r[c] or 0 for r in rows) for c in columns}


def value(rate) -> float | None:
    """A scalar rate as stored and shown: None for NaN (no denominator)."""
    rate = float(rate)
    return None if np.isnan(rate) else rate


def corpus_wer(errors, ref_words) -> float | None:
    """Σ errors / Σ reference words of sequences (or of two totals); None without words."""
    return value(ratio(np.sum(errors), np.sum(ref_words)))


def corpus_rates(totals: Counts, names: Iterable[str] = ("wer", "mer", "wil")) -> dict:
    """The named rates of summed counts, as floats (None where undefined)."""
    return {name: value(RATES[name](totals)) for name in names}
