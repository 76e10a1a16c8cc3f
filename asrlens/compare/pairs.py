"""Compare two runs of the same dataset: pair the files both scored, run the four sc_stats
tests and the paired bootstrap, and store the result.

    with engine.connect() as conn:
        c = compare_runs(conn, run_a="sphinx", run_b="w2v", rule=parse_rule(None), seed=0)
    c.tests["mcnemar"].p_value, c.bootstrap.p_b_better, c.files_left_out
    store_comparison(engine, c)     # run_comparisons, comparison_tests, group_results

Each run's WER is computed over its own reference words on the shared files. Runs scored
under different normalizers are first rescored under one (asrlens.compare.rescore), so that
the same hypotheses compare as equal; each run's own figure is kept beside.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from asrlens.catalog import find_runs
from asrlens.compare import significance as sig
from asrlens.compare.data import DataCheck, check_same_data
from asrlens.compare.groups import (
    NO_GROUP,
    SPEAKER_RULE,
    GroupRule,
    GroupTable,
    assign_groups,
    group_results,
    parse_rule,
    speakers_of,
)
from asrlens.compare.rescore import common_scores, run_normalizers
from asrlens.db import insert_rows, named_query, query
from asrlens.errors import AsrlensError
from asrlens.scoring import rates


@dataclass
class Comparison:
    """Run b against run a over the files both scored (see run_comparisons in schema.sql)."""

    run_a: str
    run_b: str
    dataset: str
    rule: GroupRule
    seed: int
    files_a: int
    files_b: int
    files_shared: int
    ref_words_a: int
    ref_words_b: int
    errors_a: int
    errors_b: int
    bootstrap: sig.BootstrapResult
    tests: dict[str, sig.TestResult] = field(default_factory=dict)
    groups: list[dict] = field(default_factory=list)
    """Per group over the shared files: group_name, files, wer_a, wer_b (fractions)."""
    group_tables: dict[str, GroupTable] = field(default_factory=dict)
    """run_id -> its per-group results over all its scored files."""
    data: DataCheck | None = None
    """The runs' data fingerprints and the files whose data differ (asrlens.compare.data)."""
    normalizer: str | None = None
    """The normalizer both runs' paired figures are under (None: not looked up)."""
    own_normalizers: dict[str, str] = field(default_factory=dict)
    """run_id -> the normalizer the run was scored under, when one was rescored."""
    own_wer: dict[str, float | None] = field(default_factory=dict)
    """run_id -> its WER on the shared files under its own normalizer, when one was
    rescored (the figure `asrlens infer` printed for it)."""

    @property
    def files_left_out(self) -> int:
        """Files scored in one of the runs only (not paired)."""
        return self.files_a + self.files_b - 2 * self.files_shared

    @property
    def wer_a(self) -> float | None:
        return rates.corpus_wer(self.errors_a, self.ref_words_a)

    @property
    def wer_b(self) -> float | None:
        return rates.corpus_wer(self.errors_b, self.ref_words_b)

    def better_run(self, result: sig.TestResult) -> str | None:
        """The run id a test found better at ALPHA, or None."""
        return {"a": self.run_a, "b": self.run_b}.get(result.better)


def compare_runs(
    conn: sa.Connection, *, run_a: str, run_b: str, rule: GroupRule | None, seed: int,
    replicates: int = sig.BOOTSTRAP_REPLICATES, allow_different_data: bool = False,
    normalizer: str | None = None,
) -> Comparison:
    """All paired figures of run_b against run_a, both under one normalizer (`normalizer`,
    default run_a's; asrlens.compare.rescore). Raises AsrlensError for an unknown run or
    normalizer, the same run twice, runs of different datasets, or runs scored on different
    data (their fingerprints differ) unless `allow_different_data`: then only the files both
    scored against the same reference are paired.

    When the dataset knows its speakers (utterances.speaker), the bootstrap resamples
    speakers (a file without one is its own cluster), and rule None groups the sign and
    Wilcoxon tests by speaker; without speakers, files are resampled and rule None is
    DEFAULT_RULE."""
    runs = {r["run_id"]: r for r in find_runs(conn, [run_a, run_b])}
    if run_a == run_b:
        raise AsrlensError(f"compare needs two different runs, got {run_a!r} twice")
    dataset = runs[run_a]["dataset"]
    if runs[run_b]["dataset"] != dataset:
        raise AsrlensError(f"runs {run_a!r} and {run_b!r} are on different datasets "
                           f"({dataset}, {runs[run_b]['dataset']}): their files cannot be paired")
    speakers = speakers_of(conn, dataset)
    known = any(speakers.values())
    if rule is None:
        rule = GroupRule(SPEAKER_RULE, "") if known else parse_rule(None)
    data = check_same_data(conn, run_a=run_a, run_b=run_b, allow_different=allow_different_data)
    shared = query(conn, named_query("compare", "shared_files"), run_a=run_a, run_b=run_b)
    if not data.same:  # allowed: pair only the files whose data agree
        shared = [f for f in shared if f["utt_id"] not in data.differing_ids]
    common = common_scores(conn, run_a=run_a, run_b=run_b, normalizer=normalizer)
    own_wer = {}
    if common is not None and common.normalizer is not None:  # own figures, then common ones
        for run, side in ((run_a, "a"), (run_b, "b")):
            words = sum(f[f"ref_words_{side}"] for f in shared)
            own_wer[run] = sum(f[f"errors_{side}"] for f in shared) / words if words else None
        keep = {f["utt_id"] for f in shared}
        shared = [f for f in common.shared if f["utt_id"] in keep]
    clusters = ([speakers.get(f["utt_id"]) or f"\0{f['utt_id']}" for f in shared]
                if known else None)
    count = named_query("compare", "file_counts")
    comparison = Comparison(
        run_a=run_a, run_b=run_b, dataset=dataset, rule=rule, seed=seed,
        files_a=query(conn, count, run_id=run_a)[0]["files"],
        files_b=query(conn, count, run_id=run_b)[0]["files"],
        files_shared=len(shared),
        ref_words_a=sum(f["ref_words_a"] for f in shared),
        ref_words_b=sum(f["ref_words_b"] for f in shared),
        errors_a=sum(f["errors_a"] for f in shared),
        errors_b=sum(f["errors_b"] for f in shared),
        bootstrap=sig.bootstrap_difference(
            [f["errors_a"] for f in shared], [f["ref_words_a"] for f in shared],
            [f["errors_b"] for f in shared], [f["ref_words_b"] for f in shared],
            seed=seed, replicates=replicates, clusters=clusters),
        data=data,
    )
    paths = common.paths if common is not None and common.normalizer is not None else {
        run: {r["utt_id"]: r["path"] for r in query(
            conn, named_query("compare", "alignment_paths"), run_id=run)}
        for run in (run_a, run_b)}
    comparison.normalizer = (common.normalizer if common is not None
                             else run_normalizers(conn, run_a)[run_a]["normalizer"])
    if common is not None:
        comparison.own_normalizers, comparison.own_wer = common.own, own_wer
    ids = [f["utt_id"] for f in shared]
    comparison.tests["mapsswe"] = sig.mapsswe([paths[run_a][u] for u in ids],
                                              [paths[run_b][u] for u in ids])
    comparison.groups = _paired_groups(shared, assign_groups(conn, dataset=dataset, rule=rule))
    pct_a = [100.0 * g["wer_a"] for g in comparison.groups]
    pct_b = [100.0 * g["wer_b"] for g in comparison.groups]
    comparison.tests["sign"] = sig.sign_test(pct_a, pct_b)
    comparison.tests["wilcoxon"] = sig.wilcoxon_test(pct_a, pct_b)
    comparison.tests["mcnemar"] = sig.mcnemar_test([f["errors_a"] for f in shared],
                                                   [f["errors_b"] for f in shared])
    for run in (run_a, run_b):
        comparison.group_tables[run] = group_results(conn, run_id=run, dataset=dataset,
                                                     rule=rule, seed=seed)
    return comparison


def _paired_groups(shared: list[dict], groups: dict[str, str]) -> list[dict]:
    """Per group over the shared files, by group name: files and each run's WER, computed
    as sclite does for a speaker (errors / reference words; 0 when it has no words)."""
    sums: dict[str, list[int]] = {}
    for f in shared:
        s = sums.setdefault(groups.get(f["utt_id"], NO_GROUP), [0, 0, 0, 0, 0])
        s[0] += 1
        s[1] += f["errors_a"]
        s[2] += f["ref_words_a"]
        s[3] += f["errors_b"]
        s[4] += f["ref_words_b"]
    return [{"group_name": name, "files": s[0], "wer_a": _or_zero(rates.corpus_wer(s[1], s[2])),
             "wer_b": _or_zero(rates.corpus_wer(s[3], s[4]))}
            for name, s in sorted(sums.items())]


def _or_zero(rate: float | None) -> float:
    return 0.0 if rate is None else rate


def store_comparison(engine: sa.Engine, c: Comparison) -> None:
    """Replace the pair's rows in run_comparisons and comparison_tests, and both runs' rows
    for the rule in group_results, in one transaction."""
    now = datetime.now(UTC).replace(tzinfo=None)
    b = c.bootstrap
    with engine.begin() as conn:
        for table in ("run_comparisons", "comparison_tests"):
            conn.execute(sa.text(f"delete from {table} where run_a = :a and run_b = :b"),
                         {"a": c.run_a, "b": c.run_b})
        insert_rows(conn, "run_comparisons", [dict(
            run_a=c.run_a, run_b=c.run_b, dataset=c.dataset, group_rule=c.rule.text,
            files_a=c.files_a, files_b=c.files_b, files_shared=c.files_shared,
            files_left_out=c.files_left_out, ref_words_a=c.ref_words_a,
            ref_words_b=c.ref_words_b, errors_a=c.errors_a, errors_b=c.errors_b,
            wer_a=c.wer_a, wer_b=c.wer_b, wer_difference=b.difference,
            difference_low=b.low, difference_high=b.high, p_b_better=b.p_b_better,
            replicates=b.replicates, seed=c.seed, computed_at=now, resampled=b.unit,
            normalizer=c.normalizer)])
        insert_rows(conn, "comparison_tests", [dict(
            run_a=c.run_a, run_b=c.run_b, test=name, statistic=t.statistic,
            p_value=t.p_value, significant=t.significant, better_run=c.better_run(t), n=t.n,
            detail=json.dumps(t.detail)) for name, t in c.tests.items()])
        for run, table in c.group_tables.items():
            conn.execute(sa.text("delete from group_results where run_id = :r and group_rule = :g"),
                         {"r": run, "g": c.rule.text})
            insert_rows(conn, "group_results", [dict(
                run_id=run, group_rule=c.rule.text, group_name=row["group_name"],
                files=row["files"], ref_words=row["ref_words"],
                substitutions=row["substitutions"], deletions=row["deletions"],
                insertions=row["insertions"], errors=row["errors"], wer=row["wer"],
                wer_low=row["wer_low"], wer_high=row["wer_high"], seed=c.seed,
                computed_at=now) for row in table.rows])
