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
import re
from array import array
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa

from asrlens.catalog import find_runs
from asrlens.compare import significance as sig
from asrlens.compare.data import DataCheck, check_same_data
from asrlens.compare.groups import (
    NO_GROUP,
    SPEAKER_RULE,
    GroupRule,
    GroupTable,
    failed_expression,
    group_name,
    group_query,
    group_results,
    has_speakers,
    parse_rule,
)
from asrlens.compare.rescore import CommonScores, common_scores, run_normalizers
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
    DEFAULT_RULE.

    The paired files are read BATCH_FILES at a time (compare/queries/paired_files.sql) into
    columns of numbers, per-group sums and MAPSSWE segments: no row object, text or path is
    kept per file."""
    runs = {r["run_id"]: r for r in find_runs(conn, [run_a, run_b])}
    if run_a == run_b:
        raise AsrlensError(f"compare needs two different runs, got {run_a!r} twice")
    dataset = runs[run_a]["dataset"]
    if runs[run_b]["dataset"] != dataset:
        raise AsrlensError(f"runs {run_a!r} and {run_b!r} are on different datasets "
                           f"({dataset}, {runs[run_b]['dataset']}): their files cannot be paired")
    known = has_speakers(conn, dataset)
    if rule is None:
        rule = GroupRule(SPEAKER_RULE, "") if known else parse_rule(None)
    data = check_same_data(conn, run_a=run_a, run_b=run_b, allow_different=allow_different_data)
    common = common_scores(conn, run_a=run_a, run_b=run_b, normalizer=normalizer)
    rescored = common is not None and common.normalizer is not None
    pairs = _read_pairs(conn, run_a=run_a, run_b=run_b, dataset=dataset, rule=rule,
                        pair_all=data.same, common=common if rescored else None)
    count = named_query("compare", "file_counts")
    comparison = Comparison(
        run_a=run_a, run_b=run_b, dataset=dataset, rule=rule, seed=seed,
        files_a=query(conn, count, run_id=run_a)[0]["files"],
        files_b=query(conn, count, run_id=run_b)[0]["files"],
        files_shared=int(pairs.errors_a.size),
        ref_words_a=int(pairs.ref_words_a.sum()),
        ref_words_b=int(pairs.ref_words_b.sum()),
        errors_a=int(pairs.errors_a.sum()),
        errors_b=int(pairs.errors_b.sum()),
        bootstrap=sig.bootstrap_difference(
            pairs.errors_a, pairs.ref_words_a, pairs.errors_b, pairs.ref_words_b,
            seed=seed, replicates=replicates,
            cluster_index=pairs.clusters if known else None),
        data=data,
    )
    comparison.normalizer = (common.normalizer if common is not None
                             else run_normalizers(conn, run_a)[run_a]["normalizer"])
    if common is not None:
        comparison.own_normalizers = common.own
        if rescored:  # each run's own figure over the paired files, before rescoring
            comparison.own_wer = {run: errors / words if words else None
                                  for run, (errors, words) in pairs.own.items()}
    comparison.tests["mapsswe"] = sig.mapsswe_test(pairs.segments_a, pairs.segments_b)
    comparison.groups = _paired_groups(pairs.groups)
    pct_a = [100.0 * g["wer_a"] for g in comparison.groups]
    pct_b = [100.0 * g["wer_b"] for g in comparison.groups]
    comparison.tests["sign"] = sig.sign_test(pct_a, pct_b)
    comparison.tests["wilcoxon"] = sig.wilcoxon_test(pct_a, pct_b)
    comparison.tests["mcnemar"] = sig.mcnemar_test(pairs.errors_a, pairs.errors_b)
    for run in (run_a, run_b):
        comparison.group_tables[run] = group_results(conn, run_id=run, dataset=dataset,
                                                     rule=rule, seed=seed)
    return comparison


BATCH_FILES = 20_000
"""Paired files read at a time (utt_id ranges of the baseline's scored files)."""


@dataclass
class Pairs:
    """What a comparison keeps of its paired files: one number per file in each array (in
    utt_id order), sums per group and the MAPSSWE segments."""

    errors_a: np.ndarray
    ref_words_a: np.ndarray
    errors_b: np.ndarray
    ref_words_b: np.ndarray
    clusters: np.ndarray      # the bootstrap cluster of each file (0, 1, ... in label order)
    groups: dict[str, list[int]]  # group -> [files, errors a, words a, errors b, words b]
    segments_a: array         # errors of run a in each MAPSSWE segment, file after file
    segments_b: array
    own: dict[str, tuple[int, int]]  # run -> (errors, reference words) as stored


def _read_pairs(conn: sa.Connection, *, run_a: str, run_b: str, dataset: str,
                rule: GroupRule, pair_all: bool, common: CommonScores | None) -> Pairs:
    """The paired files of two runs (paired_files.sql), BATCH_FILES at a time. common: score
    both runs' files anew under one normalizer (asrlens.compare.rescore) from their raw
    texts, in place of the stored counts and paths; files without them are left out.

    Clusters are numbered as scoring.bootstrap.cluster_sums numbers their labels (the
    speaker, or '\\0' + utt_id for a file without one, in sorted order): files without a
    speaker first, in utt_id order, then the speakers in sorted order."""
    group_sql, group_params = group_query(conn, dataset=dataset, rule=rule)
    sql = (f"select p.*, g.utt_id is not null as known, g.group_name "
           f"from ({named_query('compare', 'paired_files')}) as p "
           f"left join ({group_sql}) as g on g.utt_id = p.utt_id order by p.utt_id")
    params = {**group_params, "run_a": run_a, "run_b": run_b, "dataset": dataset,
              "pair_all": pair_all, "texts": common is not None}
    starts = [r[0] for r in conn.execute(sa.text(named_query("compare", "file_batches")),
                                         {"run_id": run_a, "size": BATCH_FILES}).all()]
    bounds = [None, *starts[1:], None]
    speakers = sorted(r[0] for r in conn.execute(
        sa.text(named_query("compare", "dataset_speakers")), {"dataset": dataset}).all())
    speaker_number = {s: 2**40 + i for i, s in enumerate(speakers)}  # after every file
    pattern = re.compile(rule.value) if rule.kind == "regex" else None
    columns = [array("q") for _ in range(5)]  # errors a, words a, errors b, words b, cluster
    groups: dict[str, list[int]] = {}
    segments_a, segments_b = array("q"), array("q")
    own = [0, 0, 0, 0]
    try:
        for lo, hi in zip(bounds, bounds[1:], strict=False):
            rows = conn.execute(sa.text(sql), {**params, "lo": lo, "hi": hi}).all()
            for (utt_id, words_a, errors_a, words_b, errors_b, path_a, path_b, speaker,
                 has_texts, hyp_a, hyp_b, transcript, normalized, known, value) in rows:
                own[0] += errors_a
                own[1] += words_a
                own[2] += errors_b
                own[3] += words_b
                if common is not None:
                    if not has_texts:
                        continue
                    words_a, errors_a, path_a = common.score(
                        run_a, transcript=transcript, normalized=normalized, hyp_raw=hyp_a)
                    words_b, errors_b, path_b = common.score(
                        run_b, transcript=transcript, normalized=normalized, hyp_raw=hyp_b)
                cluster = speaker_number[speaker] if speaker else len(columns[0])
                for column, number in zip(columns, (errors_a, words_a, errors_b, words_b,
                                                    cluster), strict=True):
                    column.append(number)
                name = group_name(rule, utt_id, value, pattern) if known else NO_GROUP
                sums = groups.setdefault(name, [0, 0, 0, 0, 0])
                sums[0] += 1
                sums[1] += errors_a
                sums[2] += words_a
                sums[3] += errors_b
                sums[4] += words_b
                for a, b in sig.mapsswe_segments(path_a, path_b):
                    segments_a.append(a)
                    segments_b.append(b)
            del rows
    except sa.exc.DBAPIError as exc:
        raise failed_expression(rule, exc) from exc
    ea, ra, eb, rb, cluster = (np.frombuffer(c, dtype=np.int64) for c in columns)
    _, clusters = np.unique(cluster, return_inverse=True)  # numbers without gaps
    return Pairs(ea, ra, eb, rb, clusters, groups, segments_a, segments_b,
                 {run_a: (own[0], own[1]), run_b: (own[2], own[3])})


def _paired_groups(groups: dict[str, list[int]]) -> list[dict]:
    """Per group over the shared files, by group name: files and each run's WER, computed
    as sclite does for a speaker (errors / reference words; 0 when it has no words)."""
    return [{"group_name": name, "files": s[0], "wer_a": _or_zero(rates.corpus_wer(s[1], s[2])),
             "wer_b": _or_zero(rates.corpus_wer(s[3], s[4]))}
            for name, s in sorted(groups.items())]


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
