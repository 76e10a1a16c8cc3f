"""Word alignments: unit costs (jiwer, the default) or NIST sclite's costs.

    sclite_alignment("A B C D E".split(), "X Y Z A B".split())
    # -> 3 insertions, 2 hits, 3 deletions: sclite's 120 % where unit costs give 100 %

sclite weighs a substitution 4 and an insertion or a deletion 3 (a hit 0), so it prefers
two gaps to two substitutions that it would have to pay 8 for. Among alignments of equal
cost it keeps the one its trace-back reaches first walking back from the ends of both
sentences, trying a hit or substitution first, then an insertion, then a deletion;
tests/test_align.py checks that this reproduces `sctk sclite`'s per-sentence counts.

Why not kaldialign's `sclite_mode`: it has the same costs, but breaks ties its own way, so
on random sentences over a small vocabulary about 2 % of them get other S/D/I counts than
sclite gives (23 of 1,000 in our test: same total cost, e.g. 4 S + 1 I against 1 S + 2 D +
3 I). Counts that match a published sclite table need sclite's tie-break, hence this small
dynamic programme.
"""

from __future__ import annotations

from collections.abc import Sequence

from asrlens import defaults

ALIGNMENTS = defaults.ALIGNMENTS
"""Alignment modes: 'unit' (every edit costs 1; jiwer) and 'sclite' (S 4, I and D 3)."""
DEFAULT_ALIGNMENT = defaults.ALIGNMENT

SCLITE_SUBSTITUTION = 4
SCLITE_INSERTION = 3
SCLITE_DELETION = 3

Step = tuple[str, int | None, int | None]
"""One alignment step: (op, ref_pos, hyp_pos); op is 'equal', 'substitute', 'delete' or
'insert', a position is None on the side the op does not touch."""


def sclite_alignment(ref: Sequence[str], hyp: Sequence[str]) -> list[Step]:
    """The minimum-cost alignment of `ref` to `hyp` under sclite's costs, with sclite's
    choice among equal-cost alignments; steps in sentence order."""
    n, m = len(ref), len(hyp)
    # cost[i][j]: cheapest alignment of ref[:i] with hyp[:j]
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for j in range(1, m + 1):
        cost[0][j] = j * SCLITE_INSERTION
    for i in range(1, n + 1):
        row, above = cost[i], cost[i - 1]
        row[0] = i * SCLITE_DELETION
        word = ref[i - 1]
        for j in range(1, m + 1):
            diagonal = above[j - 1] + (0 if word == hyp[j - 1] else SCLITE_SUBSTITUTION)
            row[j] = min(diagonal, above[j] + SCLITE_DELETION, row[j - 1] + SCLITE_INSERTION)
    steps: list[Step] = []
    i, j = n, m
    while i or j:
        if i and j:
            same = ref[i - 1] == hyp[j - 1]
            if cost[i][j] == cost[i - 1][j - 1] + (0 if same else SCLITE_SUBSTITUTION):
                steps.append(("equal" if same else "substitute", i - 1, j - 1))
                i, j = i - 1, j - 1
                continue
        if j and cost[i][j] == cost[i][j - 1] + SCLITE_INSERTION:
            steps.append(("insert", None, j - 1))
            j -= 1
            continue
        steps.append(("delete", i - 1, None))
        i -= 1
    steps.reverse()
    return steps
