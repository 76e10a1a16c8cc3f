"""Bootstrap confidence intervals for corpus error rates, resampling files.

A corpus rate is computed from totals (Σ errors / Σ reference words), never as a mean of
per-file rates, so each replicate resamples the files with replacement, re-sums the counts
and recomputes the rate from those sums with asrlens.scoring.rates.

    counts = {"hits": ..., "substitutions": ..., ...}   # one array per column, one value per file
    intervals = corpus_intervals(counts, seed=0)        # {"wer": Interval, "mer": ..., ...}
    intervals = corpus_intervals(counts, seed=0, clusters=speakers)   # speakers resampled

Clustered bootstrap: when the files come in clusters (a speaker's files are not independent),
`clusters` (one label per file) makes each replicate resample whole clusters: the counts are
first summed per cluster, then the clusters are resampled like files. Resampling files when
a few speakers dominate understates the spread (BENCHMARKS.md: coverage of both).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from asrlens.scoring.rates import RATES, Counts

REPLICATES = 1000
CONFIDENCE = 0.95
CHUNK_REPLICATES = 100
"""Replicates drawn at once at most..."""
CHUNK_DRAWS = 4_000_000
"""...and file indices drawn at once at most (32 MB of them, and as much of gathered
counts): with many files, fewer replicates at a time, so memory stays flat (1,000,000 files
at 100 replicates would take 1.6 GB). The draws are the same however they are chunked."""

METRICS: Mapping[str, Callable[[Counts], np.ndarray]] = RATES
"""The rates intervals are drawn for: asrlens.scoring.rates, the one definition of each."""

COUNT_COLUMNS = (
    "hits", "substitutions", "deletions", "insertions", "ref_words", "hyp_words",
    "ref_chars", "char_errors",
)


@dataclass(frozen=True)
class Interval:
    """A corpus rate and its bootstrap percentile interval (fractions: 0.261 is 26.1%)."""

    value: float | None
    low: float | None
    high: float | None
    replicates: int       # replicates with a defined rate
    confidence: float
    unit: str = "file"    # what was resampled: 'file' or 'speaker' (clusters)
    units: int = 0        # how many of them


def cluster_sums(counts: Mapping[str, np.ndarray],
                 clusters: Sequence[Hashable]) -> dict[str, np.ndarray]:
    """Each column summed per cluster (one value per distinct label of `clusters`, in the
    order of first appearance): the units a clustered bootstrap resamples."""
    _, index = np.unique(np.asarray([str(c) for c in clusters], dtype=object),
                         return_inverse=True)
    n = int(index.max()) + 1 if index.size else 0
    return {name: np.bincount(index, weights=np.asarray(values, dtype=float), minlength=n)
            for name, values in counts.items()}


def resampled_totals(
    counts: Mapping[str, np.ndarray], *, seed: int, replicates: int = REPLICATES,
    clusters: Sequence[Hashable] | None = None,
) -> dict[str, np.ndarray]:
    """For each column, its sum over `replicates` resamples of the files (shape (replicates,)).

    Every column is summed over the same resampled files in each replicate. With `clusters`
    (one label per file), whole clusters are resampled instead (see the module doc).
    """
    if clusters is not None:
        counts = cluster_sums(counts, clusters)
    arrays = {name: np.asarray(values, dtype=float) for name, values in counts.items()}
    sizes = {a.size for a in arrays.values()}
    if len(sizes) != 1:
        raise ValueError("every count column must have one value per file")
    n = sizes.pop()
    totals = {name: np.empty(replicates) for name in arrays}
    rng = np.random.default_rng(seed)
    chunk = max(1, min(CHUNK_REPLICATES, CHUNK_DRAWS // max(n, 1)))
    for start in range(0, replicates, chunk):
        stop = min(start + chunk, replicates)
        idx = rng.integers(0, n, size=(stop - start, n))
        for name, values in arrays.items():
            totals[name][start:stop] = values[idx].sum(axis=1)
    return totals


def corpus_intervals(
    counts: Mapping[str, np.ndarray],
    *,
    seed: int,
    replicates: int = REPLICATES,
    confidence: float = CONFIDENCE,
    metrics: Mapping[str, Callable[[Counts], np.ndarray]] = METRICS,
    clusters: Sequence[Hashable] | None = None,
) -> dict[str, Interval]:
    """Each metric over all files, with its `confidence` percentile interval over
    `replicates` file resamples (seeded: the same seed gives the same interval).

    `counts` holds one array per count column the metrics read (COUNT_COLUMNS for all of
    METRICS), one value per file. With no files, every value and bound is None. `clusters`:
    one speaker per file; the speakers are then resampled (Interval.unit 'speaker').
    """
    arrays = {name: np.asarray(values, dtype=float) for name, values in counts.items()}
    unit = "file" if clusters is None else "speaker"
    if clusters is not None:
        arrays = cluster_sums(arrays, clusters)
    n = arrays["ref_words"].size
    if n == 0:
        return {name: Interval(None, None, None, 0, confidence, unit) for name in metrics}
    observed = {name: np.array([values.sum()]) for name, values in arrays.items()}
    totals = resampled_totals(arrays, seed=seed, replicates=replicates)
    tail = (1 - confidence) / 2 * 100
    result = {}
    for name, metric in metrics.items():
        value = float(metric(observed)[0])
        rates = metric(totals)
        rates = rates[np.isfinite(rates)]
        low, high = np.percentile(rates, [tail, 100 - tail]) if rates.size else (None, None)
        result[name] = Interval(
            value=None if np.isnan(value) else value,
            low=None if low is None else float(low),
            high=None if high is None else float(high),
            replicates=int(rates.size),
            confidence=confidence,
            unit=unit,
            units=n,
        )
    return result
