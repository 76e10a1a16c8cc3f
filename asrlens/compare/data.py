"""Were two runs scored on the same data? Their fingerprints (asrlens.fingerprint) say.

    check = check_same_data(conn, run_a="sphinx", run_b="w2v", allow_different=False)
    check.same, check.files_differing

Runs with different fingerprints are refused (AsrlensError) unless `allow_different` is
set; then they are compared on the files both cover with the same reference text, and the
check counts the files that differ. Runs with the same fingerprint are paired on every file
both scored, as before.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa

from asrlens.db import named_query, query
from asrlens.errors import AsrlensError
from asrlens.fingerprint import run_fingerprint, short

ALLOW_OPTION = "--allow-different-data"


@dataclass(frozen=True)
class DataCheck:
    """Both runs' fingerprints and how their files differ."""

    fingerprint_a: str | None
    fingerprint_b: str | None
    only_a: int             # files covered by run a only
    only_b: int             # files covered by run b only
    reference_changed: int  # files both cover, scored against different reference texts
    differing_ids: frozenset[str] = frozenset()
    """The files counted above: left out of the pairs."""

    @property
    def same(self) -> bool:
        return self.fingerprint_a == self.fingerprint_b

    @property
    def files_differing(self) -> int:
        return self.only_a + self.only_b + self.reference_changed

    def describe(self) -> str:
        """One phrase: how the data differ ('' when the fingerprints agree)."""
        if self.same:
            return ""
        parts = [f"{n} {what}" for n, what in (
            (self.only_a, "in the baseline only"), (self.only_b, "in the candidate only"),
            (self.reference_changed, "with a changed reference")) if n]
        if not parts:  # same ids and references: the audio bytes changed
            return "the same files and references, but different audio (re-ingested since)"
        n = self.files_differing
        return f"{n} file{' differs' if n == 1 else 's differ'}: " + ", ".join(parts)


def check_same_data(conn: sa.Connection, *, run_a: str, run_b: str,
                    allow_different: bool) -> DataCheck:
    """The two runs' DataCheck; AsrlensError when their fingerprints differ and
    `allow_different` is not set."""
    rows = query(conn, named_query("compare", "differing_files"), run_a=run_a, run_b=run_b)
    how = Counter(r["how"] for r in rows)
    check = DataCheck(run_fingerprint(conn, run_a), run_fingerprint(conn, run_b),
                      how["only_a"], how["only_b"], how["reference_changed"],
                      frozenset(r["utt_id"] for r in rows))
    if not check.same and not allow_different:
        raise AsrlensError(
            f"runs {run_a!r} and {run_b!r} were scored on different data (fingerprints "
            f"{short(check.fingerprint_a)} and {short(check.fingerprint_b)}; "
            f"{check.describe()}): add {ALLOW_OPTION} to compare them on the files they share")
    return check
