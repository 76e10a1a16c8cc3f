"""The recognizer registry: engine name -> class, and `get_recognizer` to build one.

To add a recognizer, write one module here with a `Recognizer` subclass (see base.py) and add
its "module:Class" to RECOGNIZERS. An engine's module is imported only when that engine is
built, so choosing pocketsphinx never imports torch's model code, and `asrlens --help` no
engine at all.
"""

from __future__ import annotations

import importlib

from asrlens import defaults
from asrlens.errors import AsrlensError
from asrlens.infer.recognizers.base import Hypothesis, HypSegment, HypWord, Recognizer

DEFAULT_ENGINE = defaults.ENGINE
RECOGNIZERS: dict[str, str] = {
    "wav2vec2": "asrlens.infer.recognizers.wav2vec2:Wav2Vec2Recognizer",
    "pocketsphinx": "asrlens.infer.recognizers.pocketsphinx:PocketsphinxRecognizer",
    "whisper": "asrlens.infer.recognizers.whisper:WhisperRecognizer",
    "transformers": "asrlens.infer.recognizers.transformers_engine:TransformersRecognizer",
}
"""Engine name -> "module:Class" of its Recognizer, imported on first use (recognizer_class)."""

__all__ = ["DEFAULT_ENGINE", "RECOGNIZERS", "Recognizer", "Hypothesis", "HypSegment", "HypWord",
           "get_recognizer", "recognizer_class"]


def recognizer_class(name: str) -> type[Recognizer]:
    """The Recognizer class of engine `name`, its module imported now (AsrlensError: unknown)."""
    if name not in RECOGNIZERS:
        raise AsrlensError(f"unknown engine {name!r}; choose one of: {', '.join(RECOGNIZERS)}")
    module, _, cls = RECOGNIZERS[name].partition(":")
    return getattr(importlib.import_module(module), cls)


def get_recognizer(
    name: str = DEFAULT_ENGINE,
    *,
    model: str | None = None,
    checkpoint: str | None = None,
    device: str = defaults.DEVICE,
    precision: str | None = None,
    **options,
) -> Recognizer:
    """Build the recognizer of engine `name`, its model loaded (AsrlensError: unknown name/option).

    model=None picks the engine's default model; device 'auto' takes a GPU where the engine
    can use one; precision None the engine's default (fp32; whisper: int8 on CPU, fp16 on a
    GPU). Extra keyword options go to the recognizer (wav2vec2: chunk_s, overlap_s; whisper:
    temperature_fallback).
    """
    engine_class = recognizer_class(name)
    chosen = {} if precision is None else {"precision": precision}
    try:
        return engine_class(model=model, checkpoint=checkpoint, device=device, **chosen,
                            **options)
    except TypeError as exc:
        if options and "unexpected keyword argument" in str(exc):
            raise AsrlensError(
                f"engine {name!r} does not take option(s) {', '.join(sorted(options))}"
            ) from exc
        raise
