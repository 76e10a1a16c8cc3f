"""sclite mode: word alignment with NIST sclite's costs gives sclite's own counts.

sclite weighs a substitution 4 and an insertion or deletion 3; `asrlens infer --alignment
sclite` (and `import-run`) must reproduce its per-sentence S/D/I exactly, ties included, so
that a published sclite table can be reproduced. Checked here against `sctk sclite` itself.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from asrlens.scoring.align import (
    SCLITE_DELETION,
    SCLITE_INSERTION,
    SCLITE_SUBSTITUTION,
    sclite_alignment,
)
from asrlens.scoring.score import score_texts

PRA_SCORES = re.compile(r"id: \((?P<id>[^)]+)\)\nScores: \(#C #S #D #I\) (?P<counts>[\d ]+)\n")


def sclite_per_sentence(tmp_path: Path, pairs: list[tuple[str, str, str]]) -> dict:
    """sctk sclite's (C, S, D, I) per sentence id over (id, ref, hyp) pairs."""
    if shutil.which("sctk") is None:
        pytest.skip("sctk (NIST sclite) is not installed: apt-get install -y sctk")
    (tmp_path / "ref.trn").write_text("".join(f"{r} ({i})\n" for i, r, _ in pairs))
    (tmp_path / "hyp.trn").write_text("".join(f"{h} ({i})\n" for i, _, h in pairs))
    completed = subprocess.run(
        ["sctk", "sclite", "-r", str(tmp_path / "ref.trn"), "trn", "-h",
         str(tmp_path / "hyp.trn"), "trn", "-i", "wsj", "-o", "pra", "stdout"],
        capture_output=True, text=True, check=True, timeout=120,
    )
    found = {m["id"]: tuple(int(n) for n in m["counts"].split())
             for m in PRA_SCORES.finditer(completed.stdout)}
    assert len(found) == len(pairs), completed.stdout[-2000:]
    return found


def random_pairs(seed: int, n: int) -> list[tuple[str, str, str]]:
    """n (id, ref, hyp) sentences over small vocabularies (many equal-cost alignments),
    a tenth of each side empty, ids that sclite's wsj id style reads."""
    rng = random.Random(seed)
    words = ["A", "B", "C", "D", "E", "THE", "CAT", "SAT"]
    pairs = []

    def sentence(vocabulary: list[str]) -> str:
        if rng.random() < 0.1:
            return ""
        return " ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 12)))

    for i in range(n):
        vocabulary = words[: rng.randint(2, len(words))]
        pairs.append((f"spk-{i:04d}", sentence(vocabulary), sentence(vocabulary)))
    return pairs


def test_sclite_mode_gives_sclites_counts_on_the_issues_example():
    unit = score_texts("A B C D E", "X Y Z A B")
    sclite = score_texts("A B C D E", "X Y Z A B", alignment="sclite")
    assert (unit.substitutions, unit.deletions, unit.insertions, unit.wer) == (5, 0, 0, 1.0)
    assert (sclite.substitutions, sclite.deletions, sclite.insertions) == (0, 3, 3)
    assert sclite.wer == pytest.approx(1.2)
    assert [op.op for op in sclite.ops] == ["insert"] * 3 + ["equal"] * 2 + ["delete"] * 3


def test_sclite_mode_counts_match_sctk_sclite_on_random_pairs(tmp_path):
    pairs = random_pairs(seed=10, n=400)
    assert sum(1 for _, r, _h in pairs if not r) >= 20 and sum(1 for *_, h in pairs if not h) >= 20
    expected = sclite_per_sentence(tmp_path, pairs)
    differing = []
    for utt_id, ref, hyp in pairs:
        s = score_texts(ref, hyp, alignment="sclite")
        ours = (s.hits, s.substitutions, s.deletions, s.insertions)
        if ours != expected[utt_id]:
            differing.append((utt_id, ref, hyp, ours, expected[utt_id]))
    assert differing == []


def test_sclite_alignment_is_a_minimum_of_sclites_cost():
    kaldialign = pytest.importorskip("kaldialign")  # an independent implementation of the costs
    for _, ref, hyp in random_pairs(seed=11, n=300):
        steps = sclite_alignment(ref.split(), hyp.split())
        cost = sum({"equal": 0, "substitute": SCLITE_SUBSTITUTION, "delete": SCLITE_DELETION,
                    "insert": SCLITE_INSERTION}[op] for op, _, _ in steps)
        theirs = kaldialign.edit_distance(ref.split(), hyp.split(), sclite_mode=True)
        assert cost == (SCLITE_SUBSTITUTION * theirs["sub"] + SCLITE_DELETION * theirs["del"]
                        + SCLITE_INSERTION * theirs["ins"]), (ref, hyp)


def test_alignment_steps_cover_both_sentences_in_order():
    ref, hyp = "THE CAT SAT ON".split(), "A CAT SAT".split()
    steps = sclite_alignment(ref, hyp)
    assert [i for _, i, _ in steps if i is not None] == list(range(len(ref)))
    assert [j for _, _, j in steps if j is not None] == list(range(len(hyp)))
    assert sclite_alignment([], []) == []
    assert sclite_alignment([], ["A"]) == [("insert", None, 0)]
    assert sclite_alignment(["A"], []) == [("delete", 0, None)]


def test_unknown_alignment_is_an_error():
    from asrlens.errors import AsrlensError

    with pytest.raises(AsrlensError, match="unknown alignment 'nist': choose one of unit, sclite"):
        score_texts("A", "A", alignment="nist")
