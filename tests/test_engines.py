"""Recognizer engines: the registry, wav2vec2 weights and chunking, pocketsphinx on real speech.

wav2vec2 runs here with placeholder (random) weights of the exact BASE architecture, seeded
into a temporary TORCH_HOME: its transcripts are noise, so these tests check loading, shapes,
decoding and chunking, never accuracy. pocketsphinx is a real recognizer and is held to a
loose accuracy bound on one real LJSpeech file.
"""

from __future__ import annotations

import hashlib
import re
import urllib.error

import jiwer
import numpy as np
import pytest
import torch
import torchaudio

from asrlens.audio import load_audio
from asrlens.errors import AsrlensError
from asrlens.infer.recognizers import RECOGNIZERS, get_recognizer
from asrlens.infer.recognizers.wav2vec2 import chunk_starts
from asrlens.infer.recognizers.wav2vec2_weights import (
    DEFAULT_MODEL,
    MODELS,
    get_bundle,
    hub_checkpoint_path,
    load_bundle_model,
    resolve_device,
)

SAMPLE_RATE = 16000
FRAME_S = 0.02  # wav2vec2 BASE: 320 samples per frame at 16 kHz
BASE_LABELS = 29  # blank, word separator, 26 letters, apostrophe


def sample_audio(sample_dir, utt_id: str) -> np.ndarray:
    samples, _ = load_audio(sample_dir / "wavs" / f"{utt_id}.wav", sample_rate=SAMPLE_RATE)
    return samples


def reference(sample_dir, utt_id: str) -> str:
    """The normalized transcript of utt_id, lower-cased, punctuation except apostrophes gone."""
    for line in (sample_dir / "labels.csv").read_text(encoding="utf-8").splitlines():
        fields = line.split("|")
        if fields[0] == utt_id:
            text = fields[-1].lower().replace("-", " ")
            return " ".join(re.sub(r"[^a-z' ]", "", text).split())
    raise KeyError(utt_id)


@pytest.fixture(scope="module")
def wav2vec2(placeholder_torch_home):
    """The BASE engine on CPU, weights through bundle.get_model() from the placeholder cache."""
    return get_recognizer("wav2vec2", device="cpu")


# --- registry ------------------------------------------------------------------------------


def test_registry_names_both_engines():
    assert set(RECOGNIZERS) >= {"wav2vec2", "pocketsphinx"}


def test_unknown_engine_lists_the_choices():
    with pytest.raises(AsrlensError,
                       match="unknown engine 'kaldi'.*wav2vec2.*pocketsphinx.*whisper"):
        get_recognizer("kaldi")


def test_unknown_wav2vec2_model_lists_the_bundles():
    with pytest.raises(AsrlensError, match="unknown wav2vec2 model 'BASE'") as info:
        get_recognizer("wav2vec2", model="BASE", device="cpu")
    for name in MODELS:
        assert name in str(info.value)


def test_unknown_engine_option_is_a_clear_error():
    with pytest.raises(AsrlensError, match="does not take option.*beam"):
        get_recognizer("pocketsphinx", beam=5)


def test_every_listed_model_is_an_english_ctc_bundle():
    assert len(MODELS) >= 5
    for name in MODELS:
        assert get_bundle(name).get_labels() == get_bundle(DEFAULT_MODEL).get_labels()


# --- wav2vec2: weights -----------------------------------------------------------------------


def test_wav2vec2_loads_through_the_torch_hub_cache(wav2vec2, placeholder_checkpoint):
    assert wav2vec2.model == DEFAULT_MODEL
    assert wav2vec2.device == "cpu" and wav2vec2.precision == "fp32"
    assert wav2vec2.sample_rate == SAMPLE_RATE
    assert wav2vec2.checkpoint == str(placeholder_checkpoint.resolve())
    digest = hashlib.sha256(placeholder_checkpoint.read_bytes()).hexdigest()
    assert wav2vec2.checkpoint_sha256 == digest
    assert wav2vec2.options()["chunk_s"] == 30.0


def test_wav2vec2_emissions_have_one_frame_per_20_ms(wav2vec2, sample_dir):
    samples = sample_audio(sample_dir, "LJ001-0002")
    emission = wav2vec2.emissions(samples)
    duration_s = len(samples) / SAMPLE_RATE
    assert emission.shape[1] == BASE_LABELS == len(wav2vec2.labels)
    assert abs(emission.shape[0] - duration_s / FRAME_S) <= 2
    assert torch.allclose(emission.exp().sum(dim=1), torch.ones(emission.shape[0]), atol=1e-4)


def test_wav2vec2_transcript_uses_only_bundle_characters(wav2vec2, sample_dir):
    samples = sample_audio(sample_dir, "LJ001-0002")
    hyp = wav2vec2.transcribe(samples)
    allowed = set(wav2vec2.labels[2:]) | {" "}
    assert set(hyp.text) <= allowed
    assert " ".join(w.word for w in hyp.words) == hyp.text
    duration_s = len(samples) / SAMPLE_RATE
    for word in hyp.words:
        assert 0 <= word.start_s < word.end_s <= duration_s + FRAME_S
        assert 0 <= word.confidence <= 1
    starts = [w.start_s for w in hyp.words]
    assert starts == sorted(starts)


def test_checkpoint_file_gives_the_same_emissions_as_the_hub(
    wav2vec2, placeholder_checkpoint, sample_dir
):
    from_file = get_recognizer("wav2vec2", checkpoint=str(placeholder_checkpoint), device="cpu")
    samples = sample_audio(sample_dir, "LJ001-0002")
    assert from_file.checkpoint == str(placeholder_checkpoint.resolve())
    assert from_file.checkpoint_sha256 == wav2vec2.checkpoint_sha256
    assert torch.equal(from_file.emissions(samples), wav2vec2.emissions(samples))


def test_checkpoint_without_aux_rows_loads_too(placeholder_checkpoint, tmp_path):
    """A state dict already trimmed to the 29 labels (as the bundle leaves it) is accepted."""
    model, bundle = load_bundle_model(checkpoint=placeholder_checkpoint)
    trimmed = tmp_path / "trimmed.pt"
    torch.save(model.state_dict(), trimmed)
    again, _ = load_bundle_model(checkpoint=trimmed)
    assert again.aux.out_features == len(bundle.get_labels())


def test_checkpoint_of_another_architecture_names_the_file(placeholder_torch_home, tmp_path):
    small = torchaudio.models.wav2vec2_model(
        extractor_mode="group_norm", extractor_conv_layer_config=None, extractor_conv_bias=False,
        encoder_embed_dim=64, encoder_projection_dropout=0.0, encoder_pos_conv_kernel=16,
        encoder_pos_conv_groups=4, encoder_num_layers=2, encoder_num_heads=2,
        encoder_attention_dropout=0.0, encoder_ff_interm_features=128,
        encoder_ff_interm_dropout=0.0, encoder_dropout=0.0, encoder_layer_norm_first=False,
        encoder_layer_drop=0.0, aux_num_out=32,
    )
    path = tmp_path / "small.pth"
    torch.save(small.state_dict(), path)
    with pytest.raises(AsrlensError, match=f"checkpoint {re.escape(str(path))} does not fit"):
        get_recognizer("wav2vec2", checkpoint=str(path), device="cpu")


def test_checkpoint_that_is_not_a_state_dict_names_the_file(tmp_path):
    path = tmp_path / "notes.pth"
    path.write_text("not a checkpoint")
    with pytest.raises(AsrlensError, match=f"checkpoint {re.escape(str(path))} is not"):
        load_bundle_model(checkpoint=path)


def test_missing_checkpoint_file_is_a_clear_error(tmp_path):
    with pytest.raises(AsrlensError, match="does not exist"):
        load_bundle_model(checkpoint=tmp_path / "nowhere.pth")


def test_missing_weights_offline_names_the_hub_path(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty_home"))

    def no_network(url, dst, *args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    expected = hub_checkpoint_path(get_bundle(DEFAULT_MODEL))
    assert str(expected).startswith(str(tmp_path / "empty_home"))
    with pytest.raises(AsrlensError) as info:
        get_recognizer("wav2vec2", device="cpu")
    message = str(info.value)
    assert str(expected) in message and "--checkpoint FILE" in message
    assert "name resolution" in message
    assert not expected.exists()
    assert list(expected.parent.iterdir()) == []  # no partial download left behind


# --- wav2vec2: device and precision ------------------------------------------------------------


def test_bf16_on_cpu_runs(placeholder_torch_home, sample_dir):
    engine = get_recognizer("wav2vec2", device="cpu", precision="bf16")
    assert engine.precision == "bf16"
    emission = engine.emissions(sample_audio(sample_dir, "LJ001-0002"))
    assert emission.dtype == torch.float32 and emission.shape[1] == BASE_LABELS
    assert torch.isfinite(emission).all()


def test_fp16_on_cpu_is_refused(placeholder_torch_home):
    with pytest.raises(AsrlensError, match="fp16 needs a CUDA GPU"):
        get_recognizer("wav2vec2", device="cpu", precision="fp16")


def test_unknown_precision_lists_the_choices(placeholder_torch_home):
    with pytest.raises(AsrlensError, match="fp32, bf16, fp16"):
        get_recognizer("wav2vec2", device="cpu", precision="int8")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_a_clear_error(placeholder_torch_home):
    with pytest.raises(AsrlensError, match="no CUDA GPU"):
        get_recognizer("wav2vec2", device="cuda")


def test_auto_device_takes_the_gpu_when_there_is_one():
    expected = "cuda:0" if torch.cuda.is_available() else "cpu"
    assert str(resolve_device("auto")) == expected


# --- wav2vec2: chunking ----------------------------------------------------------------------


def test_chunk_starts_cover_the_file_with_the_overlap():
    assert chunk_starts(100, chunk=100, overlap=20) == [0]
    assert chunk_starts(101, chunk=100, overlap=20) == [0, 80]
    starts = chunk_starts(1000, chunk=100, overlap=20)
    assert starts[-1] + 100 >= 1000 > starts[-2] + 100
    assert all(b - a == 80 for a, b in zip(starts, starts[1:], strict=False))


CHUNK_S, OVERLAP_S = 4.0, 1.0  # small chunks, so short real files exercise the stitching


@pytest.fixture(scope="module")
def chunked(placeholder_torch_home):
    """The BASE engine with 4 s chunks overlapping by 1 s (default: 30 s and 2 s)."""
    return get_recognizer("wav2vec2", device="cpu", chunk_s=CHUNK_S, overlap_s=OVERLAP_S)


def test_a_file_just_over_the_bound_is_chunked_and_stitched(wav2vec2, chunked, sample_dir):
    """Two chunks over a 5 s file: same frames, and chunk middles match the whole-file run.

    With placeholder weights the match is structural: the first convolution normalises over
    the chunk's time axis and attention sees only the chunk, so values differ a little, but far
    less than the emissions of different frames do.
    """
    samples = sample_audio(sample_dir, "LJ001-0001")[: 5 * SAMPLE_RATE + 1234]
    whole = wav2vec2.emissions(samples)
    stitched = chunked.emissions(samples)
    assert chunked.options()["chunk_s"] == CHUNK_S
    assert abs(stitched.shape[0] - whole.shape[0]) <= 1
    chunk, overlap = int(CHUNK_S * SAMPLE_RATE), int(OVERLAP_S * SAMPLE_RATE)
    starts = chunk_starts(len(samples), chunk=chunk, overlap=overlap)
    assert len(starts) == 2
    for start in starts:
        end = min(start + chunk, len(samples))
        quarter = (end - start) // 4
        middle = slice((start + quarter) // 320, (end - quarter) // 320)
        a, b = stitched[middle], whole[middle]
        correlation = np.corrcoef(a.flatten().numpy(), b.flatten().numpy())[0, 1]
        between_frames = (b - b.roll(7, dims=0)).abs().mean()
        assert correlation > 0.95
        assert (a - b).abs().mean() < 0.25 * between_frames


def test_a_long_file_keeps_every_frame_across_many_chunks(wav2vec2, chunked, sample_dir):
    samples = np.concatenate([sample_audio(sample_dir, "LJ001-0002")] * 4)  # 7.6 s
    chunk, overlap = int(CHUNK_S * SAMPLE_RATE), int(OVERLAP_S * SAMPLE_RATE)
    assert len(chunk_starts(len(samples), chunk=chunk, overlap=overlap)) == 3
    assert abs(chunked.emissions(samples).shape[0] - wav2vec2.emissions(samples).shape[0]) <= 1
    hyp = chunked.transcribe(samples)
    assert all(w.end_s <= len(samples) / SAMPLE_RATE + FRAME_S for w in hyp.words)


def test_a_file_shorter_than_one_frame_gives_an_empty_transcript(wav2vec2):
    assert wav2vec2.transcribe(np.zeros(200, dtype=np.float32)).text == ""


def test_bad_chunk_options_are_refused(placeholder_torch_home):
    with pytest.raises(AsrlensError, match="overlap"):
        get_recognizer("wav2vec2", device="cpu", chunk_s=4.0, overlap_s=3.0)


# --- pocketsphinx ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sphinx():
    return get_recognizer("pocketsphinx")


@pytest.mark.slow
def test_pocketsphinx_hears_a_real_file(sphinx, sample_dir):
    samples = sample_audio(sample_dir, "LJ001-0001")
    duration_s = len(samples) / SAMPLE_RATE
    hyp = sphinx.transcribe(samples)
    assert hyp.words and hyp.text == " ".join(w.word for w in hyp.words)
    for previous, word in zip(hyp.words, hyp.words[1:], strict=False):
        assert previous.end_s <= word.start_s + 1e-9
    for word in hyp.words:
        assert 0 <= word.start_s < word.end_s <= duration_s + 0.01
        assert 0 <= word.confidence <= 1
        assert re.fullmatch(r"[a-z']+", word.word), word.word  # no <s>, <sil>, [NOISE], (2)
    assert jiwer.wer(reference(sample_dir, "LJ001-0001"), hyp.text) < 0.5


@pytest.mark.slow
def test_pocketsphinx_keeps_no_state_between_files(sphinx, sample_dir):
    short, long = sample_audio(sample_dir, "LJ001-0002"), sample_audio(sample_dir, "LJ001-0001")
    first = sphinx.transcribe(short)
    sphinx.transcribe(long)
    assert sphinx.transcribe(short) == first


def test_pocketsphinx_silence_gives_an_empty_transcript(sphinx):
    hyp = sphinx.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32))
    assert hyp.words == [] or all(w.word for w in hyp.words)


def test_pocketsphinx_records_what_it_ran(sphinx):
    assert (sphinx.name, sphinx.model, sphinx.device, sphinx.precision) == (
        "pocketsphinx", "en-us", "cpu", "fp32"
    )
    assert sphinx.checkpoint is None  # the model ships inside the wheel
    assert sphinx.options()["model_path"].endswith("en-us")


@pytest.mark.parametrize(
    ("option", "match"),
    [
        ({"model": "WAV2VEC2_ASR_BASE_960H"}, "one model"),
        ({"checkpoint": "weights.pth"}, "does not take --checkpoint"),
        ({"device": "cuda"}, "CPU only"),
        ({"precision": "bf16"}, "no bf16 mode"),
    ],
)
def test_pocketsphinx_refuses_options_it_cannot_honour(option, match):
    with pytest.raises(AsrlensError, match=match):
        get_recognizer("pocketsphinx", **option)


# --- pocketsphinx on long files: blocks cut at pauses -----------------------------------------


def test_pocketsphinx_blocks_cover_a_long_file_and_end_in_its_quietest_10_ms():
    from asrlens.infer.recognizers.pocketsphinx import CUT_FRAME, CUT_SEARCH_S, block_bounds

    rng = np.random.default_rng(0)
    samples = rng.uniform(-0.5, 0.5, 75 * SAMPLE_RATE).astype(np.float32)
    quiet = 27 * SAMPLE_RATE + 3 * CUT_FRAME  # a 10 ms pause 3 s before the first limit
    samples[quiet:quiet + CUT_FRAME] *= 0.01
    chunk = 30 * SAMPLE_RATE
    bounds = block_bounds(samples, chunk=chunk)
    assert bounds[0] == (0, quiet)
    assert [b[0] for b in bounds[1:]] == [b[1] for b in bounds[:-1]]  # no gap, no overlap
    assert bounds[-1][1] == len(samples)
    for start, end in bounds[:-1]:
        assert chunk - CUT_SEARCH_S * SAMPLE_RATE <= end - start <= chunk
    assert block_bounds(samples[:chunk], chunk=chunk) == [(0, chunk)]  # up to chunk_s: whole


@pytest.mark.slow
def test_pocketsphinx_decodes_a_file_longer_than_chunk_s_block_by_block(sample_dir):
    from asrlens.infer.recognizers.pocketsphinx import CUT_FRAME

    first = sample_audio(sample_dir, "LJ001-0001")  # 9.66 s
    first = first[: len(first) // CUT_FRAME * CUT_FRAME]  # cuts fall on 10 ms boundaries
    second = sample_audio(sample_dir, "LJ001-0002")  # 1.90 s
    pause = np.zeros(SAMPLE_RATE // 2, dtype=np.float32)  # the quietest place: cut here
    joined = np.concatenate([first, pause, second])
    blocks = get_recognizer("pocketsphinx", chunk_s=10.0)
    hyp = blocks.transcribe(joined)
    alone = get_recognizer("pocketsphinx").transcribe(first)
    first_s = len(first) / SAMPLE_RATE
    head = [w for w in hyp.words if w.start_s < first_s]
    tail = [w for w in hyp.words if w.start_s >= first_s]
    assert head == alone.words  # the first block is exactly the first clip
    assert tail and all(first_s <= w.start_s < w.end_s <= len(joined) / SAMPLE_RATE + 0.01
                        for w in tail)
    rest = get_recognizer("pocketsphinx").transcribe(joined[len(first):])  # the second block
    assert [w.word for w in tail] == [w.word for w in rest.words]
    assert [w.confidence for w in tail] == [w.confidence for w in rest.words]
    assert [w.start_s - first_s for w in tail] == pytest.approx([w.start_s for w in rest.words])
    assert [w.end_s - first_s for w in tail] == pytest.approx([w.end_s for w in rest.words])
    assert "comparatively" in rest.text
    assert hyp.text == " ".join(w.word for w in hyp.words)
    assert blocks.options()["chunk_s"] == 10.0


def test_pocketsphinx_refuses_blocks_shorter_than_its_cut_search():
    with pytest.raises(AsrlensError, match="--chunk-s must be at least 10 s"):
        get_recognizer("pocketsphinx", chunk_s=4.0)
