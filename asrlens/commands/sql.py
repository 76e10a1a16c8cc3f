"""`asrlens sql` (asrlens/sql.py)."""

from __future__ import annotations

import sys

import click

from asrlens.commands.common import db_option


@click.command("sql")
@click.argument("query_text", metavar="QUERY")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="table: aligned text; csv: with a header row; "
                                      "json: a list of objects.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Value for a $NAME placeholder in QUERY (repeatable).")
@click.option("--write", is_flag=True,
              help="Open the database read-write with all of DuckDB: writes, COPY, ATTACH, "
                   "files, settings. Without it the query cannot change anything.")
@db_option
def sql_command(query_text, fmt, params, write, db_path):
    """Run QUERY (SQL; `-` reads it from stdin) on the database, read-only.

    Nothing can be changed by mistake: DROP, DELETE, INSERT, ... fail with a
    message, and the query sees nothing outside the database file (COPY,
    ATTACH, INSTALL, LOAD, SET and file readers such as read_csv are refused).
    --write lifts all of this. Tables are described in docs/schema.md;
    list them with "show tables", describe one with "describe utterances".

    \b
    Examples:
      asrlens sql "select kind, count(*) n from ingest_issues group by kind"
      asrlens sql "select * from run_summary" --format json
      asrlens sql 'select utt_id, wer from utterance_errors where run_id = $run
                   order by wer desc limit 10' --param run=sphinx
      asrlens sql - --format csv < query.sql > result.csv
    """
    from asrlens.sql import format_result, parse_params, run_query

    text = sys.stdin.read() if query_text == "-" else query_text
    result = run_query(db_path, text, params=parse_params(params), write=write)
    click.echo(format_result(result, fmt))
