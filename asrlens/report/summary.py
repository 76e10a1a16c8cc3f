"""The answer first: the figures a reader acts on, computed once and rendered three ways.

    summary = build_summary(engine, run_ids=["base", "new"], dataset=None, seed=0)
    render_summary(summary, "markdown")    # a pull-request comment; "text": the terminal

The report's first section (sections/summary.py, templates/_summary.html), `asrlens report
--format markdown` (templates/summary.md) and `asrlens summary` (templates/summary.txt) all
render this one Summary, so they give the same figures. Per run: corpus WER with its 95%
bootstrap interval (the Run section's interval: same files, same seed), strict WER, files
failed. With two or more runs, each later run against the first: the verdict of the paired
comparison (asrlens.compare: bootstrap ΔWER and P(better), the four significance tests) and
the groups whose WER moved most. The likely reasons of the primary run from `asrlens
analyze`'s tables: the two error tags that carry the most errors and the file feature most
associated with WER (a third tag when no feature qualifies).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from asrlens import catalog
from asrlens.compare import compare_runs, parse_rule
from asrlens.compare.pairs import Comparison
from asrlens.fingerprint import run_fingerprint, short
from asrlens.report.context import run_columns, run_query
from asrlens.scoring.bootstrap import corpus_intervals
from asrlens.vocabulary import FEATURES, TAG_DESCRIPTIONS

MOVED_GROUPS = 3
"""Groups named as having moved most, per comparison."""
REASON_TAGS = 2
"""Error tags among the reasons (one more when no feature qualifies)."""
REASONS = 3
MIN_FEATURE_FILES = 8
"""A feature is named as a reason only when known for at least this many files."""


@dataclass(frozen=True)
class RunFigures:
    """One run's headline figures (fractions; None when not defined)."""

    run_id: str
    engine: str
    model: str
    normalizer: str
    status: str
    files_total: int
    files_scored: int
    files_failed: int
    wer: float | None
    wer_low: float | None
    wer_high: float | None
    strict_wer: float | None
    real_time_factor: float | None
    finished_at: object
    fingerprint: str | None

    @property
    def fingerprint_short(self) -> str:
        return short(self.fingerprint)


@dataclass(frozen=True)
class GroupMove:
    group: str
    files: int
    wer_a: float
    wer_b: float

    @property
    def difference(self) -> float:
        return self.wer_b - self.wer_a


@dataclass(frozen=True)
class Verdict:
    """Run b against run a (the first run) over the files both scored."""

    run_a: str
    run_b: str
    better: str | None          # the run the bootstrap interval says is better, else None
    files_shared: int
    wer_a: float | None
    wer_b: float | None
    difference: float | None    # WER_b - WER_a (fraction)
    low: float | None           # its 95% bootstrap interval
    high: float | None
    p_b_better: float | None
    tests_b_better: int         # of the four significance tests, at 0.05
    tests_a_better: int
    tests: int
    same_data: bool
    data_note: str              # how the data differ ('' when the same)
    moved: list[GroupMove] = field(default_factory=list)
    group_rule: str = ""

    @property
    def tests_no_difference(self) -> int:
        return self.tests - self.tests_a_better - self.tests_b_better

    @property
    def sentence(self) -> str:
        """The verdict in one sentence."""
        if self.difference is None:
            return f"{self.run_b} and {self.run_a} share no scored file: no verdict."
        points = abs(100 * self.difference)
        interval = f"95% interval {100 * self.low:+.2f} to {100 * self.high:+.2f}"
        if self.better is None:
            return (f"No clear difference: {self.run_b} − {self.run_a} = "
                    f"{100 * self.difference:+.2f} WER points ({interval}, which includes 0).")
        worse = self.run_a if self.better == self.run_b else self.run_b
        return (f"{self.better} is better than {worse} by {points:.2f} WER points "
                f"({self.run_b} − {self.run_a} = {100 * self.difference:+.2f}, {interval}).")

    @property
    def agreement(self) -> str:
        """How the four significance tests side, in words."""
        parts = []
        if self.tests_b_better:
            parts.append(f"{self.tests_b_better} find {self.run_b} better")
        if self.tests_a_better:
            parts.append(f"{self.tests_a_better} find {self.run_a} better")
        if self.tests_no_difference:
            parts.append(f"{self.tests_no_difference} find no difference")
        return f"of {self.tests} significance tests at 0.05: " + ", ".join(parts)


@dataclass(frozen=True)
class Reason:
    """One likely reason: an error tag (its share of errors) or a file feature."""

    kind: str        # 'tag' or 'feature'
    name: str
    text: str        # the reason in one phrase, with its figures
    meaning: str     # what the tag or feature is


@dataclass(frozen=True)
class Summary:
    dataset: str
    runs: list[RunFigures]
    verdicts: list[Verdict]
    reasons: list[Reason]
    reasons_run: str | None
    analysed: bool
    seed: int

    @property
    def primary(self) -> RunFigures | None:
        return self.runs[0] if self.runs else None


def build_summary(engine: sa.Engine, *, run_ids=(), dataset: str | None = None, seed: int = 0,
                  group_by: str | None = None, comparisons: dict | None = None) -> Summary:
    """The Summary of the runs named (primary first), else of the dataset's default run
    (asrlens.catalog); AsrlensError for an unknown run or dataset. comparisons: where the
    comparisons made are kept for the page's other sections (see `compared`)."""
    chosen, dataset = catalog.resolve_report(engine, tuple(run_ids), dataset=dataset)
    ids = [r["run_id"] for r in chosen]
    by_id = {r["run_id"]: r for r in run_query(engine, "summary_runs", run_ids=ids)}
    runs = [_figures(engine, by_id[r], seed=seed) for r in ids if r in by_id]
    verdicts = []
    for other in ids[1:]:
        c = compared(engine, run_a=ids[0], run_b=other, group_by=group_by, seed=seed,
                     memo=comparisons)
        verdicts.append(verdict(c))
    reasons = likely_reasons(engine, ids[0]) if ids else []
    return Summary(dataset=dataset, runs=runs, verdicts=verdicts, reasons=reasons,
                   reasons_run=ids[0] if ids else None, analysed=bool(reasons), seed=seed)


def compared(engine: sa.Engine, *, run_a: str, run_b: str, group_by: str | None, seed: int,
             memo: dict | None = None) -> Comparison:
    """run_b against run_a as the report shows it (compare_runs, the data allowed to differ:
    the page says how), made once per `memo` (a page's ReportContext.comparisons)."""
    key = (run_a, run_b, group_by, seed)
    if memo is not None and key in memo:
        return memo[key]
    rule = None if group_by is None else parse_rule(group_by)  # None: speakers when known
    with engine.connect() as conn:
        c = compare_runs(conn, run_a=run_a, run_b=run_b, rule=rule, seed=seed,
                         allow_different_data=True)
    if memo is not None:
        memo[key] = c
    return c


def _figures(engine: sa.Engine, row: dict, *, seed: int) -> RunFigures:
    counts = run_columns(engine, "run_file_counts", run_id=row["run_id"])
    wer = corpus_intervals(counts, seed=seed)["wer"]  # as the Run section: same files, seed
    return RunFigures(
        run_id=row["run_id"], engine=row["engine"], model=row["model"],
        normalizer=row["normalizer"], status=row["status"],
        files_total=int(row["files_total"] or 0), files_scored=int(row["files_scored"] or 0),
        files_failed=int(row["files_failed"] or 0), wer=_float(row["wer"]),
        wer_low=wer.low, wer_high=wer.high, strict_wer=_float(row["strict_wer"]),
        real_time_factor=_float(row["real_time_factor"]), finished_at=row["finished_at"],
        fingerprint=row["data_fingerprint"] or run_fingerprint(engine, row["run_id"]),
    )


def verdict(c: Comparison) -> Verdict:
    """A comparison's verdict: better when the bootstrap interval of ΔWER excludes 0."""
    b = c.bootstrap
    better = None
    if b.low is not None and b.high is not None:
        if b.high < 0:
            better = c.run_b
        elif b.low > 0:
            better = c.run_a
    tests = list(c.tests.values())
    moved = sorted((GroupMove(g["group_name"], g["files"], g["wer_a"], g["wer_b"])
                    for g in c.groups), key=lambda m: (-abs(m.difference), m.group))
    data = c.data
    return Verdict(
        run_a=c.run_a, run_b=c.run_b, better=better, files_shared=c.files_shared,
        wer_a=c.wer_a, wer_b=c.wer_b, difference=b.difference, low=b.low, high=b.high,
        p_b_better=b.p_b_better, tests=len(tests),
        tests_b_better=sum(1 for t in tests if t.better == "b"),
        tests_a_better=sum(1 for t in tests if t.better == "a"),
        same_data=data is None or data.same, data_note=data.describe() if data else "",
        moved=[m for m in moved if m.difference != 0][:MOVED_GROUPS], group_rule=c.rule.text,
    )


def likely_reasons(engine: sa.Engine, run_id: str) -> list[Reason]:
    """Up to REASONS reasons from the analysis tables: the REASON_TAGS tags that carry the
    most errors, then the feature most associated with per-file WER (another tag if none)."""
    tags = run_query(engine, "summary_reasons", run_id=run_id, limit=REASONS)
    features = run_query(engine, "summary_feature", run_id=run_id,
                         min_files=MIN_FEATURE_FILES)
    reasons = [Reason("tag", t["tag"], f"{t['tag']}: {100 * (t['share'] or 0):.0f}% of the "
                      f"errors ({t['ops']} of {t['errors']})",
                      TAG_DESCRIPTIONS.get(t["tag"], "")) for t in tags]
    kept = reasons[:REASON_TAGS] if features else reasons[:REASONS]
    for f in features:
        label = FEATURES.get(f["feature"], f["feature"])
        span = (f"at {_number(f['lo'])}" if f["lo"] == f["hi"]
                else f"from {_number(f['lo'])} to {_number(f['hi'])}")
        kept.append(Reason("feature", f["feature"], (
            f"{label}: the files {span} have WER "
            f"{100 * (f['bucket_wer'] or 0):.1f}% (n={f['bucket_files']}); Spearman "
            f"{f['spearman']:+.2f} over {f['files']} files"), "the file feature most "
            "associated with per-file WER"))
    return kept


def _number(value) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def _float(value) -> float | None:
    return None if value is None else float(value)
