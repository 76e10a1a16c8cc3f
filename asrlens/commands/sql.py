"""`asrlens sql` (asrlens/sql.py)."""

from __future__ import annotations

import sys

import click

from asrlens import defaults
from asrlens.commands.common import db_option


@click.command("sql")
@click.argument("query_text", metavar="QUERY")
@click.option("--format", "fmt", type=click.Choice(defaults.SQL_FORMATS), default="table",
              show_default=True, help="table: aligned text; csv: with a header row; "
                                      "json: one JSON document, a list of objects; jsonl: one "
                                      "JSON object per line (as `asrlens export`).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Value for a $NAME placeholder in QUERY (repeatable).")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0, min_open=True),
              metavar="SECONDS", help="Stop the query after this long (one Error: line).")
@click.option("--memory-limit", metavar="SIZE",
              help="Memory DuckDB may use for the query, e.g. 2GB; past it, it spills to a "
                   "private temporary folder [default: DuckDB's, 80% of RAM].")
@click.option("--write", is_flag=True,
              help="Open the database read-write with all of DuckDB: writes, COPY, ATTACH, "
                   "files, settings. Without it the query cannot change anything.")
@db_option
def sql_command(query_text, fmt, params, timeout_s, memory_limit, write, db_path):
    """Run QUERY (SQL; `-` reads it from stdin) on the database, read-only.

    Nothing can be changed by mistake: DROP, DELETE, INSERT, ... fail with a
    message, and the query sees nothing outside the database file (COPY,
    ATTACH, INSTALL, LOAD, SET and file readers such as read_csv are refused).
    --write lifts all of this. Tables are described in docs/schema.md;
    list them with "show tables", describe one with "describe utterances".

    Rows are written as they come (`asrlens sql ... | head` stops early, in
    constant memory); Ctrl-C or SIGTERM stops a long query at once.

    \b
    Examples:
      asrlens sql "select kind, count(*) n from ingest_issues group by kind"
      asrlens sql "select * from run_summary" --format json
      asrlens sql "select * from utterance_errors" --format jsonl | head -3
      asrlens sql 'select utt_id, wer from utterance_errors where run_id = $run
                   order by wer desc limit 10' --param run=sphinx
      asrlens sql - --format csv < query.sql > result.csv
    """
    from asrlens.interrupt import exit_status, signal_name
    from asrlens.sql import QueryLimits, check_memory_limit, parse_params, query_batches
    from asrlens.sql_output import row_writer

    limits = QueryLimits(timeout_s=timeout_s, memory_limit=check_memory_limit(memory_limit))
    params = parse_params(params)
    text = sys.stdin.read() if query_text == "-" else query_text
    try:
        with query_batches(db_path, text, params=params, write=write, limits=limits) as (
                columns, batches):
            writer = row_writer(fmt, sys.stdout, columns or [])
            for batch in batches:
                writer.write(batch)
            writer.end()
    except KeyboardInterrupt:
        changed = "nothing it changed was kept" if write else "the database is unchanged"
        click.echo(f"Interrupted ({signal_name()}): the query was stopped; {changed}",
                   err=True)
        sys.exit(exit_status())
