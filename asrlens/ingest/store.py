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


@dataclass
class DatasetRows:
    """All rows of one dataset in the ingest tables, as dicts (column -> value)."""

    datasets: list[dict] = field(default_factory=list)
    utterances: list[dict] = field(default_factory=list)
    audio_files: list[dict] = field(default_factory=list)
    ingest_issues: list[dict] = field(default_factory=list)
    utterance_labels: list[dict] = field(default_factory=list)
    utterance_spans: list[dict] = field(default_factory=list)

    def same_content(self, other: DatasetRows) -> bool:
        """True when both hold the same rows, in any order, ingested_at aside."""
        return all(_canonical(getattr(self, t)) == _canonical(getattr(other, t)) for t in TABLES)


def load_dataset_rows(engine: sa.Engine, dataset: str) -> DatasetRows:
    """The rows stored for `dataset` (empty lists when it was never ingested)."""
    rows = DatasetRows()
    with engine.connect() as conn:
        for table, key in TABLES.items():
            # table and key come from TABLES above, never from the user
            setattr(rows, table, query(conn, f"select * from {table} where {key} = :d", d=dataset))
    return rows


def replace_dataset_rows(engine: sa.Engine, dataset: str, rows: DatasetRows) -> None:
    """Replace everything stored for `dataset` by `rows`, in one transaction.

    On any error nothing changes: the earlier rows stay as they were.
    """
    with engine.begin() as conn:
        for table, key in TABLES.items():
            conn.execute(sa.text(f"delete from {table} where {key} = :d"), {"d": dataset})
            insert_rows(conn, table, getattr(rows, table))


def _canonical(rows: list[dict]) -> list[tuple]:
    keyed = [
        tuple(sorted((k, v) for k, v in row.items() if k not in IGNORED_IN_COMPARISON))
        for row in rows
    ]
    return sorted(keyed, key=repr)
