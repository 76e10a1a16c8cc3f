"""Ways of writing the same words, for `formatting`: numbers spelled out, contractions
expanded, British and American (and older) spellings folded.

    number_readings("1455")   # {'fourteen fifty five', ...}
    number_readings("15th")    # {'fifteenth'}
    contraction_readings("won't")   # {'will not'}
    spelling_key("colour"), spelling_key("color")   # 'color', 'color'

All functions take one lower-case token and return its readings (a set of strings of
space-separated words; the token itself when it has no other reading).
"""

from __future__ import annotations

import re

ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen").split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
SCALES = ((10 ** 9, "billion"), (10 ** 6, "million"), (1000, "thousand"))
ORDINAL_WORDS = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                 "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}
MAX_NUMBER = 10 ** 12
"""Digits beyond this are left as they are."""
_NUMBER_RE = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)(st|nd|rd|th|s)?")

CONTRACTIONS = {
    "won't": ("will not",), "can't": ("can not",), "cannot": ("can not",),
    "shan't": ("shall not",), "ain't": ("is not", "are not", "am not"),
    "let's": ("let us",), "'tis": ("it is",), "o'clock": ("of the clock",),
}
"""Contractions whose expansion is not their stem plus a suffix's expansion."""
SUFFIXES = {"n't": ("not",), "'re": ("are",), "'ve": ("have",), "'ll": ("will",),
            "'m": ("am",), "'d": ("would", "had")}
S_PRONOUNS = frozenset("it he she that there what where who here how this".split())
"""Words whose "'s" is "is" or "has" (elsewhere "'s" is a possessive)."""

SPELLINGS = {
    "grey": "gray", "plough": "plow", "cheque": "check", "tyre": "tire", "programme": "program",
    "aluminium": "aluminum", "mould": "mold", "moult": "molt", "smoulder": "smolder",
    "connexion": "connection", "shew": "show", "shewn": "shown", "shewed": "showed",
    "gaol": "jail", "draught": "draft", "sceptic": "skeptic", "sceptical": "skeptical",
    "jewellery": "jewelry", "storey": "story", "pyjamas": "pajamas", "manoeuvre": "maneuver",
    "enquiry": "inquiry", "enquire": "inquire", "judgement": "judgment",
    "acknowledgement": "acknowledgment", "ageing": "aging", "kerb": "curb",
    "whisky": "whiskey", "artefact": "artifact", "defence": "defense", "offence": "offense",
    "licence": "license", "pretence": "pretense", "catalogue": "catalog",
    "dialogue": "dialog", "analogue": "analog", "practise": "practice",
    "burnt": "burned", "learnt": "learned", "spelt": "spelled", "dreamt": "dreamed",
    "towards": "toward", "afterwards": "afterward", "amongst": "among", "whilst": "while",
}
"""Whole-word variants (British, older or alternative) -> the form they are folded to."""
OUR_STEMS = ("colo", "favo", "hono", "labo", "neighbo", "harbo", "behavio", "rumo", "vigo",
             "parlo", "armo", "endeavo", "humo", "odo", "savo", "splendo", "clamo", "rigo",
             "vapo", "fervo", "valo", "ardo", "cando", "tumo", "flavo")
"""Stems spelled -our in British English ('colour', 'honourable', 'favoured')."""
_OUR_RE = re.compile(r"^(" + "|".join(OUR_STEMS) + r")ur(?=[a-z]*$)")
_ISE_RE = re.compile(r"(?<=[a-z]{3})is(e|es|ed|ing|ation|ations|er|ers)$")
ISE_WORDS = frozenset("""advise advised advises advising apprise arise arises comprise
comprised comprises compromise compromised despise despised devise devised disguise
disguised enterprise excise exercise exercised exercises franchise improvise improvised
incise merchandise otherwise precise premise premises promise promised promises raise raised
raises raising revise revised supervise supervised surmise surprise surprised surprises
televise treatise wise concise chastise chastised paradise expertise""".split())
"""Words that end in -ise in every spelling (not -ize variants)."""
_TRE_RE = re.compile(r"^(cent|theat|met|lit|fib|somb|lust|spect|sab|calib|mit)re(s?)$")
_LL_RE = re.compile(r"(?<=[a-z]{2}[aeiou])ll(ed|ing|er|ers|or|ors)$")


def cardinal(n: int) -> str:
    """The cardinal reading of 0 <= n < MAX_NUMBER, without 'and': 'one hundred five'."""
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return ONES[n // 100] + " hundred" + (" " + cardinal(rest) if rest else "")
    for scale, name in SCALES:
        if n >= scale:
            rest = n % scale
            return cardinal(n // scale) + " " + name + (" " + cardinal(rest) if rest else "")
    raise AssertionError(n)


def ordinal(words: str) -> str:
    """'twenty one' -> 'twenty first'; 'fifty' -> 'fiftieth'."""
    *head, last = words.split()
    if last in ORDINAL_WORDS:
        last = ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return " ".join([*head, last])


def year(n: int) -> str | None:
    """The year reading of 1000..2099 other than the cardinal: 1455 'fourteen fifty five',
    1900 'nineteen hundred', 1905 'nineteen oh five'; None for others."""
    if not 1100 <= n <= 2099 or 2000 <= n <= 2009:
        return None
    high, low = divmod(n, 100)
    if low == 0:
        return cardinal(high) + " hundred"
    return cardinal(high) + " " + (("oh " + ONES[low]) if low < 10 else cardinal(low))


def _with_and(words: str) -> str:
    """'one hundred five' -> 'one hundred and five' (the British 'and')."""
    return re.sub(r"\bhundred (?!and\b)(?=[a-z])", "hundred and ", words)


def number_readings(token: str) -> set[str]:
    """Readings of a token of digits ('1455', '1,000', '15th', '1840s'); {token} otherwise."""
    match = _NUMBER_RE.fullmatch(token)
    if not match:
        return {token}
    n = int(match.group(1).replace(",", ""))
    if n >= MAX_NUMBER:
        return {token}
    suffix = match.group(2)
    bases = {cardinal(n)}
    if year(n):
        bases.add(year(n))
    if suffix in ("st", "nd", "rd", "th"):
        return {ordinal(b) for b in bases}
    if suffix == "s":  # the 1840s -> eighteen forties
        return {b[:-1] + "ies" if b.endswith("y") else b + "s" for b in bases}
    return bases | {_with_and(b) for b in bases}


def contraction_readings(token: str) -> set[str]:
    """Expansions of a contraction ("don't" -> 'do not'); {token} otherwise."""
    token = token.replace("\u2019", "'")
    if token in CONTRACTIONS:
        return set(CONTRACTIONS[token])
    for suffix, readings in SUFFIXES.items():
        if token.endswith(suffix) and len(token) > len(suffix):
            stem = token[:-len(suffix)]
            return {f"{stem} {r}" for r in readings}
    if token.endswith("'s") and token[:-2] in S_PRONOUNS:
        return {f"{token[:-2]} is", f"{token[:-2]} has"}
    return {token}


def spelling_key(token: str) -> str:
    """The folded spelling of one word: 'colour' -> 'color', 'organised' -> 'organized',
    'centre' -> 'center', 'travelled' -> 'traveled'; other words unchanged."""
    if token in SPELLINGS:
        return SPELLINGS[token]
    word = _OUR_RE.sub(r"\1r", token)
    if word not in ISE_WORDS:
        word = _ISE_RE.sub(r"iz\1", word)
    word = re.sub(r"(?<=[a-z]{2})ys(e|es|ed|ing)$", r"yz\1", word)  # analyse -> analyze
    word = _TRE_RE.sub(r"\1er\2", word)
    return _LL_RE.sub(r"l\1", word)
