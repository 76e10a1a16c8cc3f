"""`--engine transformers` with CTC checkpoints: loading a user's folder, exact batches, words.

Tiny random models (tests/tiny_hf.py) are written with save_pretrained into a temporary
folder and loaded through the engine exactly as a user's folder is. For each architecture a
batch mixing a 1 s and a 30 s file with real clips in between must give each file the
log-probabilities (within 1e-4) and the greedy transcript it gets alone. Random weights:
shapes, batching and timings are checked, never accuracy.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny_hf import CTC_VOCAB, save_ctc

from asrlens.audio import load_audio
from asrlens.errors import AsrlensError
from asrlens.infer.recognizers import get_recognizer

pytest.importorskip("transformers", reason="the transformers extra is not installed")

RATE = 16000
TOLERANCE = 1e-4
FRAME_S = 0.02
ARCHITECTURES = [  # (architecture, feat_extract_norm, batching recorded)
    ("wav2vec2", "group", "attention_mask+valid_length_group_norm"),
    ("wav2vec2", "layer", "attention_mask"),
    ("hubert", "group", "attention_mask+valid_length_group_norm"),
    ("wavlm", "layer", "attention_mask"),
]


@pytest.fixture(scope="module")
def mixed_batch(sample_dir) -> list[np.ndarray]:
    """A 1 s and a 30 s file (noise) around two real clips."""
    rng = np.random.default_rng(0)
    clips = [load_audio(sample_dir / "wavs" / f"{utt}.wav", sample_rate=RATE)[0]
             for utt in ("LJ001-0002", "LJ001-0015")]
    return [(0.1 * rng.standard_normal(RATE)).astype(np.float32), clips[0],
            (0.1 * rng.standard_normal(30 * RATE)).astype(np.float32), clips[1]]


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("hf-ctc")
    return {(arch, norm): save_ctc(root / f"{arch}-{norm}", arch, norm=norm)
            for arch, norm, _ in ARCHITECTURES}


def engine(folder, **options):
    return get_recognizer("transformers", model=str(folder), device="cpu", **options)


@pytest.mark.parametrize(("arch", "norm", "batching"), ARCHITECTURES)
def test_a_batch_gives_each_file_its_log_probs_and_transcript_alone(folders, mixed_batch,
                                                                    arch, norm, batching):
    recognizer = engine(folders[arch, norm])
    backend = recognizer.backend
    assert recognizer.options()["batching"] == batching
    alone = [backend.emissions(samples) for samples in mixed_batch]
    prepared = backend.prepare_batch(mixed_batch)
    assert prepared["rows"] == [0, 1, 2, 3] and not prepared["alone"]
    log_probs = backend.log_probs_batch(prepared["waves"], prepared["lengths"]).cpu()
    for row, i in enumerate(prepared["rows"]):
        frames = alone[i].shape[0]
        assert frames == backend.num_frames(len(mixed_batch[i])) > 0
        diff = (log_probs[row, :frames] - alone[i]).abs().max().item()
        assert diff <= TOLERANCE, f"{arch}/{norm} file {i}: {diff}"
    batched = recognizer.transcribe_batch(mixed_batch)
    one_by_one = [recognizer.transcribe(samples) for samples in mixed_batch]
    assert [h.text for h in batched] == [h.text for h in one_by_one]
    assert all(h.words for h in batched)  # the scaled head makes every file say something


def test_without_the_valid_length_group_norm_a_batch_is_not_exact(folders, mixed_batch):
    """The check above can fail: the plain GroupNorm over a padded batch moves the short file."""
    backend = engine(folders["wav2vec2", "group"]).backend
    prepared = backend.prepare_batch(mixed_batch)
    layers, backend.group_norm_layers = backend.group_norm_layers, []  # patched layers idle
    try:
        padded = backend.log_probs_batch(prepared["waves"], prepared["lengths"]).cpu()
    finally:
        backend.group_norm_layers = layers
    alone = backend.emissions(mixed_batch[0])
    assert (padded[0, : alone.shape[0]] - alone).abs().max().item() > 10 * TOLERANCE


def test_data2vec_audio_runs_one_file_at_a_time(tmp_path, mixed_batch):
    recognizer = engine(save_ctc(tmp_path / "d2v", "data2vec-audio", norm="layer"))
    assert recognizer.options()["batching"] == "one_file_at_a_time"
    assert recognizer.backend.prepare_batch(mixed_batch[:2])["rows"] == []
    batched = recognizer.transcribe_batch(mixed_batch[:2])
    assert [h.text for h in batched] == [recognizer.transcribe(s).text for s in mixed_batch[:2]]


def test_words_have_frame_times_and_posterior_confidences(folders, mixed_batch):
    recognizer = engine(folders["wav2vec2", "group"])
    samples = mixed_batch[1]
    hyp = recognizer.transcribe(samples)
    assert hyp.words and " ".join(w.word for w in hyp.words) == hyp.text
    assert set(hyp.text) <= set("".join(CTC_VOCAB[2:-1])) | {" "}
    duration = len(samples) / RATE
    for word in hyp.words:
        assert 0 <= word.start_s < word.end_s <= duration + FRAME_S
        assert round(word.start_s / FRAME_S, 6) == round(word.start_s / FRAME_S)
        assert 0 < word.confidence <= 1
    assert [w.start_s for w in hyp.words] == sorted(w.start_s for w in hyp.words)


def test_a_long_file_is_chunked_and_stitched(folders, mixed_batch):
    """A 30 s file in 10 s chunks (2 s overlap) keeps one frame per 20 ms."""
    recognizer = engine(folders["wav2vec2", "layer"], chunk_s=10.0, overlap_s=2.0)
    samples = mixed_batch[2]
    chunked = recognizer.backend.emissions(samples)
    assert chunked.shape[0] == recognizer.backend.num_frames(len(samples))
    assert recognizer.options()["chunk_s"] == 10.0
    assert torch.allclose(chunked.exp().sum(dim=1), torch.ones(chunked.shape[0]), atol=1e-4)


def test_options_record_the_folder_weights_and_precision(folders):
    folder = folders["wav2vec2", "group"]
    recognizer = engine(folder, precision="bf16")
    options = recognizer.options()
    assert recognizer.name == "transformers" and recognizer.model == str(folder)
    assert recognizer.checkpoint == str(folder.resolve())
    assert options["architecture"] == "Wav2Vec2ForCTC" and options["kind"] == "ctc"
    assert options["weights_dtype"] == "bfloat16" and options["revision"] is None
    assert list(options["weights_sha256"]) == ["model.safetensors"]
    assert recognizer.checkpoint_sha256 == options["weights_sha256"]["model.safetensors"]
    assert all(p.dtype == torch.bfloat16 for p in recognizer.backend.net.parameters())
    assert options["decoder"] == "greedy_ctc" and options["do_normalize"] is True


# --- errors ----------------------------------------------------------------------------------


def test_no_model_is_a_clear_error():
    with pytest.raises(AsrlensError, match="needs --model"):
        get_recognizer("transformers", device="cpu")


def test_a_hub_id_offline_says_how_to_point_at_a_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(AsrlensError, match="--model FOLDER") as info:
        engine("facebook/wav2vec2-base-960h")
    assert "\n" not in str(info.value)


def test_an_architecture_neither_ctc_nor_seq2seq_is_named(tmp_path):
    import transformers

    config = transformers.BertConfig(hidden_size=32, num_hidden_layers=1,
                                     num_attention_heads=2, intermediate_size=32)
    transformers.BertModel(config).save_pretrained(tmp_path / "bert")
    with pytest.raises(AsrlensError, match="is a BertModel: neither a CTC"):
        engine(tmp_path / "bert")


def test_a_checkpoint_without_its_ctc_head_is_refused(tmp_path):
    """Weights saved without lm_head (a pre-training checkpoint) would load a random head."""
    from safetensors.torch import load_file, save_file

    folder = save_ctc(tmp_path / "w2v", "wav2vec2")
    weights = load_file(folder / "model.safetensors")
    save_file({k: v for k, v in weights.items() if not k.startswith("lm_head.")},
              folder / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(AsrlensError, match="do not cover the Wav2Vec2ForCTC.*lm_head"):
        engine(folder)


def test_a_folder_that_is_not_a_model_is_a_clear_error(tmp_path):
    with pytest.raises(AsrlensError, match="is not a saved model"):
        engine(tmp_path)


def test_checkpoint_option_is_refused(folders, tmp_path):
    with pytest.raises(AsrlensError, match="not --checkpoint"):
        engine(folders["wav2vec2", "group"], checkpoint=str(tmp_path / "x.pt"))
