"""Words of a transcript, and what the raw text says about them.

    word_keys("the Gutenberg, or \"forty-two line Bible\"")
    # ['the', 'gutenberg', 'or', 'forty', 'two', 'line', 'bible']
    proper_noun_tokens("For although the Chinese took impressions")   # ['Chinese']

A *word key* is how analysis compares words written by different hands (the raw transcript,
the normalized one, the recognizer): lower-case, hyphens, dashes and slashes split words, every
character other than a letter, digit or in-word apostrophe removed. It matches the
normalization of transcripts (upper- or lower-case does not matter to it).
"""

from __future__ import annotations

import functools
import re
from collections import Counter

ABBREVIATIONS = (
    "Mr", "Mrs", "Ms", "Messrs", "Mme", "Dr", "St", "Jr", "Sr", "Co", "Capt", "Col", "Gen",
    "Lt", "Maj", "Sgt", "Rev", "Hon", "Gov", "Prof", "Ltd", "Bros", "Mt", "Ft",
    "etc", "viz", "vs", "i.e", "e.g",
)
"""Abbreviations counted in raw transcripts, each written with a final period ('Mr.', 'i.e.').
Case matters ('St.' counts, 'st.' does not); 'No.' is left out (it also ends sentences)."""

_ABBREVIATION = r"(?:" + "|".join(re.escape(a) for a in ABBREVIATIONS) + r")\."
ABBREVIATION_RE = re.compile(r"(?<![\w.])" + _ABBREVIATION)
"""Finds the abbreviations of ABBREVIATIONS in running text."""

_ABBREVIATION_TOKEN_RE = re.compile(_ABBREVIATION)
_DASHES_RE = re.compile(r"[-/\u2010-\u2015\u2212]+")
_NOT_KEY_RE = re.compile(r"[^\w']|_")
_HYPHENATED_RE = re.compile(r"[^\W\d_]-[^\W\d_]")
_OPENING = "\"'([{\u201c\u2018"
_CLOSING = "\"')]}\u201d\u2019,;:"
_SENTENCE_END = ".!?"


@functools.lru_cache(maxsize=1 << 17)
def key(word: str) -> str:
    """The comparison key of one word: lower-case letters, digits and in-word apostrophes."""
    return _NOT_KEY_RE.sub("", word.lower().replace("\u2019", "'")).strip("'")


def word_keys(text: str | None) -> list[str]:
    """The words of `text` as keys, in order; hyphens and dashes separate words."""
    if not text:
        return []
    return [k for k in map(key, _DASHES_RE.sub(" ", text).split()) if k]


def core(token: str) -> str:
    """A whitespace token without its surrounding quotes, brackets and punctuation."""
    return token.strip(_OPENING).rstrip(_CLOSING + _SENTENCE_END)


def is_abbreviation(token: str) -> bool:
    """Whether a whitespace token is one of ABBREVIATIONS ('Mr.', '"St.', 'etc.,')."""
    return bool(_ABBREVIATION_TOKEN_RE.fullmatch(token.strip(_OPENING).rstrip(_CLOSING)))


def ends_sentence(token: str) -> bool:
    """Whether a token closes a sentence: it ends in . ! or ? and is not an abbreviation."""
    bare = token.rstrip("\"')]}\u201d\u2019")
    return bool(bare) and bare[-1] in _SENTENCE_END and not is_abbreviation(token)


def proper_noun_tokens(text: str | None) -> list[str]:
    """Capitalised words that do not start a sentence: likely proper nouns (as written).

    A word starts a sentence when it is the first of the text or follows a token that ends
    in . ! or ? (abbreviations such as 'Mr.' excepted). The pronoun 'I' and abbreviations are
    not counted. Each token is returned without its surrounding punctuation.
    """
    tokens = (text or "").split()
    found = []
    for i, token in enumerate(tokens):
        word = core(token)
        if i == 0 or ends_sentence(tokens[i - 1]) or not word[:1].isupper():
            continue
        if word == "I" or is_abbreviation(token):
            continue
        found.append(word)
    return found


def hyphenated_tokens(text: str | None) -> list[str]:
    """Tokens joining letters with a single hyphen ('picture-books', 'ne-plus-ultra')."""
    return [core(t) for t in (text or "").split() if _HYPHENATED_RE.search(t)]


def abbreviation_count(text: str | None) -> int:
    """How many abbreviations of ABBREVIATIONS the text holds."""
    return len(ABBREVIATION_RE.findall(text or ""))


def digit_count(text: str | None) -> int:
    """Digit characters in the text."""
    return sum(ch.isdigit() for ch in text or "")


def normalization_keys(raw: str | None, normalized: str | None) -> set[str]:
    """Word keys that exist because the text was normalized (numbers, abbreviations spelled out).

    Those are the keys of the normalized transcript left over once the raw transcript's keys
    are taken away (as multisets: 'fourteen fifty five' from '1455'), plus the keys of raw
    tokens that hold digits or are abbreviations (a reference taken from the raw column keeps
    '1455' or 'mr' as a word).
    """
    leftover = Counter(word_keys(normalized)) - Counter(word_keys(raw))
    keys = set(leftover)
    for token in (raw or "").split():
        if any(ch.isdigit() for ch in token) or is_abbreviation(token):
            keys.update(word_keys(token))
    return keys
