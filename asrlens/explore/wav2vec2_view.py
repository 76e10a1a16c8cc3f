"""The wav2vec2 view of one file: transformer features per layer and the CTC emissions.

As in torchaudio's "Speech Recognition with Wav2Vec2" tutorial: `model.extract_features`
gives the output of every transformer layer, `model(waveform)` the emission matrix (one
score per character class per 20 ms frame), read along its greedy path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asrlens import defaults
from asrlens.audio import resample
from asrlens.errors import AsrlensError
from asrlens.infer.ctc import greedy_decode
from asrlens.infer.recognizers.wav2vec2_weights import (
    DEFAULT_MODEL,
    MODELS,
    frame_geometry,
    get_bundle,
    load_bundle_model,
    resolve_device,
)

__all__ = ["DEFAULT_MODEL", "MODELS", "Wav2Vec2View", "WeightsUnavailable", "load_model",
           "wav2vec2_view"]

MAX_MODEL_S = 30.0
"""Only the first this-many seconds of a file go through the model (memory stays bounded)."""
FRAME_STRIDE = 320
"""Input samples per wav2vec2/HuBERT frame (product of the conv strides): 20 ms at 16 kHz."""


class WeightsUnavailable(AsrlensError):
    """The model's weights are neither in the torch hub cache nor downloadable."""


@dataclass(frozen=True)
class Wav2Vec2View:
    """What the model made of one file (its first `seconds` seconds)."""

    layers: tuple[int, ...]        # 1-based transformer layers, one per features entry
    features: list[np.ndarray]     # per layer: (frames, dimensions)
    emission: np.ndarray           # (frames, classes) log-probabilities
    labels: tuple[str, ...]        # class labels; 0 is the CTC blank, '|' the word break
    transcript: str                # greedy CTC decoding of the emission
    frame_s: float                 # seconds between frames
    seconds: float                 # audio seconds that went through the model
    truncated: bool                # True when the file is longer than MAX_MODEL_S


def parse_layers(text: str | None) -> tuple[int, ...] | None:
    """'1,6,12' -> (1, 6, 12); 'all' -> () meaning every layer; None/'' -> None (default few).

    Raises AsrlensError for anything that is not a comma-separated list of positive integers.
    """
    if text is None or not text.strip():
        return None
    if text.strip().lower() == "all":
        return ()
    layers = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise AsrlensError(
                f"--layers {text!r}: expected 1-based layer numbers separated by commas "
                f"(e.g. 1,6,12) or 'all'"
            )
        layers.append(int(part))
    return tuple(sorted(set(layers)))


def num_layers(model_name: str) -> int:
    """Transformer layers of a bundle's model (12 for BASE, 24 for LARGE, 48 for XLARGE)."""
    return int(get_bundle(model_name)._params["encoder_num_layers"])


def choose_layers(requested: tuple[int, ...] | None, total: int) -> tuple[int, ...]:
    """The layers to draw: requested ones (checked against `total`), all for (), else a few."""
    if requested is None:
        return tuple(sorted({1, total // 2, total}))
    if requested == ():
        return tuple(range(1, total + 1))
    bad = [layer for layer in requested if layer > total]
    if bad:
        raise AsrlensError(
            f"--layers: the model has {total} transformer layers (1..{total}); got {bad}"
        )
    return requested


def pick_device(requested: str | None = None) -> str:
    """The torch device to use: `requested` ('cpu', 'cuda', 'cuda:1'), or None / 'auto':
    the first GPU when there is one, else 'cpu'. AsrlensError for CUDA without a GPU."""
    return str(resolve_device(requested or defaults.DEVICE))


def load_model(model_name: str = DEFAULT_MODEL, *, checkpoint: str | Path | None = None,
               device: str | None = None):
    """(model, labels, sample_rate) for a torchaudio ASR bundle, in eval mode on `device`.

    Loads through the infer engine's `load_bundle_model` (the one place weights are loaded):
    from `checkpoint`, or through `bundle.get_model()` (torch hub cache
    `$TORCH_HOME/hub/checkpoints/`, downloaded where there is network). Raises
    WeightsUnavailable when, without `checkpoint`, the weights cannot be had; AsrlensError
    when `checkpoint` is missing or does not fit the model.
    """
    bundle = get_bundle(model_name)
    if frame_geometry(bundle).hop != FRAME_STRIDE:
        raise AsrlensError(f"{model_name}: unexpected frame stride (not {FRAME_STRIDE} samples)")
    try:
        model, bundle = load_bundle_model(model_name, checkpoint=checkpoint,
                                          device=pick_device(device))
    except AsrlensError as exc:
        if checkpoint is not None:
            raise  # the user named a file: a bad one is an error, not a skip
        raise WeightsUnavailable(str(exc)) from exc
    return model.eval(), tuple(bundle.get_labels()), int(bundle.sample_rate)


def model_input(mono: np.ndarray, rate: int, model_rate: int) -> np.ndarray:
    """The part of a file the model looks at, at the model's rate.

    The first MAX_MODEL_S seconds of `mono` (sampled at `rate` Hz), plus one sample so that
    wav2vec2_view can tell a longer file was cut, resampled to `model_rate` Hz.
    """
    head = mono[: int(MAX_MODEL_S * rate) + 1]
    return head if rate == model_rate else resample(head, rate, model_rate)


def wav2vec2_view(
    model, labels: Sequence[str], samples: np.ndarray, *, sample_rate: int,
    layers: Sequence[int],
) -> Wav2Vec2View:
    """Run the model over mono `samples` (float32, at the model's `sample_rate` Hz).

    Only the first MAX_MODEL_S seconds are used. `layers` are 1-based transformer layers.
    One pass through the model gives both the features and the emissions.
    """
    import torch

    limit = int(MAX_MODEL_S * sample_rate)
    truncated = len(samples) > limit
    samples = samples[:limit]
    device = next(model.parameters()).device
    waveform = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None].to(device)
    with torch.inference_mode():
        features, logits = _features_and_logits(model, waveform)
        emission = torch.log_softmax(logits[0].float(), dim=-1).cpu().numpy()
    chosen = [features[layer - 1][0].float().cpu().numpy() for layer in layers]
    frame_s = FRAME_STRIDE / sample_rate
    hypothesis = greedy_decode(emission, labels, frame_s=frame_s)
    return Wav2Vec2View(
        layers=tuple(layers),
        features=chosen,
        emission=emission,
        labels=tuple(labels),
        transcript=hypothesis.text,
        frame_s=frame_s,
        seconds=len(samples) / sample_rate,
        truncated=truncated,
    )


def _features_and_logits(model, waveform):
    """(every transformer layer's output, CTC logits) from one pass through the model.

    `model(waveform)` is aux(transformer output), where the transformer output is the last
    layer's, layer-normalised when the model normalises after its layers (BASE) rather than
    before them (LARGE-LV60K, HuBERT). Reading the logits off the last layer's features
    halves the work; a model that does not have this structure gets a second, plain pass.
    """
    features, _ = model.extract_features(waveform)
    inner = getattr(model, "model", model)  # the bundles' waveform-normalising wrapper
    transformer = getattr(getattr(inner, "encoder", None), "transformer", None)
    aux = getattr(inner, "aux", None)
    if transformer is None or aux is None or getattr(model, "apply_log_softmax", False):
        logits, _ = model(waveform)
        return features, logits
    last = features[-1]
    if not transformer.layer_norm_first:
        last = transformer.layer_norm(last)
    return features, aux(last)
