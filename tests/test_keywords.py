"""Keyword recall and precision (asrlens.analysis.keywords) on crafted texts, multi-word
terms included, and `compare` naming the terms run B lost."""

from __future__ import annotations

import pytest

from asrlens.analysis.keywords import occurrences, read_terms, split_label_terms, term_summary
from asrlens.analysis.tags import Op
from asrlens.errors import AsrlensError
from asrlens.scoring.normalize import get_normalizer
from asrlens.scoring.score import score_texts

NORM = get_normalizer("ljspeech")


def ops_of(ref: str, hyp: str) -> list[Op]:
    return [Op(o.op, o.ref_word, o.hyp_word, o.ref_pos, o.hyp_pos)
            for o in score_texts(NORM(ref), NORM(hyp)).ops]


def summary(terms: list[str], pairs: list[tuple[str, str]]) -> dict:
    normalized = {t: NORM(t).split() for t in terms}
    rows = []
    for k, (ref, hyp) in enumerate(pairs):
        rows += occurrences(normalized, ops_of(ref, hyp), keys={"utt_id": f"u{k}"})
    return term_summary(rows)


def test_single_word_term_recall_and_precision():
    s = summary(["Gutenberg"], [
        ("Gutenberg printed the bible", "Gutenberg printed the bible"),      # found
        ("the press of Gutenberg", "the press of good and burg"),           # missed
        ("a new art", "a Gutenberg art"),                                    # false alarm
    ])
    g = s["Gutenberg"]
    assert (g["ref"], g["found"], g["hyp"], g["matched"]) == (2, 1, 2, 1)
    assert g["recall"] == 0.5 and g["precision"] == 0.5


def test_multi_word_term_needs_all_its_words_in_a_row():
    s = summary(["Johann Gutenberg"], [
        ("Johann Gutenberg of Mainz", "Johann Gutenberg of Mainz"),   # found
        ("Johann Gutenberg of Mainz", "Johann Guttenberg of Mainz"),  # one word wrong
        ("Johann Gutenberg of Mainz", "Johann and Gutenberg of Mainz"),  # words not in a row
    ])
    t = s["Johann Gutenberg"]
    assert (t["ref"], t["found"]) == (3, 1)
    assert (t["hyp"], t["matched"]) == (1, 1)
    assert t["recall"] == pytest.approx(1 / 3) and t["precision"] == 1.0


def test_terms_are_normalized_like_the_texts():
    s = summary(["well-known", "Mr. Smith"], [("a well known fact", "a well known fact"),
                                             ("Mr. Smith came", "mr smith came")])
    assert s["well-known"]["found"] == 1 and s["Mr. Smith"]["found"] == 1


def test_a_term_twice_in_a_file_counts_twice():
    s = summary(["press"], [("press the press", "press the dress")])
    assert (s["press"]["ref"], s["press"]["found"]) == (2, 1)


def test_read_terms(tmp_path):
    path = tmp_path / "terms.txt"
    path.write_text("# drug names\nGutenberg\n\n  Johann   Gutenberg \nGutenberg\n", "utf-8")
    assert read_terms(path) == ["Gutenberg", "Johann Gutenberg"]
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n", "utf-8")
    with pytest.raises(AsrlensError, match="holds no term"):
        read_terms(empty)
    with pytest.raises(AsrlensError, match="cannot read keywords file"):
        read_terms(tmp_path / "missing.txt")


def test_split_label_terms():
    assert split_label_terms(" Gutenberg ; Johann  Gutenberg;;") == ["Gutenberg",
                                                                     "Johann Gutenberg"]
    assert split_label_terms(None) == []
