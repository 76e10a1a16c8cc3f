"""On CPU, wav2vec2's linear layers and feature extractor run as oneDNN products with packed
weights, and its positional convolution on channels-last data, with the same outputs.

Every model asrlens offers is built from its bundle's parameters with random weights and two
transformer layers (as in test_batching.py); the recognizer's emissions must equal the
untouched torchaudio model's log-probabilities at fp32 within 1e-4 plus 1e-5 relative (their
values reach about 50 with test_batching's sharpened CTC head), with the same best class on
every frame.
"""

from __future__ import annotations

import copy

import pytest
import torch
from test_batching import LAYERS, RATE, TOLERANCE, random_net

from asrlens.infer.recognizers.exact_padding import make_padding_exact
from asrlens.infer.recognizers.onednn_extractor import (
    PackedConvolution,
    PackedFeatureExtractor,
    pack_feature_extractor,
)
from asrlens.infer.recognizers.onednn_linear import (
    PackedLinear,
    can_pack,
    pack_linear_layers,
)
from asrlens.infer.recognizers.positional_convolution import (
    ChannelsLastPositionalEmbedding,
    use_channels_last_positional_convolution,
)
from asrlens.infer.recognizers.wav2vec2 import Wav2Vec2Recognizer
from asrlens.infer.recognizers.wav2vec2_weights import MODELS, get_bundle

pytestmark = pytest.mark.skipif(not can_pack(), reason="this torch has no oneDNN")


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.slow
def test_packed_layers_give_the_models_own_log_probabilities(name, sample_dir):
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
    assert engine.options()["cpu_kernels_used"] == "onednn"
    assert isinstance(net.encoder.transformer.layers[0].attention.q_proj, PackedLinear)
    assert isinstance(net.feature_extractor, PackedFeatureExtractor)
    assert isinstance(net.encoder.transformer.pos_conv_embed, ChannelsLastPositionalEmbedding)
    got = engine.emissions(wave)
    torch.testing.assert_close(got, expected, atol=TOLERANCE, rtol=1e-5)
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


@pytest.fixture(scope="module")
def real_wave(sample_dir) -> torch.Tensor:
    from asrlens.audio import load_audio

    path = sorted((sample_dir / "wavs").glob("*.wav"))[1]
    return torch.from_numpy(load_audio(path, sample_rate=RATE)[0])


@pytest.mark.parametrize("name", ["WAV2VEC2_ASR_BASE_960H", "WAV2VEC2_ASR_LARGE_LV60K_960H"])
def test_the_packed_extractor_equals_torchaudios_and_is_as_exact_in_a_padded_batch(
        name, real_wave):
    """A "group_norm" extractor (GroupNorm folded into the first product, over each file's
    valid frames) and a "layer_norm" one; the second file is zero-padded to the first's length."""
    net = random_net(name)
    reference = copy.deepcopy(net)
    make_padding_exact(reference)  # torchaudio's extractor with the valid-length GroupNorm
    pack_feature_extractor(net)
    short = real_wave[: len(real_wave) // 3]
    batch = torch.zeros((2, len(real_wave)))
    batch[0], batch[1, : len(short)] = real_wave, short
    lengths = torch.tensor([len(real_wave), len(short)])
    with torch.inference_mode():
        expected, expected_lengths = reference.feature_extractor(batch, lengths)
        got, got_lengths = net.feature_extractor(batch, lengths)
        alone, no_lengths = net.feature_extractor(short[None], None)
    assert torch.equal(got_lengths, expected_lengths) and no_lengths is None
    frames = int(got_lengths[1])
    assert alone.shape[1] == frames
    scale = float(expected.abs().max())
    torch.testing.assert_close(got[0], expected[0], atol=1e-5 * scale, rtol=0)
    torch.testing.assert_close(got[1, :frames], expected[1, :frames], atol=1e-5 * scale, rtol=0)
    torch.testing.assert_close(got[1, :frames], alone[0], atol=1e-6 * scale, rtol=0)


def test_the_folded_group_norm_is_exact_for_a_high_pass_channel():
    """Neighbouring samples of a low tone are nearly equal, so a channel that takes their
    difference has a tiny variance: a small difference of large covariance terms."""
    net = random_net("WAV2VEC2_ASR_BASE_960H")
    with torch.no_grad():
        weight = net.feature_extractor.conv_layers[0].conv.weight
        weight[0, 0] = torch.tensor([1.0, -1.0] + [0.0] * (weight.shape[-1] - 2))
    reference = copy.deepcopy(net)
    pack_feature_extractor(net)
    t = torch.arange(32000) / RATE
    wave = 0.5 * torch.sin(2 * torch.pi * 60 * t) + 0.001 * torch.randn(32000)
    with torch.inference_mode():
        expected = reference.feature_extractor.conv_layers[0](wave[None, None], None)[0]
        got = net.feature_extractor._first_layer(wave.unfold(0, 10, 5), None)
    torch.testing.assert_close(got, expected[0].t(), atol=1e-5, rtol=1e-5)


def test_a_packed_convolution_equals_torchaudios_block():
    net = random_net("WAV2VEC2_ASR_BASE_960H")
    block = net.feature_extractor.conv_layers[1]  # kernel 3, stride 2
    torch.manual_seed(2)
    x = torch.randn(2, 512, 101)
    with torch.inference_mode():
        expected, expected_lengths = block(x, torch.tensor([101, 60]))
        got, got_lengths = PackedConvolution(block)(x.transpose(1, 2), torch.tensor([101, 60]))
    assert torch.equal(got_lengths, expected_lengths)
    torch.testing.assert_close(got, expected.transpose(1, 2), atol=1e-5, rtol=1e-5)


def test_a_file_shorter_than_the_first_kernel_is_a_clear_error():
    net = random_net("WAV2VEC2_ASR_BASE_960H")
    pack_feature_extractor(net)
    with pytest.raises(ValueError, match="fewer than the first convolution's kernel"):
        net.feature_extractor(torch.zeros((1, 9)), None)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("frames", [3, 74, 495])
def test_the_channels_last_positional_convolution_equals_torchaudios(frames, dtype):
    net = random_net("WAV2VEC2_ASR_BASE_960H").to(dtype)
    reference = copy.deepcopy(net.encoder.transformer.pos_conv_embed)
    use_channels_last_positional_convolution(net)
    torch.manual_seed(3)
    x = torch.randn(2, frames, 768).to(dtype)
    with torch.inference_mode():
        expected = reference(x)
        got = net.encoder.transformer.pos_conv_embed(x)
    assert got.shape == expected.shape == x.shape
    # bf16: both round every output once; they may differ by one unit in the last place
    scale = float(expected.abs().max())
    tolerance = 1e-5 if dtype == torch.float32 else 2**-7
    torch.testing.assert_close(got.float(), expected.float(), atol=tolerance * scale, rtol=0)
