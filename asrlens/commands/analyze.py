"""`asrlens analyze` (asrlens/analysis)."""

from __future__ import annotations

import click

from asrlens.commands.common import db_option, echo_lines, open_database


@click.command("analyze")
@click.option("--run", "run_id", metavar="NAME",
              help="Run to analyse [default: the most recent finished run; see "
                   "docs/datasets-and-runs.md].")
@db_option
def analyze_command(run_id, db_path):
    """Explain a run's errors: features, error tags, feature vs WER, a written summary.

    \b
    Fills utterance_features, reference_words, op_tags, feature_effects,
    feature_correlations and analysis_summary (re-running replaces the run's rows),
    then prints the summary. `asrlens report` shows it under "Why it fails".

    \b
    Examples:
      asrlens analyze                      # the most recent finished run
      asrlens analyze --run sphinx
      asrlens sql "select tag, count(*) from op_tags where run_id = 'sphinx' group by tag"
    """
    from asrlens.analysis import analyze

    with open_database(db_path) as engine:
        result = analyze(engine, run_id=run_id)
    echo_lines(result.summary_lines())
