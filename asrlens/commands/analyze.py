"""`asrlens analyze` (asrlens/analysis)."""

from __future__ import annotations

import click

from asrlens.commands.common import db_option, echo_lines, open_database


@click.command("analyze")
@click.option("--run", "run_id", metavar="NAME",
              help="Run to analyse [default: the most recent finished run; see "
                   "docs/datasets-and-runs.md].")
@click.option("--keywords", "keywords", metavar="FILE|label:COLUMN",
              help="Terms to measure (keyword recall, precision, error rate): a file with one "
                   "term per line, or label:COLUMN, a labels column of ';'-separated terms per "
                   "file. Stored for the dataset: every run of it is counted (docs/analyze.md).")
@db_option
def analyze_command(run_id, keywords, db_path):
    """Explain a run's errors: features, error tags, feature vs WER, a written summary.

    \b
    Fills utterance_features, reference_words, op_tags, feature_effects,
    feature_correlations and analysis_summary (re-running replaces the run's rows),
    then prints the summary. `asrlens report` shows it under "Why it fails".
    Also measures hallucinations and loops, formatting-only errors, punctuation
    and casing, and keywords (docs/analyze.md "Failures"; shown under
    "Hallucinations, formatting, punctuation, keywords").

    \b
    Examples:
      asrlens analyze                      # the most recent finished run
      asrlens analyze --run sphinx
      asrlens analyze --run sphinx --keywords terms.txt
      asrlens sql "select tag, count(*) from op_tags where run_id = 'sphinx' group by tag"
    """
    from asrlens.analysis import analyze

    with open_database(db_path) as engine:
        result = analyze(engine, run_id=run_id, keywords=keywords)
    echo_lines(result.summary_lines())
