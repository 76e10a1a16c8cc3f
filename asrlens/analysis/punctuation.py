"""Punctuation and casing on the raw texts (tables `punctuation_files`,
`punctuation_substitutions`, `casing_files`).

Punctuation error rate: the definition of NVIDIA NeMo's `punct_er`
(nemo/collections/common/metrics/punct_er.py, OccurancePunctuationErrorRate), re-implemented
here with the same tokens, alignment and tie-breaks, so the figures are NeMo's:

1. each text becomes tokens: runs of word characters and apostrophes, and single marks of
   PUNCTUATION_MARKS (everything else is dropped);
2. every mark is masked to one token, and the two token lists are aligned by Levenshtein
   distance (unit costs; on a cost tie the trace-back prefers substitution, then insertion,
   then deletion, walking back from the ends);
3. an aligned pair of two masked marks is Correct when the marks are equal, else a
   Substitution (reference mark -> hypothesis mark, the confusion table);
4. per mark, Deletions = its count in the reference - Correct - Substitutions of it, and
   Insertions = its count in the hypothesis - Correct - Substitutions to it;
5. PER = (D + I + S) / (C + D + I + S), summed over marks and files (0 when no mark occurs).

    punctuation_counts("Hi, dear! Nice to see you. What's", "Hi dear! Nice to see you! What's?")
    # '.': 1 S (to '!'), ',': 1 D, '!': 1 C, '?': 1 I  ->  PER 3/4 = 0.75, as NeMo's docs give

Casing error rate (asrlens's, NeMo has none): the words of both raw texts (tokens as above,
marks left out) are aligned case-insensitively (jiwer); of the aligned pairs that are equal
ignoring case, those whose letters differ in case are casing errors. Rate = casing errors /
such pairs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import jiwer

PUNCTUATION_MARKS = (".", ",", "?", "!")
"""The marks measured (NeMo's example set)."""
MASK = "[PUNCT]"
OPERATIONS = ("correct", "deletions", "insertions", "substitutions")


def tokenize(text: str, marks: Sequence[str] = PUNCTUATION_MARKS) -> list[str]:
    """Words (word characters and apostrophes) and single marks, in order (NeMo's regex)."""
    escaped = "".join("\\" + m for m in marks)
    return re.findall(rf"[\w']+|[{escaped}]", text or "")


@dataclass
class PunctuationCounts:
    """Per mark: correct, deletions, insertions, substitutions; and the substitutions as
    (reference mark, hypothesis mark) -> count."""

    marks: tuple[str, ...] = PUNCTUATION_MARKS
    amounts: dict[str, dict[str, int]] = field(default_factory=dict)
    substitutions: dict[tuple[str, str], int] = field(default_factory=dict)

    def __post_init__(self):
        for mark in self.marks:
            self.amounts.setdefault(mark, dict.fromkeys(OPERATIONS, 0))

    def add(self, other: PunctuationCounts) -> None:
        for mark, ops in other.amounts.items():
            for op, n in ops.items():
                self.amounts[mark][op] += n
        for pair, n in other.substitutions.items():
            self.substitutions[pair] = self.substitutions.get(pair, 0) + n

    def total(self, op: str) -> int:
        return sum(ops[op] for ops in self.amounts.values())

    @property
    def operations(self) -> int:
        return sum(self.total(op) for op in OPERATIONS)

    @property
    def punct_er(self) -> float:
        """(D + I + S) / all operations; 0 when there are none (as NeMo)."""
        n = self.operations
        return (n - self.total("correct")) / n if n else 0.0

    def rate(self, op: str) -> float:
        n = self.operations
        return self.total(op) / n if n else 0.0


def _trace(r: list[str], h: list[str]) -> list[tuple[int, int]]:
    """(i, j) pairs the alignment matches (token r[i] with h[j], equal masked tokens), with
    NeMo's costs and tie-breaks."""
    n, m = len(r), len(h)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    back = [[""] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        cost[i][0], back[i][0] = i, "D"
    for j in range(1, m + 1):
        cost[0][j], back[0][j] = j, "I"
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if r[i - 1] == h[j - 1]:
                cost[i][j], back[i][j] = cost[i - 1][j - 1], "C"
                continue
            sub, ins, dele = cost[i - 1][j - 1] + 1, cost[i][j - 1] + 1, cost[i - 1][j] + 1
            cost[i][j] = min(sub, ins, dele)
            back[i][j] = "S" if cost[i][j] == sub else "I" if cost[i][j] == ins else "D"
    pairs, i, j = [], n, m
    while i > 0 or j > 0:
        step = back[i][j]
        if step == "C":
            pairs.append((i - 1, j - 1))
        if step in ("C", "S"):
            i, j = i - 1, j - 1
        elif step == "I":
            j -= 1
        else:
            i -= 1
    return pairs


def punctuation_counts(
    reference: str, hypothesis: str, marks: Sequence[str] = PUNCTUATION_MARKS
) -> PunctuationCounts:
    """NeMo's punctuation operation counts for one pair of raw texts."""
    counts = PunctuationCounts(marks=tuple(marks))
    r_tokens, h_tokens = tokenize(reference, marks), tokenize(hypothesis, marks)
    r_masked = [MASK if t in marks else t for t in r_tokens]
    h_masked = [MASK if t in marks else t for t in h_tokens]
    if MASK not in r_masked and MASK not in h_masked:
        return counts
    # marks on one side only: no pair of marks can align, so the alignment is not needed
    pairs = _trace(r_masked, h_masked) if MASK in r_masked and MASK in h_masked else []
    for i, j in pairs:
        if r_masked[i] != MASK:
            continue
        ref_mark, hyp_mark = r_tokens[i], h_tokens[j]
        if ref_mark == hyp_mark:
            counts.amounts[ref_mark]["correct"] += 1
        else:
            counts.amounts[ref_mark]["substitutions"] += 1
            pair = (ref_mark, hyp_mark)
            counts.substitutions[pair] = counts.substitutions.get(pair, 0) + 1
    for mark in marks:
        ops = counts.amounts[mark]
        to_mark = sum(n for (_, h), n in counts.substitutions.items() if h == mark)
        ops["deletions"] = r_tokens.count(mark) - ops["correct"] - ops["substitutions"]
        ops["insertions"] = h_tokens.count(mark) - ops["correct"] - to_mark
    return counts


def dataset_counts(references: Sequence[str], hypotheses: Sequence[str],
                   marks: Sequence[str] = PUNCTUATION_MARKS) -> PunctuationCounts:
    """Counts summed over pairs (NeMo's DatasetPunctuationErrorRate)."""
    total = PunctuationCounts(marks=tuple(marks))
    for ref, hyp in zip(references, hypotheses, strict=True):
        total.add(punctuation_counts(ref, hyp, marks))
    return total


@dataclass(frozen=True)
class Casing:
    """Casing of one pair: words compared (equal ignoring case) and casing errors."""

    words: int
    errors: int
    examples: tuple[tuple[str, str], ...] = ()   # (reference word, hypothesis word) per error


def casing_counts(reference: str, hypothesis: str) -> Casing:
    """Aligned words equal ignoring case, and how many of them differ in case."""
    ref = [t for t in tokenize(reference) if t not in PUNCTUATION_MARKS]
    hyp = [t for t in tokenize(hypothesis) if t not in PUNCTUATION_MARKS]
    if not ref or not hyp:
        return Casing(0, 0)
    out = jiwer.process_words(" ".join(w.lower() for w in ref), " ".join(w.lower() for w in hyp))
    words, errors = 0, []
    for chunk in out.alignments[0]:
        if chunk.type != "equal":
            continue
        for i, j in zip(range(chunk.ref_start_idx, chunk.ref_end_idx),
                        range(chunk.hyp_start_idx, chunk.hyp_end_idx), strict=True):
            words += 1
            if ref[i] != hyp[j]:
                errors.append((ref[i], hyp[j]))
    return Casing(words, len(errors), tuple(errors))


def writes_case(text: str) -> bool:
    """Whether a text mixes upper- and lower-case letters (a recognizer that writes all
    upper or all lower case has no casing to measure)."""
    return any(c.isupper() for c in text) and any(c.islower() for c in text)
