"""wav2vec2's convolutional feature extractor as oneDNN matrix products (CPU).

torchaudio runs the extractor's seven 1-D convolutions through oneDNN's convolution kernels
on (batch, channels, time) tensors, each followed by a separate GELU pass (and, in
"group_norm" extractors, a GroupNorm pass over the first one's output). On this project's CPU
those convolutions reach 72% of the bf16 matrix-product rate (BENCHMARKS.md, "wav2vec2 on CPU
against the compute bound"). Here the same layers, with the same weights, run on (time,
channels) rows, each as one oneDNN product with the GELU applied as the product is written:

- A convolution with kernel k and stride s over (time, channels) rows is one matrix product:
  output row t reads input rows s*t .. s*t+k-1, which are k*C consecutive numbers of the
  input, so its column matrix is a strided view of the input (copied once into a dense
  matrix, or no copy at all where k == s), times the weights laid out as (out, k*C).
- The first layer (one input channel) is a product of the waveform's frames (k samples each)
  and, in "group_norm" extractors, its per-channel GroupNorm is folded into that product:
  over one file's frames f, a channel with weights w has mean w.mean(f) and variance
  w' Cov(f) w, so the normalised output is a product of the frames with per-file scaled
  weights plus a per-file bias. The statistics are taken over each file's valid frames only,
  so a zero-padded file gets what it gets alone (exact_padding.py says why that GroupNorm is
  where padding leaks).
- "layer_norm" extractors normalise each output row over its channels: a layer norm on rows.

Outputs equal torchaudio's to float32 rounding (tests/test_onednn_layers.py). CPU only; on
a GPU, cuDNN's convolutions and exact_padding.py's valid-length GroupNorm run instead.

    pack_feature_extractor(model)   # model: a torchaudio Wav2Vec2Model, on the CPU, cast
"""

from __future__ import annotations

import torch
from torch import nn

from asrlens.infer.recognizers.exact_padding import output_lengths
from asrlens.infer.recognizers.onednn_linear import pack_weight, product


class PackedConvolution(nn.Module):
    """One extractor block (convolution, optional layer norm, GELU) on (batch, time, channels).

    Holds the block's own `conv` and `layer_norm` (so parameter names are unchanged) and its
    weights as a packed (out, kernel * in) matrix.
    """

    def __init__(self, block: nn.Module):
        super().__init__()
        self.conv, self.layer_norm = block.conv, block.layer_norm
        self.kernel_size, self.stride = block.kernel_size, block.stride
        if self.layer_norm is not None and not isinstance(self.layer_norm, nn.LayerNorm):
            raise TypeError("expected a convolution block with a layer norm or none")
        # (out, in, k) -> (out, k, in): row t's k input rows, in order
        matrix = self.conv.weight.permute(0, 2, 1).reshape(self.conv.out_channels, -1)
        self.register_buffer("packed_weight", pack_weight(matrix), persistent=False)
        self.post = "gelu" if self.layer_norm is None else "none"

    def forward(self, x: torch.Tensor, length: torch.Tensor | None
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        batch, frames, channels = x.shape
        kernel, stride = self.kernel_size, self.stride
        out_frames = (frames - kernel) // stride + 1
        if out_frames < 1:
            raise ValueError(f"{frames} frames are fewer than this convolution's kernel "
                             f"({kernel})")
        x = x.contiguous()
        columns = x.as_strided((batch, out_frames, kernel * channels),
                               (frames * channels, stride * channels, 1), x.storage_offset())
        y = product(columns.reshape(batch * out_frames, kernel * channels), self.packed_weight,
                    self.conv.bias, self.post)
        y = y.view(batch, out_frames, -1)
        if self.layer_norm is not None:
            y = nn.functional.gelu(_layer_norm(y, self.layer_norm))
        return y, output_lengths(length, kernel, stride)


class PackedFeatureExtractor(nn.Module):
    """Drop-in for torchaudio's FeatureExtractor: (batch, samples) -> (batch, frames, channels).

    `conv_layers` holds the first block as it was (its weights are read for the product) and
    PackedConvolutions for the others.
    """

    def __init__(self, extractor: nn.Module):
        super().__init__()
        blocks = list(extractor.conv_layers)
        first = blocks[0]
        if first.conv.in_channels != 1:
            raise TypeError("expected a first convolution over the waveform (one channel)")
        norm = first.layer_norm
        self.group_norm = isinstance(norm, nn.GroupNorm)
        if self.group_norm and norm.num_groups != norm.num_channels:
            raise TypeError("expected a per-channel GroupNorm")
        self.conv_layers = nn.ModuleList([first, *(PackedConvolution(b) for b in blocks[1:])])

    def forward(self, x: torch.Tensor, length: torch.Tensor | None
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        if x.ndim != 2:
            raise ValueError(f"Expected the input Tensor to be 2D (batch, time). Found: "
                             f"{list(x.shape)}")
        first = self.conv_layers[0]
        kernel, stride = first.kernel_size, first.stride
        if x.shape[1] < kernel:
            raise ValueError(f"{x.shape[1]} samples are fewer than the first convolution's "
                             f"kernel ({kernel})")
        frames = x.unfold(1, kernel, stride)  # (batch, frames, kernel), a view
        length = output_lengths(length, kernel, stride)
        rows = [self._first_layer(frames[row], None if length is None else int(length[row]))
                for row in range(x.shape[0])]
        h = rows[0][None] if len(rows) == 1 else torch.stack(rows)
        for block in self.conv_layers[1:]:
            h, length = block(h, length)
        return h, length

    def _first_layer(self, frames: torch.Tensor, valid: int | None) -> torch.Tensor:
        """The first block's output (frames, channels) for one file's frames (frames, kernel)."""
        block = self.conv_layers[0]
        weight, bias = block.conv.weight[:, 0, :], block.conv.bias
        frames = frames.contiguous()
        if self.group_norm:
            if valid == 0:  # no valid frame: the file's rows are all zero, as torchaudio's
                return frames.new_zeros((frames.shape[0], weight.shape[0]))
            weight, bias = _fold_group_norm(frames[:valid], weight, block.layer_norm)
            return product(frames, weight, bias, "gelu")
        y = product(frames, weight, bias)
        if block.layer_norm is not None:
            y = _layer_norm(y, block.layer_norm)
        return nn.functional.gelu(y)


def pack_feature_extractor(model: nn.Module) -> None:
    """Put a PackedFeatureExtractor in place of model's feature extractor (in place).

    model is a torchaudio Wav2Vec2Model in eval mode, on the CPU, after its final dtype cast.
    """
    if not isinstance(model.feature_extractor, PackedFeatureExtractor):
        model.feature_extractor = PackedFeatureExtractor(model.feature_extractor)


def _fold_group_norm(frames: torch.Tensor, weight: torch.Tensor, norm: nn.GroupNorm
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights and bias of the first convolution followed by its per-channel GroupNorm.

    frames (n, kernel) are one file's valid frames; weight (channels, kernel). Statistics are
    computed in float64: neighbouring samples are strongly correlated, so a high-pass
    channel's variance w' Cov(f) w is a small difference of large terms, which float32 would
    get wrong by 1e-4 relative (its kernel x kernel covariance costs next to nothing).
    """
    f, w = frames.double(), weight.double()
    mean_f = f.mean(dim=0)
    centred = f - mean_f
    covariance = centred.t() @ centred / f.shape[0]
    mean = w @ mean_f  # less the convolution's bias, which the normalisation takes away
    variance = ((w @ covariance) * w).sum(dim=1).clamp_(min=0)
    scale = torch.rsqrt(variance + norm.eps)
    shift = -mean * scale
    if norm.affine:
        scale = scale * norm.weight.double()
        shift = shift * norm.weight.double() + norm.bias.double()
    return (w * scale[:, None]).to(frames.dtype), shift.to(frames.dtype)


def _layer_norm(x: torch.Tensor, norm: nn.LayerNorm) -> torch.Tensor:
    """norm over x's last axis (torchaudio's own LayerNorm expects channels first)."""
    return nn.functional.layer_norm(x, norm.normalized_shape, norm.weight, norm.bias, norm.eps)
