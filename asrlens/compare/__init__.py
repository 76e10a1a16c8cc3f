"""Comparing runs and groups of files: paired significance between two runs of a dataset (the
four NIST sc_stats tests and a paired bootstrap) and per-group results.

    from asrlens.compare import compare_runs, parse_rule, store_comparison
    with engine.connect() as conn:
        c = compare_runs(conn, run_a="sphinx", run_b="w2v", rule=parse_rule(None), seed=0)

Modules: `significance` (the tests, pure functions over numbers), `groups` (group rules and
per-group WER), `pairs` (reads the runs, stores run_comparisons / comparison_tests /
group_results).
"""

from asrlens.compare.groups import DEFAULT_RULE, GroupRule, group_results, parse_rule
from asrlens.compare.pairs import Comparison, compare_runs, store_comparison

__all__ = ["DEFAULT_RULE", "Comparison", "GroupRule", "compare_runs", "group_results",
           "parse_rule", "store_comparison"]
