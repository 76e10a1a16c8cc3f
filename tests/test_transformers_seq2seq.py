"""`--engine transformers` with a Whisper checkpoint: generate, batches, long form, word times.

A tiny random Whisper (tests/tiny_hf.py: 2 layers, a byte-level tokenizer built offline,
at most 56 new tokens a window) is saved with save_pretrained and loaded through the engine.
Random weights: structure, determinism and the consistency of word times are asserted, never
accuracy.
"""

from __future__ import annotations

import numpy as np
import pytest
from tiny_hf import WORD_TOKENS, save_whisper

from asrlens.infer.recognizers import get_recognizer

pytest.importorskip("transformers", reason="the transformers extra is not installed")

RATE = 16000
WORDS = {token.removeprefix("Ġ") for token in WORD_TOKENS}


@pytest.fixture(scope="module")
def whisper_folder(tmp_path_factory):
    return save_whisper(tmp_path_factory.mktemp("hf-whisper") / "whisper")


@pytest.fixture(scope="module")
def whisper(whisper_folder):
    return get_recognizer("transformers", model=str(whisper_folder), device="cpu")


@pytest.fixture(scope="module")
def no_heads(tmp_path_factory):
    """The same model without alignment heads: no word times, batched."""
    folder = save_whisper(tmp_path_factory.mktemp("hf-whisper") / "no-heads",
                          alignment_heads=False)
    return get_recognizer("transformers", model=str(folder), device="cpu")


@pytest.fixture(scope="module")
def clips() -> list[np.ndarray]:
    """Noise of 1 s and 3 s."""
    rng = np.random.default_rng(1)
    return [(0.1 * rng.standard_normal(n * RATE)).astype(np.float32) for n in (1, 3)]


def assert_timed_words(hyp, duration_s: float) -> None:
    assert hyp.words and " ".join(w.word for w in hyp.words) == hyp.text
    for word in hyp.words:
        assert word.confidence is None  # none given by generate: none invented
        assert 0.0 <= word.start_s <= word.end_s <= duration_s + 0.02
    starts = [w.start_s for w in hyp.words]
    assert starts == sorted(starts)


def test_whisper_options_record_generation(whisper, whisper_folder):
    options = whisper.options()
    assert options["kind"] == "seq2seq"
    assert options["architecture"] == "WhisperForConditionalGeneration"
    assert options["num_beams"] == 1 and options["do_sample"] is False
    assert options["long_form"] == "whisper_generate"
    assert options["word_times"] == "whisper_cross_attention"
    assert options["chunk_s"] == 30.0
    assert whisper.checkpoint == str(whisper_folder.resolve())
    assert whisper.checkpoint_sha256 == options["weights_sha256"]["model.safetensors"]


def test_short_files_get_timed_words_one_at_a_time(whisper, clips):
    """Word times come from aligning a batch's tokens together: such a model is not batched."""
    assert whisper.options()["batching"] == "one_file_at_a_time"
    batched = whisper.transcribe_batch(clips)
    assert [h.words for h in batched] == [whisper.transcribe(s).words for s in clips]
    for hyp, samples in zip(batched, clips, strict=True):
        assert set(hyp.text.split()) <= WORDS
        assert_timed_words(hyp, len(samples) / RATE)


def test_without_word_times_short_files_batched_give_what_they_give_alone(no_heads, clips):
    assert no_heads.options()["batching"] == "whisper_30s_features"
    assert no_heads.options()["word_times"] == "none"
    batched = no_heads.transcribe_batch(clips)
    assert [h.words for h in batched] == [no_heads.transcribe(s).words for s in clips]
    assert all(h.words for h in batched)
    assert all(w.start_s is None and w.end_s is None for h in batched for w in h.words)


def test_new_tokens_are_bounded_by_the_audio_length(whisper, clips):
    backend = whisper.backend
    assert backend.max_new_tokens(RATE) == 20  # ceil(10 x 1 s) + 10
    assert backend.max_new_tokens(60 * RATE) == backend.max_new_cap == 56  # per window
    one_second = whisper.transcribe(clips[0])
    assert 0 < len(one_second.words) <= backend.max_new_tokens(RATE)


def test_the_same_file_gives_the_same_hypothesis(whisper, clips):
    assert whisper.transcribe(clips[1]) == whisper.transcribe(clips[1])


def test_a_long_file_goes_through_whispers_long_form(whisper):
    rng = np.random.default_rng(2)
    samples = (0.1 * rng.standard_normal(35 * RATE)).astype(np.float32)
    hyp = whisper.transcribe(samples)
    assert_timed_words(hyp, 35.0)
    assert hyp.words[-1].end_s > 30.0  # the second window's words carry its offset


def test_beams_are_recorded_and_give_words(whisper_folder, clips):
    beams = get_recognizer("transformers", model=str(whisper_folder), device="cpu",
                           beam_size=2)
    assert beams.options()["num_beams"] == 2
    hyp = beams.transcribe(clips[0])
    assert hyp.words and set(hyp.text.split()) <= WORDS


