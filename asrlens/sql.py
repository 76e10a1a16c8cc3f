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

import csv
import datetime as dt
import decimal
import io
import json
import math
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import sqlalchemy as sa

from asrlens.db import database, no_database, resolve_path
from asrlens.errors import AsrlensError

FORMATS = ("table", "csv", "json")
"""Output formats of `asrlens sql`."""

TABLE_FLOAT_DIGITS = 6
"""Significant digits of floats in the table format (csv and json keep full precision)."""

TABLE_MAX_WIDTH = 60
"""Characters shown of a value in the table format; longer ones end with '…'."""

NULL_TEXT = "NULL"
"""How NULL appears in the table format (csv: empty field, json: null)."""

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


def run_query(
    db_path: str | os.PathLike, sql: str, *, params: dict[str, object] | None = None,
    write: bool = False,
) -> QueryResult:
    """Run `sql` (one or more statements; the last one's rows are returned).

    Read-only and sandboxed unless write=True (see the module doc). Raises AsrlensError with
    one line for an empty query, a missing or locked database, a statement that would write
    or reach outside the database, or any DuckDB error (syntax, unknown table, ...).
    """
    if not sql.strip():
        raise AsrlensError("empty query: pass SQL as the argument, or `-` to read it from stdin")
    path = resolve_path(db_path)
    sql = _dollar_placeholders(sql, params or {})
    if not path.exists():
        raise no_database(path)
    if write:  # checkpointed at the end: the .duckdb file alone holds the change
        with database(path) as engine:
            try:
                with engine.connect() as conn:
                    cursor = conn.connection.driver_connection
                    _quiet(cursor)
                    result = _execute(cursor, sql, params, path)
                    conn.commit()
            except sa.exc.DBAPIError as exc:  # e.g. the file got locked by a writer meanwhile
                raise AsrlensError(_first_line(str(exc))) from exc
        return result
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
    cursor = _open_sandboxed(path)
    try:
        return _execute(cursor, sql, params, path)
    finally:
        cursor.close()


def _open_sandboxed(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection with SANDBOX_CONFIG in force (the lock set last)."""
    unlocked = {k: v for k, v in SANDBOX_CONFIG.items() if k != "lock_configuration"}
    try:
        cursor = duckdb.connect(os.fspath(path), read_only=True, config=unlocked)
    except duckdb.Error as exc:
        raise AsrlensError(f"cannot open database {path}: {_first_line(str(exc))}") from exc
    _quiet(cursor)
    if SANDBOX_CONFIG.get("lock_configuration"):
        cursor.execute("set lock_configuration = true")
    return cursor


def _quiet(cursor: duckdb.DuckDBPyConnection) -> None:
    for setting, value in QUIET_SETTINGS.items():
        cursor.execute(f"set {setting} = {value}")


def _execute(cursor: duckdb.DuckDBPyConnection, sql: str, params: dict | None,
             path: Path) -> QueryResult:
    """Run `sql` ($name params, many statements) and fetch the last statement's rows."""
    try:
        cursor.execute(sql, params or None)
        if cursor.description is None:
            return QueryResult([], [])
        columns = [d[0] for d in cursor.description]
        return QueryResult(columns, cursor.fetchall())
    except duckdb.Error as exc:
        raise AsrlensError(_explain(exc, path)) from exc


def _dollar_placeholders(sql: str, params: dict[str, object]) -> str:
    """Rewrite `:name` placeholders of the given names as DuckDB's `$name` (`::` casts stay)."""
    for name in params:
        sql = re.sub(rf"(?<![:\w]):{re.escape(name)}\b", f"${name}", sql)
    return sql


def format_result(result: QueryResult, fmt: str) -> str:
    """The result as 'table' (aligned plain text), 'csv' (with header) or 'json' (objects)."""
    if fmt == "csv":
        return _as_csv(result)
    if fmt == "json":
        return _as_json(result)
    if fmt == "table":
        return _as_table(result)
    raise AsrlensError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")


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


def _as_table(result: QueryResult) -> str:
    if not result.columns:
        return "(statement ran; no rows returned)"
    cells = [[_table_cell(v) for v in row] for row in result.rows]
    numeric = [_is_numeric(row[i] for row in result.rows) for i in range(len(result.columns))]
    widths = [max([len(c)] + [len(row[i]) for row in cells])
              for i, c in enumerate(result.columns)]

    def line(values: list[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w)
                 for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    out = [line(result.columns), "  ".join("-" * w for w in widths)]
    out += [line(row) for row in cells]
    count = len(result.rows)
    out.append(f"({count} row{'s' if count != 1 else ''})")
    return "\n".join(out)


def _is_numeric(values) -> bool:
    """True when a column holds numbers (and NULLs) only: right-aligned in the table."""
    seen = False
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float | decimal.Decimal):
            return False
        seen = True
    return seen


def _table_cell(value: object) -> str:
    if value is None:
        return NULL_TEXT
    if isinstance(value, float):
        text = _short_float(value)
    else:
        text = str(value)
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return text if len(text) <= TABLE_MAX_WIDTH else text[: TABLE_MAX_WIDTH - 1] + "…"


def _short_float(value: float) -> str:
    """TABLE_FLOAT_DIGITS significant digits, without an exponent for 1e-4 <= |x| < 1e15."""
    if not math.isfinite(value) or value == 0:
        return str(value)
    magnitude = math.floor(math.log10(abs(value)))
    if not -4 <= magnitude < 15:
        return f"{value:.{TABLE_FLOAT_DIGITS}g}"
    decimals = max(0, TABLE_FLOAT_DIGITS - 1 - magnitude)
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _as_csv(result: QueryResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if result.columns:
        writer.writerow(result.columns)
    writer.writerows(["" if v is None else _plain(v) for v in row] for row in result.rows)
    return buffer.getvalue().rstrip("\n")


def _as_json(result: QueryResult) -> str:
    records = [{c: _plain(v) for c, v in zip(result.columns, row, strict=True)}
               for row in result.rows]
    return json.dumps(records, indent=2, ensure_ascii=False, allow_nan=False)


def _plain(value: object) -> object:
    """A JSON-safe Python value: dates as ISO text, NaN/inf as None, decimals as floats."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.date | dt.time | dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID | bytes):
        return value.hex() if isinstance(value, bytes) else str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
