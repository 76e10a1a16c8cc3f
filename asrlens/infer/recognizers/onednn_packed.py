"""wav2vec2's linear layers and positional convolution on oneDNN with packed weights (CPU).

torch's nn.Linear and nn.Conv1d rearrange their weights on every call, and the GELUs that
follow the feed-forward block's first layer and the positional convolution are separate
passes. oneDNN, the library under torch's CPU convolutions, can take weights rearranged once
in its own blocked layout and apply the GELU as it writes the result:
`torch.ops.mkldnn._linear_pointwise` and `_convolution_pointwise`, the kernels
torch.compile's CPU backend uses for frozen layers. On this project's CPU machine, BASE's
linear layers (half of a forward pass) ran 12-25% faster that way and its grouped positional
convolution 1.7-2.1x (BENCHMARKS.md, "wav2vec2 on CPU against the compute bound"). The
feature extractor's convolutions stay torch's: packed, they were no faster.

Outputs differ from torchaudio's only by the order of the sums (about 3e-6 in float32; bf16
results are rounded once rather than twice around a GELU). The GELU is the exact (erf) one
torchaudio uses.

    pack_for_onednn(model)   # model: a torchaudio Wav2Vec2Model, on the CPU, already cast
"""

from __future__ import annotations

import torch
from torch import nn
from torchaudio.models.wav2vec2.components import ConvolutionalPositionalEmbedding, FeedForward


class PackedLinear(nn.Module):
    """nn.Linear's forward through oneDNN with weights packed once; `post` may be "gelu"."""

    def __init__(self, linear: nn.Linear, post: str = "none"):
        super().__init__()
        with torch.no_grad():
            packed = torch.ops.mkldnn._reorder_linear_weight(linear.weight.detach(), None)
        self.register_buffer("packed_weight", packed, persistent=False)
        self.bias = linear.bias
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.post = post

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.packed_weight)
        return torch.ops.mkldnn._linear_pointwise(
            x.contiguous(), self.packed_weight, self.bias, self.post, [],
            "none" if self.post == "gelu" else "")


class PackedFeedForward(nn.Module):
    """torchaudio's FeedForward (eval mode): the GELU done by the first layer's product."""

    def __init__(self, block: FeedForward):
        super().__init__()
        self.intermediate_dense = PackedLinear(block.intermediate_dense, post="gelu")
        self.output_dense = PackedLinear(block.output_dense)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output_dense(self.intermediate_dense(x))


class PackedPositionalConv(nn.Module):
    """torchaudio's ConvolutionalPositionalEmbedding: a oneDNN convolution (as a 2-D one of
    height 1, the form whose weights oneDNN packs) with the GELU fused.

    The weight-normed weight is computed once, from the weights as they are when packed.
    """

    def __init__(self, block: ConvolutionalPositionalEmbedding):
        super().__init__()
        conv = block.conv
        self.padding, self.stride = [0, conv.padding[0]], [1, conv.stride[0]]
        self.dilation, self.groups = [1, conv.dilation[0]], conv.groups
        with torch.no_grad():
            weight = conv.weight.detach().unsqueeze(2)  # (out, in / groups, 1, kernel)
            packed = torch.ops.mkldnn._reorder_convolution_weight(
                weight, self.padding, self.stride, self.dilation, self.groups, None)
        self.register_buffer("packed_weight", packed, persistent=False)
        self.bias = conv.bias
        self.embed_dim, self.kernel_size = block.embed_dim, block.kernel_size
        self.num_remove = block.num_remove

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (batch, frame, feature) -> the same shape."""
        _check_input(x, self.packed_weight)
        y = torch.ops.mkldnn._convolution_pointwise(
            x.transpose(-2, -1).unsqueeze(2).contiguous(), self.packed_weight, self.bias,
            self.padding, self.stride, self.dilation, self.groups, "gelu", [], "none")[:, :, 0]
        if self.num_remove > 0:
            y = y[..., : -self.num_remove]
        return y.transpose(-2, -1)


def can_pack() -> bool:
    """Whether this torch has oneDNN and the packed-weight kernels."""
    ops = torch.ops.mkldnn
    return (torch.backends.mkldnn.is_available()
            and all(hasattr(ops, name) for name in (
                "_linear_pointwise", "_reorder_linear_weight",
                "_convolution_pointwise", "_reorder_convolution_weight")))


def pack_for_onednn(model: nn.Module) -> int:
    """Replace model's linear layers, feed-forward blocks and positional convolution in place;
    returns how many layers now run on packed weights.

    Call it on a model in eval mode, on the CPU, after its final dtype cast: the packed
    weights are made from the weights as they are then (a later .to() does not repack them).
    """
    count = 0
    for name, child in list(model.named_children()):
        if isinstance(child, FeedForward):
            setattr(model, name, PackedFeedForward(child))
            count += 2
        elif isinstance(child, ConvolutionalPositionalEmbedding):
            setattr(model, name, PackedPositionalConv(child))
            count += 1
        elif type(child) is nn.Linear:
            setattr(model, name, PackedLinear(child))
            count += 1
        else:
            count += pack_for_onednn(child)
    return count


def _check_input(x: torch.Tensor, packed: torch.Tensor) -> None:
    if x.dtype != packed.dtype or x.device.type != "cpu":
        raise TypeError(f"packed for {packed.dtype} on the CPU; got {x.dtype} on {x.device}")
