"""Reading and replacing one dataset's rows in the ingest tables, in one transaction.

    old = load_dataset_rows(engine, "ljspeech-sample")     # DatasetRows (empty when new)
    if old != new:
        replace_dataset_rows(engine, new)                   # all or nothing
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from asrlens.db import insert_rows, query

TABLES = {"datasets": "name", "utterances": "dataset", "audio_files": "dataset",
          "ingest_issues": "dataset", "utterance_labels": "dataset",
          "utterance_spans": "dataset"}
"""The ingest tables -> the column holding the dataset name (their rows are one dataset's)."""

IGNORED_IN_COMPARISON = {"ingested_at"}
"""Columns that differ on every ingest and do not count as a change."""


HELD_TABLES = ("audio_files", "utterance_spans")
"""Tables whose stored rows ingest needs (to skip unchanged files); the others are loaded as
digests only."""

BATCH_ROWS = 50_000
"""Rows read or inserted at a time: a million labels never travel as one list."""


@dataclass
class DatasetRows:
    """All rows of one dataset in the ingest tables, as dicts (column -> value).

    Rows loaded from the database keep only a digest of each table but HELD_TABLES (whose
    rows ingest needs to skip unchanged files): `digests` (table -> digest), so that a
    million stored labels are compared without being held.
    """

    datasets: list[dict] = field(default_factory=list)
    utterances: list[dict] = field(default_factory=list)
    audio_files: list[dict] = field(default_factory=list)
    ingest_issues: list[dict] = field(default_factory=list)
    utterance_labels: list[dict] = field(default_factory=list)
    utterance_spans: list[dict] = field(default_factory=list)
    digests: dict[str, tuple[int, int]] = field(default_factory=dict)

    def digest(self, table: str) -> tuple[int, int]:
        """(row count, order-independent digest) of `table`'s rows."""
        if table in self.digests:
            return self.digests[table]
        return _digest(getattr(self, table))

    def same_content(self, other: DatasetRows) -> bool:
        """True when both hold the same rows, in any order, ingested_at aside."""
        return all(self.digest(t) == other.digest(t) for t in TABLES)


def load_dataset_rows(engine: sa.Engine, dataset: str) -> DatasetRows:
    """The rows stored for `dataset` (empty when it was never ingested): HELD_TABLES as
    rows, the other tables as digests, read BATCH_ROWS at a time."""
    rows = DatasetRows()
    with engine.connect() as conn:
        for table, key in TABLES.items():
            # table and key come from TABLES above, never from the user
            sql = f"select * from {table} where {key} = :d"
            if table in HELD_TABLES:
                setattr(rows, table, query(conn, sql, d=dataset))
                continue
            result = conn.execution_options(stream_results=True, max_row_buffer=BATCH_ROWS
                                            ).execute(sa.text(sql), {"d": dataset})
            rows.digests[table] = _digest(dict(row._mapping) for row in result)
    return rows


def replace_dataset_rows(engine: sa.Engine, dataset: str, rows: DatasetRows) -> None:
    """Replace everything stored for `dataset` by `rows`, in one transaction (inserted
    BATCH_ROWS at a time).

    On any error nothing changes: the earlier rows stay as they were.
    """
    with engine.begin() as conn:
        for table, key in TABLES.items():
            conn.execute(sa.text(f"delete from {table} where {key} = :d"), {"d": dataset})
            table_rows = getattr(rows, table)
            for start in range(0, len(table_rows), BATCH_ROWS):
                insert_rows(conn, table, table_rows[start:start + BATCH_ROWS])


def _digest(rows) -> tuple[int, int]:
    """(count, sum of the rows' hashes mod 2**64): equal for the same rows in any order."""
    count, total = 0, 0
    for row in rows:
        key = tuple(sorted((k, v) for k, v in row.items() if k not in IGNORED_IN_COMPARISON))
        total = (total + hash(key)) & 0xFFFF_FFFF_FFFF_FFFF
        count += 1
    return count, total
