"""Greedy CTC decoding on hand-made emissions: the argmax path read as words, times, confidences."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from asrlens.infer.ctc import greedy_decode

LABELS = ("-", "|", "A", "B", "C")
FRAME_S = 0.02
CONFIDENT = 0.9  # posterior given to the chosen class in every frame of a hand-made path


def emission_for(path: str, *, confident: float = CONFIDENT) -> np.ndarray:
    """Log-probabilities whose argmax spells `path`, one label character per frame."""
    rest = (1.0 - confident) / (len(LABELS) - 1)
    probs = np.full((len(path), len(LABELS)), rest)
    for frame, char in enumerate(path):
        probs[frame, LABELS.index(char)] = confident
    return np.log(probs)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("AAABBB", "AB"),  # repeats collapse
        ("A-A", "AA"),  # a blank between repeats keeps both
        ("AA--AAB", "AAB"),
        ("-A-B-", "AB"),  # blanks drop out
        ("AB|C", "AB C"),  # | breaks words
        ("|AB|C|", "AB C"),  # leading and trailing separators make no empty words
        ("AB||--|C", "AB C"),  # double separators, with blanks between, make one break
        ("A|A", "A A"),  # a repeat across a separator is two letters
        ("", ""),
        ("-----", ""),  # all blank -> empty text
        ("|-|", ""),
    ],
)
def test_greedy_decode_text(path, text):
    hyp = greedy_decode(emission_for(path), LABELS, frame_s=FRAME_S)
    assert hyp.text == text
    assert [w.word for w in hyp.words] == text.split()


def test_word_times_span_first_to_last_character_frame():
    #            0123456789
    hyp = greedy_decode(emission_for("--AB-|-CC-"), LABELS, frame_s=FRAME_S)
    ab, cc = hyp.words
    assert (ab.word, cc.word) == ("AB", "C")
    assert math.isclose(ab.start_s, 2 * FRAME_S) and math.isclose(ab.end_s, 4 * FRAME_S)
    assert math.isclose(cc.start_s, 7 * FRAME_S) and math.isclose(cc.end_s, 9 * FRAME_S)


def test_time_offset_shifts_every_word():
    hyp = greedy_decode(emission_for("-A"), LABELS, frame_s=FRAME_S, time_offset_s=10.0)
    assert math.isclose(hyp.words[0].start_s, 10.0 + FRAME_S)


def test_confidence_is_mean_path_posterior_over_the_word_frames():
    emission = emission_for("-AB|C")
    probs = np.full(len(LABELS), 0.1 / 4)
    probs[LABELS.index("B")] = 0.5
    probs[LABELS.index("A")] = 0.5 - 1e-6  # B still wins, with posterior 0.5
    probs /= probs.sum()
    emission[2] = np.log(probs)
    ab, c = greedy_decode(emission, LABELS).words
    assert ab.word == "AB"
    assert math.isclose(ab.confidence, (CONFIDENT + probs[LABELS.index("B")]) / 2, rel_tol=1e-9)
    assert math.isclose(c.confidence, CONFIDENT, rel_tol=1e-9)


def test_logits_and_log_probabilities_give_the_same_confidences():
    log_probs = emission_for("AB|-C")
    logits = log_probs + 7.5  # a constant shift per frame: same softmax
    a = greedy_decode(log_probs, LABELS).words
    b = greedy_decode(logits, LABELS).words
    assert [w.confidence for w in a] == pytest.approx([w.confidence for w in b])


def test_accepts_a_torch_tensor_with_a_batch_axis():
    emission = torch.from_numpy(emission_for("AB|C")).float().unsqueeze(0)
    assert greedy_decode(emission, LABELS).text == "AB C"


def test_blank_index_and_separator_are_configurable():
    labels = ("A", "B", " ", "_")  # blank last, space as separator
    probs = np.eye(4)[[0, 3, 0, 2, 1]] * 0.9 + 0.025
    hyp = greedy_decode(np.log(probs), labels, blank=3, word_sep=" ")
    assert hyp.text == "AA B"


def test_label_count_must_match_the_emission():
    with pytest.raises(ValueError, match="5 classes but 3 labels"):
        greedy_decode(emission_for("AB"), LABELS[:3])


def reference_decode(path: list[int], labels, *, blank: int = 0, sep: str = "|") -> list[tuple]:
    """The greedy rule written as a plain loop over frames: (word, first, last) per word."""
    words, chars, first, last, previous = [], [], -1, -1, -1
    for frame, token in enumerate(path):
        if token != blank and labels[token] == sep:
            if chars:
                words.append(("".join(chars), first, last))
            chars = []
        elif token != blank:
            if token != previous:
                if not chars:
                    first = frame
                chars.append(labels[token])
            last = frame
        previous = token
    if chars:
        words.append(("".join(chars), first, last))
    return words


def test_vectorised_path_decoding_matches_the_frame_by_frame_rule():
    from asrlens.infer.ctc import decode_path

    rng = np.random.default_rng(0)
    for _ in range(200):
        path = rng.integers(0, len(LABELS), size=int(rng.integers(0, 40)))
        prob = rng.uniform(0.1, 1.0, size=len(path))
        hyp = decode_path(path, prob, LABELS, frame_s=FRAME_S)
        expected = reference_decode(path.tolist(), LABELS)
        assert [(w.word, w.start_s, w.end_s) for w in hyp.words] == [
            (word, first * FRAME_S, (last + 1) * FRAME_S) for word, first, last in expected]
        assert [w.confidence for w in hyp.words] == pytest.approx(
            [float(prob[first : last + 1].mean()) for _w, first, last in expected])
        assert hyp.text == " ".join(word for word, _f, _l in expected)
