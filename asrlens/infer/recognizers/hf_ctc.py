"""Hugging Face CTC models (AutoModelForCTC): greedy decoding, exact zero-padded batches.

Each file goes through the checkpoint's own feature extractor alone (so its normalisation,
`do_normalize`, sees that file only), then files are zero-padded into one batch. A batch is
exact, each file getting the log-probabilities it gets alone, when:

- the model is given an attention mask over the valid samples (the encoder then zeroes padded
  frames before its positional convolution and masks them out of attention), whether or not
  the processor asks for one; and
- for feature encoders with a per-channel GroupNorm over time (`feat_extract_norm ==
  "group"`: the wav2vec2-base family, whose processors give no attention mask), that GroupNorm
  uses each file's valid frames only (exact_padding.valid_length_group_norm, the same
  normalisation the wav2vec2 engine uses).

Only the model types whose batches tests/test_transformers_ctc.py shows exact are batched
(EXACT_BATCH_TYPES); any other CTC model runs one file at a time, and `options()["batching"]`
records which. Files longer than chunk_s go through the model in overlapping chunks stitched
at the middle of each overlap, as the wav2vec2 engine does. Greedy paths are taken on the
device; words, times and confidences come from asrlens.infer.ctc.decode_path.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import torch
from torch import nn

from asrlens.infer import ctc
from asrlens.infer.recognizers.base import Hypothesis
from asrlens.infer.recognizers.exact_padding import output_lengths, valid_length_group_norm

EXACT_BATCH_TYPES = ("wav2vec2", "hubert", "wavlm")
"""Model types whose zero-padded batches are shown exact (tests/test_transformers_ctc.py)."""


class ValidLengthGroupNormConvLayer(nn.Module):
    """A transformers `*GroupNormConvLayer` whose GroupNorm sees each file's valid frames only.

    Keeps the layer's `conv`, `layer_norm` and `activation` (same names: the state dict is
    unchanged). `valid_samples` (a tensor of input lengths, set by `valid_lengths`) switches
    the valid-length path on; None, one file alone, runs torch's GroupNorm as the original.
    """

    def __init__(self, layer: nn.Module):
        super().__init__()
        self.conv, self.layer_norm, self.activation = layer.conv, layer.layer_norm, layer.activation
        self.valid_samples: torch.Tensor | None = None

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        hidden_states = self.conv(hidden_states)
        if self.valid_samples is None:
            hidden_states = self.layer_norm(hidden_states)
        else:
            frames = output_lengths(self.valid_samples, self.conv.kernel_size[0],
                                    self.conv.stride[0])
            hidden_states = valid_length_group_norm(hidden_states, frames, self.layer_norm)
        return self.activation(hidden_states)


def make_group_norm_exact(model: nn.Module) -> list[ValidLengthGroupNormConvLayer]:
    """Replace the feature encoder's per-channel GroupNorm conv layers in place; return them.

    Looks for `conv_layers` lists (the feature encoder of every wav2vec2-family model) whose
    layers hold a Conv1d `conv` and a GroupNorm `layer_norm` with one group per channel.
    Only a first layer is replaced (its input lengths are the waveform's); a GroupNorm in any
    later layer leaves the model as it is and returns [] (then: one file at a time).
    """
    replaced = []
    for module in list(model.modules()):
        layers = getattr(module, "conv_layers", None)
        if not isinstance(layers, nn.ModuleList):
            continue
        grouped = [i for i, layer in enumerate(layers) if _per_channel_group_norm(layer)]
        if grouped not in ([], [0]):
            return []
        if grouped:
            layers[0] = ValidLengthGroupNormConvLayer(layers[0])
            replaced.append(layers[0])
    return replaced


def _per_channel_group_norm(layer: nn.Module) -> bool:
    norm = getattr(layer, "layer_norm", None)
    return (isinstance(norm, nn.GroupNorm) and norm.num_groups == norm.num_channels
            and isinstance(getattr(layer, "conv", None), nn.Conv1d))


class CtcBackend:
    """Greedy CTC transcripts from a loaded AutoModelForCTC and its processor."""

    def __init__(self, model: nn.Module, processor, *, device: torch.device, chunk_s: float,
                 overlap_s: float):
        self.net, self.device = model, device
        self.feature_extractor = getattr(processor, "feature_extractor", processor)
        tokenizer = getattr(processor, "tokenizer", None)
        if tokenizer is None:
            raise ValueError("the processor has no tokenizer")
        self.sample_rate = int(self.feature_extractor.sampling_rate)
        config = model.config
        self.labels = [tokenizer.convert_ids_to_tokens(i) or "" for i in range(config.vocab_size)]
        self.blank = config.pad_token_id if config.pad_token_id is not None else 0
        self.word_sep = getattr(tokenizer, "word_delimiter_token", None) or "|"
        self.hop = math.prod(getattr(config, "conv_stride", None) or [320])
        self.frame_s = self.hop / self.sample_rate
        self.chunk = max(round(chunk_s * self.sample_rate / self.hop), 1) * self.hop
        self.overlap = round(overlap_s * self.sample_rate / self.hop) * self.hop
        if chunk_s < 1.0 or not 0 <= self.overlap < self.chunk // 2:
            raise ValueError(f"chunk length {chunk_s} s / overlap {overlap_s} s: need a chunk "
                             f"of at least 1 s and an overlap of less than half a chunk")
        self.cpu = {}
        if device.type == "cpu" and model.main_input_name == "input_values":
            from asrlens.infer.recognizers.hf_cpu import speed_up_on_cpu

            self.cpu = speed_up_on_cpu(model)
        norm = getattr(config, "feat_extract_norm", None)
        self.group_norm_layers = make_group_norm_exact(model) if norm == "group" else []
        exact = (config.model_type in EXACT_BATCH_TYPES
                 and model.main_input_name == "input_values"
                 and (norm != "group" or self.group_norm_layers))
        if not exact:
            self.batching = "one_file_at_a_time"
        elif self.group_norm_layers:
            self.batching = "attention_mask+valid_length_group_norm"
        else:
            self.batching = "attention_mask"

    def options(self) -> dict:
        return {
            "decoder": "greedy_ctc",
            "batching": self.batching,
            "processor_attention_mask": bool(
                getattr(self.feature_extractor, "return_attention_mask", False)),
            "do_normalize": bool(getattr(self.feature_extractor, "do_normalize", False)),
            "chunk_s": self.chunk / self.sample_rate,
            "overlap_s": self.overlap / self.sample_rate,
            "frame_s": self.frame_s,
            "log_softmax_dtype": "float32",
            **self.cpu,  # CPU speed-ups applied (hf_cpu.py)
        }

    # --- one file ---------------------------------------------------------------------------

    def features(self, samples: np.ndarray) -> torch.Tensor:
        """The processor's model input for one file (1-D for wav2vec2-family models)."""
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError(f"expected mono samples (1-D), got shape {samples.shape}")
        out = self.feature_extractor(samples, sampling_rate=self.sample_rate, return_tensors="pt")
        return out[self.net.main_input_name][0].float()

    def num_frames(self, num_samples: int) -> int:
        lengths = self.net._get_feat_extract_output_lengths(torch.tensor([num_samples]))
        return max(int(lengths[0]), 0)

    @torch.inference_mode()
    def emissions(self, samples: np.ndarray) -> torch.Tensor:
        """Log-probabilities (frames x classes, float32, CPU) of one file, chunked if long."""
        wave = self.features(samples)
        if self.net.main_input_name != "input_values":
            return self._forward(wave)
        total = self.num_frames(wave.shape[0])
        if total == 0:
            return torch.zeros((0, len(self.labels)))
        starts = [0]
        while starts[-1] + self.chunk < wave.shape[0]:
            starts.append(starts[-1] + self.chunk - self.overlap)
        pieces = []
        for i, start in enumerate(starts):
            emission = self._forward(wave[start : start + self.chunk])
            first = 0 if i == 0 else (starts[i - 1] + self.chunk + start) // 2 // self.hop
            last = total if i == len(starts) - 1 else (
                (start + self.chunk + starts[i + 1]) // 2 // self.hop)
            offset = start // self.hop
            pieces.append(emission[first - offset : last - offset])
        return torch.cat(pieces)

    def transcribe(self, samples: np.ndarray) -> Hypothesis:
        emission = self.emissions(samples)
        frame_s = self.frame_s
        if self.net.main_input_name != "input_values" and len(emission):
            frame_s = len(samples) / self.sample_rate / len(emission)  # no conv strides known
        return ctc.greedy_decode(emission, self.labels, blank=self.blank,
                                 word_sep=self.word_sep, frame_s=frame_s)

    def _forward(self, features: torch.Tensor) -> torch.Tensor:
        batch = features.unsqueeze(0).to(device=self.device, dtype=self._dtype())
        logits = self.net(batch).logits
        return torch.log_softmax(logits[0].float(), dim=-1).cpu()

    def _dtype(self) -> torch.dtype:
        return next(self.net.parameters()).dtype

    # --- batches ----------------------------------------------------------------------------

    def prepare_batch(self, batch: list[np.ndarray]) -> dict:
        """Features per file; the short ones zero-padded into one tensor (host side)."""
        if self.batching == "one_file_at_a_time" or len(batch) == 1:
            return {"alone": list(range(len(batch))), "samples": batch, "rows": []}
        alone, rows, feats = [], [], []
        for i, samples in enumerate(batch):
            if len(samples) > self.chunk:
                alone.append(i)
                continue
            rows.append(i)
            feats.append(self.features(samples))
        lengths = [f.shape[0] for f in feats]
        padded = torch.zeros((len(feats), max(lengths, default=0)), dtype=torch.float32)
        for row, f in enumerate(feats):
            padded[row, : f.shape[0]] = f
        return {"alone": alone, "samples": batch, "rows": rows, "waves": padded,
                "lengths": lengths}

    @torch.inference_mode()
    def transcribe_prepared(self, prepared: dict) -> list[Hypothesis]:
        out = {i: self.transcribe(prepared["samples"][i]) for i in prepared["alone"]}
        if prepared["rows"]:
            log_probs = self.log_probs_batch(prepared["waves"], prepared["lengths"])
            best, path = log_probs.max(dim=-1)  # greedy path on the device
            path, best = path.cpu(), best.cpu()
            for row, i in enumerate(prepared["rows"]):
                n = self.num_frames(prepared["lengths"][row])
                out[i] = ctc.decode_path(
                    path[row, :n].numpy(), np.exp(best[row, :n].double().numpy()),
                    self.labels, blank=self.blank, word_sep=self.word_sep,
                    frame_s=self.frame_s)
        return [out[i] for i in range(len(prepared["samples"]))]

    @torch.inference_mode()
    def log_probs_batch(self, waves: torch.Tensor, lengths: list[int]) -> torch.Tensor:
        """(files, frames, classes) float32 log-probabilities of a padded batch, on the device."""
        batch = waves.to(device=self.device, dtype=self._dtype())
        valid = torch.tensor(lengths, dtype=torch.long, device=self.device)
        mask = (torch.arange(batch.shape[1], device=self.device)[None, :] < valid[:, None])
        with self.valid_lengths(valid):
            logits = self.net(batch, attention_mask=mask.long()).logits
        return torch.log_softmax(logits.float(), dim=-1)

    @contextlib.contextmanager
    def valid_lengths(self, valid: torch.Tensor):
        """Let the patched GroupNorm layers see the batch's valid sample counts meanwhile."""
        for layer in self.group_norm_layers:
            layer.valid_samples = valid
        try:
            yield
        finally:
            for layer in self.group_norm_layers:
                layer.valid_samples = None
