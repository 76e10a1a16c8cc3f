"""`--engine transformers --model ID_OR_FOLDER`: any Hugging Face CTC or seq2seq speech model.

    recognizer = TransformersRecognizer(model="path/to/save_pretrained-folder", device="cpu")
    recognizer.transcribe(samples)            # Hypothesis with words (and times where given)

The checkpoint is loaded by hf_loading.py (hub id through huggingface_hub's cache, or a local
folder; weights cast once to --precision), then recognized by hf_ctc.py (AutoModelForCTC:
greedy CTC, exact zero-padded batches) or hf_seq2seq.py (AutoModelForSpeechSeq2Seq:
`generate`, Whisper's long-form and word timestamps). The run records the checkpoint's folder,
revision (hub commit hash) and the sha256 of every weight file.
"""

from __future__ import annotations

import os

import numpy as np

from asrlens.errors import AsrlensError
from asrlens.infer.recognizers.base import Hypothesis, Recognizer
from asrlens.infer.recognizers.hf_loading import load_pretrained
from asrlens.infer.recognizers.wav2vec2_weights import resolve_device, resolve_dtype

DEFAULT_CHUNK_S = 30.0  # CTC: files longer than this are processed in overlapping chunks
DEFAULT_OVERLAP_S = 2.0
DEFAULT_BEAM_SIZE = 1  # seq2seq: greedy search


class TransformersRecognizer(Recognizer):
    """A Hugging Face CTC or sequence-to-sequence checkpoint (see the module docstring)."""

    name = "transformers"

    def __init__(self, *, model: str | None = None, checkpoint: str | os.PathLike | None = None,
                 device: str = "auto", precision: str = "fp32",
                 chunk_s: float = DEFAULT_CHUNK_S, overlap_s: float = DEFAULT_OVERLAP_S,
                 beam_size: int = DEFAULT_BEAM_SIZE) -> None:
        if not model:
            raise AsrlensError("--engine transformers needs --model: a Hugging Face hub id "
                               "or a folder written by save_pretrained")
        if checkpoint is not None:
            raise AsrlensError("--engine transformers reads its weights from --model (a hub "
                               "id or a save_pretrained folder), not --checkpoint")
        torch_device = resolve_device(device)
        dtype = resolve_dtype(precision, torch_device)
        loaded = load_pretrained(model, device=torch_device, dtype=dtype)
        self.kind = loaded.kind
        try:
            if loaded.kind == "ctc":
                from asrlens.infer.recognizers.hf_ctc import CtcBackend

                self._backend = CtcBackend(loaded.model, loaded.processor, device=torch_device,
                                           chunk_s=chunk_s, overlap_s=overlap_s)
            else:
                from asrlens.infer.recognizers.hf_seq2seq import Seq2SeqBackend

                self._backend = Seq2SeqBackend(loaded.model, loaded.processor,
                                               device=torch_device, beam_size=beam_size)
        except ValueError as exc:
            raise AsrlensError(f"model {model}: {exc}") from exc
        self.model = model
        self.sample_rate = self._backend.sample_rate
        self.device = str(torch_device)
        self.precision = precision
        self._dtype = dtype
        self.checkpoint = str(loaded.folder)
        self.checkpoint_sha256 = loaded.weights_sha256
        self._loaded = {"architecture": type(loaded.model).__name__,
                        "model_type": loaded.model.config.model_type,
                        "revision": loaded.revision, "weights_sha256": loaded.weights}

    @property
    def backend(self):
        """The CtcBackend or Seq2SeqBackend doing the work (tests and benchmarks)."""
        return self._backend

    def options(self) -> dict:
        return {"kind": self.kind, **self._loaded, **self._backend.options(),
                "weights_dtype": str(self._dtype).removeprefix("torch.")}

    def transcribe(self, samples: np.ndarray) -> Hypothesis:
        return self._backend.transcribe(samples)

    def prepare_batch(self, batch: list[np.ndarray]):
        if self.kind == "ctc":
            return self._backend.prepare_batch(batch)
        return batch

    def start_batch(self, prepared):
        from asrlens.infer.recognizers.base import _Done

        if self.kind == "ctc":
            return _Done(self._backend.transcribe_prepared(prepared))
        return _Done(self._backend.transcribe_batch(prepared))

    def transcribe_batch(self, batch: list[np.ndarray]) -> list[Hypothesis]:
        return self.start_batch(self.prepare_batch(batch)).result()

    def default_batch_audio_s(self) -> float:
        """0 (one file at a time) on CPU, as the wav2vec2 engine; on a GPU 320 s a batch."""
        return 0.0 if self.device == "cpu" else GPU_BATCH_AUDIO_S


GPU_BATCH_AUDIO_S = 320.0  # seconds per default GPU batch (32 x 10 s); --batch-seconds sets it
