"""The error tag rules, on hand-made reference/hypothesis alignments: each rule has a case
that must fire and one that must not."""

from __future__ import annotations

import pytest

from asrlens.analysis.tags import (
    RULES,
    Context,
    Op,
    is_compound,
    is_edge,
    is_function_word,
    is_near_homophone,
    is_normalization,
    is_proper_noun,
    is_rare_word,
    levenshtein,
    sound_key,
    tag_op,
)


def align(*pairs: tuple[str | None, str | None]) -> list[Op]:
    """Ops from (ref, hyp) pairs: equal when the same, insert/delete when one side is None."""
    ops, ref_pos, hyp_pos = [], 0, 0
    for ref, hyp in pairs:
        if ref is None:
            kind = "insert"
        elif hyp is None:
            kind = "delete"
        else:
            kind = "equal" if ref == hyp else "substitute"
        ops.append(Op(kind, ref, hyp, ref_pos if ref else None, hyp_pos if hyp else None))
        ref_pos += ref is not None
        hyp_pos += hyp is not None
    return ops


def ctx_for(ops: list[Op], **sets) -> Context:
    n_ref = sum(o.ref_word is not None for o in ops)
    return Context(n_ref=n_ref, **{k: frozenset(v) for k, v in sets.items()})


# A sentence long enough that its middle is not at the edges.
def middle(*pairs):
    return align(("the", "the"), ("year", "year"), *pairs, ("was", "was"), ("printed", "printed"))


def test_normalization_fires_on_a_word_spelled_out_from_a_number():
    ops = middle(("FOURTEEN", "FORTY"), ("sixty", "sixty"))
    assert is_normalization(ops, 2, ctx_for(ops, normalized={"fourteen", "sixty", "two"}))


def test_normalization_does_not_fire_on_an_ordinary_word():
    ops = middle(("bible", "babel"))
    assert not is_normalization(ops, 2, ctx_for(ops, normalized={"fourteen", "sixty"}))


def test_proper_noun_fires_on_a_word_capitalised_mid_sentence():
    ops = middle(("SCHOEFFER", "CHAUFFEUR"))
    assert is_proper_noun(ops, 2, ctx_for(ops, proper_nouns={"schoeffer", "peter"}))


def test_proper_noun_does_not_fire_on_a_lower_case_word():
    ops = middle(("printer", "printed"))
    assert not is_proper_noun(ops, 2, ctx_for(ops, proper_nouns={"schoeffer"}))


def test_rare_word_fires_on_a_word_rare_in_the_dataset():
    ops = middle(("incunabula", "in cabala"))
    assert is_rare_word(ops, 2, ctx_for(ops, rare={"incunabula"}))


def test_rare_word_does_not_fire_on_a_common_word():
    ops = middle(("book", "look"))
    assert not is_rare_word(ops, 2, ctx_for(ops, rare={"incunabula"}))


def test_compound_fires_on_a_split():
    ops = middle(("woodcutters", "wood"), (None, "cutters"))
    assert is_compound(ops, 2, ctx_for(ops))
    assert is_compound(ops, 3, ctx_for(ops)), "the inserted half is part of the split too"


def test_compound_fires_on_a_merge_written_with_a_hyphen():
    ops = middle(("lower", "lower-case"), ("case", None))
    assert is_compound(ops, 2, ctx_for(ops))
    assert is_compound(ops, 3, ctx_for(ops))


def test_compound_does_not_fire_when_the_letters_differ():
    ops = middle(("woodcutters", "wood"), (None, "carvers"))
    assert not is_compound(ops, 2, ctx_for(ops))


def test_compound_does_not_fire_across_a_correct_word():
    ops = middle(("wood", "woodcutters"), ("and", "and"), ("cutters", None))
    assert not is_compound(ops, 2, ctx_for(ops))


def test_near_homophone_fires_on_a_small_spelling_difference():
    ops = middle(("colour", "color"))
    assert is_near_homophone(ops, 2, ctx_for(ops))


def test_near_homophone_fires_on_the_same_sound_key():
    ops = middle(("schoeffer", "chauffeur"))
    assert levenshtein("schoeffer", "chauffeur") / 9 > 0.34, "edit distance alone would miss it"
    assert sound_key("schoeffer") == sound_key("chauffeur")
    assert is_near_homophone(ops, 2, ctx_for(ops))


def test_near_homophone_does_not_fire_on_unrelated_words():
    ops = middle(("bible", "carpet"))
    assert not is_near_homophone(ops, 2, ctx_for(ops))


def test_near_homophone_does_not_fire_on_a_deletion():
    ops = middle(("colour", None))
    assert not is_near_homophone(ops, 2, ctx_for(ops))


def test_function_word_fires_on_a_deleted_article_and_an_inserted_preposition():
    ops = middle(("a", None), (None, "of"))
    assert is_function_word(ops, 2, ctx_for(ops))
    assert is_function_word(ops, 3, ctx_for(ops))


def test_function_word_does_not_fire_on_a_content_word():
    ops = middle(("printing", "painting"))
    assert not is_function_word(ops, 2, ctx_for(ops))


def test_edge_fires_on_the_first_and_last_word_and_on_a_leading_insert():
    ops = align((None, "uh"), ("printing", "painting"), ("then", "then"), ("books", None))
    ctx = ctx_for(ops)
    assert is_edge(ops, 0, ctx)
    assert is_edge(ops, 1, ctx)
    assert is_edge(ops, 3, ctx)


def test_edge_does_not_fire_in_the_middle():
    ops = middle(("printing", "painting"), (None, "of"))
    assert not is_edge(ops, 2, ctx_for(ops))
    assert not is_edge(ops, 3, ctx_for(ops))


def test_an_op_can_carry_several_tags_in_rule_order():
    ops = align(("Schoeffer", "chauffeur"), ("printed", "printed"))
    ctx = ctx_for(ops, proper_nouns={"schoeffer"}, rare={"schoeffer"})
    assert tag_op(ops, 0, ctx) == ["proper_noun", "rare_word", "near_homophone", "edge"]


def test_a_correct_word_gets_no_tag():
    ops = align(("Schoeffer", "Schoeffer"))
    assert tag_op(ops, 0, ctx_for(ops, proper_nouns={"schoeffer"})) == []


@pytest.mark.parametrize("a, b, distance", [("", "abc", 3), ("kitten", "sitting", 3),
                                             ("book", "book", 0), ("flaw", "lawn", 2)])
def test_levenshtein_counts_edits(a, b, distance):
    assert levenshtein(a, b) == distance


def test_every_rule_is_documented():
    assert all(rule.__doc__ for rule in RULES.values())
