"""On CPU, wav2vec2's linear layers run as oneDNN products with packed weights, same outputs.

Every model asrlens offers is built from its bundle's parameters with random weights and two
transformer layers (as in test_batching.py); the recognizer's emissions must equal the
untouched torchaudio model's log-probabilities within 1e-4 at fp32.
"""

from __future__ import annotations

import pytest
import torch
from test_batching import LAYERS, RATE, TOLERANCE, random_net

from asrlens.infer.recognizers.onednn_linear import (
    PackedLinear,
    can_pack,
    pack_linear_layers,
)
from asrlens.infer.recognizers.wav2vec2 import Wav2Vec2Recognizer
from asrlens.infer.recognizers.wav2vec2_weights import MODELS, get_bundle

pytestmark = pytest.mark.skipif(not can_pack(), reason="this torch has no oneDNN")


@pytest.mark.parametrize("name", MODELS)
def test_packed_linear_layers_give_the_models_own_log_probabilities(name, sample_dir):
    from asrlens.audio import load_audio

    wave = load_audio(sorted((sample_dir / "wavs").glob("*.wav"))[0], sample_rate=RATE)[0]
    net = random_net(name)
    x = torch.from_numpy(wave)
    if get_bundle(name)._normalize_waveform:  # as the bundle's wrapper (and asrlens) do
        x = torch.nn.functional.layer_norm(x, x.shape)
    with torch.inference_mode():
        logits, _ = net(x[None])
        expected = torch.log_softmax(logits[0], dim=-1)
    engine = Wav2Vec2Recognizer.from_model(net, model=name)  # packs net's layers in place
    assert engine.options()["linear_layers"] == "onednn_packed"
    assert isinstance(net.encoder.transformer.layers[0].attention.q_proj, PackedLinear)
    got = engine.emissions(wave)
    assert got.shape == expected.shape
    assert float((got - expected).abs().max()) < TOLERANCE
    assert torch.equal(got.argmax(-1), expected.argmax(-1))


@pytest.mark.parametrize("post", ["none", "gelu"])
def test_a_packed_linear_layer_equals_nn_linear_with_its_gelu(post):
    torch.manual_seed(1)
    linear = torch.nn.Linear(64, 96).eval()
    x = torch.randn(2, 37, 64)
    with torch.inference_mode():
        expected = linear(x)
        if post == "gelu":
            expected = torch.nn.functional.gelu(expected)  # the exact (erf) GELU
        got = PackedLinear(linear, post=post)(x)
    assert got.shape == expected.shape
    assert float((got - expected).abs().max()) < 1e-5


def test_every_linear_layer_of_a_base_model_is_packed():
    net = random_net("WAV2VEC2_ASR_BASE_960H")
    # per transformer layer: q, k, v, out and the feed-forward pair; plus the feature
    # projection and the CTC head
    assert pack_linear_layers(net) == LAYERS * 6 + 2
    assert not [m for m in net.modules() if type(m) is torch.nn.Linear]


def test_a_packed_layer_refuses_another_dtype_with_a_clear_error():
    layer = PackedLinear(torch.nn.Linear(8, 8).eval())
    with pytest.raises(TypeError, match="float32 CPU weights"):
        layer(torch.zeros((2, 8), dtype=torch.float64))
