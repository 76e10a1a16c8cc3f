"""The `asrlens` command line: a thin click layer over plain functions.

Each command (asrlens/commands/, one module per stage) parses its options, calls the function
that does the work, and prints what it returns. Expected failures (AsrlensError) become one
`Error: ...` line and exit status 1; this module holds the group that does that.
"""

from __future__ import annotations

import sys

import click

from asrlens import __version__
from asrlens.commands import (
    analyze,
    compare,
    doctor,
    explore,
    gate,
    infer,
    ingest,
    probe,
    report,
    sql,
)
from asrlens.commands.common import same_command
from asrlens.errors import AsrlensError, CheckpointFailed


class AsrlensGroup(click.Group):
    """A click group that turns AsrlensError into `Error: ...` without a traceback."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["asrlens.args"] = list(args)  # to say how to run the same command again
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        from asrlens.interrupt import exit_status, signal_name, stop_signals

        try:
            with stop_signals():  # SIGTERM is handled as Ctrl-C
                result = super().invoke(ctx)
                sys.stdout.flush()  # a closed pipe shows here, not in Python's exit
                return result
        except AsrlensError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        except CheckpointFailed as exc:
            click.echo(f"Warning: {exc}", err=True)
            sys.exit(1)
        except BrokenPipeError:
            _end_quietly_on_closed_pipe()
        except KeyboardInterrupt:  # commands with more to say catch it themselves
            click.echo(f"Interrupted ({signal_name()}): what was committed before is kept. "
                       f"Run it again with: {same_command()}", err=True)
            sys.exit(exit_status())


def _end_quietly_on_closed_pipe():
    """stdout's reader has gone (`asrlens export ... | head -3`): it had what it wanted, so
    end with status 0 and no traceback; stdout now points to /dev/null so that Python's
    final flush has nowhere to fail."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (e.g. under click's CliRunner)
        pass
    sys.exit(0)


@click.group(cls=AsrlensGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="asrlens")
def cli():
    """How well does a speech recognizer do on your dataset, and why does it fail?

    \b
    A typical session:
      asrlens ingest speechdata.zip          # labels + audio facts -> asrlens.duckdb
      asrlens explore --seed 0               # look at one file
      asrlens infer --engine pocketsphinx    # transcribe and score every file
      asrlens analyze                        # tag errors, relate WER to file features
      asrlens report --out report/           # a shareable HTML report
      asrlens summary                        # its first section, on the terminal
      asrlens gate NEW --baseline OLD        # CI: exit 1 when NEW is worse than OLD
      asrlens sql "select * from run_summary"
      asrlens doctor                         # the database's health, what to do

    \b
    Or all of ingest, infer, analyze and report in one go:
      asrlens run speechdata.zip --engine pocketsphinx

    Every command takes --db PATH (default ./asrlens.duckdb, env ASRLENS_DB).
    """


for command in (
    ingest.ingest_command,
    explore.explore_command,
    sql.sql_command,
    infer.infer_command,
    infer.export_command,
    infer.import_run_command,
    analyze.analyze_command,
    probe.probe_command,
    report.report_command,
    report.run_command,
    compare.compare_command,
    gate.summary_command,
    gate.gate_command,
    doctor.doctor_command,
):
    cli.add_command(command)
