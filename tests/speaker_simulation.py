"""Seeded simulations of a test set with speaker effects, to measure how often bootstrap
95% intervals of the corpus WER cover the true WER when files or speakers are resampled.

    result = coverage(simulations=400, replicates=500, seed=0)
    result.speaker, result.file      # share of intervals that cover the true WER

The model: each simulated test set draws SPEAKERS speakers from a population; speaker s has
an error rate p_s = logistic(LOGIT_MEAN + LOGIT_SD * z_s) and 1 + Poisson(FILES_MEAN) files
of 5 + Poisson(10) reference words, each with Binomial(words, p_s) errors. Speakers differ
much more than files of one speaker do, as in real test sets. The true WER is the
population's errors over its words: E[p_s] (file counts and lengths do not depend on p_s),
computed once from a million speaker draws. Used by tests/test_speaker_bootstrap.py and
benchmarks/bench_speaker_bootstrap.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asrlens.scoring.bootstrap import resampled_totals

SPEAKERS = 40
FILES_MEAN = 9.0
LOGIT_MEAN = -1.4  # p about 0.2
LOGIT_SD = 0.6
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Coverage:
    speaker: float  # share of speaker-bootstrap intervals covering the true WER
    file: float  # share of file-bootstrap intervals covering it
    simulations: int
    replicates: int
    true_wer: float
    speaker_width: float  # mean interval width (fraction)
    file_width: float


def true_wer(seed: int = 12345) -> float:
    z = np.random.default_rng(seed).standard_normal(1_000_000)
    return float(np.mean(1 / (1 + np.exp(-(LOGIT_MEAN + LOGIT_SD * z)))))


def simulate(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(errors, words, speaker) per file of one simulated test set."""
    p = 1 / (1 + np.exp(-(LOGIT_MEAN + LOGIT_SD * rng.standard_normal(SPEAKERS))))
    files = 1 + rng.poisson(FILES_MEAN, SPEAKERS)
    speaker = np.repeat(np.arange(SPEAKERS), files)
    words = 5 + rng.poisson(10, speaker.size)
    errors = rng.binomial(words, p[speaker])
    return errors, words, speaker


def interval(errors, words, *, seed: int, replicates: int, clusters=None) -> tuple[float, float]:
    """The percentile interval of the corpus WER, files (or clusters) resampled."""
    totals = resampled_totals({"errors": errors, "words": words}, seed=seed,
                              replicates=replicates, clusters=clusters)
    rates = totals["errors"] / totals["words"]
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(rates, [tail, 100 - tail])
    return float(low), float(high)


def coverage(*, simulations: int, replicates: int, seed: int = 0) -> Coverage:
    truth = true_wer()
    rng = np.random.default_rng(seed)
    hits = {"speaker": 0, "file": 0}
    widths = {"speaker": 0.0, "file": 0.0}
    for i in range(simulations):
        errors, words, speaker = simulate(rng)
        for unit, clusters in (("speaker", speaker), ("file", None)):
            low, high = interval(errors, words, seed=seed + i, replicates=replicates,
                                 clusters=clusters)
            hits[unit] += low <= truth <= high
            widths[unit] += high - low
    return Coverage(hits["speaker"] / simulations, hits["file"] / simulations, simulations,
                    replicates, truth, widths["speaker"] / simulations,
                    widths["file"] / simulations)
