"""Loading a Hugging Face speech checkpoint for `--engine transformers`.

    loaded = load_pretrained("facebook/wav2vec2-base-960h", device=torch.device("cpu"),
                             dtype=torch.float32)
    loaded.kind          # 'ctc' (AutoModelForCTC) or 'seq2seq' (AutoModelForSpeechSeq2Seq)
    loaded.revision      # the hub commit hash, None for a plain local folder
    loaded.weights       # {file name: sha256} of the weight files read

`model` is a hub id (fetched through huggingface_hub's cache; offline, only what the cache
already holds) or a folder written by `save_pretrained` (config, weights, processor files).
The kind is read from the config's `architectures` (what the checkpoint was saved as), else
from its model type; anything else, and a checkpoint whose weights do not cover the model
(a pre-training checkpoint without its CTC head, say), is one AsrlensError naming it.
transformers is imported here only, when the engine is built (extra `asrlens[transformers]`).
"""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass, field
from pathlib import Path

import torch

from asrlens.errors import AsrlensError
from asrlens.infer.recognizers.wav2vec2_weights import file_sha256

INSTALL_HINT = "pip install 'asrlens[transformers]'"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
KINDS = {"ctc": "AutoModelForCTC", "seq2seq": "AutoModelForSpeechSeq2Seq"}
"""Model kind -> the transformers auto class that builds it."""


@dataclass
class Loaded:
    """A checkpoint in memory: model (eval, on the device, in its dtype), processor, facts."""

    kind: str
    model: torch.nn.Module
    processor: object
    folder: Path  # where the files were read (the hub cache's snapshot for a hub id)
    revision: str | None
    weights: dict[str, str] = field(default_factory=dict)  # file name -> sha256

    @property
    def weights_sha256(self) -> str | None:
        """sha256 of the weight file, or of its 'name sha256' lines when there are several."""
        if not self.weights:
            return None
        if len(self.weights) == 1:
            return next(iter(self.weights.values()))
        lines = "".join(f"{name} {sha}\n" for name, sha in sorted(self.weights.items()))
        return hashlib.sha256(lines.encode()).hexdigest()


def import_transformers():
    """The transformers module, or AsrlensError saying how to install it."""
    try:
        return importlib.import_module("transformers")
    except ImportError as exc:
        raise AsrlensError(f"--engine transformers needs transformers, which is not installed "
                           f"({exc}): {INSTALL_HINT}") from None


def load_pretrained(model: str, *, device: torch.device, dtype: torch.dtype) -> Loaded:
    """Load checkpoint `model` (hub id or folder) as a CTC or seq2seq model; see the module."""
    transformers = import_transformers()
    config = _config(transformers, model)
    kind = model_kind(transformers, config, model)
    auto = getattr(transformers, KINDS[kind])
    try:
        net, info = auto.from_pretrained(model, output_loading_info=True)
        processor = transformers.AutoProcessor.from_pretrained(model)
    except (OSError, ValueError) as exc:
        raise AsrlensError(f"model {model}: cannot load its weights or processor files "
                           f"({_first_line(exc)})") from exc
    missing = sorted(info.get("missing_keys") or [])
    if missing:
        raise AsrlensError(
            f"model {model}: its weights do not cover the {type(net).__name__} built from its "
            f"config ({len(missing)} missing, e.g. {missing[0]}); is it a fine-tuned "
            f"checkpoint?"
        )
    net = net.eval().requires_grad_(False)
    net = net.to(device=device, dtype=dtype)  # cast once: no autocast per batch
    folder = _folder(transformers, model)
    weights = {path.name: file_sha256(path) for path in sorted(folder.iterdir())
               if path.suffix in WEIGHT_SUFFIXES and path.is_file()}
    return Loaded(kind=kind, model=net, processor=processor, folder=folder,
                  revision=getattr(config, "_commit_hash", None), weights=weights)


def model_kind(transformers, config, model: str) -> str:
    """'ctc' or 'seq2seq' for this config; AsrlensError naming the architecture otherwise."""
    ctc = _mapped_names(transformers, "MODEL_FOR_CTC_MAPPING_NAMES")
    seq2seq = _mapped_names(transformers, "MODEL_FOR_SPEECH_SEQ_2_SEQ_MAPPING_NAMES")
    architectures = list(getattr(config, "architectures", None) or [])
    for arch in architectures:
        if arch in ctc.values():
            return "ctc"
        if arch in seq2seq.values():
            return "seq2seq"
    if not architectures:
        if config.model_type in ctc:
            return "ctc"
        if config.model_type in seq2seq:
            return "seq2seq"
    named = ", ".join(architectures) or f"model type {config.model_type}"
    raise AsrlensError(
        f"model {model} is a {named}: neither a CTC model (AutoModelForCTC) nor a "
        f"sequence-to-sequence speech model (AutoModelForSpeechSeq2Seq), the two kinds "
        f"--engine transformers runs"
    )


def _config(transformers, model: str):
    local = Path(model).expanduser()
    try:
        return transformers.AutoConfig.from_pretrained(model)
    except (OSError, ValueError) as exc:
        if local.is_dir():
            raise AsrlensError(f"folder {local} is not a saved model: {_first_line(exc)} "
                               f"(write it with save_pretrained)") from exc
        raise AsrlensError(
            f"cannot get model {model!r} from the Hugging Face hub or its cache "
            f"({_first_line(exc, limit=160)}); offline, download it where there is network "
            f"(huggingface-cli download {model}, or save_pretrained) and pass --model FOLDER"
        ) from exc


def _folder(transformers, model: str) -> Path:
    """The folder the checkpoint's files are in (for a hub id: the cached snapshot)."""
    local = Path(model).expanduser()
    if local.is_dir():
        return local.resolve()
    config_file = transformers.utils.cached_file(model, "config.json")
    return Path(config_file).parent  # the snapshot folder (its files link into blobs/)


def _mapped_names(transformers, name: str) -> dict[str, str]:
    """model type -> class name of one of transformers' auto mappings."""
    auto = importlib.import_module("transformers.models.auto.modeling_auto")
    return dict(getattr(auto, name))


def _first_line(exc: BaseException, *, limit: int = 240) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
