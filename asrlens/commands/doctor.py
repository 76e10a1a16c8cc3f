"""`asrlens doctor` (asrlens/health)."""

from __future__ import annotations

import sys

import click

from asrlens.commands.common import db_option, echo_lines


@click.command("doctor")
@click.option("--fix", is_flag=True,
              help="Open the file read-write once: mark stale runs 'interrupted' and fold the "
                   ".wal into the file. Orphan rows are reported, never deleted.")
@db_option
def doctor_command(fix, db_path):
    """Check the database: schema version, rows per table, WAL, stale runs, orphan rows.

    \b
    Reads every row of every table back (a damaged block shows up), and says
    what to do about each finding:
      wal             FILE.wal beside the file holds committed changes not yet
                      in it: keep the two files together, or --fix
      stale run       a run says 'running' but its process is gone (killed):
                      resume it with asrlens infer --run NAME
      orphan rows     rows whose dataset, run or transcript is gone: the
                      DELETE statement to run
      schema          the file is older or newer than this asrlens
      damaged         a table cannot be read back: restore from a copy
    Exit status 0 when nothing was found, 1 otherwise. Never writes unless --fix.

    \b
    Examples:
      asrlens doctor
      asrlens doctor --db speech.duckdb --fix
    """
    from asrlens.health.doctor import diagnose

    diagnosis = diagnose(db_path, fix=fix)
    echo_lines(_doctor_lines(diagnosis))
    if diagnosis.findings:
        sys.exit(1)


def _doctor_lines(diagnosis) -> list[str]:
    version = "none" if diagnosis.schema_version is None else diagnosis.schema_version
    from asrlens.db import SCHEMA_VERSION

    wal = ("none" if diagnosis.wal_bytes is None
           else f"{diagnosis.path}.wal ({diagnosis.wal_bytes:,} bytes)")
    rows = ", ".join(f"{table} {n:,}" for table, n in diagnosis.table_rows.items())
    lines = [f"Database {diagnosis.path}",
             f"  schema version: {version} (this asrlens: {SCHEMA_VERSION})",
             f"  write-ahead log: {wal}",
             f"  rows (each read back): {rows or 'no tables'}"]
    lines += [f"  fixed: {line}" for line in diagnosis.fixed]
    if not diagnosis.findings:
        return [*lines, "No problems found."]
    lines.append(f"{len(diagnosis.findings)} finding(s):")
    for finding in diagnosis.findings:
        lines += [f"- [{finding.kind}] {finding.message}", f"  What to do: {finding.advice}"]
    return lines
