"""The recognizer interface: one small class per speech recognizer (`--engine` NAME).

To add a recognizer (Whisper, NeMo, ...), write one module in this package with a class that
subclasses Recognizer, and register its "module:Class" in `asrlens.infer.recognizers.RECOGNIZERS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class HypWord:
    """One recognized word with its time span in the file and a confidence in [0, 1] (or None)."""

    word: str
    start_s: float | None = None
    end_s: float | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class HypSegment:
    """One decoder segment (Whisper): its time span, text and the decoder's own scores."""

    start_s: float
    end_s: float
    text: str
    avg_logprob: float | None = None  # mean log-probability of its tokens
    no_speech_prob: float | None = None  # probability of the no-speech token at its window
    compression_ratio: float | None = None  # gzip ratio of its text (repetition shows high)


@dataclass(frozen=True)
class Hypothesis:
    """What a recognizer heard in one file: the text and, where it gives them, its words and
    decoder segments (stored in hyp_words and hyp_segments)."""

    text: str
    words: list[HypWord] = field(default_factory=list)
    segments: list[HypSegment] = field(default_factory=list)


class Recognizer:
    """A speech recognizer. Subclasses set the class attributes and implement `transcribe`.

    Constructing a recognizer loads its model (and may raise AsrlensError with a message saying
    how to supply missing weights). `transcribe` takes mono float32 samples in [-1, 1] at
    `self.sample_rate` and must not keep state between files.
    """

    name: str = ""          # registry name, e.g. 'wav2vec2'
    model: str = ""         # model name stored in runs.model
    sample_rate: int = 16000
    device: str = "cpu"
    precision: str = "fp32"
    checkpoint: str | None = None          # weights file used, when there is one
    checkpoint_sha256: str | None = None

    def transcribe(self, samples: np.ndarray) -> Hypothesis:
        raise NotImplementedError

    def transcribe_batch(self, batch: list[np.ndarray]) -> list[Hypothesis]:
        """Several files at once; one Hypothesis per input, in order.

        The default transcribes them one by one. A recognizer overrides it only where batching
        is shown not to change transcripts (see BENCHMARKS.md, "wav2vec2 batching").
        """
        return [self.transcribe(samples) for samples in batch]

    def prepare_batch(self, batch: list[np.ndarray]):
        """Host-side work for a batch, done in the read-ahead thread (default: none)."""
        return batch

    def start_batch(self, prepared) -> _Done:
        """Start recognizing a prepared batch; `.result()` gives its hypotheses.

        A recognizer whose device runs asynchronously (wav2vec2 on CUDA) returns before the work
        is done, so the caller can start the next batch first. The default works at once.
        """
        return _Done(self.transcribe_batch(prepared))

    def default_batch_audio_s(self) -> float:
        """Audio seconds per batch when none is asked for; 0: one file at a time."""
        return 0.0

    def use_batches(self, batch_audio_s: float) -> None:
        """Told the run's batch size (audio seconds; 0: one file at a time) before the first
        file. A recognizer whose decoding depends on it (whisper) records it in options()."""

    def options(self) -> dict:
        """Recognizer settings worth recording with a run (chunk length, beam, ...)."""
        return {}


class _Done:
    """A batch already recognized."""

    def __init__(self, hypotheses: list[Hypothesis]):
        self._hypotheses = hypotheses

    def result(self) -> list[Hypothesis]:
        return self._hypotheses
