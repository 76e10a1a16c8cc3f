"""Text normalization: named, versioned rules applied to both sides before scoring."""

from __future__ import annotations

import pytest

from asrlens.errors import AsrlensError
from asrlens.scoring.normalize import (
    LJSPEECH,
    LJSPEECH_RAW,
    NORMALIZERS,
    VERBATIM,
    get_normalizer,
)


def test_ljspeech_upper_cases_and_removes_punctuation():
    assert LJSPEECH("Printing, in the only sense; with which.") == (
        "PRINTING IN THE ONLY SENSE WITH WHICH"
    )


def test_ljspeech_turns_hyphens_and_dashes_into_spaces():
    assert LJSPEECH("fourteen fifty-five") == "FOURTEEN FIFTY FIVE"
    assert LJSPEECH("well\u2014known \u2013 en\u2013dash and/or") == "WELL KNOWN EN DASH AND OR"


def test_ljspeech_keeps_apostrophes_inside_words_only():
    assert LJSPEECH("don't James' 'tis the printers' 'quoted'") == (
        "DON'T JAMES TIS THE PRINTERS QUOTED"
    )


def test_ljspeech_folds_curly_apostrophes_and_drops_curly_quotes():
    assert LJSPEECH("\u201cIt\u2019s,\u201d he said") == "IT'S HE SAID"


def test_ljspeech_keeps_non_ascii_letters():
    assert LJSPEECH("the caf\u00e9 of M\u00fcller") == "THE CAF\u00c9 OF M\u00dcLLER"
    # a decomposed e + combining acute is composed, so both spellings score as one word
    assert LJSPEECH("cafe\u0301") == LJSPEECH("caf\u00e9")


def test_ljspeech_collapses_whitespace_and_handles_empty_text():
    assert LJSPEECH("  a \t b\n\nc  ") == "A B C"
    assert LJSPEECH("") == ""
    assert LJSPEECH(None) == ""
    assert LJSPEECH(" -- ... ") == ""


def test_ljspeech_keeps_digits():
    assert LJSPEECH("in 1455, $5") == "IN 1455 5"


def test_ljspeech_prefers_the_normalized_column_and_falls_back_to_the_raw_one():
    assert LJSPEECH.reference(transcript="in 1455", normalized="in fourteen fifty-five") == (
        "in fourteen fifty-five"
    )
    assert LJSPEECH.reference(transcript="in 1455", normalized=None) == "in 1455"
    assert LJSPEECH.reference(transcript="in 1455", normalized="  ") == "in 1455"
    assert LJSPEECH.reference_column == "normalized_transcript"


def test_ljspeech_raw_scores_against_the_raw_transcript():
    assert LJSPEECH_RAW.reference(transcript="in 1455", normalized="in fourteen") == "in 1455"
    assert LJSPEECH_RAW.reference_column == "transcript"
    assert LJSPEECH_RAW("in 1455.") == "IN 1455"


def test_verbatim_only_collapses_whitespace():
    assert VERBATIM("  Hello,   World! ") == "Hello, World!"


def test_normalizer_ids_carry_a_version():
    assert LJSPEECH.id == "ljspeech-v1"
    assert all(n.id.startswith(f"{name}-v") for name, n in NORMALIZERS.items())


def test_get_normalizer_by_name_or_id():
    assert get_normalizer("ljspeech") is LJSPEECH
    assert get_normalizer("ljspeech-v1") is LJSPEECH


def test_unknown_normalizer_names_the_choices():
    with pytest.raises(AsrlensError, match="unknown normalizer 'nope'.*ljspeech"):
        get_normalizer("nope")
