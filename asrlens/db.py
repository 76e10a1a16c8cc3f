"""The DuckDB file behind asrlens: connect, apply the schema, run named queries.

    engine = connect("asrlens.duckdb")          # applies schema.sql, migrates older files
    rows = query(engine, "select * from run_summary")
    rows = query(engine, read_sql("report/queries/worst_files.sql"), run_id="r1")

The database path comes from the argument, else `$ASRLENS_DB`, else `./asrlens.duckdb`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from asrlens import DEFAULT_DB, ENV_DB
from asrlens.errors import AsrlensError

SCHEMA_VERSION = 4
"""Version of `schema.sql`. Bump it and add an entry to MIGRATIONS when a table changes."""

MIGRATIONS: dict[int, list[str]] = {
    # version -> statements that bring a file at version-1 to version, run before schema.sql.
    # Example: 2: ["ALTER TABLE runs ADD COLUMN IF NOT EXISTS seed INTEGER"],
    4: [  # reference hashes: results scored against a label changed since are rescored
        "ALTER TABLE transcripts ADD COLUMN IF NOT EXISTS ref_sha256 VARCHAR",
        "ALTER TABLE transcripts ADD COLUMN IF NOT EXISTS rescored_at TIMESTAMP",
        "UPDATE transcripts SET ref_sha256 = sha256(ref_raw) "
        "WHERE ref_sha256 IS NULL AND ref_raw IS NOT NULL",
    ],
}


def resolve_path(path: str | os.PathLike | None = None) -> Path:
    """The database file to use: `path`, else $ASRLENS_DB, else ./asrlens.duckdb."""
    return Path(path or os.environ.get(ENV_DB) or DEFAULT_DB)


def connect(path: str | os.PathLike | None = None, *, read_only: bool = False) -> sa.Engine:
    """An SQLAlchemy engine on the DuckDB file, with the schema applied (unless read-only).

    A read-only engine needs the file to exist and refuses any write (DROP, DELETE, ...).
    Raises AsrlensError when the file is locked by another process or is not a DuckDB file.
    Call `engine.dispose()` when done so the file is released.
    """
    db_path = resolve_path(path)
    if read_only and not db_path.exists():
        raise AsrlensError(
            f"database {db_path} does not exist: run `asrlens ingest DATASET` first "
            f"(or pass --db / set {ENV_DB})"
        )
    if not read_only and db_path.parent and not db_path.parent.exists():
        db_path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        f"duckdb:///{db_path}", connect_args={"read_only": read_only} if read_only else {}
    )
    try:
        if read_only:
            with engine.connect() as conn:
                conn.execute(sa.text("select 1"))
        else:
            apply_schema(engine)
    except sa.exc.DBAPIError as exc:
        engine.dispose()
        raise AsrlensError(f"cannot open database {db_path}: {one_line(exc)}") from exc
    return engine


def apply_schema(engine: sa.Engine) -> int:
    """Create missing tables and views and migrate an older file; returns the version now held.

    Idempotent: running it on an up-to-date file changes nothing.
    """
    with engine.begin() as conn:
        raw = conn.connection.driver_connection  # the duckdb connection: runs multi-statement SQL
        has_versions = conn.execute(
            sa.text(
                "select count(*) from information_schema.tables "
                "where table_name = 'schema_version' and table_schema = current_schema()"
            )
        ).scalar()
        current = 0
        if has_versions:
            current = conn.execute(
                sa.text("select coalesce(max(version), 0) from schema_version")
            ).scalar()
        if current > SCHEMA_VERSION:
            raise AsrlensError(
                f"database schema version {current} is newer than this asrlens "
                f"(knows up to {SCHEMA_VERSION}): upgrade asrlens"
            )
        if current:
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS.get(version, []):
                    raw.execute(statement)
        raw.execute(read_sql("schema.sql"))
        if current < SCHEMA_VERSION:
            conn.execute(
                sa.text("insert into schema_version (version) values (:v) on conflict do nothing"),
                {"v": SCHEMA_VERSION},
            )
    return SCHEMA_VERSION


def read_sql(relative_path: str) -> str:
    """The text of a .sql file shipped inside the asrlens package, e.g. 'report/queries/x.sql'."""
    resource = resources.files("asrlens").joinpath(relative_path)
    try:
        return resource.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise AsrlensError(f"missing SQL file asrlens/{relative_path}") from exc


def query(engine_or_conn: sa.Engine | sa.Connection, sql: str, **params: Any) -> list[dict]:
    """Run one SQL statement with :named parameters; rows as dicts (column -> value)."""
    if isinstance(engine_or_conn, sa.Engine):
        with engine_or_conn.connect() as conn:
            return query(conn, sql, **params)
    result = engine_or_conn.execute(sa.text(sql), params)
    if not result.returns_rows:
        return []
    return [dict(row._mapping) for row in result]


def insert_rows(
    conn: sa.Connection, table: str, rows: Sequence[dict] | Iterable[dict], *, replace: bool = False
) -> int:
    """Insert many dict rows (all with the same keys) into `table` in one statement.

    The rows travel column-wise as lists and are unnested by DuckDB: about 400,000 rows/s,
    where executemany manages about 2,000. With replace=True, rows whose primary key exists
    are replaced (INSERT OR REPLACE). Runs inside `conn`'s transaction. Returns the row count.
    """
    rows = list(rows)
    if not rows:
        return 0
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", table):
        raise ValueError(f"bad table name {table!r}")
    columns = list(rows[0])
    values = [[row[c] for row in rows] for c in columns]
    select = ", ".join(f"unnest(?) as {c}" for c in columns)
    verb = "insert or replace into" if replace else "insert into"
    sql = f"{verb} {table} ({', '.join(columns)}) select {select}"
    conn.connection.driver_connection.execute(sql, values)
    return len(rows)


def one_line(exc: BaseException) -> str:
    """The first meaningful line of a database error, without SQLAlchemy's boilerplate."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return text.splitlines()[0] if text else type(orig).__name__
