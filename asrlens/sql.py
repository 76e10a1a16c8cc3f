"""Ad-hoc SQL on a read-only connection, and the three output formats of `asrlens sql`.

    result = run_query("asrlens.duckdb", "select kind, count(*) from ingest_issues group by 1")
    print(format_result(result, "table"))

Parameters are named placeholders, DuckDB's `$name` or SQLAlchemy's `:name` (the style of the
report's query files, so any of them runs as is): run_query(..., params={"d": "ljs"}) for
`where dataset = $d` or `where dataset = :d`.

The database is opened read-only and sandboxed (SANDBOX_CONFIG): a statement that writes fails
with a message saying so, and nothing outside the database file can be read or written (no
COPY, ATTACH, read_csv('/etc/passwd'), INSTALL, SET, ...). `write=True` (`asrlens sql
--write`) is the explicit way out: a read-write connection with all of DuckDB.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import sqlalchemy as sa

from asrlens.db import database, describe_error, no_database, resolve_path
from asrlens.db.locks import waiting_for_lock
from asrlens.errors import AsrlensError
from asrlens.interrupt import DeadlinePassed, interruptible
from asrlens.sql_output import FORMATS, row_writer

SANDBOX_CONFIG = {"enable_external_access": False, "lock_configuration": True}
"""DuckDB settings of the read-only connection: no file, network or extension access outside
the database file, and no statement may change a setting (so neither can be turned back on)."""

REFUSED_STATEMENTS = {
    duckdb.StatementType.ATTACH: "ATTACH",
    duckdb.StatementType.DETACH: "DETACH",
    duckdb.StatementType.COPY: "COPY",
    duckdb.StatementType.COPY_DATABASE: "COPY FROM DATABASE",
    duckdb.StatementType.EXPORT: "EXPORT DATABASE",
    duckdb.StatementType.LOAD: "INSTALL / LOAD",
    duckdb.StatementType.EXTENSION: "extension",
    duckdb.StatementType.SET: "SET / RESET / PRAGMA setting",
}
"""Statement kinds `asrlens sql` refuses before running anything (without --write): they reach
outside the database or change the connection. SANDBOX_CONFIG stops them too; this check
gives the clearer message."""

QUIET_SETTINGS = {"enable_progress_bar": "false"}
"""DuckDB draws a progress bar on stdout for queries over 2 s, into the csv or json output:
off, with or without --write (a per-connection setting, so it is SET before the lock)."""

_PARAM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)


@dataclass(frozen=True)
class QueryResult:
    """Column names and rows (tuples of Python values) of one query."""

    columns: list[str]
    rows: list[tuple]


def parse_params(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """`name=value` strings -> {name: value}; raises AsrlensError on a malformed one."""
    params = {}
    for item in items:
        match = _PARAM.match(item)
        if not match:
            raise AsrlensError(f"--param {item!r} is not NAME=VALUE (e.g. --param run=sphinx)")
        params[match[1]] = match[2]
    return params


@dataclass(frozen=True)
class QueryLimits:
    """What one `asrlens sql` query may use: wall-clock seconds (None: no limit) and DuckDB
    memory (None: DuckDB's default, 80% of RAM), e.g. '2GB'."""

    timeout_s: float | None = None
    memory_limit: str | None = None


def check_memory_limit(text: str | None) -> str | None:
    """`text` when it is a size DuckDB takes for memory_limit (500MB, 2GB, 1.5GiB), else
    AsrlensError; None stays None."""
    if text is not None and not _MEMORY.fullmatch(text):
        raise AsrlensError(f"--memory-limit {text!r} is not a size like 500MB, 2GB or 1.5GiB")
    return text


def run_query(
    db_path: str | os.PathLike, sql: str, *, params: dict[str, object] | None = None,
    write: bool = False, limits: QueryLimits | None = None,
) -> QueryResult:
    """Run `sql` (one or more statements; the last one's rows are returned, all of them).

    Read-only and sandboxed unless write=True (see the module doc). Raises AsrlensError with
    one line for an empty query, a missing or locked database, a statement that would write
    or reach outside the database, any DuckDB error (syntax, unknown table, ...) or a query
    past limits.timeout_s; KeyboardInterrupt (Ctrl-C, SIGTERM) stops the query at once.
    """
    with query_batches(db_path, sql, params=params, write=write, limits=limits) as (
            columns, batches):
        rows = [row for batch in batches for row in batch]
    return QueryResult(columns or [], rows)


@contextlib.contextmanager
def query_batches(
    db_path: str | os.PathLike, sql: str, *, params: dict[str, object] | None = None,
    write: bool = False, limits: QueryLimits | None = None,
) -> Iterator[tuple[list[str] | None, Iterator[list[tuple]]]]:
    """`sql` run as run_query runs it, its rows as they come: (columns, batches of at most
    BATCH_ROWS rows); columns is None when the last statement returns no rows.

        with query_batches("asrlens.duckdb", "select * from transcripts") as (cols, batches):
            for batch in batches: ...

    DuckDB spills to a private folder that asrlens creates (tempfile.mkdtemp, mode 0700, under
    $TMPDIR) and removes at the end, never to DuckDB's default `<db>.tmp` beside the file.
    """
    limits = limits or QueryLimits()
    if not sql.strip():
        raise AsrlensError("empty query: pass SQL as the argument, or `-` to read it from stdin")
    check_memory_limit(limits.memory_limit)
    path = resolve_path(db_path)
    sql = _dollar_placeholders(sql, params or {})
    if not path.exists():
        raise no_database(path)
    deadline = time.monotonic() + limits.timeout_s if limits.timeout_s else None
    with tempfile.TemporaryDirectory(prefix="asrlens-sql-") as spill:
        if write:  # checkpointed at the end: the .duckdb file alone holds the change
            with database(path) as engine:
                try:
                    with engine.connect() as conn:
                        cursor = conn.connection.driver_connection
                        _quiet(cursor)
                        for setting, value in _settings(spill, limits).items():
                            quoted = value.replace("'", "''")
                            cursor.execute(f"set {setting} = '{quoted}'")
                        yield _Query(cursor, path, limits, deadline).start(sql, params)
                        conn.commit()
                except sa.exc.DBAPIError as exc:  # e.g. the file got locked meanwhile
                    raise AsrlensError(_first_line(str(exc))) from exc
            return
        _refuse_outside_statements(sql, path)
        cursor = _open_sandboxed(path, _settings(spill, limits))
        try:
            yield _Query(cursor, path, limits, deadline).start(sql, params)
        finally:
            cursor.close()


BATCH_ROWS = 1000
"""Rows fetched (and written) at a time by `asrlens sql`."""

_MEMORY = re.compile(r"\s*\d+(\.\d+)?\s*([KMGT]i?B|B)\s*", re.IGNORECASE)


def _settings(spill: str, limits: QueryLimits) -> dict[str, str]:
    settings = {"temp_directory": spill}
    if limits.memory_limit:
        settings["memory_limit"] = limits.memory_limit.strip()
    return settings


class _Query:
    """One query on `cursor`, each DuckDB call interruptible (asrlens.interrupt)."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, path: Path, limits: QueryLimits,
                 deadline: float | None) -> None:
        self.cursor, self.path, self.limits, self.deadline = cursor, path, limits, deadline

    def start(self, sql: str, params: dict | None):
        self._call(lambda: self.cursor.execute(sql, params or None))
        if self.cursor.description is None:
            return None, iter(())
        return [d[0] for d in self.cursor.description], self._batches()

    def _batches(self) -> Iterator[list[tuple]]:
        while batch := self._call(lambda: self.cursor.fetchmany(BATCH_ROWS)):
            yield batch

    def _call(self, call):
        try:
            return interruptible(self.cursor, call, deadline=self.deadline)
        except DeadlinePassed:
            raise AsrlensError(f"the query ran past --timeout {self.limits.timeout_s:g} s and "
                               "was stopped") from None
        except duckdb.Error as exc:
            raise AsrlensError(_explain(exc, self.path)) from exc


def _refuse_outside_statements(sql: str, path: Path) -> None:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise AsrlensError(_explain(exc, path)) from exc
    for statement in statements:
        refused = REFUSED_STATEMENTS.get(statement.type)
        if refused:
            head = _statement_head(statement.query)
            raise AsrlensError(
                f"`asrlens sql` does not run {refused} statements ({head}): they reach "
                "outside the database or change the connection. Use `asrlens sql --write` "
                "for full DuckDB access"
            )


def _open_sandboxed(path: Path, settings: dict[str, str]) -> duckdb.DuckDBPyConnection:
    """A read-only connection with SANDBOX_CONFIG and `settings` in force (the lock last)."""
    unlocked = {k: v for k, v in SANDBOX_CONFIG.items() if k != "lock_configuration"}
    try:
        cursor = waiting_for_lock(lambda: duckdb.connect(
            os.fspath(path), read_only=True, config={**unlocked, **settings}))
    except duckdb.Error as exc:
        raise AsrlensError(f"cannot open database {describe_error(path, exc)}") from exc
    _quiet(cursor)
    if SANDBOX_CONFIG.get("lock_configuration"):
        cursor.execute("set lock_configuration = true")
    return cursor


def _quiet(cursor: duckdb.DuckDBPyConnection) -> None:
    for setting, value in QUIET_SETTINGS.items():
        cursor.execute(f"set {setting} = {value}")


def _dollar_placeholders(sql: str, params: dict[str, object]) -> str:
    """Rewrite `:name` placeholders of the given names as DuckDB's `$name` (`::` casts stay)."""
    for name in params:
        sql = re.sub(rf"(?<![:\w]):{re.escape(name)}\b", f"${name}", sql)
    return sql


def format_result(result: QueryResult, fmt: str) -> str:
    """The result as 'table' (aligned plain text), 'csv' (with header) or 'json' (objects),
    without the final newline."""
    if fmt not in FORMATS:
        raise AsrlensError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    out = io.StringIO()
    writer = row_writer(fmt, out, result.columns)
    if result.rows:
        writer.write(result.rows)
    writer.end()
    return out.getvalue().removesuffix("\n")


def _explain(exc: duckdb.Error, db_path: Path) -> str:
    text = _first_line(str(exc))
    if "read-only" in text.lower():
        return (
            f"the database is opened read-only by `asrlens sql`; it cannot change data "
            f"({text}). Use the asrlens commands to change {db_path}, or `asrlens sql --write`"
        )
    if isinstance(exc, duckdb.PermissionException) or "the configuration has been locked" in text:
        return (
            f"`asrlens sql` reads only the database itself, not other files, and cannot change "
            f"settings ({text}). Use `asrlens sql --write` for full DuckDB access"
        )
    if isinstance(exc, duckdb.ParserException):
        line = next((ln.strip() for ln in str(exc).splitlines() if ln.startswith("LINE ")), "")
        return f"{text} ({line})" if line else text
    return text


_LEADING_COMMENTS = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.DOTALL)


def _statement_head(text: str) -> str:
    """The first line of a statement's own text, the comments before it left out."""
    return _first_line(_LEADING_COMMENTS.sub("", text, count=1))


def _first_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[0] if lines else "unknown DuckDB error"


