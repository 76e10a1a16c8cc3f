"""Batched wav2vec2 inference gives every file exactly what it gets alone.

Every model asrlens offers is built from its bundle's parameters with random weights (the
padding behaviour lives in the feature extractor and the attention masks, not in the weight
values) and its transformer cut to two layers to keep the tests fast. A batch mixing a 1 s
and a 30 s file with real clips in between must give each file the log-probabilities
(within 1e-4 at fp32) and the greedy transcript it gets when run on its own.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torchaudio
from torchaudio.models.wav2vec2.components import _get_feature_extractor
from torchaudio.pipelines._wav2vec2 import utils as bundle_utils

from asrlens.audio import load_audio
from asrlens.infer.ctc import greedy_decode
from asrlens.infer.recognizers.exact_padding import (
    make_padding_exact,
    valid_length_group_norm,
)
from asrlens.infer.recognizers.wav2vec2 import Wav2Vec2Recognizer, batch_seconds_for_memory
from asrlens.infer.recognizers.wav2vec2_weights import MODELS, get_bundle

RATE = 16000  # Hz
TOLERANCE = 1e-4  # max |log-prob difference| allowed between a batch and one file alone
LAYERS = 2  # transformer layers kept


def random_net(name: str, *, layers: int = LAYERS) -> torch.nn.Module:
    """Bundle `name`'s architecture (a torchaudio Wav2Vec2Model, in eval mode) with random
    weights and `layers` transformer layers.

    The CTC head's weights are scaled up so that each frame's best class wins clearly (random
    heads give nearly flat posteriors, where noise of 1e-7 would flip argmaxes).
    """
    bundle = get_bundle(name)
    params = {**bundle._params, "encoder_num_layers": layers}
    torch.manual_seed(0)
    net = bundle_utils._get_model(bundle._model_type, params).eval()
    with torch.no_grad():
        net.aux.weight.mul_(20.0)
    return net


def small_engine(name: str, *, layers: int = LAYERS, device: str = "cpu") -> Wav2Vec2Recognizer:
    """A recognizer around random_net(name, layers=layers)."""
    bundle = get_bundle(name)
    net = random_net(name, layers=layers)
    if bundle._normalize_waveform:
        net = bundle_utils._extend_model(net, normalize_waveform=True)
    return Wav2Vec2Recognizer.from_model(net, model=name, device=device)


@pytest.fixture(scope="module")
def mixed_files(sample_dir) -> list[np.ndarray]:
    """A 30 s file (clips laid end to end), a 1 s file, and a real 2.6 s clip."""
    paths = sorted((sample_dir / "wavs").glob("*.wav"))
    clips = [load_audio(p, sample_rate=RATE)[0] for p in paths]
    joined = np.concatenate(clips)
    by_name = dict(zip((p.stem for p in paths), clips, strict=True))
    return [joined[: 30 * RATE], clips[3][:RATE], by_name["LJ001-0013"]]


DEVICES = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]


@pytest.mark.slow
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", MODELS)
def test_a_padded_batch_gives_each_file_its_own_log_probabilities_and_transcript(
        name, device, mixed_files):
    engine = small_engine(name, device=device)
    alone = [engine.emissions(f) for f in mixed_files]
    batched = engine.emissions_batch(mixed_files)
    for one, many in zip(alone, batched, strict=True):
        assert one.shape == many.shape
        assert float((one - many).abs().max()) < TOLERANCE
    # transcribe() of one file alone is its emissions, greedy-decoded
    heard = [greedy_decode(e, engine.labels, frame_s=engine.geometry.frame_s) for e in alone]
    in_batch = [greedy_decode(e, engine.labels, frame_s=engine.geometry.frame_s)
                for e in batched]
    assert [h.text for h in in_batch] == [h.text for h in heard]
    assert any(h.text for h in heard)  # something was heard, so the comparison means something


@pytest.mark.slow
@pytest.mark.parametrize("device", DEVICES)
def test_transcribe_batch_decodes_on_the_device_what_one_file_alone_gives(device, mixed_files):
    """The greedy path taken on the device and decoded with numpy: same words, times."""
    engine = small_engine("WAV2VEC2_ASR_BASE_960H", device=device)
    files = [mixed_files[2], mixed_files[1], mixed_files[2][: RATE * 2]]
    heard = [engine.transcribe(f) for f in files]
    in_batch = engine.transcribe_batch(files)
    assert [h.text for h in in_batch] == [h.text for h in heard]
    assert any(h.text for h in heard)
    for one, many in zip(heard, in_batch, strict=True):
        assert [(w.word, w.start_s, w.end_s) for w in many.words] == [
            (w.word, w.start_s, w.end_s) for w in one.words]
        assert [w.confidence for w in many.words] == pytest.approx(
            [w.confidence for w in one.words], abs=1e-4)


@pytest.mark.slow
def test_without_the_valid_length_norm_padding_leaks_into_base(mixed_files):
    """The control: torchaudio's own GroupNorm over the padded axis moves the short files."""
    bundle = get_bundle("WAV2VEC2_ASR_BASE_960H")
    torch.manual_seed(0)
    net = bundle_utils._get_model(bundle._model_type, {**bundle._params,
                                                       "encoder_num_layers": LAYERS}).eval()
    files = [mixed_files[0][: 10 * RATE], mixed_files[1]]  # 10 s and 1 s
    lengths = torch.tensor([len(f) for f in files])
    padded = torch.zeros((2, int(lengths.max())))
    for row, f in enumerate(files):
        padded[row, : len(f)] = torch.from_numpy(f)
    with torch.inference_mode():
        alone, _ = net(torch.from_numpy(files[1])[None])
        batched, _ = net(padded, lengths)
    frames = alone.shape[1]
    assert float((alone[0] - batched[1, :frames]).abs().max()) > 100 * TOLERANCE


@pytest.mark.slow
def test_batches_of_one_and_files_longer_than_a_chunk_keep_their_path(mixed_files):
    """A file over the chunk length is chunked as when alone, even inside a batch."""
    bundle = get_bundle("WAV2VEC2_ASR_BASE_960H")
    torch.manual_seed(0)
    net = bundle_utils._get_model(bundle._model_type, {**bundle._params,
                                                       "encoder_num_layers": LAYERS})
    engine = Wav2Vec2Recognizer.from_model(net, chunk_s=5.0, overlap_s=1.0)
    files = [mixed_files[0][: 12 * RATE], mixed_files[1]]  # 12 s: chunked, 1 s: batched
    batched = engine.emissions_batch(files)
    assert torch.equal(batched[0], engine.emissions(files[0]))
    assert float((batched[1] - engine.emissions(files[1])).abs().max()) < TOLERANCE
    assert torch.equal(engine.emissions_batch([files[1]])[0], engine.emissions(files[1]))


def test_valid_length_norm_of_an_unpadded_row_equals_groupnorm():
    torch.manual_seed(1)
    norm = torch.nn.GroupNorm(8, 8)
    with torch.no_grad():
        norm.weight.normal_()
        norm.bias.normal_()
    x = torch.randn(3, 8, 50)
    lengths = torch.tensor([50, 20, 0])
    ours = valid_length_group_norm(x, lengths, norm)
    assert torch.allclose(ours[0], norm(x[:1])[0], atol=1e-5)
    assert torch.allclose(ours[1, :, :20], norm(x[1:2, :, :20])[0], atol=1e-5)
    assert torch.count_nonzero(ours[1, :, 20:]) == 0  # padded frames are zero after the norm
    assert torch.count_nonzero(ours[2]) == 0  # a row without frames stays zero


def test_every_torchaudio_bundle_has_an_extractor_mode_we_handle():
    """group_norm extractors get the valid-length norm; layer_norm ones need nothing."""
    bundles = {name: getattr(torchaudio.pipelines, name) for name in dir(torchaudio.pipelines)
               if isinstance(getattr(torchaudio.pipelines, name),
                             torchaudio.pipelines.Wav2Vec2Bundle)}
    assert set(MODELS) <= set(bundles)
    modes = {}
    for name, bundle in bundles.items():
        params = bundle._params
        mode = params["extractor_mode"]
        modes[name] = mode
        extractor = _get_feature_extractor(mode, params["extractor_conv_layer_config"],
                                           params["extractor_conv_bias"])
        holder = torch.nn.Module()
        holder.feature_extractor = extractor
        assert make_padding_exact(holder) == (mode == "group_norm"), name
    assert modes["WAV2VEC2_ASR_BASE_960H"] == "group_norm"
    assert modes["WAV2VEC2_ASR_LARGE_960H"] == "group_norm"
    assert modes["WAV2VEC2_ASR_LARGE_LV60K_960H"] == "layer_norm"
    assert modes["HUBERT_ASR_LARGE"] == "layer_norm"


def test_gpu_batch_size_follows_free_memory():
    gib = 1 << 30
    # 60 s of probe audio peaked 3 GiB above the model: 51.2 MiB per second of audio
    assert batch_seconds_for_memory(free_bytes=100 * gib, peak_bytes=3 * gib,
                                    probe_audio_s=60, min_s=30, max_s=10_000) == 1000
    assert batch_seconds_for_memory(free_bytes=100 * gib, peak_bytes=3 * gib,
                                    probe_audio_s=60, min_s=30) == 640  # capped
    assert batch_seconds_for_memory(free_bytes=2 * gib, peak_bytes=3 * gib,
                                    probe_audio_s=60, min_s=30) == 30  # one chunk at least


def test_cpu_engines_default_to_one_file_at_a_time():
    engine = small_engine("WAV2VEC2_ASR_BASE_960H", layers=1)
    assert engine.default_batch_audio_s() == 0
    assert engine.options()["padding_exact_group_norm"] is True


@pytest.mark.slow
def test_a_batched_run_stores_the_transcripts_of_a_run_one_file_at_a_time(
        tmp_path, ingested_db, copy_db):
    from asrlens.db import connect, query
    from asrlens.infer import infer

    db = copy_db(ingested_db)
    engine = connect(db)
    recognizer = small_engine("WAV2VEC2_ASR_BASE_960H")
    try:
        for run_id, seconds in (("alone", 0), ("batched", 40)):
            infer(engine, recognizer=recognizer, run_id=run_id, limit=6, progress=False,
                  batch_audio_s=seconds)
        texts = {run_id: [r["hyp_raw"] for r in query(
            engine, "select hyp_raw from transcripts where run_id = :r order by utt_id",
            r=run_id)] for run_id in ("alone", "batched")}
        options = query(engine, "select options from runs where run_id = 'batched'")[0]
    finally:
        engine.dispose()
    assert texts["batched"] == texts["alone"] and len(texts["alone"]) == 6
    assert any(texts["alone"])
    stored = options["options"]
    stored = stored if isinstance(stored, dict) else json.loads(stored)
    assert stored["batch_audio_s"] == 40 and stored["weights_dtype"] == "float32"


def test_one_file_alone_runs_exactly_the_unpatched_model(mixed_files):
    """Without lengths (one file at a time) the replaced block is torch's own GroupNorm."""
    bundle = get_bundle("WAV2VEC2_ASR_BASE_960H")
    torch.manual_seed(0)
    net = bundle_utils._get_model(bundle._model_type, {**bundle._params,
                                                       "encoder_num_layers": 1}).eval()
    wave = torch.from_numpy(mixed_files[1])[None]
    with torch.inference_mode():
        before, _ = net(wave)
        assert make_padding_exact(net)
        after, _ = net(wave)
    assert torch.equal(before, after)
