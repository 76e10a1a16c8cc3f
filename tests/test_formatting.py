"""Formatting-only errors (asrlens.analysis.formatting, spellings): crafted pairs of each kind,
and real errors left alone."""

from __future__ import annotations

import pytest

from asrlens.analysis import spellings
from asrlens.analysis.formatting import formatting_rows, formatting_windows, window_kind
from asrlens.analysis.tags import Op
from asrlens.scoring.normalize import get_normalizer
from asrlens.scoring.score import score_texts


def ops_of(ref: str, hyp: str) -> list[Op]:
    return [Op(o.op, o.ref_word, o.hyp_word, o.ref_pos, o.hyp_pos)
            for o in score_texts(ref, hyp).ops]


@pytest.mark.parametrize("ref,hyp,kind", [
    ("Smith", "smith", "casing"),
    ("London", "LONDON", "casing"),
    ("Mr.", "mr", "punctuation"),
    ("john's", "johns", "punctuation"),
    ("end.", "end", "punctuation"),
    ("woodcutters", "wood cutters", "compound"),
    ("well-known", "well known", "compound"),
    ("to-day", "today", "compound"),
    ("don't", "do not", "contraction"),
    ("it's", "it is", "contraction"),
    ("won't", "will not", "contraction"),
    ("cannot", "can not", "compound"),   # joining the words is enough
    ("we'd", "we had", "contraction"),
    ("colour", "color", "spelling"),
    ("organised", "organized", "spelling"),
    ("centre", "center", "spelling"),
    ("travelled", "traveled", "spelling"),
    ("connexion", "connection", "spelling"),
    ("honourable", "honorable", "spelling"),
    ("1455", "fourteen fifty five", "number"),
    ("1455", "one thousand four hundred fifty five", "number"),
    ("15th", "fifteenth", "number"),
    ("21st", "twenty first", "number"),
    ("1,000", "one thousand", "number"),
    ("105", "one hundred and five", "number"),
    ("1905", "nineteen oh five", "number"),
    ("1840s", "eighteen forties", "number"),
    ("fifteenth", "15th", "number"),
])
def test_crafted_pairs_have_their_kind(ref, hyp, kind):
    assert window_kind(ref.split(), hyp.split()) == kind


@pytest.mark.parametrize("ref,hyp", [
    ("four", "for"), ("the", "a"), ("colour", "collar"), ("1455", "fourteen fifty"),
    ("15th", "fifteen"), ("don't", "do"), ("it's", "it was"), ("woodcutters", "wood cutter"),
    ("hour", "hor"), ("wise", "wize"),
])
def test_real_errors_are_not_formatting(ref, hyp):
    assert window_kind(ref.split(), hyp.split()) is None


def test_number_readings():
    assert "fourteen fifty five" in spellings.number_readings("1455")
    assert spellings.number_readings("15th") == {"fifteenth"}
    assert spellings.number_readings("twelve") == {"twelve"}
    assert spellings.cardinal(1_000_005) == "one million five"
    assert spellings.ordinal("twenty") == "twentieth"


def test_windows_in_a_normalized_alignment():
    """ljspeech-normalized words (upper case): the compound and the number are found, the
    real substitution is not."""
    norm = get_normalizer("ljspeech")
    ops = ops_of(norm("the woodcutters saw 1455 men"), norm("the wood cutters sow fourteen "
                                                            "fifty five men"))
    windows = formatting_windows(ops)
    assert [(w.kind, w.ref, w.hyp) for w in windows] == [
        ("compound", "WOODCUTTERS", "WOOD CUTTERS"),
        ("number", "1455", "FOURTEEN FIFTY FIVE"),
    ]
    errors = sum(o.op != "equal" for o in ops)
    rows = formatting_rows(ops, list(range(len(ops))), keys={"run_id": "r", "scoring": "run",
                                                              "utt_id": "u"})
    # jiwer pairs SAW with FIFTY and inserts SOW: those two ops touch the real error's
    # words, so 4 of the 6 error ops are formatting only (a lower bound, never more)
    assert errors == 6 and len(rows) == 4
    assert {r["kind"] for r in rows} == {"compound", "number"}


def test_a_real_error_next_to_a_formatting_one_does_not_hide_it():
    ops = ops_of("THE COLOUR RED", "THE COLOR BED")
    assert [(w.kind, w.ref) for w in formatting_windows(ops)] == [("spelling", "COLOUR")]
