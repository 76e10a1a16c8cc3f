"""Zero-padded wav2vec2 batches that give each file the output it gets alone.

In a zero-padded batch, one operation of torchaudio's wav2vec2 models sees the padding: the
GroupNorm of the feature extractor's first convolution ("group_norm" extractors: BASE,
LARGE, HuBERT BASE, VoxPopuli, WavLM BASE), which normalises each channel over the whole time
axis. Every later convolution's valid output frames read valid input frames only, and the
encoder zeroes padded frames before its positional convolution and masks them out of
attention. So computing that GroupNorm's mean and variance over each file's valid frames only
(and zeroing the padded frames after it) makes a batched file's output equal its output alone.

Extractors in "layer_norm" mode (LARGE LV60K, XLSR, HuBERT LARGE / XLARGE, WavLM LARGE)
normalise each frame over channels, so padding cannot reach a valid frame: nothing to change.
Their bundles also layer-normalise the waveform first; asrlens does that per file before
padding (see Wav2Vec2Recognizer), never over the batch tensor.

    patched = make_padding_exact(model)   # True when a GroupNorm block was replaced
"""

from __future__ import annotations

import torch
from torch import nn
from torchaudio.models.wav2vec2.components import ConvLayerBlock


class ValidLengthGroupNormBlock(nn.Module):
    """A ConvLayerBlock whose per-channel GroupNorm uses each file's valid frames only.

    Holds the original block's `conv` and `layer_norm` (same parameter names, so state dicts
    load unchanged). With no lengths (one file at a time) it runs exactly as the original
    block, torch's GroupNorm. (Deciding from the lengths' values whether a batch is padded
    would make the host wait for a GPU; so with lengths, the valid-length path always runs.)
    """

    def __init__(self, block: ConvLayerBlock):
        super().__init__()
        norm = block.layer_norm
        if not isinstance(norm, nn.GroupNorm) or norm.num_groups != norm.num_channels:
            raise TypeError("expected a ConvLayerBlock with a per-channel GroupNorm")
        self.kernel_size = block.kernel_size
        self.stride = block.stride
        self.conv = block.conv
        self.layer_norm = norm

    def forward(self, x: torch.Tensor, length: torch.Tensor | None):
        x = self.conv(x)
        length = output_lengths(length, self.kernel_size, self.stride)
        if length is None:  # one file alone (no lengths given): torch's own GroupNorm
            x = self.layer_norm(x)
        else:
            x = valid_length_group_norm(x, length, self.layer_norm)
        return nn.functional.gelu(x), length


def output_lengths(length: torch.Tensor | None, kernel: int, stride: int
                   ) -> torch.Tensor | None:
    """Valid output frames of a convolution (no padding) over inputs of these lengths."""
    if length is None:
        return None
    return torch.clamp(torch.div(length - kernel, stride, rounding_mode="floor") + 1, min=0)


def valid_length_group_norm(x: torch.Tensor, length: torch.Tensor,
                            norm: nn.GroupNorm) -> torch.Tensor:
    """Per-channel normalisation of x (batch, channels, frames) over frames < length per row.

    Statistics are computed in float32 whatever x's dtype (as torch's GroupNorm kernels do);
    padded frames come out as exactly zero. A row with no valid frame stays all zero.
    """
    frames = x.shape[-1]
    mask = (torch.arange(frames, device=x.device)[None, :] < length[:, None])[:, None, :]
    mask = mask.to(torch.float32)
    count = length.clamp(min=1).to(torch.float32)[:, None, None]
    xf = x.float()
    mean = (xf * mask).sum(dim=-1, keepdim=True) / count
    centered = (xf - mean).mul_(mask)
    var = centered.square().sum(dim=-1, keepdim=True) / count
    scale = torch.rsqrt(var + norm.eps)
    if norm.affine:
        scale = scale * norm.weight.float()[None, :, None]
    y = centered.mul_(scale)
    if norm.affine:
        y.add_(norm.bias.float()[None, :, None]).mul_(mask)
    return y.to(x.dtype)


def make_padding_exact(model: nn.Module) -> bool:
    """Replace every per-channel-GroupNorm conv block of model's feature extractor in place.

    model is a torchaudio Wav2Vec2Model (or a wrapper holding one as `.model`). Returns True
    when a block was replaced ("group_norm" extractors), False when none needed it.
    """
    inner = getattr(model, "model", model)
    layers = inner.feature_extractor.conv_layers
    patched = False
    for i, block in enumerate(layers):
        if isinstance(block, ConvLayerBlock) and isinstance(block.layer_norm, nn.GroupNorm):
            layers[i] = ValidLengthGroupNormBlock(block)
            patched = True
    return patched
