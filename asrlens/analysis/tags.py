"""Why an error happened: tag rules over one alignment op (table `op_tags`).

Every rule is a pure function `rule(ops, i, ctx) -> bool` over the utterance's alignment
`ops`, the index `i` of the error op and the utterance's context `ctx`. An op may carry
several tags; `tag_op` returns them all, in the order of RULES. Words are compared by their
key (`asrlens.analysis.text.key`: lower-case, punctuation removed). Each tag's one-line
definition is in asrlens.vocabulary.TAG_DESCRIPTIONS.

    ops = [Op("equal", "the", "the", 0, 0), Op("substitute", "woodcutters", "wood", 1, 1),
           Op("insert", None, "cutters", None, 2)]
    tag_op(ops, 1, Context(n_ref=2))   # ['compound', 'edge']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from asrlens.analysis.text import key

NEAR_MAX_EDIT_RATIO = 0.34
"""Spelling variant / near-homophone: Levenshtein distance over the longer word's length at
most this (one edit in a 3-letter word, three in a 9-letter word)."""
NEAR_MIN_SOUND_LETTERS = 4
"""...or both words at least this long with the same sound key (see `sound_key`)."""
COMPOUND_MAX_OPS = 3
"""Compound split/merge: at most this many adjacent error ops are joined to compare letters."""

FUNCTION_WORDS = frozenset("""
a about above after against all am an and any are as at be been before being below between
both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me
more most my myself no nor not now of off on once only or other our ours ourselves out over
own same she should so some such than that the their theirs them themselves then there these
they this those through to too under until up upon very was we were what when where which
while who whom why will with would you your yours yourself yourselves shall may might must
""".split())
"""English function words (articles, pronouns, prepositions, conjunctions, auxiliaries):
short, unstressed and often swallowed in fast speech."""

_SOUND_CODES = {
    **dict.fromkeys("bfpv", "1"), **dict.fromkeys("cgjkqsxz", "2"), **dict.fromkeys("dt", "3"),
    "l": "4", **dict.fromkeys("mn", "5"), "r": "6",
}


@dataclass(frozen=True)
class Op:
    """One aligned word pair, as in table alignment_ops (ref_word None for an insert)."""

    op: str                   # 'equal', 'substitute', 'delete', 'insert'
    ref_word: str | None
    hyp_word: str | None
    ref_pos: int | None = None
    hyp_pos: int | None = None


@dataclass(frozen=True)
class Context:
    """What is known about the utterance's reference words, as sets of word keys."""

    n_ref: int                                          # words in the reference
    proper_nouns: frozenset[str] = field(default_factory=frozenset)
    normalized: frozenset[str] = field(default_factory=frozenset)  # text.normalization_keys
    rare: frozenset[str] = field(default_factory=frozenset)        # features.rare_keys


def levenshtein(a: str, b: str) -> int:
    """Character edit distance (insertions, deletions, substitutions each cost 1)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def sound_key(word: str) -> str:
    """Soundex-like consonant code of the whole word, first letter included.

    Letters map to Soundex digits (b f p v -> 1, c g j k q s x z -> 2, ...), vowels and
    h w y are dropped, repeated digits collapse: 'schoeffer' and 'chauffeur' both give '216'.
    """
    codes = [_SOUND_CODES.get(ch, "") for ch in word.lower()]
    out = []
    for code in codes:
        if code and (not out or out[-1] != code):
            out.append(code)
    return "".join(out)


def _ref(ops: Sequence[Op], i: int) -> str:
    return key(ops[i].ref_word or "")


def _hyp(ops: Sequence[Op], i: int) -> str:
    return key(ops[i].hyp_word or "")


def is_normalization(ops: Sequence[Op], i: int, ctx: Context) -> bool:
    """The reference word was written as a number or abbreviation in the raw transcript."""
    return _ref(ops, i) in ctx.normalized


def is_proper_noun(ops: Sequence[Op], i: int, ctx: Context) -> bool:
    """The reference word is capitalised mid-sentence in the raw transcript."""
    return _ref(ops, i) in ctx.proper_nouns


def is_rare_word(ops: Sequence[Op], i: int, ctx: Context) -> bool:
    """The reference word is rare in the dataset's labels (features.RARE_MAX_COUNT)."""
    return _ref(ops, i) in ctx.rare


def is_compound(ops: Sequence[Op], i: int, ctx: Context) -> bool:
    """A split or merge: adjacent error ops around i spell the same letters on both sides
    once spaces are removed, with a different number of words ('woodcutters' / 'wood cutters').
    """
    for start in range(max(0, i - COMPOUND_MAX_OPS + 1), i + 1):
        for stop in range(i + 1, min(len(ops), start + COMPOUND_MAX_OPS) + 1):
            window = ops[start:stop]
            if len(window) < 2 or any(o.op == "equal" for o in window):
                continue
            refs = [key(o.ref_word) for o in window if o.ref_word]
            hyps = [key(o.hyp_word) for o in window if o.hyp_word]
            if len(refs) != len(hyps) and "".join(refs) == "".join(hyps) != "":
                return True
    return False


def is_near_homophone(ops: Sequence[Op], i: int, ctx: Context) -> bool:
    """A substitution by a spelling variant or similar-sounding word: small edit distance
    relative to length (NEAR_MAX_EDIT_RATIO), or the same sound key for words of at least
    NEAR_MIN_SOUND_LETTERS letters."""
    if ops[i].op != "substitute":
        return False
    ref, hyp = _ref(ops, i), _hyp(ops, i)
    if not ref or not hyp or ref == hyp:
        return False
    if levenshtein(ref, hyp) / max(len(ref), len(hyp)) <= NEAR_MAX_EDIT_RATIO:
        return True
    long_enough = min(len(ref), len(hyp)) >= NEAR_MIN_SOUND_LETTERS
    return long_enough and sound_key(ref) == sound_key(hyp)


def is_function_word(ops: Sequence[Op], i: int, ctx: Context) -> bool:
    """The word concerned is a function word: the reference word, or for an insert the
    inserted word."""
    word = _hyp(ops, i) if ops[i].op == "insert" else _ref(ops, i)
    return word in FUNCTION_WORDS


def is_edge(ops: Sequence[Op], i: int, ctx: Context) -> bool:
    """The error touches the first or last reference word, or is an insert before the first
    or after the last one."""
    pos = ops[i].ref_pos
    if pos is not None:
        return pos == 0 or pos == ctx.n_ref - 1
    return all(o.ref_word is None for o in ops[:i]) or all(o.ref_word is None for o in ops[i:])


Rule = Callable[[Sequence[Op], int, Context], bool]

RULES: dict[str, Rule] = {
    "normalization": is_normalization,
    "proper_noun": is_proper_noun,
    "rare_word": is_rare_word,
    "compound": is_compound,
    "near_homophone": is_near_homophone,
    "function_word": is_function_word,
    "edge": is_edge,
}
"""Tag name -> rule, in the order tags are listed."""


def tag_op(ops: Sequence[Op], i: int, ctx: Context) -> list[str]:
    """The tags of op i (an error op); [] for an 'equal' op."""
    if ops[i].op == "equal":
        return []
    return [name for name, rule in RULES.items() if rule(ops, i, ctx)]
