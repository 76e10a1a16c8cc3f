"""--cpu-kernels: oneDNN's private operations are never load-bearing.

The packed layers call torch.ops.mkldnn._linear_pointwise and _reorder_linear_weight. Here
they are replaced by operations that raise, or that give wrong numbers: the recognizer checks
them at load against torchaudio's own model (a probe in the run's precision), falls back to
the stock modules with one warning line, and gives exactly the stock model's emissions. Models
are test_batching's random two-layer nets or the placeholder checkpoint: no accuracy here.
"""

from __future__ import annotations

import copy
import logging

import pytest
import torch
from conftest import rows
from test_batching import random_net
from test_infer import run

from asrlens.infer.recognizers.onednn_linear import PackedLinear, can_pack
from asrlens.infer.recognizers.wav2vec2 import Wav2Vec2Recognizer

pytestmark = pytest.mark.skipif(not can_pack(), reason="this torch has no oneDNN")
MODEL = "WAV2VEC2_ASR_BASE_960H"
WAVE = torch.Generator().manual_seed(1)


def _wave(seconds: float = 0.8):
    return torch.randn(int(16000 * seconds), generator=WAVE).numpy()


def _raising(*args, **kwargs):
    raise RuntimeError("mkldnn::_linear_pointwise() expected at most 6 argument(s)")


@pytest.fixture
def broken_ops(monkeypatch):
    """Both private operations raise, as if the next torch changed their signatures."""
    monkeypatch.setattr(torch.ops.mkldnn, "_linear_pointwise", _raising)
    monkeypatch.setattr(torch.ops.mkldnn, "_reorder_linear_weight", _raising)


def _stock_emissions(net, wave, precision="fp32"):
    return Wav2Vec2Recognizer.from_model(copy.deepcopy(net), precision=precision,
                                         cpu_kernels="stock").emissions(wave)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_onednn_kernels_pass_the_probe_and_are_used(precision):
    engine = Wav2Vec2Recognizer.from_model(random_net(MODEL), precision=precision,
                                           cpu_kernels="onednn")
    options = engine.options()
    assert (options["cpu_kernels"], options["cpu_kernels_used"]) == ("onednn", "onednn")
    assert options["cpu_kernels_fallback"] is None
    assert isinstance(engine._net.encoder.transformer.layers[0].attention.q_proj, PackedLinear)


def test_stock_kernels_replace_nothing():
    engine = Wav2Vec2Recognizer.from_model(random_net(MODEL), cpu_kernels="stock")
    assert engine.options()["cpu_kernels_used"] == "stock"
    layers = engine._net.encoder.transformer.layers[0]
    assert type(layers.attention.q_proj) is torch.nn.Linear


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_raising_private_ops_fall_back_to_the_stock_model_with_one_warning(
    broken_ops, caplog, precision
):
    net, wave = random_net(MODEL), _wave()
    expected = _stock_emissions(net, wave, precision)
    with caplog.at_level(logging.WARNING, logger="asrlens"):
        engine = Wav2Vec2Recognizer.from_model(net, precision=precision, cpu_kernels="onednn")
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "stock kernels" in warnings[0]
    assert "RuntimeError" in warnings[0] and "\n" not in warnings[0]
    options = engine.options()
    assert options["cpu_kernels_used"] == "stock"
    assert "_linear_pointwise" in options["cpu_kernels_fallback"]
    assert type(engine._net.encoder.transformer.layers[0].attention.q_proj) is torch.nn.Linear
    assert torch.equal(engine.emissions(wave), expected)


def test_wrong_numbers_from_a_private_op_fall_back_too(monkeypatch):
    real = torch.ops.mkldnn._linear_pointwise
    monkeypatch.setattr(torch.ops.mkldnn, "_linear_pointwise",
                        lambda x, *rest: 1.5 * real(x, *rest))
    engine = Wav2Vec2Recognizer.from_model(random_net(MODEL), cpu_kernels="onednn")
    assert engine.options()["cpu_kernels_used"] == "stock"
    assert "differ from torchaudio's" in engine.options()["cpu_kernels_fallback"]


def test_a_private_op_failing_during_the_run_falls_back_and_recognizes_again(monkeypatch):
    net, waves = random_net(MODEL), [_wave(0.8), _wave(0.5)]
    expected = Wav2Vec2Recognizer.from_model(copy.deepcopy(net), cpu_kernels="stock"
                                             ).emissions_batch(waves)
    engine = Wav2Vec2Recognizer.from_model(net, cpu_kernels="onednn")
    assert engine.options()["cpu_kernels_used"] == "onednn"
    monkeypatch.setattr(torch.ops.mkldnn, "_linear_pointwise", _raising)
    got = engine.emissions_batch(waves)
    assert engine.options()["cpu_kernels_used"] == "stock"
    assert "during the run" in engine.options()["cpu_kernels_fallback"]
    assert len(got) == len(expected) == 2
    for a, b in zip(got, expected, strict=True):
        assert torch.equal(a, b)


def test_an_unknown_choice_is_a_clear_error():
    from asrlens.errors import AsrlensError

    with pytest.raises(AsrlensError, match="--cpu-kernels 'fast'"):
        Wav2Vec2Recognizer.from_model(random_net(MODEL), cpu_kernels="fast")


@pytest.mark.slow
def test_a_run_scores_every_file_when_the_private_ops_raise(
    broken_ops, placeholder_torch_home, ingested_db, copy_db
):
    from asrlens.infer.recognizers import get_recognizer

    db = copy_db(ingested_db)
    recognizer = get_recognizer("wav2vec2", device="cpu", cpu_kernels="onednn")
    result = run(db, recognizer, limit=4, run_id="broken-ops")
    assert result.files_total == 4 and result.files_scored == 4 and result.files_failed == 0
    options = rows(db, "select json_extract_string(options, '$.cpu_kernels_used') as used, "
                       "json_extract_string(options, '$.cpu_kernels_fallback') as why "
                       "from runs where run_id = 'broken-ops'")
    assert len(options) == 1
    assert options[0]["used"] == "stock" and "RuntimeError" in options[0]["why"]
    scored = rows(db, "select count(*) as n from utterance_errors where run_id = 'broken-ops'")
    assert scored == [{"n": 4}]
