"""CPU speed-ups for Hugging Face wav2vec2-family models, as the wav2vec2 engine has them.

- freed memory kept in the process for the next file (cpu_memory.keep_freed_memory);
- every nn.Linear run as a oneDNN product with its weights packed once
  (onednn_linear.pack_linear_layers; outputs differ by the order of sums, about 3e-6), in
  the model types whose code only calls their layers (PACKABLE_TYPES: WavLM, for one, reads
  its attention layers' weights directly);
- the positional convolution's weight normalisation applied once at load instead of on every
  call (torch.nn.utils.parametrize.remove_parametrizations: same weights, fixed).

    applied = speed_up_on_cpu(model)   # {"linear_layers": "onednn_packed", ...} for options()

Call it after the model's final dtype cast, on the CPU, in eval mode.
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils import parametrize

from asrlens.infer.recognizers.cpu_memory import keep_freed_memory
from asrlens.infer.recognizers.onednn_linear import can_pack, pack_linear_layers

PACKABLE_TYPES = ("wav2vec2", "hubert")


def speed_up_on_cpu(model: nn.Module) -> dict:
    """Apply the speed-ups above in place; return what was applied, for runs.options."""
    applied = {"keeps_freed_memory": keep_freed_memory(), "linear_layers": "torch",
               "weight_norm": "per_call"}
    fixed = 0
    for module in model.modules():
        if isinstance(module, nn.Conv1d) and parametrize.is_parametrized(module, "weight"):
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
            fixed += 1
    if fixed:
        applied["weight_norm"] = "applied_once"
    packable = getattr(model.config, "model_type", None) in PACKABLE_TYPES
    if packable and can_pack() and pack_linear_layers(model):
        applied["linear_layers"] = "onednn_packed"
    return applied
