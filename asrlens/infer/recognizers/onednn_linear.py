"""wav2vec2's linear layers as oneDNN products with packed weights (CPU).

torch's nn.Linear runs a matrix product that rearranges its weights on every call, then a
separate pass for the GELU that follows the feed-forward block's first layer. oneDNN, the
library under torch's CPU convolutions, can take its weights rearranged once, in its own
blocked layout, and apply the GELU as it writes the product: `torch.ops.mkldnn._linear_pointwise`,
the kernel torch.compile's CPU backend uses for frozen linear layers. On this project's CPU
machine the BASE model's linear layers, half of a forward pass, ran 12-25% faster that way
(BENCHMARKS.md, "wav2vec2 on CPU against the compute bound").

Outputs differ from nn.Linear's only by the order of the sums (about 3e-6 in float32; bf16
results are rounded once rather than twice around the GELU). The GELU is the exact (erf) one
torchaudio uses.

    pack_linear_layers(model)   # model: a torchaudio Wav2Vec2Model, on the CPU, already cast
"""

from __future__ import annotations

import torch
from torch import nn
from torchaudio.models.wav2vec2.components import FeedForward


def pack_weight(weight: torch.Tensor) -> torch.Tensor:
    """An (out, in) weight matrix in oneDNN's blocked layout, for `product`."""
    with torch.no_grad():
        return torch.ops.mkldnn._reorder_linear_weight(weight.detach().contiguous(), None)


def product(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
            post: str = "none") -> torch.Tensor:
    """x @ weight.T + bias through oneDNN (weight packed or plain), then `post` ("none" or
    "gelu", the exact erf GELU) applied as the product is written."""
    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, post, [],
                                              "none" if post == "gelu" else "")


class PackedLinear(nn.Module):
    """nn.Linear's forward through oneDNN with weights packed once; `post` may be "gelu"."""

    def __init__(self, linear: nn.Linear, post: str = "none"):
        super().__init__()
        self.register_buffer("packed_weight", pack_weight(linear.weight), persistent=False)
        self.bias = linear.bias
        self.post = post

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype != self.packed_weight.dtype or x.device.type != "cpu":
            raise TypeError(f"PackedLinear holds {self.packed_weight.dtype} CPU weights; got "
                            f"{x.dtype} on {x.device}")
        return product(x.contiguous(), self.packed_weight, self.bias, self.post)


class PackedFeedForward(nn.Module):
    """torchaudio's FeedForward (eval mode): the GELU done by the first layer's product."""

    def __init__(self, block: FeedForward):
        super().__init__()
        self.intermediate_dense = PackedLinear(block.intermediate_dense, post="gelu")
        self.output_dense = PackedLinear(block.output_dense)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output_dense(self.intermediate_dense(x))


def can_pack() -> bool:
    """Whether this torch has oneDNN and the packed-linear kernels."""
    return (torch.backends.mkldnn.is_available()
            and hasattr(torch.ops.mkldnn, "_linear_pointwise")
            and hasattr(torch.ops.mkldnn, "_reorder_linear_weight"))


def pack_linear_layers(model: nn.Module) -> int:
    """Replace model's feed-forward blocks and other linear layers in place; returns how many
    linear layers now run packed.

    Call it on a model in eval mode, on the CPU, after its final dtype cast: the packed
    weights are made from the weights as they are then (a later .to() does not repack them).
    """
    count = 0
    for name, child in list(model.named_children()):
        if isinstance(child, FeedForward):
            setattr(model, name, PackedFeedForward(child))
            count += 2
        elif type(child) is nn.Linear:
            setattr(model, name, PackedLinear(child))
            count += 1
        else:
            count += pack_linear_layers(child)
    return count
