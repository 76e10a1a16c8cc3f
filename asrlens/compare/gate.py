"""A CI gate: is the candidate run worse than the baseline, beyond noise?

    with engine.connect() as conn:
        result = gate(conn, candidate="new", baseline="main", rule=GateRule())
    result.failed, result.checks[0].p_worse
    Path("gate.xml").write_text(junit_xml(result))

One-sided: only a candidate *worse* than the baseline can fail, never a better one. The
paired bootstrap of `asrlens compare` (significance.paired_deltas: the files both runs
scored, resampled with replacement, the same seed) gives the distribution of ΔWER =
WER_candidate - WER_baseline; the gate fails when P(ΔWER > max_wer_increase) is at least
`confidence`. So a candidate that re-scores the same hypotheses (ΔWER = 0 in every
replicate) passes, and one that is worse by a few errors in one file out of many, which
resampling often leaves out, passes too; a regression spread over files fails. When the
dataset knows its speakers, whole speakers are resampled (as compare does). With a group
rule (`group_max_increase`), each group of files is checked the same way, on its own files,
against its own threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

import numpy as np
import sqlalchemy as sa

from asrlens.compare.groups import NO_GROUP, GroupRule, assign_groups, speakers_of
from asrlens.compare.pairs import Comparison, compare_runs
from asrlens.compare.significance import BOOTSTRAP_REPLICATES, paired_deltas
from asrlens.db import named_query, query
from asrlens.errors import AsrlensError

CONFIDENCE = 0.95
"""Default --confidence: how sure the bootstrap must be that the candidate is worse."""
CORPUS = "all files"
"""The name of the corpus-wide check."""


@dataclass(frozen=True)
class GateRule:
    """When the gate fails. Increases are fractions of WER (0.01 is one point)."""

    max_wer_increase: float = 0.0
    confidence: float = CONFIDENCE
    group_max_increase: float | None = None  # None: no per-group check
    group_by: GroupRule | None = None  # None: by speaker when known, else DEFAULT_RULE

    def __post_init__(self):
        if not 0.5 <= self.confidence < 1:
            raise AsrlensError(f"--confidence must be at least 0.5 and below 1, not "
                               f"{self.confidence}")
        for value in (self.max_wer_increase, self.group_max_increase):
            if value is not None and not 0 <= value <= 1:
                raise AsrlensError(f"a WER increase must be between 0 and 100 points, not "
                                   f"{100 * value:g}")


@dataclass(frozen=True)
class GateCheck:
    """One check: the corpus (scope CORPUS) or one group of files."""

    scope: str
    files: int
    wer_baseline: float | None
    wer_candidate: float | None
    threshold: float       # the allowed increase (fraction)
    p_worse: float | None  # bootstrap share of replicates with ΔWER > threshold
    confidence: float

    @property
    def difference(self) -> float | None:
        if self.wer_baseline is None or self.wer_candidate is None:
            return None
        return self.wer_candidate - self.wer_baseline

    @property
    def failed(self) -> bool:
        return self.p_worse is not None and self.p_worse >= self.confidence


@dataclass
class GateResult:
    candidate: str
    baseline: str
    rule: GateRule
    comparison: Comparison
    checks: list[GateCheck] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(c.failed for c in self.checks)

    @property
    def failures(self) -> list[GateCheck]:
        return [c for c in self.checks if c.failed]


def gate(conn: sa.Connection, *, candidate: str, baseline: str, rule: GateRule, seed: int = 0,
         replicates: int = BOOTSTRAP_REPLICATES, allow_different_data: bool = False,
         ) -> GateResult:
    """The gate's checks of `candidate` against `baseline`. Raises AsrlensError as
    compare_runs does (unknown runs, different datasets or data), and when the runs share
    no scored file."""
    comparison = compare_runs(conn, run_a=baseline, run_b=candidate, rule=rule.group_by,
                              seed=seed, replicates=replicates,
                              allow_different_data=allow_different_data)
    shared = query(conn, named_query("compare", "shared_files"), run_a=baseline,
                   run_b=candidate)
    if comparison.data is not None and not comparison.data.same:
        shared = [f for f in shared if f["utt_id"] not in comparison.data.differing_ids]
    if not shared or not sum(f["ref_words_a"] for f in shared):
        raise AsrlensError(f"runs {baseline!r} and {candidate!r} share no scored file with "
                           f"reference words: nothing to gate on")
    result = GateResult(candidate=candidate, baseline=baseline, rule=rule,
                        comparison=comparison)
    speakers = speakers_of(conn, comparison.dataset)
    by_speaker = any(speakers.values())  # resample speakers, as compare does, when known

    def clusters(files: list[dict]) -> list[str] | None:
        return ([speakers.get(f["utt_id"]) or f"\0{f['utt_id']}" for f in files]
                if by_speaker else None)

    result.checks.append(_check(CORPUS, shared, threshold=rule.max_wer_increase, rule=rule,
                                seed=seed, replicates=replicates, clusters=clusters(shared)))
    if rule.group_max_increase is not None:
        groups = assign_groups(conn, dataset=comparison.dataset, rule=comparison.rule)
        members: dict[str, list[dict]] = {}
        for f in shared:
            members.setdefault(groups.get(f["utt_id"], NO_GROUP), []).append(f)
        for index, name in enumerate(sorted(members)):
            result.checks.append(_check(name, members[name], threshold=rule.group_max_increase,
                                        rule=rule, seed=seed + 1 + index,
                                        replicates=replicates,
                                        clusters=clusters(members[name])))
    return result


def _check(scope: str, files: list[dict], *, threshold: float, rule: GateRule, seed: int,
           replicates: int, clusters: list[str] | None) -> GateCheck:
    arrays = [[f[k] for f in files] for k in ("errors_a", "ref_words_a", "errors_b",
                                              "ref_words_b")]
    deltas, _, _ = paired_deltas(*arrays, seed=seed, replicates=replicates, clusters=clusters)
    words_a, words_b = sum(arrays[1]), sum(arrays[3])
    return GateCheck(
        scope=scope, files=len(files),
        wer_baseline=sum(arrays[0]) / words_a if words_a else None,
        wer_candidate=sum(arrays[2]) / words_b if words_b else None,
        threshold=threshold,
        # a tiny tolerance: a replicate exactly at the threshold is not worse than allowed
        p_worse=float(np.mean(deltas > threshold + 1e-12)) if deltas.size else None,
        confidence=rule.confidence,
    )


def junit_xml(result: GateResult) -> str:
    """The checks as a JUnit XML report: one test suite, one test case per check, a
    <failure> for each failed one (CI systems show these as test results)."""
    suite = ET.Element("testsuite", name="asrlens gate", tests=str(len(result.checks)),
                       failures=str(len(result.failures)), errors="0")
    ET.SubElement(ET.SubElement(suite, "properties"), "property", name="baseline",
                  value=result.baseline)
    for check in result.checks:
        case = ET.SubElement(suite, "testcase", classname=f"asrlens.gate.{result.candidate}",
                             name=f"WER of {check.scope}")
        text = check_sentence(result, check)
        if check.failed:
            ET.SubElement(case, "failure", message=text, type="WerRegression").text = text
        else:
            ET.SubElement(case, "system-out").text = text
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode")


def check_sentence(result: GateResult, check: GateCheck) -> str:
    """One line: the check's figures and outcome."""
    def pct(v):
        return "–" if v is None else f"{100 * v:.2f}%"

    diff = check.difference
    moved = "–" if diff is None else f"{100 * diff:+.2f} points"
    p = "–" if check.p_worse is None else f"{check.p_worse:.3f}"
    outcome = "FAIL" if check.failed else "pass"
    return (f"{outcome}: {check.scope} ({check.files} files): WER {pct(check.wer_baseline)} "
            f"({result.baseline}) -> {pct(check.wer_candidate)} ({result.candidate}), {moved}; "
            f"P(worse by more than {100 * check.threshold:g} points) = {p}, fails at "
            f">= {check.confidence:g}")
