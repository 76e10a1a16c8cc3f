"""pocketsphinx: CMU's HMM recognizer with the US English model shipped inside its wheel.

Fully offline, CPU only, about 5-6x faster than real time on one core. Word times come from
the decoder's word segmentation (100 frames per second); a word's confidence is its posterior
probability in the decoder's word lattice (`Segment.prob`, already converted from pocketsphinx's
log base 1.0001 to a probability and clipped to [0, 1]).

Long files are decoded in blocks so memory stays flat: pocketsphinx's search keeps every
frame's back-pointers and the word lattice of an utterance until its end, so one 30-minute
utterance took about 1.3 GB (BENCHMARKS.md). A file longer than `chunk_s` (30 s) is decoded
as consecutive utterances of at most `chunk_s` seconds, each cut at the quietest 10 ms in the
last CUT_SEARCH_S seconds before the limit (a pause, where no word is split). Each block is
one whole utterance for the decoder (`full_utt`), normalised with its own cepstral mean as a
whole file is: a file up to `chunk_s` long is one block and decodes exactly as before.
Feeding one utterance in small pieces instead would switch pocketsphinx from batch to live
cepstral mean normalisation, which changes the transcripts of ordinary files.
"""

from __future__ import annotations

import numpy as np

from asrlens import defaults
from asrlens.errors import AsrlensError
from asrlens.infer.recognizers.base import Hypothesis, HypWord, Recognizer

SAMPLE_RATE = 16000  # Hz, the rate of the bundled acoustic model
FRAMES_PER_S = 100  # pocketsphinx feature frames per second (config `frate`)
INT16_MAX = 32767
MODEL_NAME = "en-us"  # the model directory name inside the pocketsphinx wheel
DEFAULT_CHUNK_S = 30.0  # seconds: longer files are decoded in blocks of at most this
MIN_CHUNK_S = 10.0  # seconds: twice the cut search window
CUT_SEARCH_S = 5.0  # seconds before a block's limit searched for its quietest 10 ms
CUT_FRAME = SAMPLE_RATE // FRAMES_PER_S  # samples per 10 ms, the unit of a cut


def _is_filler(word: str) -> bool:
    """Silence, sentence marks and noise tokens: `<s>`, `</s>`, `<sil>`, `[NOISE]`, `++UH++`."""
    return word.startswith(("<", "[", "+")) or word == ""


def _base_word(word: str) -> str:
    """`read(2)` -> `read`: pronunciation variants carry a `(n)` suffix in the dictionary."""
    if word.endswith(")") and "(" in word:
        return word[: word.rindex("(")]
    return word


class PocketsphinxRecognizer(Recognizer):
    """pocketsphinx with its bundled US English acoustic model, dictionary and language model.

    One Decoder is built per recognizer (about 0.3 s) and reused for every file; its feature
    extraction is reset before each block so that no state carries from one file (or block)
    to the next: a file decodes the same whatever was decoded before. Files longer than
    chunk_s seconds are decoded block by block (see the module doc).
    """

    name = "pocketsphinx"
    sample_rate = SAMPLE_RATE
    device = "cpu"
    precision = "fp32"

    def __init__(self, *, model: str | None = None, device: str = defaults.DEVICE,
                 precision: str = "fp32", checkpoint: str | None = None,
                 chunk_s: float = DEFAULT_CHUNK_S) -> None:
        if model not in (None, MODEL_NAME):
            raise AsrlensError(
                f"pocketsphinx has one model, {MODEL_NAME!r} (the one in its wheel); "
                f"got --model {model}. Leave --model out."
            )
        if checkpoint is not None:
            raise AsrlensError(
                "pocketsphinx does not take --checkpoint: it uses the model shipped in its wheel."
            )
        if device not in ("auto", "cpu"):
            raise AsrlensError(f"pocketsphinx runs on the CPU only; got --device {device}.")
        if precision != "fp32":
            raise AsrlensError(f"pocketsphinx has no {precision} mode; use --precision fp32.")
        if not chunk_s >= MIN_CHUNK_S:
            raise AsrlensError(f"pocketsphinx: --chunk-s must be at least {MIN_CHUNK_S:g} s, "
                               f"got {chunk_s:g}")
        from pocketsphinx import Decoder, get_model_path

        self.model = MODEL_NAME
        self.checkpoint = None  # the model ships inside the wheel (runs.checkpoint is NULL)
        self.checkpoint_sha256 = None
        self._model_path = get_model_path(MODEL_NAME)
        self._decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
        self._chunk = round(chunk_s * FRAMES_PER_S) * CUT_FRAME  # samples, whole 10 ms frames

    def transcribe(self, samples: np.ndarray) -> Hypothesis:
        """Decode one file: mono float32 in [-1, 1] at 16 kHz -> words with times in seconds."""
        samples = np.asarray(samples, dtype=np.float32)
        words: list[HypWord] = []
        for start, end in block_bounds(samples, chunk=self._chunk):
            words += self._decode(samples[start:end], offset_s=start / SAMPLE_RATE)
        return Hypothesis(text=" ".join(w.word for w in words), words=words)

    def _decode(self, block: np.ndarray, *, offset_s: float) -> list[HypWord]:
        """One block as one whole utterance; word times shifted by the block's start."""
        pcm = (np.clip(block, -1.0, 1.0) * INT16_MAX).astype(np.int16)
        decoder = self._decoder
        decoder.reinit_feat()  # forget the previous block's cepstral mean
        decoder.start_utt()
        decoder.process_raw(pcm.tobytes(), full_utt=True)
        decoder.end_utt()
        if decoder.hyp() is None:
            return []
        return [
            HypWord(
                word=_base_word(seg.word),
                start_s=offset_s + seg.start_frame / FRAMES_PER_S,
                end_s=offset_s + (seg.end_frame + 1) / FRAMES_PER_S,  # end_frame is inclusive
                confidence=float(min(max(seg.prob, 0.0), 1.0)),
            )
            for seg in decoder.seg()
            if not _is_filler(seg.word)
        ]

    def options(self) -> dict:
        return {"model_path": self._model_path, "frames_per_s": FRAMES_PER_S,
                "reset_cmn_per_file": True, "chunk_s": self._chunk / SAMPLE_RATE,
                "cut_search_s": CUT_SEARCH_S}


def block_bounds(samples: np.ndarray, *, chunk: int) -> list[tuple[int, int]]:
    """(start, end) sample indexes of the blocks a file is decoded in, covering it exactly.

    A file of at most `chunk` samples is one block. Otherwise each block ends at the start
    of the quietest 10 ms frame (least energy) among the last CUT_SEARCH_S seconds before
    `chunk` samples; the next block starts there.
    """
    n = len(samples)
    bounds, start = [], 0
    search = round(CUT_SEARCH_S * FRAMES_PER_S)  # frames
    while n - start > chunk:
        window_start = start + chunk - search * CUT_FRAME
        window = samples[window_start:start + chunk].reshape(search, CUT_FRAME)
        energy = np.einsum("ij,ij->i", window, window)
        cut = window_start + int(np.argmin(energy)) * CUT_FRAME
        bounds.append((start, cut))
        start = cut
    bounds.append((start, n))
    return bounds
