"""A scratch DuckDB file where ingest builds one dataset's rows batch by batch, so that no
whole-dataset list is held in Python (issue 21 item 11, issue 26).

    scratch = Scratch(Path(tmp))          # tmp: a temporary folder
    copy_stored(engine, "ds", scratch.path)   # the stored audio rows (asrlens.ingest.store)
    scratch.open()
    scratch.append("utterances", rows)    # dicts, one batch
    scratch.close()                       # then asrlens.ingest.store compares and copies

The scratch file holds the ingest tables (columns as in schema.sql, no keys, plus `ord`, the
order rows are stored in) and work tables: listing (every audio file), claims (file -> the
label that has it), reused, to_read, facts (files read now), embedded_reused, outside,
old_audio and old_spans (the rows stored by the last ingest). DuckDB keeps at most
MEMORY_LIMIT of it in memory and the rest on disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import duckdb

from asrlens.db import insert_dicts, named_query
from asrlens.ingest.store import TABLES

SCHEMA = resources.files("asrlens").joinpath("schema.sql")
"""The public schema: run on the scratch connection's in-memory catalog, it gives the ingest
tables' columns and types."""

MEMORY_LIMIT = "512MB"
"""DuckDB's buffer limit for the scratch file (beyond it, it spills to the scratch folder).
Not every operator spills: building the audio rows (a window over every file, ordered by
path) ran out of 64 MB at 1,000,000 files and of 20 MB at 131,000, so 512 MB leaves room for
several million files while ingest's peak stays near 1 GB (BENCHMARKS.md, "Scale")."""

PAGE_ROWS = 20_000
"""Rows fetched from the scratch file at a time."""

WORK_TABLES = {
    "listing": "ord bigint, path varchar, embedded boolean",
    "claims": "path varchar, utt_id varchar",
    "reused": "path varchar",
    "outside": "ord bigint, path varchar",
}
"""Work tables with their columns (facts, embedded_reused, old_audio and old_spans take
audio_files' and utterance_spans' columns)."""


class Scratch:
    """The scratch database of one ingest (see the module doc)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "scratch.duckdb"
        self.conn: duckdb.DuckDBPyConnection | None = None

    def open(self) -> None:
        conn = duckdb.connect(":memory:")
        self.conn = conn
        spill = _quoted(self.folder / "spill")
        conn.execute(f"set memory_limit = '{MEMORY_LIMIT}'; set temp_directory = {spill}; "
                     "set preserve_insertion_order = true; set threads = 1")
        conn.execute(SCHEMA.read_text(encoding="utf-8"))  # the tables, empty, in memory
        conn.execute(f"attach {_quoted(self.path)} as scratch (READ_WRITE); use scratch")
        for table in TABLES:
            conn.execute(f"create table {table} as "
                         f"select *, 0::bigint as ord from memory.{table} limit 0")
        for table, columns in WORK_TABLES.items():
            conn.execute(f"create table {table} ({columns})")
        conn.execute("create table facts as select * exclude (dataset, utt_id), "
                     "''::varchar as problem, ''::varchar as message, 0::bigint as ord "
                     "from memory.audio_files limit 0")
        conn.execute("create table embedded_reused as select *, 0::bigint as ord "
                     "from memory.audio_files limit 0")
        for held, table in (("old_audio", "audio_files"), ("old_spans", "utterance_spans")):
            conn.execute(f"create table if not exists {held} as "
                         f"select * from memory.{table} limit 0")
            present = {row[0] for row in conn.execute(f"describe {held}").fetchall()}
            for name, kind, *_ in conn.execute(f"describe memory.{table}").fetchall():
                if name not in present:  # stored by an older asrlens (schema 1): NULL
                    conn.execute(f"alter table {held} add column {name} {kind}")

    def sort(self) -> None:
        """Rewrite each ingest table in its `ord` order, the order it is stored in."""
        for table in TABLES:
            self.conn.execute(f"create table sorted as select * from {table} order by ord; "
                              f"drop table {table}; alter table sorted rename to {table}")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def append(self, table: str, rows: list[dict]) -> None:
        """Insert dict rows (all with the same keys) into `table`, column-wise in one
        statement."""
        insert_dicts(self.conn, table, rows)

    def run(self, sql: str, *params) -> None:
        self.conn.execute(sql, list(params))

    def rows(self, sql: str, *params) -> list[dict]:
        cursor = self.conn.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def value(self, sql: str, *params):
        return self.conn.execute(sql, list(params)).fetchone()[0]

    def pages(self, table: str, columns: str) -> Iterator[list[tuple]]:
        """The rows of a table numbered `rn` (1, 2, ...), PAGE_ROWS at a time, in order."""
        start = 0
        while True:
            page = self.conn.execute(
                f"select {columns} from {table} where rn > ? and rn <= ? order by rn",
                [start, start + PAGE_ROWS]).fetchall()
            if not page:
                return
            yield page
            start += PAGE_ROWS

    def stored_audio(self, path: str) -> dict | None:
        """The row stored by the last ingest for `path`, or None."""
        found = self.rows("select * from old_audio where path = ?", path)
        return found[0] if found else None

    def stored_audio_starting_with(self, prefix: str) -> dict[str, dict]:
        """path -> stored row, of the stored paths starting with `prefix`."""
        return {r["path"]: r for r in self.rows(
            "select * from old_audio where starts_with(path, ?)", prefix)}

    def build_audio_rows(self, dataset: str) -> None:
        self.run(named_query("ingest", "audio_rows"), dataset)

    def build_derived_issues(self, dataset: str) -> None:
        self.run(named_query("ingest", "derived_issues"), dataset)

    def plan_reuse(self) -> None:
        self.run(named_query("ingest", "reuse_check"))

    def plan_reads(self) -> None:
        self.run(named_query("ingest", "to_read"))

    def summary(self) -> dict:
        return self.rows(named_query("ingest", "summary"))[0]

    def issue_counts(self) -> dict[str, int]:
        return {r["kind"]: r["n"] for r in self.rows(named_query("ingest", "issue_counts"))}


class StoredAudio:
    """LayoutContext.old_audio backed by the scratch file: get(path) and
    starting_with(prefix), without holding the stored rows."""

    def __init__(self, scratch: Scratch) -> None:
        self._scratch = scratch

    def get(self, path: str, default=None):
        row = self._scratch.stored_audio(path)
        return default if row is None else row

    def starting_with(self, prefix: str) -> dict[str, dict]:
        return self._scratch.stored_audio_starting_with(prefix)


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
