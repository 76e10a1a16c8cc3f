"""wav2vec2 / HuBERT weights: the torchaudio bundles, their frame geometry, device and dtype.

    net, bundle = load_bundle_model("WAV2VEC2_ASR_BASE_960H", checkpoint=None, device="cpu")
    path = weights_file(bundle, None)           # the file actually loaded
    file_sha256(path)                           # stored in runs.checkpoint_sha256

Weights come either through the bundle's own `get_model()` (torch hub cache, file
`$TORCH_HOME/hub/checkpoints/<name>.pth`, downloaded on first use where there is network) or
from a local state-dict file (`checkpoint=`), loaded with the same steps the bundle applies.
`load_bundle_model` is the one place that loads these weights (infer and explore share it).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torchaudio
from torchaudio.pipelines._wav2vec2 import utils as bundle_utils

from asrlens import defaults
from asrlens.errors import AsrlensError

DEFAULT_MODEL = defaults.WAV2VEC2_MODEL
MODELS = (
    "WAV2VEC2_ASR_BASE_960H",
    "WAV2VEC2_ASR_LARGE_960H",
    "WAV2VEC2_ASR_LARGE_LV60K_960H",
    "HUBERT_ASR_LARGE",
    "HUBERT_ASR_XLARGE",
)
PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
HASH_BLOCK_BYTES = 1 << 20

_sha256_cache: dict[tuple[str, int, int], str] = {}

@dataclass(frozen=True)
class FrameGeometry:
    """How emission frames map to samples: frame i covers [i*hop, i*hop + receptive_field)."""

    hop: int  # samples between frames (320 for every model here)
    receptive_field: int  # samples one frame sees (400)
    sample_rate: int  # Hz

    @property
    def frame_s(self) -> float:
        """Seconds between frames (0.02 at 16 kHz)."""
        return self.hop / self.sample_rate

    def num_frames(self, num_samples: int) -> int:
        """Frames the feature extractor produces for a waveform of num_samples."""
        if num_samples < self.receptive_field:
            return 0
        return (num_samples - self.receptive_field) // self.hop + 1


def get_bundle(model_name: str = DEFAULT_MODEL):
    """The torchaudio pipeline bundle called model_name; AsrlensError listing valid names."""
    if model_name not in MODELS:
        raise AsrlensError(
            f"unknown wav2vec2 model {model_name!r}; choose one of: {', '.join(MODELS)}"
        )
    return getattr(torchaudio.pipelines, model_name)


def hub_checkpoint_path(bundle) -> Path:
    """Where `bundle.get_model()` keeps its weights: torch.hub.get_dir()/checkpoints/<file>."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(bundle._path)


def frame_geometry(bundle) -> FrameGeometry:
    """Hop and receptive field of the bundle's convolutional feature extractor."""
    hop, field = 1, 1
    for _channels, kernel, stride in bundle._params["extractor_conv_layer_config"]:
        field += (kernel - 1) * hop
        hop *= stride
    return FrameGeometry(hop=hop, receptive_field=field, sample_rate=int(bundle.sample_rate))


def resolve_device(device: str = defaults.DEVICE) -> torch.device:
    """'auto' -> first GPU when torch sees one, else CPU; 'cpu', 'cuda', 'cuda:N' as given."""
    if device == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise AsrlensError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N") from exc
    if resolved.type == "cpu":
        return torch.device("cpu")
    if resolved.type != "cuda":
        raise AsrlensError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N")
    if not torch.cuda.is_available():
        raise AsrlensError(f"--device {device}: torch sees no CUDA GPU here; use --device cpu")
    index = 0 if resolved.index is None else resolved.index
    if index >= torch.cuda.device_count():
        raise AsrlensError(
            f"--device {device}: only {torch.cuda.device_count()} CUDA device(s) visible"
        )
    return torch.device("cuda", index)


def resolve_dtype(precision: str, device: torch.device) -> torch.dtype:
    """fp32 | bf16 | fp16 -> torch dtype; fp16 needs a GPU (CPU half kernels are slow/missing)."""
    if precision not in PRECISIONS:
        raise AsrlensError(
            f"unknown precision {precision!r}; choose one of: {', '.join(PRECISIONS)}"
        )
    if precision == "fp16" and device.type != "cuda":
        raise AsrlensError("--precision fp16 needs a CUDA GPU; on CPU use bf16 or fp32")
    return PRECISIONS[precision]


def load_bundle_model(
    model_name: str = DEFAULT_MODEL,
    *,
    checkpoint: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
):
    """Build bundle model_name with its weights, in eval mode on device: (model, bundle).

    The model is what `bundle.get_model()` returns (for the LV60K and HuBERT bundles, a
    wrapper that layer-normalises the waveform first). Without checkpoint the weights come
    through `bundle.get_model()` (torch hub cache, else a download); with checkpoint, from
    that state-dict file, with the same steps the bundle applies (the auxiliary output rows
    fairseq adds are dropped when present). Raises AsrlensError when the weights cannot be had
    (naming the hub path and --checkpoint) or do not fit the architecture (naming the file).
    Use `weights_file(bundle, checkpoint)` for the path of the file actually loaded.
    """
    bundle = get_bundle(model_name)
    if checkpoint is None:
        model = _load_through_hub(bundle, model_name)
    else:
        model = _load_checkpoint(bundle, model_name, Path(checkpoint))
    model.eval()
    return model.to(device), bundle


def weights_file(bundle, checkpoint: str | os.PathLike | None = None) -> Path:
    """Absolute path of the weights file load_bundle_model reads for these arguments."""
    if checkpoint is None:
        return hub_checkpoint_path(bundle).resolve()
    return Path(checkpoint).resolve()


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 hex digest of a file, cached per (path, size, mtime) for the process (~1 s/GB)."""
    stat = os.stat(path)
    key = (os.fspath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _sha256_cache:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while block := handle.read(HASH_BLOCK_BYTES):
                digest.update(block)
        _sha256_cache[key] = digest.hexdigest()
    return _sha256_cache[key]


def _load_through_hub(bundle, model_name: str):
    expected = hub_checkpoint_path(bundle)
    had_file = expected.exists()
    try:
        return bundle.get_model()
    except Exception as exc:  # noqa: BLE001 - any failure here means: no usable weights
        if had_file:
            raise AsrlensError(
                f"the cached weights {expected} for {model_name} cannot be loaded "
                f"({_first_line(exc)}); delete the file to download it again, or pass "
                f"--checkpoint FILE"
            ) from exc
        raise AsrlensError(
            f"no weights for {model_name}: the torch hub cache has no {expected} and "
            f"downloading it failed ({_first_line(exc)}). Copy the file there from a machine "
            f"with network (set TORCH_HOME to choose the cache), or pass --checkpoint FILE "
            f"(a state dict of {model_name})."
        ) from exc


def _load_checkpoint(bundle, model_name: str, path: Path):
    if not path.is_file():
        what = "is a folder, not a weights file" if path.is_dir() else "does not exist"
        raise AsrlensError(f"checkpoint {path} {what} (--checkpoint FILE)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - unreadable or not a torch file
        text = " ".join(str(exc).split())
        detail = text if 0 < len(text) <= 120 else type(exc).__name__
        raise AsrlensError(
            f"checkpoint {path} is not a readable torch state dict ({detail}); pass the .pth "
            f"weights file of {model_name}"
        ) from exc
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise AsrlensError(f"checkpoint {path} does not hold a state dict (name -> tensor)")
    num_labels = len(bundle.get_labels())
    aux = state.get("aux.weight")
    if aux is None:
        raise AsrlensError(
            f"checkpoint {path} has no CTC output layer (aux.weight): not an ASR checkpoint "
            f"for {model_name}"
        )
    removed = getattr(bundle, "_remove_aux_axis", ())
    if aux.shape[0] == num_labels + len(removed):
        bundle_utils._remove_aux_axes(state, removed)  # the step bundle.get_model() applies
    model = bundle_utils._get_model(bundle._model_type, bundle._params)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise AsrlensError(
            f"checkpoint {path} does not fit {model_name}'s architecture "
            f"({_first_line(exc, limit=300)}); pass a checkpoint of that model or choose the "
            f"matching --model"
        ) from exc
    if bundle._normalize_waveform:
        model = bundle_utils._extend_model(model, normalize_waveform=True)
    return model


def _first_line(exc: BaseException, *, limit: int = 200) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
