"""`asrlens summary` (asrlens/report/summary.py) and `asrlens gate` (asrlens/compare/gate.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import duckdb
import sqlalchemy as sa

from asrlens import defaults
from asrlens.commands.common import db_option, group_by_option, open_database
from asrlens.errors import AsrlensError, CheckpointFailed

GATE_PASSED, GATE_FAILED, GATE_ERROR = 0, 1, 2
"""Exit statuses of `asrlens gate`."""


@click.command("summary")
@click.option("--run", "run_ids", multiple=True, metavar="NAME",
              help="Run to summarize; repeat to compare runs (the first is the baseline) "
                   "[default: the most recent finished run of the dataset].")
@click.option("--dataset", metavar="NAME",
              help="Dataset when no run is given [default: see docs/datasets-and-runs.md].")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text",
              show_default=True, help="text for the terminal, markdown for a comment.")
@click.option("--seed", type=int, default=defaults.SEED, show_default=True,
              help="Seeds the bootstrap intervals (the report's default: the same figures).")
@group_by_option
@db_option
def summary_command(run_ids, dataset, fmt, seed, group_by, db_path):
    """The report's summary on the terminal: the answer first.

    \b
    Per run: WER with its 95% bootstrap interval, strict WER, files failed,
    data fingerprint. With two or more --run: the verdict of each against
    the first (better by how much, P(better), the significance tests'
    agreement) and the groups that moved most. Then the three likely reasons
    from `asrlens analyze`. The same figures as the report's first section.

    \b
    Examples:
      asrlens summary
      asrlens summary --run base --run candidate --format markdown
    """
    from asrlens.report.summary import build_summary
    from asrlens.report.summary_text import render_summary

    with open_database(db_path, read_only=True) as engine:
        summary = build_summary(engine, run_ids=run_ids, dataset=dataset, seed=seed,
                                group_by=group_by)
    click.echo(render_summary(summary, fmt), nl=False)


@click.command("gate")
@click.argument("candidate", metavar="CANDIDATE")
@click.option("--baseline", required=True, metavar="RUN", help="The run to compare against.")
@click.option("--max-wer-increase", type=click.FloatRange(min=0, max=100), default=0.0,
              show_default=True, metavar="POINTS",
              help="Allowed WER increase in absolute points (0.5: from 10.0% to 10.5%).")
@click.option("--confidence", type=click.FloatRange(min=0.5, max=1, max_open=True),
              default=0.95, show_default=True,
              help="Fail only when the bootstrap is at least this sure the candidate is "
                   "worse by more than allowed.")
@click.option("--groups", "group_points", type=click.FloatRange(min=0, max=100),
              metavar="POINTS",
              help="Also check each group of files (--group-by): none worse by more than "
                   "POINTS at the same confidence [default: no per-group check].")
@group_by_option
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Write the checks as JUnit XML to FILE.")
@click.option("--seed", type=int, default=defaults.SEED, show_default=True,
              help="Seeds the bootstrap (the same seed, the same verdict).")
@click.option("--replicates", type=click.IntRange(min=100), default=defaults.BOOTSTRAP_REPLICATES,
              show_default=True, help="Bootstrap replicates.")
@click.option("--allow-different-data", is_flag=True,
              help="Gate runs whose data fingerprints differ, on the files whose data agree.")
@db_option
def gate_command(candidate, baseline, max_wer_increase, confidence, group_points, group_by,
                 junit_path, seed, replicates, allow_different_data, db_path):
    """CI gate: exit 0 when CANDIDATE is not worse than the baseline, 1 when it is, 2 on error.

    \b
    One-sided and noise-aware: the paired bootstrap of `asrlens compare`
    (files both runs scored, resampled with replacement) estimates
    P(WER_candidate - WER_baseline > --max-wer-increase); the gate fails only
    when that is at least --confidence. An improvement never fails; a
    re-run that scores the same passes. --groups adds the same check per
    group of files. Prints the summary and the checks as Markdown (paste it
    into a pull request); --junit writes them for the CI's test view.
    docs/gate.md explains the rule.

    \b
    Examples:
      asrlens gate candidate --baseline main
      asrlens gate candidate --baseline main --max-wer-increase 0.5 --junit gate.xml
      asrlens gate candidate --baseline main --groups 2 --group-by label:speaker
    """
    try:
        failed = _gate(candidate, baseline, max_wer_increase, confidence, group_points, group_by,
                       junit_path, seed, replicates, allow_different_data, db_path)
    except (AsrlensError, CheckpointFailed, sa.exc.SQLAlchemyError, duckdb.Error, OSError) as exc:
        click.echo(f"Error: {_one_line(exc)}", err=True)
        sys.exit(GATE_ERROR)
    sys.exit(GATE_FAILED if failed else GATE_PASSED)


def _gate(candidate, baseline, max_wer_increase, confidence, group_points, group_by,
          junit_path, seed, replicates, allow_different_data, db_path) -> bool:
    from asrlens.compare import parse_rule
    from asrlens.compare.gate import GateRule, gate, junit_xml
    from asrlens.report.summary import build_summary
    from asrlens.report.summary_text import render_summary

    rule = GateRule(max_wer_increase=max_wer_increase / 100, confidence=confidence,
                    group_max_increase=None if group_points is None else group_points / 100,
                    group_by=None if group_by is None else parse_rule(group_by))
    with open_database(db_path, read_only=True) as engine:
        with engine.connect() as conn:
            result = gate(conn, candidate=candidate, baseline=baseline, rule=rule, seed=seed,
                          replicates=replicates, allow_different_data=allow_different_data)
        summary = build_summary(engine, run_ids=[baseline, candidate], seed=seed,
                                group_by=group_by)
    if junit_path is not None:
        from asrlens.atomic import atomic_write_text

        atomic_write_text(junit_path, junit_xml(result))
    click.echo(render_summary(summary, "markdown", gate=result), nl=False)
    return result.failed


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, AsrlensError | CheckpointFailed):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.filename or 'a file'}: {exc.strerror or exc}"
    from asrlens.db import one_line

    return one_line(exc)
