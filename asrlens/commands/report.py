"""`asrlens report` (asrlens/report) and `asrlens run` (asrlens/pipeline.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from asrlens.commands.common import (
    analyze_option,
    db_option,
    infer_options,
    ingest_options,
    open_database,
    progress_option,
    report_options,
    same_command,
    say_default_run,
)


@click.command("report")
@click.option("--run", "run_ids", multiple=True, metavar="NAME",
              help="Run to report; repeat to compare runs (the first is the primary) "
                   "[default: the most recent finished run of the dataset].")
@click.option("--dataset", metavar="NAME",
              help="Dataset to report on when no run is given [default: the only one, else "
                   "the default run's; see docs/datasets-and-runs.md].")
@click.option("--all-runs", is_flag=True,
              help="Add the run history: every run of the dataset, newest first, with WER, "
                   "interval, strict WER, speed, date and a WER-over-runs plot; runs on other "
                   "data (a different fingerprint) are marked.")
@click.option("--format", "fmt", type=click.Choice(["html", "markdown"]), default="html",
              show_default=True,
              help="html writes OUT/index.html; markdown prints the report's summary on "
                   "stdout (for a pull-request comment or a chat message) and writes nothing.")
@report_options
@db_option
def report_command(run_ids, dataset, all_runs, fmt, out_dir, audio, top_n, seed, group_by,
                   db_path):
    """Write a shareable HTML report: OUT/index.html, one self-contained file.

    \b
    It opens with the answer: per run WER with its 95% interval, strict WER,
    files failed; with several --run, the verdict of each against the first
    and the groups that moved most; the likely reasons; links to the rest.
    Then (--all-runs) the run history, the dataset (sizes, formats, levels, ingest issues), one file
    explored, the run (engine, corpus WER/MER/WIL/CER with 95% bootstrap
    intervals, speed), then per-file WER distribution, results by group
    (--group-by), worst files with aligned transcripts, error patterns, why it
    fails and, with several --run, a comparison with significance tests.
    CSS, plots and audio are inside the file: no network is needed to open it,
    so it can be mailed or attached to a ticket. With no run in the database
    yet, the report covers the dataset only.

    \b
    Examples:
      asrlens report                                   # latest finished run
      asrlens report --run sphinx --out report/ --audio link
      asrlens report --run w2v --run sphinx            # compare two runs
      asrlens report --group-by label:speaker          # results per speaker
      asrlens report --audio none --top 50
      asrlens report --all-runs                        # with every run of the dataset
      asrlens report --run base --run new --format markdown > comment.md
    """
    from asrlens.report import render_report

    with open_database(db_path, read_only=True) as engine:
        if not run_ids and not all_runs:
            say_default_run(engine, report_dataset=dataset, for_report=True)
        if fmt == "markdown":
            from asrlens.report.summary import build_summary
            from asrlens.report.summary_text import render_summary

            summary = build_summary(engine, run_ids=run_ids, dataset=dataset, seed=seed,
                                    group_by=group_by)
            click.echo(render_summary(summary, "markdown"), nl=False)
            return
        path = render_report(engine, run_ids=run_ids, dataset=dataset, out_dir=out_dir,
                             audio=audio, top_n=top_n, seed=seed, group_by=group_by,
                             all_runs=all_runs)
    click.echo(path)


@click.command("run")
@click.argument("dataset", type=click.Path(path_type=Path))
@ingest_options
@infer_options
@analyze_option
@report_options
@progress_option
@db_option
def run_command(dataset, ingest_settings, infer_settings, then_analyze, out_dir, audio, top_n,
                seed, group_by, progress, db_path):
    """Ingest DATASET, transcribe and score it, analyse the errors, write the report.

    \b
    The same as `asrlens ingest`, `infer`, `analyze` and `report` in a row, on
    one database; prints the report's path. The default engine is wav2vec2: if
    its weights are not in the torch hub cache and cannot be downloaded, it
    stops and says how to supply them (it never switches engine on its own).
    pocketsphinx needs no download. It takes every option of `asrlens ingest`
    and `asrlens infer` (infer's --dataset is DATASET here) and of `report`.

    \b
    Examples:
      asrlens run ../shared/data/ljspeech-sample --engine pocketsphinx
      asrlens run speechdata.zip                         # wav2vec2, GPU if present
      asrlens run speechdata.zip --checkpoint w2v.pth --out report/
      asrlens run corpus/ --engine pocketsphinx --limit 20 --audio none
    """
    from asrlens.interrupt import exit_status, signal_name
    from asrlens.pipeline import run_pipeline

    with open_database(db_path, create=True) as engine:
        try:
            result = run_pipeline(
                engine, dataset, ingest=ingest_settings, infer=infer_settings,
                analyze=then_analyze, out_dir=out_dir, audio=audio, top_n=top_n, seed=seed,
                group_by=group_by, progress=progress,
                on_step=lambda line: click.echo(line, err=True),
            )
        except KeyboardInterrupt:  # RunInterrupted included: whole files are committed
            click.echo(f"Interrupted ({signal_name()}): what was committed is kept (whole "
                       f"files). Resume with: {same_command()}", err=True)
            sys.exit(exit_status())
    click.echo(result.report_path)
