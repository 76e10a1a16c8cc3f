"""Paired significance tests between two runs, as NIST sc_stats (SCTK) defines them, and a
paired bootstrap of the WER difference (Bisani & Ney 2004, as Kaldi's compute-wer-bootci).

    mapsswe(alignments_a, alignments_b)     # per file: 'C'/'S'/'D'/'I' per aligned word
    sign_test(group_wer_a, group_wer_b)     # per group: WER in percent
    wilcoxon_test(group_wer_a, group_wer_b)
    mcnemar_test(errors_a, errors_b)        # per file: word errors
    bootstrap_difference(errors_a, ref_a, errors_b, ref_b, seed=0)

Every test is two-tailed with the null hypothesis "no difference between the runs". Each
returns a TestResult whose `better` is 'a' or 'b' when the difference is significant at
ALPHA, else None. The definitions follow SCTK's source (src/sclite/mtchprs.c, signtest.c,
wilcoxon.c, sentmcn.c, statdist.c), so the p-values match sc_stats's to the three decimals it
prints:
- MAPSSWE and Wilcoxon are z tests; sc_stats reads the normal CDF from a table in steps of
  0.01 and takes the entry at or below |z|, so p is computed at |z| truncated to 2 decimals.
  Significant when |z| > 1.96.
- The sign test and McNemar use the binomial distribution with p = 0.5, exactly (sc_stats
  switches to a normal approximation above 20 trials, which overstates significance: asrlens
  stays exact there, so p-values beyond 20 groups or 20 discordant files can differ).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import special  # not scipy.stats: its import alone costs a second of every report

from asrlens import defaults
from asrlens.scoring import rates
from asrlens.scoring.bootstrap import resampled_totals

ALPHA = 0.05
MIN_GROUPS = 2
"""The sign and Wilcoxon tests over groups are not run with fewer groups than this."""
Z_CRITICAL = 1.960
"""sc_stats's two-tailed 95% threshold for the z tests (statdist.c, Z2tail)."""
MIN_GOOD = 2
"""MAPSSWE: correct words in both runs that close a segment (sc_stats's default)."""
EQUAL_PCT = 0.005
"""Sign and Wilcoxon tests: group WERs (in percent) closer than this count as a tie."""
BOOTSTRAP_REPLICATES = defaults.BOOTSTRAP_REPLICATES
CONFIDENCE = 0.95

TESTS = ("mapsswe", "sign", "wilcoxon", "mcnemar")
TEST_TITLES = {
    "mapsswe": "Matched pairs sentence-segment word error (MAPSSWE)",
    "sign": "Sign test on per-group WER",
    "wilcoxon": "Wilcoxon signed-rank test on per-group WER",
    "mcnemar": "McNemar test on sentence errors",
}


@dataclass(frozen=True)
class TestResult:
    """One test's outcome. statistic: z (mapsswe, wilcoxon) or the smaller count (sign:
    groups, mcnemar: files); n: segments, groups or discordant files it rests on."""

    test: str
    statistic: float
    p_value: float
    better: str | None  # 'a' or 'b' when significant at ALPHA, else None
    n: int
    detail: dict = field(default_factory=dict)

    @property
    def significant(self) -> bool:
        return self.better is not None


@dataclass(frozen=True)
class BootstrapResult:
    """ΔWER = WER_b - WER_a over the paired files (fractions; negative: b is better), its
    percentile interval, and the share of replicates in which b's WER is lower (ties half)."""

    wer_a: float | None
    wer_b: float | None
    difference: float | None
    low: float | None
    high: float | None
    p_b_better: float | None
    replicates: int
    seed: int
    unit: str = "file"  # what was resampled: 'file' or 'speaker'
    units: int = 0  # how many files or speakers


def normal_p_value(z: float) -> float:
    """Two-tailed p of a z statistic, read as sc_stats does: at |z| truncated to 0.01."""
    if not math.isfinite(z):
        return 1.0
    z_table = math.floor(round(abs(z) * 100, 6)) / 100
    return float(min(1.0, 2.0 * special.ndtr(-z_table)))


def binomial_p_value(smaller: int, n: int) -> float:
    """Two-tailed p of `smaller` successes or fewer in n fair coin tosses (1 when n = 0)."""
    if n == 0:
        return 1.0
    return float(min(1.0, 2.0 * special.bdtr(smaller, n, 0.5)))


# --- MAPSSWE ---------------------------------------------------------------------------------


def mapsswe_segments(path_a: Sequence[str], path_b: Sequence[str], *,
                     min_good: int = MIN_GOOD) -> list[tuple[int, int]]:
    """(errors of a, errors of b) in each segment of one file, as sc_stats cuts them.

    A path is the file's alignment, one of 'C', 'S', 'D', 'I' per aligned word. Both paths
    are walked along the reference; a segment holds the words between two stretches of at
    least `min_good` words both runs got right, those bounding words included. Segments in
    which neither run erred are dropped. (mtchprs.c, test_comp_sents and count_seg.)
    """
    n1, n2 = len(path_a), len(path_b)
    ind1 = ind2 = eog1 = eog2 = num_good = 0
    state = "b"
    segments: list[tuple[int, int]] = []

    def both_correct() -> bool:
        return ind1 < n1 and path_a[ind1] == "C" and ind2 < n2 and path_b[ind2] == "C"

    def count(beg1: int, beg2: int, end1: int, end2: int) -> None:
        err1 = sum(1 for op in path_a[max(beg1, 0):end1 + 1] if op != "C")
        err2 = sum(1 for op in path_b[max(beg2, 0):end2 + 1] if op != "C")
        if err1 or err2:
            segments.append((err1, err2))

    while ind1 < n1:
        while ind1 < n1 and path_a[ind1] == "I":
            ind1 += 1
            state = "e"
        while ind2 < n2 and path_b[ind2] == "I":
            ind2 += 1
            state = "e"
        if state == "b":
            if both_correct():
                eog1, eog2 = ind1, ind2
            else:
                state = "e"
        elif state in ("e", "g"):
            if both_correct():
                num_good = 1 if state == "e" else num_good + 1
                if num_good == min_good:
                    count(eog1 - (min_good - 1), eog2 - (min_good - 1), ind1, ind2)
                    eog1, eog2, state = ind1, ind2, "b"
                else:
                    state = "g"
            else:
                state = "e"
        if ind1 < n1:
            ind1 += 1
        if ind2 < n2:
            ind2 += 1
    if state != "b" or n2 > ind2:
        count(eog1 - (min_good - 1), eog2 - (min_good - 1), n1 - 1, n2 - 1)
    return segments


def mapsswe(paths_a: Sequence[Sequence[str]], paths_b: Sequence[Sequence[str]], *,
            min_good: int = MIN_GOOD) -> TestResult:
    """Matched-pairs sentence-segment word error test over paired files (same order).

    z = mean / (sd / sqrt(n)) of the per-segment error differences a - b (sd with n - 1);
    z = 0 when the differences do not vary. Significant when |z| > 1.96; the run with fewer
    segment errors is better.
    """
    segments = [s for pa, pb in zip(paths_a, paths_b, strict=True)
                for s in mapsswe_segments(pa, pb, min_good=min_good)]
    return mapsswe_test([a for a, _ in segments], [b for _, b in segments])


def mapsswe_test(errors_a: Sequence[int], errors_b: Sequence[int]) -> TestResult:
    """MAPSSWE over segments already cut (mapsswe_segments of every paired file, in order):
    each run's errors per segment. What `mapsswe` returns for the paths they come from."""
    a, b = np.asarray(errors_a, dtype=np.int64), np.asarray(errors_b, dtype=np.int64)
    diffs = (a - b).astype(float)
    n = diffs.size
    mean = float(diffs.mean()) if n else 0.0
    spread = float(((diffs - mean) ** 2).sum()) if n else 0.0
    z = mean / (math.sqrt(spread / (n - 1)) / math.sqrt(n)) if spread > 0 else 0.0
    better = None
    if abs(z) > Z_CRITICAL:
        better = "a" if mean < 0 else "b"
    return TestResult("mapsswe", z, normal_p_value(z), better, n, {
        "segments": n,
        "errors_a": int(a.sum()),
        "errors_b": int(b.sum()),
        "mean_difference": mean,
    })


# --- per-group tests -------------------------------------------------------------------------


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of `values`, ties sharing their mean rank (scipy.stats.rankdata's
    'average', the same steps)."""
    order = np.argsort(values, kind="mergesort")
    inverse = np.empty(order.size, dtype=np.intp)
    inverse[order] = np.arange(order.size)
    ordered = values[order]
    new_value = np.r_[True, ordered[1:] != ordered[:-1]]
    dense = np.cumsum(new_value)[inverse]
    starts = np.r_[np.nonzero(new_value)[0], new_value.size]
    return 0.5 * (starts[dense] + starts[dense - 1] + 1)


def _worse_first(pct_a: np.ndarray, pct_b: np.ndarray) -> bool:
    """sc_stats orders the pair with the larger sum of group WERs first: True when that is a."""
    return float(pct_a.sum()) > float(pct_b.sum())


def too_few_groups(test: str, n: int) -> str | None:
    """Why the sign or Wilcoxon test over `n` groups is not run: with fewer than MIN_GROUPS
    there is nothing to rank or count (every file in one group); None when it is run.
    (With 2 to 5 groups they run, as sc_stats runs them, though no outcome can then reach
    ALPHA for the sign test.)"""
    if n >= MIN_GROUPS:
        return None
    what = "every shared file is in one group" if n == 1 else "no group"
    return (f"{what}: a {test} test over groups needs at least {MIN_GROUPS}; choose "
            f"another --group-by")


def not_run(test: str, n: int, why: str) -> TestResult:
    """A test that was not run (why in detail['not_run']): no statistic, no p-value."""
    return TestResult(test, math.nan, math.nan, None, n, {"not_run": why})


def sign_test(pct_a: Sequence[float], pct_b: Sequence[float]) -> TestResult:
    """Sign test on per-group WERs (percent), groups in the same order for both runs.

    Differences within EQUAL_PCT are ties, split between the two signs (an odd one goes to
    the sign that makes a difference less likely). The run with the lower sum of group WERs
    is better when p < ALPHA. (signtest.c)
    """
    a, b = np.asarray(pct_a, dtype=float), np.asarray(pct_b, dtype=float)
    if (why := too_few_groups("sign", int(a.size))) is not None:
        return not_run("sign", int(a.size), why)
    a_first = _worse_first(a, b)
    worse, other = (a, b) if a_first else (b, a)
    diff = worse - other
    ties = int((np.abs(diff) <= EQUAL_PCT).sum())
    plus = int(((np.abs(diff) > EQUAL_PCT) & (diff > 0)).sum()) + ties // 2
    minus = int(((np.abs(diff) > EQUAL_PCT) & (diff < 0)).sum()) + ties - ties // 2
    smaller = min(plus, minus)
    p = 1.0 if plus == minus else binomial_p_value(smaller, plus + minus)
    better = None
    if p < ALPHA:
        better = "b" if a_first else "a"
    return TestResult("sign", float(smaller), p, better, int(a.size), {
        "groups_a_worse": int(((a - b) > EQUAL_PCT).sum()),
        "groups_b_worse": int(((b - a) > EQUAL_PCT).sum()),
        "groups_tied": ties,
    })


def wilcoxon_test(pct_a: Sequence[float], pct_b: Sequence[float]) -> TestResult:
    """Wilcoxon signed-rank test on per-group WERs (percent), normal approximation.

    All groups are ranked by |difference| (ties share the mean rank); differences within
    EQUAL_PCT go to the two signs in turn. W is the rank sum of the less frequent sign,
    z = (W - n(n+1)/4) / sqrt(n(n+1)(2n+1)/24). Significant when |z| > 1.96; the better run
    is the one worse on fewer groups. (wilcoxon.c)
    """
    a, b = np.asarray(pct_a, dtype=float), np.asarray(pct_b, dtype=float)
    n = int(a.size)
    if (why := too_few_groups("wilcoxon", n)) is not None:
        return not_run("wilcoxon", n, why)
    a_first = _worse_first(a, b)
    worse, other = (a, b) if a_first else (b, a)
    diff = worse - other
    ranks = average_ranks(np.abs(diff))
    num_plus = num_minus = 0
    sum_plus = sum_minus = 0.0
    alternate = 0
    for d, r in zip(diff, ranks, strict=True):
        if d < 0 and abs(d) > EQUAL_PCT:
            num_minus, sum_minus = num_minus + 1, sum_minus + r
        elif d > 0 and abs(d) > EQUAL_PCT:
            num_plus, sum_plus = num_plus + 1, sum_plus + r
        else:
            if alternate % 2 == 0:
                num_plus, sum_plus = num_plus + 1, sum_plus + r
            else:
                num_minus, sum_minus = num_minus + 1, sum_minus + r
            alternate += 1
    w = sum_plus if num_plus < num_minus else sum_minus
    expected = n * (n + 1) / 4.0
    variance = n * (n + 1) * (2 * n + 1) / 24.0
    z = (w - expected) / math.sqrt(variance)
    better = None
    if abs(z) > Z_CRITICAL:
        first_better = num_plus < num_minus  # the worse-summed run is worse on fewer groups
        better_is_a = first_better == a_first
        better = "a" if better_is_a else "b"
    return TestResult("wilcoxon", z, normal_p_value(z), better, n, {
        "rank_sum_plus": sum_plus, "rank_sum_minus": sum_minus,
        "groups_plus": num_plus, "groups_minus": num_minus,
    })


# --- McNemar ---------------------------------------------------------------------------------


def mcnemar_test(errors_a: Sequence[int], errors_b: Sequence[int]) -> TestResult:
    """McNemar's test on sentence errors: files one run got entirely right and the other not.

    p = 2 P(X <= min(n_a, n_b)) for X ~ Binomial(n_a + n_b, 0.5), where n_a counts files
    wrong only in a and n_b files wrong only in b; p = 1 when n_a = n_b. (sentmcn.c)
    """
    wrong_a = np.asarray(errors_a) > 0
    wrong_b = np.asarray(errors_b) > 0
    only_a = int((wrong_a & ~wrong_b).sum())
    only_b = int((~wrong_a & wrong_b).sum())
    smaller = min(only_a, only_b)
    p = 1.0 if only_a == only_b else binomial_p_value(smaller, only_a + only_b)
    better = None
    if p < ALPHA:
        better = "b" if only_a > only_b else "a"
    return TestResult("mcnemar", float(smaller), p, better, only_a + only_b, {
        "files_wrong_only_a": only_a,
        "files_wrong_only_b": only_b,
        "files_wrong_both": int((wrong_a & wrong_b).sum()),
        "files_right_both": int((~wrong_a & ~wrong_b).sum()),
    })


# --- bootstrap -------------------------------------------------------------------------------


def paired_deltas(
    errors_a: Sequence[int], ref_a: Sequence[int], errors_b: Sequence[int],
    ref_b: Sequence[int], *, seed: int, replicates: int = BOOTSTRAP_REPLICATES,
    clusters: Sequence | None = None, cluster_index: np.ndarray | None = None,
) -> tuple[np.ndarray, str, int]:
    """ΔWER = WER_b - WER_a of each bootstrap replicate, with the unit resampled ('file' or
    'speaker') and how many there are: the paired files resampled with replacement (the same
    files for both runs), each run's corpus WER over its own reference words. `clusters`
    (one speaker per file): whole speakers are resampled, both runs' counts summed per
    speaker first (scoring.bootstrap.cluster_sums). Replicates without reference words are
    dropped; no deltas when there is no file or no reference word. Seeded: the same seed,
    the same deltas (asrlens gate reads its one-sided probability from them).
    `cluster_index` instead of `clusters`: the number of each file's speaker, numbered
    0, 1, ... in the order of the speakers' labels (what cluster_sums makes of labels)."""
    counts = {"ea": errors_a, "ra": ref_a, "eb": errors_b, "rb": ref_b}
    unit = "file" if clusters is None and cluster_index is None else "speaker"
    if cluster_index is not None:
        n = int(cluster_index.max()) + 1 if cluster_index.size else 0
    else:
        n = len(errors_a) if clusters is None else len({str(c) for c in clusters})
    if n == 0 or rates.corpus_wer(errors_a, ref_a) is None or rates.corpus_wer(
            errors_b, ref_b) is None:
        return np.empty(0), unit, n
    if cluster_index is not None:
        counts = {name: np.bincount(cluster_index, weights=np.asarray(values, dtype=float),
                                    minlength=n) for name, values in counts.items()}
    t = resampled_totals(counts, seed=seed, replicates=replicates, clusters=clusters)
    deltas = np.asarray(rates.ratio(t["eb"], t["rb"]) - rates.ratio(t["ea"], t["ra"]))
    return deltas[np.isfinite(deltas)], unit, n


def bootstrap_difference(
    errors_a: Sequence[int], ref_a: Sequence[int], errors_b: Sequence[int],
    ref_b: Sequence[int], *, seed: int, replicates: int = BOOTSTRAP_REPLICATES,
    confidence: float = CONFIDENCE, clusters: Sequence | None = None,
    cluster_index: np.ndarray | None = None,
) -> BootstrapResult:
    """Resample the paired files with replacement (paired_deltas) and summarize ΔWER =
    WER_b - WER_a.

    p_b_better is the share of replicates with ΔWER < 0, ties counting half (two identical
    runs give 0.5). The interval is the percentile interval of ΔWER. Seeded: the same seed,
    the same answer. `clusters` (one speaker per file; or `cluster_index`, paired_deltas):
    whole speakers are resampled.
    """
    deltas, unit, n = paired_deltas(errors_a, ref_a, errors_b, ref_b, seed=seed,
                                    replicates=replicates, clusters=clusters,
                                    cluster_index=cluster_index)
    if deltas.size == 0:
        return BootstrapResult(None, None, None, None, None, None, 0, seed, unit, n)
    wer_a, wer_b = rates.corpus_wer(errors_a, ref_a), rates.corpus_wer(errors_b, ref_b)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(deltas, [tail, 100 - tail])
    p_better = float(((deltas < 0).sum() + 0.5 * (deltas == 0).sum()) / deltas.size)
    return BootstrapResult(wer_a, wer_b, wer_b - wer_a, float(low), float(high), p_better,
                           int(deltas.size), seed, unit, n)
