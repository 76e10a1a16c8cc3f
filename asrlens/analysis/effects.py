"""Which features go with high WER: WER by quantile bucket, and Spearman rank correlation.

Bucket WER is corpus-style: the bucket's errors over its reference words, never a mean of
per-file WERs. The rank correlation is over files: per-file WER against the feature.

    buckets = bucket_effects(values, errors, ref_words)   # list[Bucket]
    rho = spearman(values, per_file_wer)                  # None when either side is constant
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from asrlens.scoring import rates
from asrlens.vocabulary import FEATURES  # noqa: F401  (the features, for callers and tests)

N_BUCKETS = 4
"""Quartiles. A feature with at most this many distinct values gets one bucket per value."""


@dataclass(frozen=True)
class Bucket:
    """Files whose feature lies in [lo, hi] (the smallest and largest value inside)."""

    bucket: int        # 0-based, low values first
    lo: float
    hi: float
    files: int
    ref_words: int
    errors: int        # substitutions + deletions + insertions
    wer: float | None  # errors / ref_words


def rank(values: Sequence[float]) -> np.ndarray:
    """1-based ranks, ties given the average of the ranks they span."""
    x = np.asarray(values, dtype=float)
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=float)
    sorted_x = x[order]
    start = 0
    while start < len(x):
        stop = start
        while stop + 1 < len(x) and sorted_x[stop + 1] == sorted_x[start]:
            stop += 1
        ranks[order[start:stop + 1]] = (start + stop) / 2 + 1
        start = stop + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rank correlation (Pearson over average ranks); None when fewer than 3
    pairs or when either side is constant."""
    if len(x) != len(y):
        raise ValueError("x and y differ in length")
    if len(x) < 3:
        return None
    rx, ry = rank(x), rank(y)
    rx -= rx.mean()
    ry -= ry.mean()
    denominator = float(np.sqrt((rx * rx).sum() * (ry * ry).sum()))
    if denominator == 0:
        return None
    return float((rx * ry).sum() / denominator)


def bucket_index(values: Sequence[float], *, n_buckets: int = N_BUCKETS) -> np.ndarray:
    """The bucket of each value: one per distinct value when there are at most n_buckets of
    them, else split at the quantiles (a value on an edge goes to the lower bucket).
    Numbers are renumbered 0, 1, ... over the buckets that hold files."""
    x = np.asarray(values, dtype=float)
    distinct = np.unique(x)
    if len(distinct) <= n_buckets:
        edges = distinct[:-1]
    else:
        edges = np.unique(np.quantile(x, np.arange(1, n_buckets) / n_buckets))
    raw = np.searchsorted(edges, x, side="left")
    _, dense = np.unique(raw, return_inverse=True)
    return dense


def bucket_effects(
    values: Sequence[float], errors: Sequence[int], ref_words: Sequence[int],
    *, n_buckets: int = N_BUCKETS,
) -> list[Bucket]:
    """WER per quantile bucket of a feature, over files (one entry per file in each list)."""
    if not len(values):
        return []
    x = np.asarray(values, dtype=float)
    err = np.asarray(errors, dtype=int)
    ref = np.asarray(ref_words, dtype=int)
    index = bucket_index(x, n_buckets=n_buckets)
    buckets = []
    for b in range(int(index.max()) + 1):
        inside = index == b
        words, wrong = int(ref[inside].sum()), int(err[inside].sum())
        buckets.append(Bucket(
            bucket=b, lo=float(x[inside].min()), hi=float(x[inside].max()),
            files=int(inside.sum()), ref_words=words, errors=wrong,
            wer=rates.corpus_wer(wrong, words),
        ))
    return buckets


def feature_rows(
    feature: str, values: Sequence[float], errors: Sequence[int], ref_words: Sequence[int],
    wers: Sequence[float], *, run_id: str,
) -> tuple[list[dict], dict]:
    """The `feature_effects` rows and the `feature_correlations` row of one feature of a run.

    One entry per scored file whose feature (and WER) is known, in each sequence: the
    feature's value, the file's errors, its reference words (the run's) and its WER.
    """
    buckets = bucket_effects(values, errors, ref_words)
    effect_rows = [{"run_id": run_id, "feature": feature, "bucket": b.bucket, "lo": b.lo,
                    "hi": b.hi, "files": b.files, "ref_words": b.ref_words, "errors": b.errors,
                    "wer": b.wer} for b in buckets]
    correlation = {"run_id": run_id, "feature": feature, "files": len(values),
                   "spearman": spearman(values, wers) if len(values) else None,
                   "n_buckets": len(buckets)}
    return effect_rows, correlation
