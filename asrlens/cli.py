"""The `asrlens` command line: a thin click layer over plain functions.

Each command parses its options, calls the function that does the work, and prints a short
summary. Expected failures (AsrlensError) become one `Error: ...` line and exit status 1.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from asrlens import __version__
from asrlens.db import DEFAULT_DB, ENV_DB
from asrlens.errors import AsrlensError


class AsrlensGroup(click.Group):
    """A click group that turns AsrlensError into `Error: ...` without a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except AsrlensError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)


def db_option(fn):
    """--db PATH, shared by every command (env ASRLENS_DB, default ./asrlens.duckdb)."""

    @click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar=ENV_DB,
        default=DEFAULT_DB,
        show_default=True,
        help=f"DuckDB file to use (env {ENV_DB}).",
    )
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return wrapper


@click.group(cls=AsrlensGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="asrlens")
def cli():
    """How well does a speech recognizer do on your dataset, and why does it fail?

    \b
    A typical session:
      asrlens ingest speechdata.zip          # labels + audio facts -> asrlens.duckdb
      asrlens explore --seed 0               # look at one file
      asrlens infer --engine pocketsphinx    # transcribe and score every file
      asrlens report --out report/           # a shareable HTML report
      asrlens sql "select * from run_summary"

    Every command takes --db PATH (default ./asrlens.duckdb, env ASRLENS_DB).
    """


# --- ingest (asrlens/ingest) ---------------------------------------------------------------


# --- explore (asrlens/explore.py) ----------------------------------------------------------


# --- sql -----------------------------------------------------------------------------------


# --- infer / export (asrlens/infer) --------------------------------------------------------


# --- analyze (asrlens/analysis) ------------------------------------------------------------


# --- report / run (asrlens/report) ---------------------------------------------------------
