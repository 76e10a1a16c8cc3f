"""One normalizer for both runs of a comparison: runs scored under different normalizers
are rescored from their stored raw texts before they are paired.

    common = common_scores(conn, run_a="sphinx-minimal", run_b="sphinx", normalizer=None)
    common.normalizer        # 'ljspeech': run a's, unless --normalizer names another
    common.score("sphinx", transcript=..., normalized=..., hyp_raw=...)
    # (ref_words, errors, 'CCSC'): one file under it (compare reads the texts batch by batch)

Scored under `minimal`, "Mr. Smith" has two reference words that `ljspeech` spells out as
"mister smith": the same hypothesis then has different error counts, and a comparison of the
stored scores would call the runs different when the recognizers said exactly the same. So
both runs are scored anew under one normalizer, each with its own alignment mode; the stored
rows are not changed. Each run's own figure (under its own normalizer) is kept beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from asrlens.db import named_query, query
from asrlens.errors import AsrlensError
from asrlens.scoring.normalize import Normalizer, get_normalizer
from asrlens.scoring.score import score_texts

LETTERS = {"equal": "C", "substitute": "S", "delete": "D", "insert": "I"}
"""alignment op -> the letter sclite (and MAPSSWE) uses."""


@dataclass
class CommonScores:
    """How both runs' shared files are scored under one normalizer (`score`, file by file,
    as the comparison reads them)."""

    normalizer: str | None  # None: run a's normalizer is unknown here, nothing rescored
    own: dict[str, str]  # run -> the normalizer it was scored under
    rescored: list[str]  # runs scored anew here (own normalizer differs)
    norm: Normalizer | None = field(default=None, repr=False)  # the common normalizer
    alignments: dict[str, str] = field(default_factory=dict)  # run -> its alignment mode

    def score(self, run: str, *, transcript: str | None, normalized: str | None,
              hyp_raw: str | None) -> tuple[int, int, str]:
        """(reference words, errors, alignment letters C S D I) of one file of `run` under
        the common normalizer, from the labels' two reference columns and the raw output."""
        ref = self.norm(self.norm.reference(transcript=transcript, normalized=normalized))
        score = score_texts(ref, self.norm(hyp_raw), alignment=self.alignments[run])
        return score.ref_words, score.errors, "".join(LETTERS[op.op] for op in score.ops)


def run_normalizers(conn: sa.Connection, *runs: str) -> dict[str, dict]:
    """run -> its runs row's normalizer and alignment."""
    return {run: query(conn, named_query("compare", "run_scoring"), run_id=run)[0]
            for run in runs}


def choose_normalizer(own: dict[str, str], first: str, normalizer: str | None) -> str:
    """The common normalizer's id (name-vVERSION, as runs.normalizer holds it): that of
    `normalizer` when given (AsrlensError if unknown), else the first run's."""
    return own[first] if normalizer is None else get_normalizer(normalizer).id


def _normalizer_id(name: str) -> str:
    """runs.normalizer as an id (ljspeech-v1); a name this asrlens does not know stays as it
    is (it is rescored only when a comparison needs it, and then refused)."""
    try:
        return get_normalizer(name).id
    except AsrlensError:
        return name


def common_scores(conn: sa.Connection, *, run_a: str, run_b: str,
                  normalizer: str | None) -> CommonScores | None:
    """Both runs' files scored under one normalizer, or None when both were scored under
    it already (the stored scores are then used as they are)."""
    scoring = run_normalizers(conn, run_a, run_b)
    own = {run: _normalizer_id(row["normalizer"]) for run, row in scoring.items()}
    chosen = choose_normalizer(own, run_a, normalizer)
    rescored = [run for run in (run_a, run_b) if own[run] != chosen]
    if not rescored:
        return None
    try:
        norm = get_normalizer(chosen)
    except AsrlensError:  # run a's normalizer is not one this asrlens knows: say so
        return CommonScores(normalizer=None, own=own, rescored=[])
    return CommonScores(normalizer=chosen, own=own, rescored=rescored, norm=norm,
                        alignments={run: scoring[run]["alignment"] for run in (run_a, run_b)})
