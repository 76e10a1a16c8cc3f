"""Named text normalizations applied to both sides before scoring.

A run stores its normalizer's id (name and version, e.g. 'ljspeech-v1') in `runs.normalizer`,
so a figure can always be traced to the exact rules that produced it. Change the rules of a
normalizer only together with its version.

    norm = get_normalizer("ljspeech")
    norm.reference(transcript="Mr. Smith's 2 dogs", normalized="Mister Smith's two dogs")
    # -> "Mister Smith's two dogs"
    norm("Mister Smith's two dogs -- 'well'")   # -> "MISTER SMITH'S TWO DOGS WELL"
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from asrlens import defaults
from asrlens.errors import AsrlensError

# Unicode look-alikes folded to ASCII before anything else.
APOSTROPHES = "\u2019\u2018\u02bc\u2032\u00b4`"  # ’ ‘ ʼ ′ ´ `
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"  # ‐ ‑ ‒ – — ― −
SPACE_PUNCTUATION = "-/" + DASHES  # become word breaks: 'well-known' -> 'WELL KNOWN'

_APOSTROPHE_TABLE = str.maketrans({c: "'" for c in APOSTROPHES})
_SPACE_TABLE = str.maketrans({c: " " for c in SPACE_PUNCTUATION})
_LONE_APOSTROPHE = re.compile(r"(?<!\w)'|'(?!\w)")  # not between two letters/digits
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Normalizer:
    """A named text normalization: which reference column to score against, and the rules.

    `name` is what users type (--normalizer); `version` changes whenever the rules change;
    `id` ('name-vN') is what runs.normalizer stores. `prefer_normalized_column` picks the
    labels' normalized-transcript column (numbers and abbreviations spelled out) when an
    utterance has one, else the raw transcript.
    """

    name: str
    version: int
    description: str
    prefer_normalized_column: bool
    rules: Callable[[str], str]
    rule_list: tuple[str, ...] = ()
    """The rules in words, in the order they apply (the report lists them)."""
    package: str | None = None
    """The distribution whose code the rules run (its version is in runs.versions), if any."""

    @property
    def id(self) -> str:
        return f"{self.name}-v{self.version}"

    @property
    def reference_column(self) -> str:
        """The utterances column references come from ('transcript' when it is NULL)."""
        return "normalized_transcript" if self.prefer_normalized_column else "transcript"

    def reference(self, *, transcript: str, normalized: str | None) -> str:
        """The raw reference text for one utterance, before the rules are applied."""
        if self.prefer_normalized_column and normalized is not None and normalized.strip():
            return normalized
        return transcript

    def __call__(self, text: str | None) -> str:
        """Apply the rules to one text; None becomes ''."""
        return self.rules(text or "")

    def require(self) -> None:
        """AsrlensError (one line, how to install it) when the rules' package is missing."""
        if self.package is not None:
            self.rules("")


def ljspeech_rules(text: str) -> str:
    """Upper case, punctuation removed, hyphens and dashes to spaces, whitespace collapsed.

    Unicode is composed (NFC) and curly apostrophes are folded to "'", which is kept only
    between two letters or digits (DON'T, JOHN'S; 'TIS -> TIS, JAMES' -> JAMES). Letters of
    any script are kept (é, ü stay); every other punctuation mark or symbol is deleted
    (MR. -> MR, "QUOTED" -> QUOTED), except '-', '/' and dashes, which separate words.
    """
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHE_TABLE)
    text = text.translate(_SPACE_TABLE).upper()
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if char == "'" or category[0] in "LNM":
            kept.append(char)
        elif char.isspace() or category[0] == "Z":
            kept.append(" ")
        # punctuation (P*), symbols (S*) and control characters (C*) are dropped
    text = _LONE_APOSTROPHE.sub("", "".join(kept))
    return _WHITESPACE.sub(" ", text).strip()


def minimal_rules(text: str) -> str:
    """Upper case and punctuation deleted, nothing else: the "raw" side of raw vs normalized.

    Unicode is composed (NFC); every punctuation mark (Unicode category P*) is deleted, so
    MR. -> MR, DON'T -> DONT, WELL-KNOWN -> WELLKNOWN; whitespace is collapsed. Symbols,
    digits and letters of any script stay.
    """
    text = unicodedata.normalize("NFC", text).upper()
    text = "".join(c for c in text if not unicodedata.category(c).startswith("P"))
    return _WHITESPACE.sub(" ", text).strip()


def verbatim_rules(text: str) -> str:
    """Only whitespace collapsed and stripped: case and punctuation count as errors."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


LJSPEECH = Normalizer(
    name="ljspeech",
    version=1,
    description=(
        "reference = normalized-transcript column (else transcript); upper case, punctuation "
        "removed except apostrophes inside words, hyphens to spaces (default)"
    ),
    prefer_normalized_column=True,
    rules=ljspeech_rules,
    rule_list=(
        "reference: the labels' normalized-transcript column (numbers and abbreviations "
        "spelled out); the raw transcript where it is empty",
        "Unicode composed (NFC); curly apostrophes folded to '",
        "hyphens, slashes and dashes become spaces (WELL-KNOWN -> WELL KNOWN)",
        "upper case",
        "punctuation and symbols deleted; an apostrophe is kept only between two letters "
        "or digits (DON'T, JOHN'S)",
        "whitespace collapsed",
    ),
)
"""The default for LJSpeech-style labels: scores words, not spelling conventions."""

LJSPEECH_RAW = Normalizer(
    name="ljspeech-raw",
    version=1,
    description="as ljspeech, but the reference is the raw transcript column (digits stay digits)",
    prefer_normalized_column=False,
    rules=ljspeech_rules,
    rule_list=("reference: the raw transcript column (digits stay digits)",
               *LJSPEECH.rule_list[1:]),
)
"""The ljspeech rules on the raw transcript: shows what number/abbreviation writing costs."""

VERBATIM = Normalizer(
    name="verbatim",
    version=1,
    description="reference = raw transcript; only whitespace collapsed (case, punctuation count)",
    prefer_normalized_column=False,
    rules=verbatim_rules,
    rule_list=("reference: the raw transcript column", "Unicode composed (NFC)",
               "whitespace collapsed; case and punctuation count as errors"),
)
"""No normalization: for recognizers that write punctuated, cased text."""

MINIMAL = Normalizer(
    name="minimal",
    version=1,
    description="reference = raw transcript; upper case and punctuation deleted, nothing else",
    prefer_normalized_column=False,
    rules=minimal_rules,
    rule_list=("reference: the raw transcript column", "Unicode composed (NFC)", "upper case",
               "punctuation deleted (MR. -> MR, DON'T -> DONT, WELL-KNOWN -> WELLKNOWN)",
               "whitespace collapsed"),
)
"""Case and punctuation only: every run is also scored under it (raw_errors), so the report
can show what the run's normalizer changes."""

@functools.cache
def _whisper_english():
    """whisper-normalizer's EnglishTextNormalizer, built once (AsrlensError: not installed)."""
    try:
        from whisper_normalizer.english import EnglishTextNormalizer
    except ImportError as exc:
        raise AsrlensError(f"--normalizer whisper needs the package whisper-normalizer, which "
                           f"is not installed ({exc}): pip install 'asrlens[whisper]'") from None
    return EnglishTextNormalizer()


def whisper_rules(text: str) -> str:
    """OpenAI Whisper's EnglishTextNormalizer (package whisper-normalizer), whitespace trimmed.

    Lower case; bracketed and parenthesised text and hesitations (uh, um, hmm) removed;
    contractions and titles expanded (won't -> will not, Mr -> mister); symbols, diacritics
    and punctuation removed; spelled-out numbers written in digits (twenty-five -> 25,
    fifteenth -> 15th); British spellings made American (colour -> color).
    """
    return _whisper_english()(text).strip()


WHISPER = Normalizer(
    name="whisper",
    version=1,
    description=(
        "reference = raw transcript; OpenAI Whisper's EnglishTextNormalizer (whisper-normalizer), "
        "the convention of the open ASR leaderboard: numbers as digits, American spelling"
    ),
    prefer_normalized_column=False,
    rules=whisper_rules,
    rule_list=(
        "reference: the raw transcript column (the rules write numbers in digits themselves; "
        "docs/infer.md compares the two columns on the sample)",
        "OpenAI Whisper's EnglishTextNormalizer, package whisper-normalizer (its version is in "
        "the run's versions):",
        "lower case; text in [brackets], <angle brackets> and (parentheses) removed; "
        "hesitations hmm, mm, mhm, mmm, uh, um removed",
        "contractions expanded (won't -> will not, it's -> it is) and titles spelled out "
        "(Mr -> mister, Dr -> doctor, St -> saint)",
        "commas between digits and periods not before a digit removed; other symbols, "
        "punctuation and diacritics removed",
        "spelled-out numbers, ordinals and currencies written in digits (twenty-five -> 25, "
        "fifteenth -> 15th, ten dollars -> $10)",
        "British spellings made American (colour -> color)",
        "whitespace collapsed",
    ),
    package="whisper-normalizer",
)
"""Whisper's own normalizer: published Whisper-family WERs are computed under it."""

NORMALIZERS: dict[str, Normalizer] = {
    n.name: n for n in (LJSPEECH, LJSPEECH_RAW, VERBATIM, MINIMAL, WHISPER)
}
DEFAULT_NORMALIZER = defaults.NORMALIZER


def get_normalizer(name: str) -> Normalizer:
    """The normalizer called `name` (or with id `name`, e.g. 'ljspeech-v1')."""
    for normalizer in NORMALIZERS.values():
        if name in (normalizer.name, normalizer.id):
            return normalizer
    known = ", ".join(NORMALIZERS)
    raise AsrlensError(f"unknown normalizer {name!r}: choose one of {known}")
