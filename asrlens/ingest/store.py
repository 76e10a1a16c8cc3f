"""Moving one dataset's rows between the database and ingest's scratch file
(asrlens.ingest.staging), in one transaction, with DuckDB doing the work: no row is held
in Python.

    copy_stored(engine, "ljspeech-sample", scratch)       # stored audio rows -> scratch
    if differs(engine, "ljspeech-sample", scratch):       # digests made by DuckDB
        replace_dataset_rows(engine, "ljspeech-sample", scratch)   # all or nothing
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

TABLES = {"datasets": "name", "utterances": "dataset", "audio_files": "dataset",
          "ingest_issues": "dataset", "utterance_labels": "dataset",
          "utterance_spans": "dataset"}
"""The ingest tables -> the column holding the dataset name (their rows are one dataset's)."""

IGNORED_IN_COMPARISON = {"ingested_at"}
"""Columns that differ on every ingest and do not count as a change."""

HELD_TABLES = {"old_audio": "audio_files", "old_spans": "utterance_spans"}
"""Scratch tables -> the stored table whose rows of the dataset they receive: ingest needs
them to skip unchanged files."""

ALIAS = "asrlens_ingest_scratch"
"""The name the scratch file is attached under, on the database's connection."""


def copy_stored(engine: sa.Engine, dataset: str, scratch: Path) -> None:
    """Copy the dataset's stored audio_files and utterance_spans rows into the scratch file
    (created), as old_audio and old_spans. Works on a read-only engine."""
    with engine.connect() as conn, _attached(conn, scratch, read_only=False):
        for held, table in HELD_TABLES.items():
            conn.execute(sa.text(f"create table {ALIAS}.{held} as "  # names from above
                                 f"select * from {table} where dataset = :d"), {"d": dataset})
        conn.commit()


def differs(engine: sa.Engine, dataset: str, scratch: Path) -> bool:
    """True when the rows staged in the scratch file are not, in any order, the rows stored
    for `dataset` (ingested_at aside): compared by count and an order-independent digest
    (the sum of the rows' hashes), which DuckDB computes in one streaming pass each."""
    with engine.connect() as conn, _attached(conn, scratch, read_only=True):
        for table, key in TABLES.items():
            columns = ", ".join(_columns(conn, table))
            digest = f"select count(*), sum(hash({columns})::hugeint) from "
            stored = conn.execute(sa.text(f"{digest} {table} where {key} = :d"),
                                  {"d": dataset}).one()
            staged = conn.execute(sa.text(f"{digest} {ALIAS}.{table}")).one()
            if tuple(stored) != tuple(staged):
                return True
        return False


def replace_dataset_rows(engine: sa.Engine, dataset: str, scratch: Path) -> None:
    """Replace everything stored for `dataset` by the rows staged in the scratch file, in
    one transaction, in their staged order (`ord`).

    On any error nothing changes: the earlier rows stay as they were.
    """
    with engine.connect() as conn, _attached(conn, scratch, read_only=True):
        with conn.begin():
            for table, key in TABLES.items():
                conn.execute(sa.text(f"delete from {table} where {key} = :d"), {"d": dataset})
                copy_table(conn, table)


def copy_table(conn: sa.Connection, table: str) -> None:
    """Insert the staged rows of `table` (the scratch file attached), in their order (the
    scratch tables are sorted by `ord` when staging ends: no sort here)."""
    columns = ", ".join(_columns(conn, table, everything=True))
    conn.execute(sa.text(f"insert into {table} ({columns}) select {columns} "
                         f"from {ALIAS}.{table}"))


def _columns(conn: sa.Connection, table: str, *, everything: bool = False) -> list[str]:
    """The stored table's columns, in order (ingested_at left out unless `everything`)."""
    rows = conn.execute(sa.text(
        "select column_name from information_schema.columns where table_name = :t "
        "and table_catalog = current_database() and table_schema = current_schema() "
        "order by ordinal_position"), {"t": table}).scalars().all()
    return [c for c in rows if everything or c not in IGNORED_IN_COMPARISON]


@contextlib.contextmanager
def _attached(conn: sa.Connection, scratch: Path, *, read_only: bool) -> Iterator[None]:
    mode = "READ_ONLY" if read_only else "READ_WRITE"
    path = "'" + str(scratch).replace("'", "''") + "'"
    conn.exec_driver_sql(f"attach {path} as {ALIAS} ({mode})")
    conn.commit()
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            conn.rollback()
        conn.exec_driver_sql(f"detach {ALIAS}")
        conn.commit()
