"""Formatting-only errors: errors that disappear under a looser normalization (table
`formatting_errors`, view `formatting_summary`).

Within each run of adjacent error ops of an alignment, the reference and hypothesis words are
paired in groups (in order, at most MAX_GROUP_WORDS words a side). A group is formatting only
when its two sides read the same under the loosest of the levels below, and differ as
written; its kind is the first level at which they read the same. The levels are cumulative
(level 3 applies levels 1 to 3):

1. casing        letters compared in lower case ('Smith' / 'smith');
2. punctuation   punctuation other than hyphens deleted ("john's" / 'johns', 'mr.' / 'mr');
3. compound      hyphens, dashes and the spaces between words removed
                 ('wood cutters' / 'woodcutters', 'well-known' / 'well known');
4. contraction   contractions expanded ("don't" / 'do not', "it's" / 'it is' or 'it has');
5. spelling      British, older and alternative spellings folded ('colour' / 'color',
                 'organised' / 'organized', 'connexion' / 'connection'; analysis.spellings);
6. number        digits read out as words: cardinals, years, ordinals, decades
                 ('1455' / 'fourteen fifty five', '15th' / 'fifteenth').

    window_kind(["WOODCUTTERS"], ["WOOD", "CUTTERS"])      # 'compound'
    formatting_windows(ops)   # [Window(..., kind='compound', ref='WOODCUTTERS', ...), ...]

The pairing that covers the most words wins (a small dynamic programme per run of errors),
so the alignment's own pairing of the words does not matter. An error op is formatting only
when every word it touches is in such a group (`formatting_rows`).
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from asrlens.analysis.spellings import contraction_readings, number_readings, spelling_key
from asrlens.analysis.tags import Op

KINDS = ("casing", "punctuation", "compound", "contraction", "spelling", "number")
"""The kinds, in the order of the levels."""
MAX_GROUP_WORDS = 4
"""Words a side of one formatting-only group at most ('fourteen fifty five' / '1455')."""
MAX_REGION_OPS = 24
"""Longer runs of adjacent errors are cut into pieces of this many ops (bounds the work)."""
MAX_READINGS = 64
"""Readings of one side of a window kept at most (numbers and contractions multiply)."""
_DASHES = re.compile(r"[-\u2010-\u2015\u2212/]+")


@dataclass(frozen=True)
class Window:
    """Reference words ref_start..ref_stop and hypothesis words hyp_start..hyp_stop (indexes
    into the file's normalized words, stops excluded) that are formatting only, of `kind`."""

    ref_start: int
    ref_stop: int
    hyp_start: int
    hyp_stop: int
    kind: str
    ref: str    # the reference words, space-separated
    hyp: str


def _strip_punctuation(word: str) -> str:
    return "".join(c for c in word if not unicodedata.category(c).startswith("P")
                   or _DASHES.fullmatch(c))


def _expand(words: Sequence[str], readings) -> set[str]:
    """All space-joined readings of `words`, each word replaced by one of readings(word)."""
    options = [sorted(readings(w)) for w in words]
    out = set()
    for combo in itertools.islice(itertools.product(*options), MAX_READINGS):
        out.add(" ".join(combo))
    return out


def readings(words: Sequence[str], level: int) -> frozenset[str]:
    """The forms of `words` under the first `level` levels (1 = casing ... 6 = number).

    Every level works word by word, so the forms are each word's forms joined (by a space
    below level 3, by nothing from level 3 on, where spaces are removed)."""
    joiner = "" if level >= 3 else " "
    options = [sorted(_word_readings(w, level)) for w in words]
    return frozenset(joiner.join(c) for c in itertools.islice(itertools.product(*options),
                                                              MAX_READINGS))


@functools.lru_cache(maxsize=1 << 17)
def _word_readings(word: str, level: int) -> frozenset[str]:
    forms = {word.lower()}
    if level >= 4:  # contractions before punctuation removal eats their apostrophes
        forms = {r for f in forms for r in contraction_readings(f)}
    if level >= 6:
        forms = {r for f in forms for r in _expand(
            [_strip_punctuation(w) if any(c.isdigit() for c in w) and "," not in w
             else w.strip(".,;:!?\"()") for w in f.split()], number_readings)}
    if level >= 2:
        forms = {" ".join(w for w in map(_strip_punctuation, f.split()) if w) for f in forms}
    if level >= 5:
        forms = {" ".join(spelling_key(w) for w in f.split()) for f in forms}
    if level >= 3:
        forms = {_DASHES.sub("", f).replace(" ", "") for f in forms}
    return frozenset(forms)


def window_kind(ref: Sequence[str], hyp: Sequence[str]) -> str | None:
    """The first level's kind at which ref and hyp read the same; None: a real error, or the
    same words (an alignment that put them apart: nothing to do with formatting)."""
    if not ref or not hyp or list(ref) == list(hyp):
        return None
    if not readings(ref, len(KINDS)) & readings(hyp, len(KINDS)):
        return None  # not even the loosest level: a real error (the common case, decided fast)
    for level, kind in enumerate(KINDS, 1):
        if readings(ref, level) & readings(hyp, level):
            return kind
    return None


def _regions(ops: Sequence[Op]) -> list[list[Op]]:
    """Maximal runs of adjacent error ops, cut into pieces of at most MAX_REGION_OPS."""
    out, current = [], []
    for op in [*ops, Op("equal", None, None)]:
        if op.op != "equal" and len(current) < MAX_REGION_OPS:
            current.append(op)
            continue
        if current:
            out.append(current)
        current = [op] if op.op != "equal" else []
    return out


def _best_cover(ref: list[str], hyp: list[str]) -> list[tuple[int, int, int, int, str]]:
    """Groups (i, i2, j, j2, kind) pairing ref[i:i2] with hyp[j:j2], in order, that cover
    the most words (dynamic programme; a group has at most MAX_GROUP_WORDS words a side)."""
    a, b = len(ref), len(hyp)
    best = [[(0, None)] * (b + 1) for _ in range(a + 1)]
    for i in range(a, -1, -1):
        for j in range(b, -1, -1):
            if i == a and j == b:
                continue
            options = []  # groups first: on a tie a group beats skipping a word
            for i2 in range(i + 1, min(a, i + MAX_GROUP_WORDS) + 1):
                for j2 in range(j + 1, min(b, j + MAX_GROUP_WORDS) + 1):
                    kind = window_kind(ref[i:i2], hyp[j:j2])
                    if kind:
                        options.append((best[i2][j2][0] + (i2 - i) + (j2 - j),
                                        (i, i2, j, j2, kind)))
            if i < a:
                options.append((best[i + 1][j][0], None))
            if j < b:
                options.append((best[i][j + 1][0], None))
            best[i][j] = max(options, key=lambda o: o[0])
            if best[i][j][1] is None:  # remember where skipping leads
                skip = (i + 1, j) if i < a and best[i][j][0] == best[i + 1][j][0] else (i, j + 1)
                best[i][j] = (best[i][j][0], skip)
    groups, i, j = [], 0, 0
    while (i, j) != (a, b):
        step = best[i][j][1]
        if len(step) == 5:
            groups.append(step)
            i, j = step[1], step[3]
        else:
            i, j = step
    return groups


def formatting_windows(ops: Sequence[Op]) -> list[Window]:
    """The formatting-only word groups of one file's alignment, left to right.

    Within each run of adjacent error ops, the reference and hypothesis words are paired in
    groups (in order, at most MAX_GROUP_WORDS words a side) so that the groups that read the
    same under a looser level cover the most words; the alignment's own pairing of the
    words does not matter ('WOODCUTTERS SAW' / 'WOOD CUTTERS SOW' finds the compound even
    when the alignment pairs WOODCUTTERS with CUTTERS)."""
    out = []
    for region in _regions(ops):
        ref_ops = [o for o in region if o.ref_word is not None]
        hyp_ops = [o for o in region if o.hyp_word is not None]
        if not ref_ops or not hyp_ops:
            continue
        ref, hyp = [o.ref_word for o in ref_ops], [o.hyp_word for o in hyp_ops]
        for i, i2, j, j2, kind in _best_cover(ref, hyp):
            out.append(Window(ref_ops[i].ref_pos, ref_ops[i2 - 1].ref_pos + 1,
                              hyp_ops[j].hyp_pos, hyp_ops[j2 - 1].hyp_pos + 1, kind,
                              " ".join(ref[i:i2]), " ".join(hyp[j:j2])))
    return out


def formatting_rows(ops: Sequence[Op], op_indexes: Sequence[int], *, keys: dict) -> list[dict]:
    """`formatting_errors` rows of one file: one per error op whose words all belong to
    formatting-only groups (its kind and texts: its reference word's group, for an insertion
    its hypothesis word's). op_indexes: alignment_ops.op_index of each op; keys: {run_id,
    scoring, utt_id}."""
    windows = formatting_windows(ops)
    by_ref = {p: w for w in windows for p in range(w.ref_start, w.ref_stop)}
    by_hyp = {p: w for w in windows for p in range(w.hyp_start, w.hyp_stop)}
    first_op = {}
    rows = []
    for op, index in zip(ops, op_indexes, strict=True):
        if op.op == "equal":
            continue
        ref_w = by_ref.get(op.ref_pos) if op.ref_pos is not None else None
        hyp_w = by_hyp.get(op.hyp_pos) if op.hyp_pos is not None else None
        if (op.ref_pos is not None and ref_w is None) or (op.hyp_pos is not None
                                                          and hyp_w is None):
            continue
        w = ref_w or hyp_w
        first_op.setdefault(id(w), index)
        rows.append({**keys, "op_index": index, "kind": w.kind,
                     "window_start": first_op[id(w)], "ref_text": w.ref, "hyp_text": w.hyp})
    return rows
