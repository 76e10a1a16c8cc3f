"""wav2vec2 / HuBERT CTC models from torchaudio's pipeline bundles, greedy-decoded.

The weights, bundles and devices are found in wav2vec2_weights.py (`load_bundle_model` is
the one place that loads these weights; infer and explore share it).

Long files are cut into overlapping chunks (30 s with 2 s of overlap by default) whose
emissions are stitched at the middle of each overlap, so memory stays flat whatever the
file's length. Several files can go through the model as one zero-padded batch
(`transcribe_batch`, or `prepare_batch` + `start_batch` to overlap the next batch with the
device's work): the feature extractor's GroupNorm is made to use each file's valid frames
only (exact_padding.py), so a file's emissions in a batch equal its emissions alone.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
import torch
from torchaudio.pipelines._wav2vec2 import utils as bundle_utils

from asrlens import defaults
from asrlens.errors import AsrlensError
from asrlens.infer import ctc  # module import: ctc imports recognizers.base, which loads us
from asrlens.infer.recognizers import cpu_kernels as kernels
from asrlens.infer.recognizers.base import Hypothesis, Recognizer
from asrlens.infer.recognizers.cpu_memory import keep_freed_memory
from asrlens.infer.recognizers.exact_padding import make_padding_exact
from asrlens.infer.recognizers.wav2vec2_weights import (
    DEFAULT_MODEL,
    file_sha256,
    frame_geometry,
    get_bundle,
    load_bundle_model,
    resolve_device,
    resolve_dtype,
    weights_file,
)

DEFAULT_CHUNK_S = 30.0  # seconds: files longer than this are processed in chunks
DEFAULT_OVERLAP_S = 2.0  # seconds shared by neighbouring chunks (stitched at its middle)
MIN_CHUNK_S = 1.0  # seconds: shortest chunk length accepted
MAX_BATCH_AUDIO_S = 640.0  # seconds: largest default GPU batch (64 x 10 s, BENCHMARKS.md)
GPU_MEMORY_SHARE = 0.5  # of the GPU's free memory a default batch may take at its peak


class Wav2Vec2Recognizer(Recognizer):
    """A wav2vec2/HuBERT CTC bundle with greedy decoding, one file or one batch at a time.

    Waveforms are layer-normalised over the whole file when the bundle expects it (as the
    bundle's wrapper does), then run through the model in chunks of at most chunk_s seconds
    that overlap by overlap_s seconds. Emissions are computed in `precision` and decoded in
    float32.
    """

    name = "wav2vec2"

    def __init__(
        self,
        *,
        model: str | None = None,
        checkpoint: str | os.PathLike | None = None,
        device: str = defaults.DEVICE,
        precision: str = defaults.PRECISION,
        chunk_s: float = DEFAULT_CHUNK_S,
        overlap_s: float = DEFAULT_OVERLAP_S,
        cpu_kernels: str = defaults.CPU_KERNELS,
    ) -> None:
        self.model = model or DEFAULT_MODEL
        torch_device = resolve_device(device)
        self._dtype = resolve_dtype(precision, torch_device)
        self._set_geometry(get_bundle(self.model), chunk_s, overlap_s)
        net, bundle = load_bundle_model(self.model, checkpoint=checkpoint, device=torch_device)
        self._attach(net, bundle, torch_device, precision, cpu_kernels)
        path = weights_file(bundle, checkpoint)
        self.checkpoint = str(path)
        self.checkpoint_sha256 = file_sha256(path)

    @classmethod
    def from_model(cls, net: torch.nn.Module, *, model: str = DEFAULT_MODEL,
                   device: str = "cpu", precision: str = defaults.PRECISION,
                   chunk_s: float = DEFAULT_CHUNK_S,
                   overlap_s: float = DEFAULT_OVERLAP_S,
                   cpu_kernels: str = defaults.CPU_KERNELS) -> Wav2Vec2Recognizer:
        """A recognizer around a built model of bundle `model`'s family (tests, benchmarks).

        net is a torchaudio Wav2Vec2Model (or the bundle's wrapper); no weights file is read,
        so `checkpoint` and `checkpoint_sha256` are None.
        """
        recognizer = cls.__new__(cls)
        recognizer.model = model
        torch_device = resolve_device(device)
        recognizer._dtype = resolve_dtype(precision, torch_device)
        recognizer._set_geometry(get_bundle(model), chunk_s, overlap_s)
        recognizer._attach(net.eval().to(torch_device), get_bundle(model), torch_device, precision,
                           cpu_kernels)
        recognizer.checkpoint = recognizer.checkpoint_sha256 = None
        return recognizer

    def _set_geometry(self, bundle, chunk_s: float, overlap_s: float) -> None:
        self.geometry = frame_geometry(bundle)
        self.sample_rate = self.geometry.sample_rate
        hop = self.geometry.hop
        self._chunk = max(round(chunk_s * self.sample_rate / hop), 1) * hop
        self._overlap = round(overlap_s * self.sample_rate / hop) * hop
        if chunk_s < MIN_CHUNK_S or not 0 <= self._overlap < self._chunk // 2:
            raise AsrlensError(
                f"chunk length {chunk_s} s / overlap {overlap_s} s: need a chunk of at least "
                f"{MIN_CHUNK_S} s and an overlap of less than half a chunk"
            )

    def _attach(self, net, bundle, torch_device: torch.device, precision: str,
                cpu_kernels: str) -> None:
        if cpu_kernels not in kernels.CPU_KERNELS:
            raise AsrlensError(f"unknown --cpu-kernels {cpu_kernels!r}: choose one of "
                               f"{', '.join(kernels.CPU_KERNELS)}")
        if isinstance(net, bundle_utils._Wav2Vec2Model):
            net = net.model  # the waveform normalisation is applied per file below
        self.padding_exact = make_padding_exact(net)
        self._net = net.to(dtype=self._dtype).eval()  # weights cast once: no autocast per batch
        self._torch_device = torch_device
        # on CPU, large activations reuse freed pages instead of faulting in fresh ones
        self.keeps_freed_memory = torch_device.type == "cpu" and keep_freed_memory()
        self.cpu_kernels = cpu_kernels
        self.cpu_kernels_used, self.cpu_kernels_fallback, self._stock = "stock", None, None
        if torch_device.type == "cpu" and cpu_kernels == "onednn":
            reason, self._stock = kernels.use_onednn_kernels(self._net, dtype=self._dtype)
            if reason is None:
                self.cpu_kernels_used = "onednn"
            else:
                self._fall_back(reason)
        if torch_device.type == "cuda" and self._dtype == torch.float32:
            # fp32 means fp32: cuDNN would run the extractor's convolutions in TF32 (10-bit
            # mantissa), enough to move log-probabilities by 1e-3 between batch shapes
            torch.backends.cudnn.allow_tf32 = False
            torch.backends.cuda.matmul.allow_tf32 = False
        self._normalize = bool(bundle._normalize_waveform)
        self.labels = bundle.get_labels()
        self.device = str(torch_device)
        self.precision = precision

    def options(self) -> dict:
        return {
            "chunk_s": self._chunk / self.sample_rate,
            "overlap_s": self._overlap / self.sample_rate,
            "padding_exact_group_norm": self.padding_exact,
            "weights_dtype": str(self._dtype).removeprefix("torch."),  # cast once at load
            "log_softmax_dtype": "float32",
            "frame_s": self.geometry.frame_s,
            "normalize_waveform": self._normalize,
            "decoder": "greedy_ctc",
            "keeps_freed_memory": self.keeps_freed_memory,  # glibc mallopt (cpu_memory.py)
            "cpu_kernels": self.cpu_kernels,  # asked: stock or onednn (cpu_kernels.py)
            "cpu_kernels_used": self.cpu_kernels_used,
            "cpu_kernels_fallback": self.cpu_kernels_fallback,  # why onednn was not used
        }

    def _fall_back(self, reason: str) -> None:
        """Put torchaudio's modules back in place of the oneDNN ones, with one warning line."""
        if self._stock is not None:
            kernels.restore(self._stock)
        self.cpu_kernels_used, self.cpu_kernels_fallback = "stock", reason
        kernels.warn_fallback(reason)

    def _run_net(self, batch: torch.Tensor, lengths: torch.Tensor | None):
        """The model on a batch; an error of the oneDNN kernels falls back to the stock ones,
        which recognize the batch again."""
        try:
            return self._net(batch, lengths)
        except Exception as exc:
            if self.cpu_kernels_used != "onednn":
                raise
            self._fall_back(f"the model raised {type(exc).__name__} during the run: "
                            f"{kernels.first_line(exc)}")
            return self._net(batch, lengths)

    def transcribe(self, samples: np.ndarray) -> Hypothesis:
        """Greedy CTC transcript of one file (mono float32 at self.sample_rate)."""
        return ctc.greedy_decode(
            self.emissions(samples), self.labels, blank=0, word_sep="|",
            frame_s=self.geometry.frame_s,
        )

    @torch.inference_mode()
    def emissions(self, samples: np.ndarray) -> torch.Tensor:
        """Log-probabilities, frames x classes, float32 on the CPU, for one whole file.

        Files up to the chunk length go through the model at once; longer ones in chunks
        starting every (chunk - overlap) samples, each chunk contributing the frames between
        the middles of its overlaps with its neighbours.
        """
        wave = torch.as_tensor(np.ascontiguousarray(samples, dtype=np.float32))
        if wave.ndim != 1:
            raise ValueError(f"expected mono samples (1-D), got shape {tuple(wave.shape)}")
        total = self.geometry.num_frames(wave.numel())
        if total == 0:
            return torch.zeros((0, len(self.labels)))
        if self._normalize:
            wave = torch.nn.functional.layer_norm(wave, wave.shape)
        starts = chunk_starts(wave.numel(), chunk=self._chunk, overlap=self._overlap)
        hop = self.geometry.hop
        pieces = []
        for i, start in enumerate(starts):
            end = min(start + self._chunk, wave.numel())
            emission = self._forward(wave[start:end])
            first = 0 if i == 0 else _cut_frame(starts[i - 1] + self._chunk, start, hop)
            last = total if i == len(starts) - 1 else _cut_frame(
                start + self._chunk, starts[i + 1], hop
            )
            offset = start // hop
            pieces.append(emission[first - offset : last - offset])
        return torch.cat(pieces)

    # --- batches --------------------------------------------------------------------------

    def prepare_batch(self, batch: list[np.ndarray]) -> PreparedBatch:
        """CPU side of a batch (any thread): normalise each file, zero-pad into one tensor.

        Files longer than the chunk length are kept aside: they are chunked as when alone.
        On CUDA the padded tensor is in pinned memory, so its copy to the GPU does not block.
        """
        waves, lengths, long = [], [], {}
        for i, samples in enumerate(batch):
            wave = torch.as_tensor(np.ascontiguousarray(samples, dtype=np.float32))
            if wave.ndim != 1:
                raise ValueError(f"expected mono samples (1-D), got shape {tuple(wave.shape)}")
            if wave.numel() > self._chunk:
                long[i] = samples
                continue
            if self._normalize and self.geometry.num_frames(wave.numel()):
                wave = torch.nn.functional.layer_norm(wave, wave.shape)
            waves.append((i, wave))
            lengths.append(wave.numel())
        width = max(lengths, default=0)
        pinned = self._torch_device.type == "cuda"
        padded = torch.zeros((len(waves), width), dtype=torch.float32, pin_memory=pinned)
        for row, (_i, wave) in enumerate(waves):
            padded[row, : wave.numel()] = wave
        return PreparedBatch(size=len(batch), rows=[i for i, _ in waves], waves=padded,
                             lengths=lengths, long=long)

    @torch.inference_mode()
    def start_batch(self, prepared: PreparedBatch) -> PendingBatch:
        """Queue a prepared batch on the device; `.result()` waits for it and decodes.

        On CUDA the kernels run asynchronously: the caller can prepare and start the next
        batch before asking for this one's result, so the GPU never waits for the CPU.
        """
        hypotheses: dict[int, Hypothesis] = {
            i: self.transcribe(samples) for i, samples in prepared.long.items()
        }
        frames = [self.geometry.num_frames(n) for n in prepared.lengths]
        path = best = event = None
        if prepared.rows and max(frames) > 0:
            log_probs = self._forward_batch(prepared.waves, prepared.lengths)
            best, path = log_probs.max(dim=-1)  # greedy path on the device
            path = path.to(torch.int32)
            if self._torch_device.type == "cuda":
                path = _to_pinned_host(path)
                best = _to_pinned_host(best)
                event = torch.cuda.Event()
                event.record()
            else:
                path, best = path.cpu(), best.cpu()
        return PendingBatch(self, prepared, frames, path, best, event, hypotheses)

    def transcribe_batch(self, batch: list[np.ndarray]) -> list[Hypothesis]:
        """Greedy transcripts of several files in one padded batch (each as if alone)."""
        return self.start_batch(self.prepare_batch(batch)).result()

    @torch.inference_mode()
    def emissions_batch(self, batch: list[np.ndarray]) -> list[torch.Tensor]:
        """Log-probabilities per file (frames x classes, float32, CPU) from one padded batch."""
        prepared = self.prepare_batch(batch)
        out: list[torch.Tensor | None] = [None] * prepared.size
        for i, samples in prepared.long.items():
            out[i] = self.emissions(samples)
        if prepared.rows:
            log_probs = self._forward_batch(prepared.waves, prepared.lengths).cpu()
            for row, i in enumerate(prepared.rows):
                out[i] = log_probs[row, : self.geometry.num_frames(prepared.lengths[row])]
        return out

    def default_batch_audio_s(self) -> float:
        """Audio seconds per batch when none is asked for: 0 (one file at a time) on CPU.

        On CPU batching does not pay (BENCHMARKS.md, "wav2vec2 batching"). On a GPU, two
        chunk-length files are run once to measure the peak memory per audio second, and a
        batch may take GPU_MEMORY_SHARE of the free memory, between one chunk and
        MAX_BATCH_AUDIO_S seconds.
        """
        if self._torch_device.type != "cuda":
            return 0.0
        chunk_s = self._chunk / self.sample_rate
        torch.cuda.empty_cache()
        free, _total = torch.cuda.mem_get_info(self._torch_device)
        probe = np.zeros(self._chunk, dtype=np.float32)
        before = torch.cuda.memory_allocated(self._torch_device)
        torch.cuda.reset_peak_memory_stats(self._torch_device)
        self.transcribe_batch([probe, probe])
        peak = torch.cuda.max_memory_allocated(self._torch_device) - before
        return batch_seconds_for_memory(free_bytes=free, peak_bytes=peak,
                                        probe_audio_s=2 * chunk_s, min_s=chunk_s)

    def _forward_batch(self, waves: torch.Tensor, lengths: list[int]) -> torch.Tensor:
        """(files, frames, classes) float32 log-probabilities, on the device."""
        batch = waves.to(device=self._torch_device, non_blocking=True).to(self._dtype)
        valid = None
        if batch.shape[0] > 1:
            valid = torch.tensor(lengths, dtype=torch.int64).to(self._torch_device,
                                                                 non_blocking=True)
        logits, _ = self._run_net(batch, valid)
        return torch.log_softmax(logits.float(), dim=-1)  # scored in fp32 whatever the weights

    def _forward(self, wave: torch.Tensor) -> torch.Tensor:
        batch = wave.to(device=self.device, dtype=self._dtype).unsqueeze(0)
        logits, _ = self._run_net(batch, None)
        return torch.log_softmax(logits[0].float(), dim=-1).cpu()


@dataclass
class PreparedBatch:
    """A batch on the host, ready for `start_batch`: padded rows and files kept aside."""

    size: int  # files in the batch
    rows: list[int]  # index in the batch of each padded row
    waves: torch.Tensor  # (rows, samples) float32, zero-padded (pinned on CUDA)
    lengths: list[int]  # valid samples of each row
    long: dict[int, np.ndarray]  # index -> samples of files chunked on their own


class PendingBatch:
    """A started batch; result() waits for the device and decodes each file's path."""

    def __init__(self, recognizer: Wav2Vec2Recognizer, prepared: PreparedBatch, frames: list[int],
                 path: torch.Tensor | None, best: torch.Tensor | None, event,
                 hypotheses: dict[int, Hypothesis]):
        self._recognizer, self._prepared, self._frames = recognizer, prepared, frames
        self._path, self._best, self._event = path, best, event
        self._hypotheses = hypotheses

    def result(self) -> list[Hypothesis]:
        if self._event is not None:
            self._event.synchronize()
        recognizer, out = self._recognizer, dict(self._hypotheses)
        for row, i in enumerate(self._prepared.rows):
            n = self._frames[row]
            if n == 0 or self._path is None:
                out[i] = Hypothesis(text="")
                continue
            out[i] = ctc.decode_path(
                self._path[row, :n].numpy(), np.exp(self._best[row, :n].double().numpy()),
                recognizer.labels, blank=0, word_sep="|", frame_s=recognizer.geometry.frame_s,
            )
        return [out[i] for i in range(self._prepared.size)]


def batch_seconds_for_memory(*, free_bytes: int, peak_bytes: int, probe_audio_s: float,
                             min_s: float, share: float = GPU_MEMORY_SHARE,
                             max_s: float = MAX_BATCH_AUDIO_S) -> float:
    """Audio seconds per batch whose estimated peak stays within share x free memory.

    peak_bytes is what a probe batch of probe_audio_s seconds added at its peak; the result is
    rounded down to whole 10 s and kept between min_s and max_s.
    """
    per_s = max(peak_bytes, 1) / probe_audio_s
    seconds = math.floor(share * free_bytes / per_s / 10) * 10
    return float(min(max(seconds, min_s), max_s))


def _to_pinned_host(tensor: torch.Tensor) -> torch.Tensor:
    """Start a non-blocking copy of a CUDA tensor into pinned host memory."""
    host = torch.empty(tensor.shape, dtype=tensor.dtype, pin_memory=True)
    host.copy_(tensor, non_blocking=True)
    return host


def chunk_starts(num_samples: int, *, chunk: int, overlap: int) -> list[int]:
    """First sample of each chunk: every (chunk - overlap) samples until one reaches the end."""
    starts = [0]
    while starts[-1] + chunk < num_samples:
        starts.append(starts[-1] + chunk - overlap)
    return starts


def _cut_frame(previous_end: int, next_start: int, hop: int) -> int:
    """Global frame index at the middle of the overlap [next_start, previous_end)."""
    return math.floor((next_start + previous_end) / 2 / hop)
