"""The recognizer registry: engine name -> class, and `get_recognizer` to build one.

To add a recognizer, write one module here with a `Recognizer` subclass (see base.py) and add it
to RECOGNIZERS.
"""

from __future__ import annotations

from asrlens import defaults
from asrlens.errors import AsrlensError
from asrlens.infer.recognizers.base import Hypothesis, HypWord, Recognizer
from asrlens.infer.recognizers.pocketsphinx import PocketsphinxRecognizer
from asrlens.infer.recognizers.wav2vec2 import Wav2Vec2Recognizer

DEFAULT_ENGINE = defaults.ENGINE
RECOGNIZERS: dict[str, type[Recognizer]] = {
    "wav2vec2": Wav2Vec2Recognizer,
    "pocketsphinx": PocketsphinxRecognizer,
}

__all__ = ["DEFAULT_ENGINE", "RECOGNIZERS", "Recognizer", "Hypothesis", "HypWord", "get_recognizer"]


def get_recognizer(
    name: str = DEFAULT_ENGINE,
    *,
    model: str | None = None,
    checkpoint: str | None = None,
    device: str = "auto",
    precision: str = "fp32",
    **options,
) -> Recognizer:
    """Build the recognizer of engine `name`, its model loaded (AsrlensError: unknown name/option).

    model=None picks the engine's default model; device 'auto' takes a GPU where the engine
    can use one. Extra keyword options go to the recognizer (wav2vec2: chunk_s, overlap_s).
    """
    if name not in RECOGNIZERS:
        raise AsrlensError(f"unknown engine {name!r}; choose one of: {', '.join(RECOGNIZERS)}")
    try:
        return RECOGNIZERS[name](model=model, checkpoint=checkpoint, device=device,
                             precision=precision, **options)
    except TypeError as exc:
        if options and "unexpected keyword argument" in str(exc):
            raise AsrlensError(
                f"engine {name!r} does not take option(s) {', '.join(sorted(options))}"
            ) from exc
        raise
