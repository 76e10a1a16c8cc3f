"""wav2vec2's convolutional positional embedding as a channels-last convolution (CPU).

torchaudio's encoder adds a grouped 1-D convolution of its input (kernel 128, 16 groups in
BASE) before the transformer layers. It runs on (batch, channels, frames), a transposed view of
the encoder's (batch, frames, channels) rows, and recomputes its weight-normalised weights on
every call. oneDNN's grouped kernels are faster on channels-last data, which those rows
already are: seen as a 2-D convolution of height 1, the same numbers need no copy. On this
project's CPU that made the convolution 1.3-1.9x faster from 60 frames (1.2 s of audio) up,
in fp32 and bf16; below about 40 frames bf16 calls were 1-2 ms slower (BENCHMARKS.md, "wav2vec2
on CPU against the compute bound").

The weights are normalised once, at load, in the model's dtype, as torchaudio does per call.
Outputs equal torchaudio's to float32 rounding (tests/test_onednn_layers.py).

    use_channels_last_positional_convolution(model)   # a torchaudio Wav2Vec2Model, cast
"""

from __future__ import annotations

import torch
from torch import nn
from torchaudio.models.wav2vec2.components import ConvolutionalPositionalEmbedding


class ChannelsLastPositionalEmbedding(nn.Module):
    """Drop-in for torchaudio's ConvolutionalPositionalEmbedding (eval mode, fixed weights)."""

    def __init__(self, embedding: ConvolutionalPositionalEmbedding):
        super().__init__()
        self.conv = embedding.conv  # kept for its parameters' names
        self.num_remove = embedding.num_remove
        (self.padding,), self.groups = self.conv.padding, self.conv.groups
        with torch.no_grad():  # weight norm applied once: (out, in / groups, 1, kernel)
            weight = self.conv.weight.detach()[:, :, None, :]
        self.register_buffer("weight", weight.contiguous(memory_format=torch.channels_last),
                             persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (batch, frames, features) -> the embedding, same shape."""
        y = nn.functional.conv2d(x.transpose(-2, -1).unsqueeze(2), self.weight, self.conv.bias,
                                 padding=(0, self.padding), groups=self.groups)
        y = y[:, :, 0, : y.shape[-1] - self.num_remove]
        return nn.functional.gelu(y).transpose(-2, -1)


def use_channels_last_positional_convolution(model: nn.Module) -> None:
    """Replace model's positional embedding in place (model: a Wav2Vec2Model after its final
    dtype cast; a later .to() does not recompute the cached weights)."""
    transformer = model.encoder.transformer
    if isinstance(transformer.pos_conv_embed, ConvolutionalPositionalEmbedding):
        transformer.pos_conv_embed = ChannelsLastPositionalEmbedding(transformer.pos_conv_embed)
