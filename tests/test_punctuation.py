"""Punctuation error rate (NeMo's punct_er, same figures) and casing error rate
(asrlens.analysis.punctuation)."""

from __future__ import annotations

import random

import pytest
from nemo_punct_er import OccurancePunctuationErrorRate

from asrlens.analysis import punctuation as p

MARKS = [".", ",", "!", "?"]
NEMO_REFERENCE = "Hi, dear! Nice to see you. What's"
NEMO_HYPOTHESIS = "Hi dear! Nice to see you! What's?"


def test_nemo_documented_example_figures():
    """The example of NeMo's docstring and tests: operation amounts, substitutions, rates."""
    c = p.punctuation_counts(NEMO_REFERENCE, NEMO_HYPOTHESIS, MARKS)
    assert c.amounts == {
        ".": {"correct": 0, "deletions": 0, "insertions": 0, "substitutions": 1},
        ",": {"correct": 0, "deletions": 1, "insertions": 0, "substitutions": 0},
        "!": {"correct": 1, "deletions": 0, "insertions": 0, "substitutions": 0},
        "?": {"correct": 0, "deletions": 0, "insertions": 1, "substitutions": 0},
    }
    assert c.substitutions == {(".", "!"): 1}
    assert c.punct_er == 0.75
    assert (c.rate("correct"), c.rate("deletions"), c.rate("insertions"),
            c.rate("substitutions")) == (0.25, 0.25, 0.25, 0.25)
    assert p.dataset_counts([NEMO_REFERENCE], [NEMO_HYPOTHESIS], MARKS).punct_er == 0.75


def test_no_marks_on_either_side_is_rate_zero_as_in_nemo():
    c = p.punctuation_counts("hello there", "hello there")
    assert c.operations == 0 and c.punct_er == 0.0


def _random_text(rng: random.Random) -> str:
    words = "the a cat sat on mat what's it is I John".split()
    out = []
    for _ in range(rng.randint(0, 12)):
        out.append(rng.choice(words))
        if rng.random() < 0.35:
            out[-1] += rng.choice(MARKS + [";", ""])
    return " ".join(out)


def test_same_figures_as_nemo_on_random_pairs():
    """Seeded random punctuated texts: every count, substitution and rate equals NeMo's."""
    rng = random.Random(3)
    nemo = OccurancePunctuationErrorRate(MARKS)
    compared = 0
    for _ in range(400):
        ref, hyp = _random_text(rng), _random_text(rng)
        amounts, substitutions, rates = nemo.compute(ref, hyp)
        ours = p.punctuation_counts(ref, hyp, MARKS)
        assert {m: {k.lower(): v for k, v in ops.items()} for m, ops in amounts.items()} \
            == ours.amounts, (ref, hyp)
        assert {(r, h): n for r, row in substitutions.items() for h, n in row.items() if n} \
            == ours.substitutions
        assert rates.punct_er == pytest.approx(ours.punct_er, abs=1e-12)
        compared += ours.operations > 0
    assert compared > 300


def test_dataset_rate_sums_counts_over_files():
    refs = ["Yes. No.", "Why?"]
    hyps = ["Yes no.", "Why."]
    total = p.dataset_counts(refs, hyps)
    # file 1: '.' correct 1, deleted 1; file 2: '?' -> '.' substituted
    assert total.amounts["."]["correct"] == 1 and total.amounts["."]["deletions"] == 1
    assert total.substitutions == {("?", "."): 1}
    assert total.punct_er == pytest.approx(2 / 3)


def test_casing_errors_over_words_recognized():
    c = p.casing_counts("John met Mary in Paris.", "john met mary in paris")
    assert (c.words, c.errors) == (5, 3)
    assert c.examples[0] == ("John", "john")
    other = p.casing_counts("The cat sat.", "The dog sat")
    assert (other.words, other.errors) == (2, 0)


def test_writes_case():
    assert p.writes_case("Hello world")
    assert not p.writes_case("HELLO WORLD") and not p.writes_case("hello world")
