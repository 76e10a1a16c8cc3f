"""The data fingerprint of a run: one hash of what it was scored on.

    fingerprint = store_fingerprint(conn, "sphinx")   # computed and written to runs
    current = compute_fingerprint(conn, "sphinx")     # from the rows as they are now

A run's fingerprint is the sha256 of the sorted list of 'utt_id|reference sha256|audio
sha256' over every file it covers (fingerprint_lines.sql), joined by newlines and hashed
BATCH_FILES files at a time (memory does not grow with the run): the set of utterances, the
reference texts as scored and the audio bytes, independent of the order the files were
processed in.
Two runs with the same fingerprint were scored on the same data; `asrlens compare` and
`asrlens gate` refuse runs whose fingerprints differ unless told otherwise. It is recorded in
runs.data_fingerprint when `asrlens infer` or `asrlens import-run` ends (docs/schema.md).

This module sits below the stages: infer writes the fingerprint, compare and the report read
it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa

from asrlens.db import named_query, query

SHORT = 12
"""Hex digits of a fingerprint shown in reports and messages."""
BATCH_FILES = 20000
"""Files whose lines are read at a time."""


@dataclass(frozen=True)
class Fingerprint:
    """A run's fingerprint: the hex digest (None when it covers no file) and its file count."""

    value: str | None
    files: int

    @property
    def short(self) -> str:
        return short(self.value)


def short(value: str | None) -> str:
    """The first SHORT hex digits of a fingerprint, or '–' when there is none."""
    return value[:SHORT] if value else "–"


def compute_fingerprint(db: sa.Engine | sa.Connection, run_id: str) -> Fingerprint:
    """The run's fingerprint from its transcripts and the dataset's audio hashes now."""
    if isinstance(db, sa.Engine):
        with db.connect() as conn:
            return compute_fingerprint(conn, run_id)
    digest, files = hashlib.sha256(), 0
    for batch in query(db, named_query("fingerprint", "fingerprint_batches"), run_id=run_id,
                       batch_files=BATCH_FILES):
        for row in query(db, named_query("fingerprint", "fingerprint_lines"), run_id=run_id,
                         first_utt_id=batch["first_utt_id"],
                         last_utt_id=batch["last_utt_id"]):
            digest.update((row["line"] if files == 0 else "\n" + row["line"]).encode())
            files += 1
    return Fingerprint(digest.hexdigest() if files else None, files)


def store_fingerprint(conn: sa.Connection, run_id: str) -> Fingerprint:
    """Compute the run's fingerprint and record it in runs.data_fingerprint (in `conn`'s
    transaction)."""
    fingerprint = compute_fingerprint(conn, run_id)
    conn.execute(sa.text(named_query("fingerprint", "store_fingerprint")),
                 {"run_id": run_id, "fingerprint": fingerprint.value})
    return fingerprint


def run_fingerprint(db: sa.Engine | sa.Connection, run_id: str) -> str | None:
    """The fingerprint recorded for the run; computed from the data now when the run has
    none recorded (a run made before schema version 8)."""
    rows = query(db, named_query("fingerprint", "recorded_fingerprint"), run_id=run_id)
    if rows and rows[0]["data_fingerprint"]:
        return rows[0]["data_fingerprint"]
    return compute_fingerprint(db, run_id).value
