"""pocketsphinx: CMU's HMM recognizer with the US English model shipped inside its wheel.

Fully offline, CPU only, about 5-6x faster than real time on one core. Word times come from
the decoder's word segmentation (100 frames per second); a word's confidence is its posterior
probability in the decoder's word lattice (`Segment.prob`, already converted from pocketsphinx's
log base 1.0001 to a probability and clipped to [0, 1]).
"""

from __future__ import annotations

import numpy as np

from asrlens.errors import AsrlensError
from asrlens.infer.engines.base import Engine, Hypothesis, HypWord

SAMPLE_RATE = 16000  # Hz, the rate of the bundled acoustic model
FRAMES_PER_S = 100  # pocketsphinx feature frames per second (config `frate`)
INT16_MAX = 32767
MODEL_NAME = "en-us"  # the model directory name inside the pocketsphinx wheel


def _is_filler(word: str) -> bool:
    """Silence, sentence marks and noise tokens: `<s>`, `</s>`, `<sil>`, `[NOISE]`, `++UH++`."""
    return word.startswith(("<", "[", "+")) or word == ""


def _base_word(word: str) -> str:
    """`read(2)` -> `read`: pronunciation variants carry a `(n)` suffix in the dictionary."""
    if word.endswith(")") and "(" in word:
        return word[: word.rindex("(")]
    return word


class PocketsphinxEngine(Engine):
    """pocketsphinx with its bundled US English acoustic model, dictionary and language model.

    One Decoder is built per engine (about 0.3 s) and reused for every file; its feature
    extraction (live cepstral mean normalisation) is reset before each file so that no state
    carries from one file to the next: a file decodes the same whatever was decoded before.
    """

    name = "pocketsphinx"
    sample_rate = SAMPLE_RATE
    device = "cpu"
    precision = "fp32"

    def __init__(self, *, model: str | None = None, device: str = "auto",
                 precision: str = "fp32", checkpoint: str | None = None) -> None:
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
        from pocketsphinx import Decoder, get_model_path

        self.model = MODEL_NAME
        self.checkpoint = None  # the model ships inside the wheel (runs.checkpoint is NULL)
        self.checkpoint_sha256 = None
        self._model_path = get_model_path(MODEL_NAME)
        self._decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")

    def transcribe(self, samples: np.ndarray) -> Hypothesis:
        """Decode one file: mono float32 in [-1, 1] at 16 kHz -> words with times in seconds."""
        pcm = (np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * INT16_MAX)
        decoder = self._decoder
        decoder.reinit_feat()  # forget the previous file's cepstral mean
        decoder.start_utt()
        decoder.process_raw(pcm.astype(np.int16).tobytes(), full_utt=True)
        decoder.end_utt()
        if decoder.hyp() is None:
            return Hypothesis(text="")
        words = [
            HypWord(
                word=_base_word(seg.word),
                start_s=seg.start_frame / FRAMES_PER_S,
                end_s=(seg.end_frame + 1) / FRAMES_PER_S,  # end_frame is inclusive
                confidence=float(min(max(seg.prob, 0.0), 1.0)),
            )
            for seg in decoder.seg()
            if not _is_filler(seg.word)
        ]
        return Hypothesis(text=" ".join(w.word for w in words), words=words)

    def options(self) -> dict:
        return {"model_path": self._model_path, "frames_per_s": FRAMES_PER_S,
                "reset_cmn_per_file": True}
