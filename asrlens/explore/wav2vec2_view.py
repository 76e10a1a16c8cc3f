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

from asrlens.errors import AsrlensError
from asrlens.infer.ctc import greedy_decode

DEFAULT_MODEL = "WAV2VEC2_ASR_BASE_960H"
MODELS = (
    "WAV2VEC2_ASR_BASE_960H",
    "WAV2VEC2_ASR_LARGE_960H",
    "WAV2VEC2_ASR_LARGE_LV60K_960H",
    "HUBERT_ASR_LARGE",
    "HUBERT_ASR_XLARGE",
)
"""torchaudio pipeline bundles `--model` accepts (English, character CTC)."""
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
    return int(_bundle(model_name)._params["encoder_num_layers"])


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
    """The torch device to use: `requested` ('cpu', 'cuda', 'cuda:1'), or None for auto:
    'cuda' when a GPU is present, else 'cpu'. Raises AsrlensError for CUDA without a GPU."""
    import torch

    if requested is None or requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise AsrlensError(f"--device {requested}: no CUDA GPU is available here; use cpu")
    return requested


def load_model(model_name: str = DEFAULT_MODEL, *, checkpoint: str | Path | None = None,
               device: str | None = None):
    """(model, labels, sample_rate) for a torchaudio ASR bundle, in eval mode on `device`.

    Weights come from `checkpoint` (a file of the bundle's state dict, as torch hub stores
    it) or through `bundle.get_model()` (torch hub cache `$TORCH_HOME/hub/checkpoints/`,
    downloaded where there is network). Raises WeightsUnavailable when the weights are not
    cached and cannot be downloaded, AsrlensError when `checkpoint` is missing or does not
    fit the model.
    """
    import torch

    bundle = _bundle(model_name)
    device = pick_device(device)
    file_name = Path(bundle._path).name
    if checkpoint is not None:
        checkpoint = Path(checkpoint)
        if not checkpoint.is_file():
            raise AsrlensError(f"checkpoint {checkpoint} does not exist")
        # The same loading path as the hub cache, pointed at the user's file.
        dl_kwargs = {"model_dir": str(checkpoint.parent.resolve()), "file_name": checkpoint.name,
                     "map_location": "cpu"}
        try:
            model = bundle.get_model(dl_kwargs=dl_kwargs)
        except Exception as exc:  # torch.load / load_state_dict: many error types
            raise AsrlensError(
                f"checkpoint {checkpoint} does not hold {model_name} weights: "
                f"{_first_line(exc)}"
            ) from exc
    else:
        cache_dir = Path(torch.hub.get_dir()) / "checkpoints"
        cached = cache_dir / file_name
        try:
            model = bundle.get_model(dl_kwargs={"map_location": "cpu"})
        except (OSError, RuntimeError, ValueError) as exc:
            if cached.exists():
                raise AsrlensError(
                    f"cached weights {cached} do not load as {model_name}: {_first_line(exc)}; "
                    f"delete the file or pass --checkpoint FILE"
                ) from exc
            raise WeightsUnavailable(
                f"no {model_name} weights in the torch hub cache and the download failed "
                f"({_first_line(exc)}); pass --checkpoint FILE or place {file_name} in "
                f"{cache_dir} ($TORCH_HOME/hub/checkpoints/)"
            ) from exc
    return model.to(device).eval(), tuple(bundle.get_labels()), int(bundle.sample_rate)


def wav2vec2_view(
    model, labels: Sequence[str], samples: np.ndarray, *, sample_rate: int,
    layers: Sequence[int],
) -> Wav2Vec2View:
    """Run the model over mono `samples` (float32, at the model's `sample_rate` Hz).

    Only the first MAX_MODEL_S seconds are used. `layers` are 1-based transformer layers.
    """
    import torch

    limit = int(MAX_MODEL_S * sample_rate)
    truncated = len(samples) > limit
    samples = samples[:limit]
    device = next(model.parameters()).device
    waveform = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None].to(device)
    with torch.inference_mode():
        features, _ = model.extract_features(waveform, num_layers=max(layers))
        logits, _ = model(waveform)
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


def _bundle(model_name: str):
    import torchaudio.pipelines

    if model_name not in MODELS:
        raise AsrlensError(f"unknown model {model_name!r}: choose one of {', '.join(MODELS)}")
    return getattr(torchaudio.pipelines, model_name)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
