"""Per-file scoring: counts and alignment from jiwer, empty texts handled as documented."""

from __future__ import annotations

import jiwer
import pytest

from asrlens.scoring.score import score_texts


def test_counts_and_rates_equal_jiwers():
    ref, hyp = "THE CAT SAT ON THE MAT", "THE CAT SAT ON MAT TODAY NOW"
    s = score_texts(ref, hyp)
    words = jiwer.process_words(ref, hyp)
    chars = jiwer.process_characters(ref, hyp)
    assert (s.hits, s.substitutions, s.deletions, s.insertions) == (
        words.hits, words.substitutions, words.deletions, words.insertions
    )
    assert (s.wer, s.mer, s.wil, s.wip) == pytest.approx(
        (words.wer, words.mer, words.wil, words.wip)
    )
    assert (s.char_hits, s.char_substitutions, s.char_deletions, s.char_insertions) == (
        chars.hits, chars.substitutions, chars.deletions, chars.insertions
    )
    assert s.cer == pytest.approx(chars.cer)
    assert (s.ref_words, s.hyp_words) == (6, 7)


def test_character_counts_include_spaces():
    s = score_texts("AB CD", "AB CD")
    assert (s.ref_chars, s.hyp_chars, s.char_hits, s.cer) == (5, 5, 5, 0.0)


def test_wer_is_errors_over_reference_words():
    s = score_texts("A B C D", "A X C")
    assert (s.substitutions, s.deletions, s.insertions) == (1, 1, 0)
    assert s.errors == 2
    assert s.wer == pytest.approx(2 / 4)
    assert s.mer == pytest.approx(2 / 4)
    assert s.wip == pytest.approx((2 / 4) * (2 / 3))
    assert s.wil == pytest.approx(1 - (2 / 4) * (2 / 3))


def test_alignment_has_one_op_per_word_with_positions():
    s = score_texts("A B C D", "A X C E F")
    ops = [(o.op, o.ref_word, o.hyp_word, o.ref_pos, o.hyp_pos) for o in s.ops]
    assert ops[0] == ("equal", "A", "A", 0, 0)
    assert ops[1] == ("substitute", "B", "X", 1, 1)
    assert ops[2] == ("equal", "C", "C", 2, 2)
    kinds = [o.op for o in s.ops]
    assert kinds.count("equal") == s.hits
    assert kinds.count("substitute") == s.substitutions
    assert kinds.count("delete") == s.deletions
    assert kinds.count("insert") == s.insertions
    # every reference word and every hypothesis word appears exactly once, in order
    assert [o.ref_pos for o in s.ops if o.ref_pos is not None] == [0, 1, 2, 3]
    assert [o.hyp_pos for o in s.ops if o.hyp_pos is not None] == [0, 1, 2, 3, 4]


def test_deletions_and_insertions_leave_the_other_side_empty():
    s = score_texts("A B C", "A")
    assert [(o.op, o.hyp_word, o.hyp_pos) for o in s.ops if o.op == "delete"] == [
        ("delete", None, None), ("delete", None, None)
    ]
    s = score_texts("A", "A B")
    assert [(o.op, o.ref_word, o.ref_pos, o.hyp_pos) for o in s.ops] == [
        ("equal", "A", 0, 0), ("insert", None, None, 1)
    ]


def test_empty_hypothesis_is_all_deletions():
    s = score_texts("A B C", "")
    assert (s.ref_words, s.hyp_words, s.deletions, s.hits) == (3, 0, 3, 0)
    assert (s.wer, s.mer, s.wip, s.wil, s.cer) == (1.0, 1.0, 0.0, 1.0, 1.0)
    assert [o.op for o in s.ops] == ["delete"] * 3


def test_empty_reference_counts_insertions_and_leaves_wer_and_cer_null():
    s = score_texts("", "A B")
    assert (s.ref_words, s.hyp_words, s.insertions, s.ref_chars, s.char_insertions) == (
        0, 2, 2, 0, 3
    )
    assert s.wer is None and s.cer is None
    assert (s.mer, s.wip, s.wil) == (1.0, 0.0, 1.0)
    assert [o.op for o in s.ops] == ["insert", "insert"]


def test_both_empty_is_no_error():
    s = score_texts("", "")
    assert (s.ref_words, s.hyp_words, s.errors, s.ops) == (0, 0, 0, [])
    assert s.wer is None and s.cer is None
    assert (s.mer, s.wip, s.wil) == (0.0, 1.0, 0.0)


def test_counts_dict_has_the_utterance_errors_columns():
    counts = score_texts("A B", "A C").counts()
    assert counts["substitutions"] == 1
    assert "ops" not in counts
    assert set(counts) >= {"ref_words", "wer", "cer", "char_insertions"}
