"""The DuckDB file behind asrlens: connect, apply the schema, run named queries.

    engine = connect("asrlens.duckdb")   # applies schema.sql, migrates older files (migrations.py)
    rows = query(engine, "select * from run_summary")
    rows = query(engine, named_query("report", "worst_files"), run_id="r1")

The database path comes from the argument, else `$ASRLENS_DB`, else `./asrlens.duckdb`.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa

from asrlens import DEFAULT_DB, ENV_DB
from asrlens.db.describe import describe_error, one_line
from asrlens.db.identity import check_identity, file_identity, watch_identity
from asrlens.db.locks import waiting_for_lock
from asrlens.db.migrations import added_columns
from asrlens.errors import AsrlensError, CheckpointFailed
from asrlens.owner import is_alive

SCHEMA_VERSION = 9
"""Version of `schema.sql`. To add a column to an existing table: add it to its CREATE TABLE in
schema.sql and bump this; older files get the column by itself (asrlens.db.migrations). A new
table needs no bump (CREATE TABLE IF NOT EXISTS)."""

CHECK_MEMORY_LIMIT = "64MB"
"""DuckDB's memory limit while check_readable reads every table back (the blocks read are
evicted as the scan goes on, so opening a big file does not cache all of it)."""

MIGRATIONS: dict[int, list[str]] = {
    # version -> statements run on a file older than `version`, after the columns schema.sql
    # has were added and schema.sql ran (so every table exists): only what a new column's
    # DEFAULT cannot say.
    # 2: audio_files.non_finite_samples. Only float files can hold NaN / inf: the others are
    # known to have none; float files keep NULL (not counted yet), so the next ingest reads them.
    2: ["UPDATE audio_files SET non_finite_samples = 0 WHERE silence_fraction IS NOT NULL "
        "AND coalesce(subtype, '') NOT IN ('FLOAT', 'DOUBLE')"],
    # 3: runs.owner_pid, owner_host, owner_started_at (who owns a run).
    # 4: transcripts.ref_sha256 and rescored_at: a label changed since a file was scored is
    # rescored, so the hash of the reference already scored is filled in.
    4: ["UPDATE transcripts SET ref_sha256 = sha256(ref_raw) "
        "WHERE ref_sha256 IS NULL AND ref_raw IS NOT NULL"],
    # 5: runs.alignment (DEFAULT 'unit'), source_path, source_format; raw_errors,
    # raw_alignment_ops and import_issues are new tables.
    # 6: new tables only (utterance_labels, run_comparisons, comparison_tests, group_results).
    # Re-ingest a dataset to fill utterance_labels from its labels file.
    # 7: dataset layouts and speakers: utterances.speaker (re-ingest a dataset to fill it),
    # run_comparisons.resampled (the bootstrap's unit; comparisons stored before resampled
    # files); utterance_spans is a new table.
    7: ["UPDATE run_comparisons SET resampled = 'file' WHERE resampled IS NULL"],
    # 8: runs.data_fingerprint (NULL for older runs until the next `asrlens infer --run NAME`);
    # 9: run_comparisons.normalizer (the one normalizer a comparison's figures are under).
}


def resolve_path(path: str | os.PathLike | None = None) -> Path:
    """The database file to use: `path`, else $ASRLENS_DB, else ./asrlens.duckdb."""
    return Path(path or os.environ.get(ENV_DB) or DEFAULT_DB)


def no_database(path: str | os.PathLike) -> AsrlensError:
    """The one wording of a missing database file (commands that read one never create it)."""
    return AsrlensError(f"no database at {path}; run `asrlens ingest DATASET` first (or pass "
                        f"--db / set {ENV_DB})")


def connect(path: str | os.PathLike | None = None, *, read_only: bool = False) -> sa.Engine:
    """An SQLAlchemy engine on the DuckDB file, with the schema applied (unless read-only).

    A read-only engine needs the file to exist and refuses any write (DROP, DELETE, ...).
    Before a read-write engine writes anything, every table is read back (DuckDB checks each
    block's checksum), so a damaged file is refused untouched.
    Raises AsrlensError when the file is locked by another process, is not a DuckDB file or
    is damaged. A read-write engine marks the runs left 'running' by a process that is gone
    as 'interrupted' (mark_stale_runs). Call `close(engine)` when done: it checkpoints
    a read-write engine (so the .duckdb file alone holds the data) and releases the file.
    """
    return waiting_for_lock(lambda: _connect(resolve_path(path), read_only=read_only))


def _connect(db_path: Path, *, read_only: bool) -> sa.Engine:
    if read_only and not db_path.exists():
        raise no_database(db_path)
    existed = db_path.exists()
    if not read_only and db_path.parent and not db_path.parent.exists():
        db_path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        f"duckdb:///{db_path}", connect_args={"read_only": read_only} if read_only else {}
    )
    engine.asrlens_path = db_path
    engine.asrlens_read_only = read_only
    try:
        if read_only:
            with engine.connect() as conn:
                conn.execute(sa.text("select 1"))
        else:
            if existed:  # never write into a damaged file: read every table back first
                with engine.connect() as conn:
                    rows = query(conn, named_query("db", "base_tables"))
                check_readable(engine, [r["table_name"] for r in rows])
            apply_schema(engine)
            mark_stale_runs(engine)
            watch_identity(engine)
    except (sa.exc.SQLAlchemyError, duckdb.Error) as exc:
        engine.dispose()
        raise AsrlensError(f"cannot open database {describe_error(db_path, exc)}") from exc
    return engine


@contextlib.contextmanager
def database(
    path: str | os.PathLike | None = None,
    *,
    read_only: bool = False,
    on_warning: Callable[[str], None] | None = None,
) -> Iterator[sa.Engine]:
    """`connect(path)` for a `with` block, closed (and checkpointed) at its end.

        with database("asrlens.duckdb") as engine:
            infer(engine, engine_name="pocketsphinx")

    When the block ends normally and `close` leaves a .wal (the checkpoint failed), raises
    CheckpointFailed with close's warning: nothing reports "stored" while the .duckdb file
    alone lacks the latest rows. When the block raises, that error goes on and the warning,
    if any, is given to `on_warning`.
    """
    engine = connect(path, read_only=read_only)
    try:
        yield engine
        check_identity(engine)  # and at the end, for a command that committed nothing since
    except BaseException:
        warning = close(engine)
        if warning and on_warning is not None and file_identity(engine.asrlens_path):
            on_warning(warning)
        raise
    warning = close(engine)
    if warning:
        raise CheckpointFailed(warning)


def close(engine: sa.Engine) -> str | None:
    """Release the database file; a read-write engine is checkpointed first.

    The checkpoint folds the write-ahead log (`FILE.wal`) into the .duckdb file, so that the
    .duckdb file alone holds every committed row. Never raises: returns a warning (one
    sentence) when a .wal is left beside the file afterwards, None otherwise.
    """
    path = getattr(engine, "asrlens_path", None)
    read_only = getattr(engine, "asrlens_read_only", True)
    failure = None
    if not read_only:
        raw = None
        try:
            raw = engine.raw_connection()
            _checkpoint(raw.driver_connection)
            raw.close()
        except Exception as exc:  # disk full, damaged file, ...: reported below, never raised
            failure = one_line(exc)
            if raw is not None:  # a failed database refuses the pool's rollback: drop it
                raw.invalidate()
    engine.dispose()
    if read_only or path is None:
        return None
    wal = wal_path(path)
    if not wal.exists():
        return None
    why = f" (the checkpoint failed: {failure})" if failure else ""
    return (f"{wal} is left beside {path}{why}: the latest committed changes are only in it, "
            f"so copy or move the two files together; the next asrlens command that writes "
            f"folds it in (`asrlens doctor --fix` does only that)")


def _checkpoint(connection: duckdb.DuckDBPyConnection) -> None:
    """Fold the write-ahead log into the database file (all transactions are done)."""
    connection.execute("checkpoint")


def read_back(engine_or_conn: sa.Engine | sa.Connection, table: str) -> int:
    """Read every column of every row of `table`; returns the row count.

    DuckDB verifies a block's checksum when it reads the block, so a damaged table raises
    here (a database error) instead of in the middle of a later write.
    """
    if isinstance(engine_or_conn, sa.Engine):
        with engine_or_conn.connect() as conn:
            return read_back(conn, table)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", table):
        raise ValueError(f"bad table name {table!r}")
    sql = f"select count(*), min(hash(columns(*))) from {table}"
    return engine_or_conn.exec_driver_sql(sql).scalar()


def base_tables(engine: sa.Engine) -> list[str]:
    """The names of the database's tables (views left out)."""
    return [r["table_name"] for r in query(engine, named_query("db", "base_tables"))]


def schema_version(engine_or_conn: sa.Engine | sa.Connection) -> int:
    """The schema version a database file holds (0: none recorded, e.g. a new file)."""
    if isinstance(engine_or_conn, sa.Engine):
        with engine_or_conn.connect() as conn:
            return schema_version(conn)
    has_versions = engine_or_conn.execute(sa.text(
        "select count(*) from information_schema.tables "
        "where table_name = 'schema_version' and table_schema = current_schema()")).scalar()
    if not has_versions:
        return 0
    return engine_or_conn.execute(
        sa.text("select coalesce(max(version), 0) from schema_version")).scalar()


def check_version(engine_or_conn: sa.Engine | sa.Connection) -> int:
    """The file's schema version; AsrlensError when it is newer than this asrlens knows."""
    current = schema_version(engine_or_conn)
    if current > SCHEMA_VERSION:
        raise AsrlensError(
            f"database schema version {current} is newer than this asrlens "
            f"(knows up to {SCHEMA_VERSION}): upgrade asrlens"
        )
    return current


def check_readable(engine: sa.Engine, tables: Iterable[str]) -> None:
    """Raise AsrlensError naming the file when one of `tables` cannot be read back whole.

    DuckDB keeps the blocks it reads cached up to its memory limit, so the tables are read
    under CHECK_MEMORY_LIMIT (then the limit is reset): reading a big file back costs time,
    not memory."""
    with engine.connect() as conn:
        conn.exec_driver_sql(f"set memory_limit = '{CHECK_MEMORY_LIMIT}'")
        try:
            for table in tables:
                try:
                    read_back(conn, table)
                except (sa.exc.SQLAlchemyError, duckdb.Error) as exc:
                    path = getattr(engine, "asrlens_path", engine.url.database)
                    raise AsrlensError(f"cannot open database {describe_error(path, exc)} "
                                       f"(table {table}); nothing was written") from exc
        finally:
            with contextlib.suppress(sa.exc.SQLAlchemyError, duckdb.Error):
                conn.exec_driver_sql("reset memory_limit")


def wal_path(path: str | os.PathLike) -> Path:
    """DuckDB's write-ahead log beside the database file: FILE.wal."""
    return Path(f"{os.fspath(path)}.wal")


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
        schema = _package_text("schema.sql")
        older = bool(current) and current < SCHEMA_VERSION  # see asrlens.db.migrations
        if older:
            for statement in added_columns(raw, schema):
                raw.execute(statement)
        raw.execute(schema)
        if older:
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS.get(version, []):
                    raw.execute(statement)
        if current < SCHEMA_VERSION:
            conn.execute(
                sa.text("insert into schema_version (version) values (:v) on conflict do nothing"),
                {"v": SCHEMA_VERSION},
            )
    return SCHEMA_VERSION


def stale_runs(engine_or_conn: sa.Engine | sa.Connection) -> list[dict]:
    """Runs recorded as 'running' whose process is gone (asrlens.owner), with their
    owner columns."""
    running = query(engine_or_conn, named_query("db", "running_runs"))
    return [run for run in running if is_alive(run) is False]


def mark_stale_runs(engine: sa.Engine) -> list[str]:
    """Mark stale runs 'interrupted' (a read-write engine); returns their run ids."""
    stale = stale_runs(engine)
    if stale:
        with engine.begin() as conn:
            for run in stale:
                conn.execute(sa.text(named_query("db", "mark_interrupted")),
                             {"run_id": run["run_id"]})
    return [run["run_id"] for run in stale]


def named_query(stage: str, name: str) -> str:
    """The text of query `name` of a stage: the file asrlens/<stage>/queries/<name>.sql.

    Every query asrlens runs lives in such a file, one query per file; this is the one way
    to find them (e.g. named_query("report", "worst_files")).
    """
    return _package_text(f"{stage}/queries/{name}.sql")


def _package_text(relative_path: str) -> str:
    """The text of a .sql file shipped inside the asrlens package."""
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
    return insert_dicts(conn.connection.driver_connection, table, rows, replace=replace)


def insert_dicts(raw: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict] | Iterable[dict],
                 *, replace: bool = False) -> int:
    """insert_rows on a DuckDB connection itself (a scratch database outside SQLAlchemy)."""
    rows = list(rows)
    if not rows:
        return 0
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", table):
        raise ValueError(f"bad table name {table!r}")
    columns = list(rows[0])
    values = [[row[c] for row in rows] for c in columns]
    select = ", ".join(f"unnest(?) as {c}" for c in columns)
    verb = "insert or replace into" if replace else "insert into"
    raw.execute(f"{verb} {table} ({', '.join(columns)}) select {select}", values)
    return len(rows)


def delete_rows(conn: sa.Connection, table: str, **where: Any) -> None:
    """Delete the rows of `table` whose columns equal the `where` values; a list value
    matches any of its items (e.g. delete_rows(conn, "op_tags", run_id="r", utt_id=[...]))."""
    names = [table, *where]
    if not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) for name in names):
        raise ValueError(f"bad table or column name in {names!r}")
    tests = [f"{column} in (select unnest(:{column}))" if isinstance(value, list | tuple)
             else f"{column} = :{column}" for column, value in where.items()]
    conn.execute(sa.text(f"delete from {table} where {' and '.join(tests)}"),
                 {column: list(value) if isinstance(value, tuple) else value
                  for column, value in where.items()})
