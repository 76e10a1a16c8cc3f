"""`asrlens compare` (asrlens/compare)."""

from __future__ import annotations

import click

from asrlens import defaults
from asrlens.commands.common import (
    db_option,
    echo_lines,
    group_by_option,
    normalizer_names,
    open_database,
)


@click.command("compare")
@click.argument("run_a", metavar="RUN_A")
@click.argument("run_b", metavar="RUN_B")
@group_by_option
@click.option("--seed", type=int, default=defaults.SEED, show_default=True,
              help="Seeds the bootstrap (the same seed gives the same figures).")
@click.option("--replicates", type=click.IntRange(min=100), default=defaults.BOOTSTRAP_REPLICATES,
              show_default=True,
              help="Bootstrap replicates (files resampled with replacement).")
@click.option("--allow-different-data", is_flag=True,
              help="Compare runs whose data fingerprints differ (a label changed, a file "
                   "added): only the files both cover with the same reference are paired, "
                   "and the output says how many differ.")
@click.option("--normalizer", type=click.Choice(normalizer_names()),
              help="Score both runs under this normalizer for the comparison [default: "
                   "RUN_A's]; a run scored under another is rescored from its raw texts.")
@db_option
def compare_command(run_a, run_b, group_by, seed, replicates, allow_different_data, normalizer,
                    db_path):
    """Is RUN_B better than RUN_A? Paired significance over the files both scored.

    \b
    Both runs are scored under one normalizer (--normalizer, default
    RUN_A's): a run scored under another is rescored from its raw texts, and
    its own figure is shown beside. Prints each run's WER over the shared
    files (its own reference words),
    the bootstrap probability that RUN_B is better with a 95% interval of
    ΔWER = WER_B - WER_A, sc_stats's four tests (MAPSSWE, sign, Wilcoxon,
    McNemar) with p-values and which run is better at 0.05, and per-group
    WERs. Stores them in run_comparisons, comparison_tests and group_results.
    With keywords (`asrlens analyze --keywords FILE`), names the terms RUN_B
    lost that RUN_A found, and those it gained (view keyword_changes).
    docs/compare.md says which test answers which question. Runs scored on
    different data (their fingerprints differ) are refused unless
    --allow-different-data.

    \b
    Examples:
      asrlens compare sphinx w2v
      asrlens compare sphinx w2v --group-by label:speaker
      asrlens compare sphinx w2v --group-by "sql:case when duration_s < 4 then 's' else 'l' end"
      asrlens sql "select * from comparison_tests"
    """
    from asrlens.compare import compare_runs, parse_rule, store_comparison
    from asrlens.compare.keywords import keyword_change_lines
    from asrlens.compare.report_text import comparison_lines

    rule = None if group_by is None else parse_rule(group_by)
    with open_database(db_path) as engine:
        with engine.connect() as conn:
            comparison = compare_runs(conn, run_a=run_a, run_b=run_b, rule=rule, seed=seed,
                                      replicates=replicates,
                                      allow_different_data=allow_different_data,
                                      normalizer=normalizer)
        store_comparison(engine, comparison)
        keyword_lines = keyword_change_lines(engine, run_a, run_b)
    echo_lines(comparison_lines(comparison))
    echo_lines(keyword_lines)
