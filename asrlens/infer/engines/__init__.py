"""The recognizer registry: engine name -> class, and `get_engine` to build one.

To add a recognizer, write one module here with an `Engine` subclass (see base.py) and add it
to ENGINES.
"""

from __future__ import annotations

from asrlens import defaults
from asrlens.errors import AsrlensError
from asrlens.infer.engines.base import Engine, Hypothesis, HypWord
from asrlens.infer.engines.pocketsphinx import PocketsphinxEngine
from asrlens.infer.engines.wav2vec2 import Wav2Vec2Engine

DEFAULT_ENGINE = defaults.ENGINE
ENGINES: dict[str, type[Engine]] = {
    "wav2vec2": Wav2Vec2Engine,
    "pocketsphinx": PocketsphinxEngine,
}

__all__ = ["DEFAULT_ENGINE", "ENGINES", "Engine", "Hypothesis", "HypWord", "get_engine"]


def get_engine(
    name: str = DEFAULT_ENGINE,
    *,
    model: str | None = None,
    checkpoint: str | None = None,
    device: str = "auto",
    precision: str = "fp32",
    **options,
) -> Engine:
    """Build engine `name` with its model loaded (AsrlensError for unknown names or options).

    model=None picks the engine's default model; device 'auto' takes a GPU where the engine
    can use one. Extra keyword options go to the engine (wav2vec2: chunk_s, overlap_s).
    """
    if name not in ENGINES:
        raise AsrlensError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")
    try:
        return ENGINES[name](model=model, checkpoint=checkpoint, device=device,
                             precision=precision, **options)
    except TypeError as exc:
        if options and "unexpected keyword argument" in str(exc):
            raise AsrlensError(
                f"engine {name!r} does not take option(s) {', '.join(sorted(options))}"
            ) from exc
        raise
