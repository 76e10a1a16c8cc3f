"""`asrlens doctor`: what state a database file is in, and what to do about each problem.

    diagnosis = diagnose("asrlens.duckdb")            # reads, never writes
    diagnosis.findings                                 # [Finding(kind, message, advice)]
    diagnosis = diagnose("asrlens.duckdb", fix=True)   # marks stale runs, folds in the WAL

It reports the schema version the file holds, the rows of every table (each row is read
back, so a damaged block shows up), whether a write-ahead log (FILE.wal) sits beside it,
runs left 'running' by a process that is gone (stale) and rows that belong to nothing
(orphans). With fix=True it opens the file read-write once, which marks stale runs
'interrupted' and checkpoints the WAL into the file, then looks again; orphan rows are never
deleted for you: the advice gives the statement.
"""

from __future__ import annotations

import os
import shlex
import socket
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import sqlalchemy as sa

from asrlens import db
from asrlens.db import (
    close,
    connect,
    database,
    describe_error,
    named_query,
    no_database,
    query,
    read_back,
    resolve_path,
    stale_runs,
    wal_path,
)
from asrlens.errors import AsrlensError


@dataclass(frozen=True)
class Finding:
    """One problem: what is wrong (message) and what to do about it (advice)."""

    kind: str  # 'wal', 'schema', 'damaged', 'stale_run', 'other_host_run', 'orphan_rows'
    message: str
    advice: str


@dataclass(frozen=True)
class Diagnosis:
    """The state of one database file."""

    path: Path
    schema_version: int | None  # held by the file; None when it has no schema_version table
    table_rows: dict[str, int]  # table -> rows, every row read back
    wal_bytes: int | None       # size of FILE.wal; None when there is none
    findings: list[Finding] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)  # what fix=True did, one line each


def diagnose(path: str | os.PathLike | None = None, *, fix: bool = False) -> Diagnosis:
    """Look at the database at `path` (default as everywhere: --db, $ASRLENS_DB, ./asrlens.duckdb).

    Read-only unless fix=True. Raises AsrlensError when the file is missing, locked by another
    process, or too damaged to open.
    """
    db_path = resolve_path(path)
    if not db_path.exists():
        raise no_database(db_path)
    fixed = _fix(db_path) if fix else []
    engine = connect(db_path, read_only=True)  # a read-only open replays a WAL in memory only
    try:
        findings: list[Finding] = []
        wal = wal_path(db_path)
        wal_bytes = wal.stat().st_size if wal.exists() else None
        if wal_bytes is not None:
            findings.append(Finding(
                "wal",
                f"{wal} ({wal_bytes:,} bytes) is beside the database: committed changes not yet "
                f"folded into {db_path.name} (a command was killed, or its checkpoint failed); "
                f"{db_path.name} copied alone would lose them",
                f"keep the two files together, or fold the log in: "
                f"{_command('doctor --fix', db_path)}",
            ))
        version = _schema_version(engine)
        findings += _schema_findings(version, db_path)
        rows, damaged = _read_every_table(engine)
        if damaged:
            findings.append(Finding(
                "damaged", describe_error(db_path, damaged[1]) + f" (reading table {damaged[0]})",
                "restore the file from a copy; the tables listed as read are intact and can be "
                "copied out with the duckdb client (COPY ... TO)",
            ))
        else:
            findings += _run_findings(engine, db_path)
            findings += _orphan_findings(engine, db_path)
    except (sa.exc.SQLAlchemyError, duckdb.Error) as exc:
        raise AsrlensError(describe_error(db_path, exc)) from exc
    finally:
        close(engine)
    return Diagnosis(path=db_path, schema_version=version, table_rows=rows,
                     wal_bytes=wal_bytes, findings=findings, fixed=fixed)


def _fix(db_path: Path) -> list[str]:
    """Open read-write once: migrates, marks stale runs 'interrupted', checkpoints the WAL."""
    had_wal = wal_path(db_path).exists()
    with database(db_path, read_only=True) as engine:
        stale = [run["run_id"] for run in stale_runs(engine)]
    warning = close(connect(db_path, read_only=False))  # connect marks them; close checkpoints
    if warning:
        raise AsrlensError(warning)
    done = []
    if had_wal:
        done.append(f"folded {wal_path(db_path).name} into {db_path.name}")
    if stale:
        done.append(f"marked interrupted (stale): {', '.join(stale)}")
    return done


def _schema_version(engine: sa.Engine) -> int | None:
    tables = {r["table_name"] for r in query(engine, named_query("db", "base_tables"))}
    if "schema_version" not in tables:
        return None
    return query(engine, "select max(version) as v from schema_version")[0]["v"]


def _schema_findings(version: int | None, db_path: Path) -> list[Finding]:
    expected = db.SCHEMA_VERSION
    if version is None:
        return [Finding("schema", f"{db_path} has no schema_version table: not an asrlens "
                                  f"database", "check --db names the right file")]
    if version > expected:
        return [Finding("schema", f"schema version {version} is newer than this asrlens's "
                                  f"({expected})", "upgrade asrlens")]
    if version < expected:
        return [Finding("schema", f"schema version {version} is older than this asrlens's "
                                  f"({expected}); read-only commands may miss columns",
                        f"the next command that writes migrates it, keeping every row: "
                        f"{_command('doctor --fix', db_path)}")]
    return []


def _read_every_table(engine: sa.Engine) -> tuple[dict[str, int], tuple[str, Exception] | None]:
    """Rows per table, reading every column of every row (DuckDB checks each block's
    checksum as it reads it); stops at the first table that cannot be read."""
    rows: dict[str, int] = {}
    tables = [r["table_name"] for r in query(engine, named_query("db", "base_tables"))]
    for table in tables:
        try:
            n = read_back(engine, table)
        except (sa.exc.SQLAlchemyError, duckdb.Error) as exc:
            return rows, (table, exc)
        rows[table] = n
    return rows, None


def _run_findings(engine: sa.Engine, db_path: Path) -> list[Finding]:
    findings = []
    for run in stale_runs(engine):
        owner = (f"process {run.get('owner_pid')} on {run.get('owner_host')}"
                 if run.get("owner_pid") else "an asrlens older than schema v3")
        findings.append(Finding(
            "stale_run",
            f"run {run['run_id']!r} says 'running' but its {owner} is gone: it was stopped "
            f"without finishing (killed, or the machine stopped); its stored files are whole",
            f"resume it: {_command('infer --run ' + shlex.quote(run['run_id']), db_path)} "
            f"(any command that writes marks it 'interrupted'; `doctor --fix` only does that)",
        ))
    for run in query(engine, named_query("health", "other_host_runs"),
                     host=socket.gethostname()) if _has_owner_columns(engine) else []:
        findings.append(Finding(
            "other_host_run",
            f"run {run['run_id']!r} says 'running' in process {run['owner_pid']} on host "
            f"{run['owner_host']}, which cannot be checked from here",
            f"if nothing runs there any more, resume it on this host: "
            f"{_command('infer --run ' + shlex.quote(run['run_id']), db_path)}",
        ))
    return findings


def _has_owner_columns(engine: sa.Engine) -> bool:
    return bool(query(engine, "select 1 from information_schema.columns "
                              "where table_name = 'runs' and column_name = 'owner_host'"))


def _orphan_findings(engine: sa.Engine, db_path: Path) -> list[Finding]:
    return [
        Finding(
            "orphan_rows",
            f"{row['n']} rows of {row['table_name']} belong to no {row['parent']} "
            f"(every figure leaves them out)",
            "delete them: " + _command(
                "sql --write " + shlex.quote(f"delete from {row['table_name']} where "
                                             f"{row['condition']}"), db_path),
        )
        for row in query(engine, named_query("health", "orphan_rows"))
    ]


def _command(args: str, db_path: Path) -> str:
    from asrlens import DEFAULT_DB

    db = "" if str(db_path) == DEFAULT_DB else f" --db {shlex.quote(str(db_path))}"
    return f"asrlens {args}{db}"
