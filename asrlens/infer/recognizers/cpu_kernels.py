"""Which CPU kernels run wav2vec2: torchaudio's own ("stock") or oneDNN's packed ones, guarded.

"onednn" replaces the linear layers (onednn_linear.py), the feature extractor's convolutions
(onednn_extractor.py) and the positional convolution (positional_convolution.py) with faster
CPU kernels. The first two call `torch.ops.mkldnn._linear_pointwise` and
`_reorder_linear_weight`, operations internal to torch's compiler with no compatibility
promise, so they are never load-bearing:

- at load, a probe (a seeded noise batch of two files, one padded) goes through the stock
  model and then through the replaced one, in the run's precision; when an operation is
  missing or raises, or the log-probabilities differ by more than TOLERANCE, the stock
  modules are put back and one warning line says why;
- during the run, an exception from the replaced model puts the stock modules back and the
  batch is recognized again by them (Wav2Vec2Recognizer), with the same warning.

runs.options records `cpu_kernels` (what was asked), `cpu_kernels_used` and, after a
fall-back, `cpu_kernels_fallback` (the reason).

    reason = use_onednn_kernels(net, dtype=torch.float32)   # None: in use; else why not
    restore(stock)                                           # put torchaudio's modules back
"""

from __future__ import annotations

import logging

import torch
from torch import nn

from asrlens import defaults

CPU_KERNELS = defaults.CPU_KERNELS_CHOICES
PROBE_SAMPLES = (8000, 4800)
"""Samples of the probe's two files (0.5 s and 0.3 s at 16 kHz): the second is zero-padded."""
TOLERANCE = {torch.float32: 1e-4, torch.bfloat16: 2**-4, torch.float16: 2**-6}
"""Largest |log-probability difference| accepted, relative to the largest |log-probability|
(at least 1). fp32 agrees to about 1e-6 relative; bf16 rounds each layer's output to 8 bits,
so the stock and packed models drift apart by about 0.5% (0.026 at 5.5 on a random BASE
model): the check is there to catch wrong kernels, whose outputs are off by their scale."""
log = logging.getLogger("asrlens")

Stock = list[tuple[nn.Module, str, nn.Module]]


def stock_modules(net: nn.Module) -> Stock:
    """Every (parent, name, child) of `net`: what `restore` puts back."""
    return [(parent, name, child) for parent in net.modules()
            for name, child in parent.named_children()]


def restore(stock: Stock) -> None:
    """Put back the modules `stock_modules` saw (the replaced ones share their parameters)."""
    for parent, name, child in stock:
        setattr(parent, name, child)


def use_onednn_kernels(net: nn.Module, *, dtype: torch.dtype) -> tuple[str | None, Stock]:
    """Replace net's layers by the oneDNN ones and check them on the probe, in place.

    net: a torchaudio Wav2Vec2Model in eval mode, on the CPU, cast to `dtype` and with
    exact_padding's GroupNorm. Returns (None, stock) when the oneDNN kernels are in use, or
    (reason, stock) after putting the stock modules back; `stock` restores them later.
    """
    from asrlens.infer.recognizers.onednn_extractor import pack_feature_extractor
    from asrlens.infer.recognizers.onednn_linear import can_pack, pack_linear_layers
    from asrlens.infer.recognizers.positional_convolution import (
        use_channels_last_positional_convolution,
    )

    stock = stock_modules(net)
    if not can_pack():
        return "this torch lacks oneDNN or its packed-linear operations", stock
    batch, lengths = _probe(dtype)
    try:
        expected = _log_probs(net, batch, lengths)
        use_channels_last_positional_convolution(net)
        pack_linear_layers(net)
        pack_feature_extractor(net)
        got = _log_probs(net, batch, lengths)
        reason = _disagreement(expected, got, dtype)
    except Exception as exc:  # noqa: BLE001 - any failure of a private op means: stock
        reason = f"the probe raised {type(exc).__name__}: {first_line(exc)}"
    if reason is not None:
        restore(stock)
    return reason, stock


def warn_fallback(reason: str) -> None:
    """The one warning line of a fall-back to the stock kernels."""
    log.warning("Warning: --cpu-kernels onednn: %s; using torchaudio's stock kernels "
                "(runs.options.cpu_kernels_fallback)", reason)


def _probe(dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    batch = torch.randn(len(PROBE_SAMPLES), max(PROBE_SAMPLES), generator=generator)
    for row, n in enumerate(PROBE_SAMPLES):
        batch[row, n:] = 0
    return batch.to(dtype), torch.tensor(PROBE_SAMPLES)


def _log_probs(net: nn.Module, batch: torch.Tensor, lengths: torch.Tensor) -> list[torch.Tensor]:
    """Each probe file's float32 log-probabilities over its valid frames."""
    with torch.inference_mode():
        logits, frames = net(batch, lengths)
        out = torch.log_softmax(logits.float(), dim=-1)
    return [out[row, : int(n)] for row, n in enumerate(frames)]


def _disagreement(expected: list[torch.Tensor], got: list[torch.Tensor],
                  dtype: torch.dtype) -> str | None:
    for a, b in zip(expected, got, strict=True):
        if a.shape != b.shape:
            return f"the probe's output has shape {tuple(b.shape)}, torchaudio's {tuple(a.shape)}"
        if not torch.isfinite(b).all():
            return "the probe's output is not finite"
        scale = max(float(a.abs().max()), 1.0)
        diff = float((a - b).abs().max())
        if diff > TOLERANCE.get(dtype, TOLERANCE[torch.float32]) * scale:
            return (f"the probe's log-probabilities differ from torchaudio's by {diff:.3g} "
                    f"(largest {scale:.3g}) in {str(dtype).removeprefix('torch.')}")
    return None


def first_line(exc: BaseException, limit: int = 160) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:limit]
