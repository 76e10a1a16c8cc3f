"""Per-group results: files grouped by a rule the user gives, each group's corpus WER with
a bootstrap interval, and S/D/I.

    rule = parse_rule("label:speaker")          # or "regex:^LJ\\d+", "sql:labels['accent']"
    table = group_results(conn, run_id="sphinx", dataset="ljspeech-sample", rule=rule, seed=0)
    table.rows[0]            # {'group_name': 'LJ001', 'files': 12, 'wer': 0.21, ...}
    table.outliers           # the groups whose WER differs most from the corpus WER

Rules:
  regex:PATTERN   over utt_id; the group is the first capture group, else the whole match
                  (default `regex:^[^-]+`: LJ001 for LJ001-0001, as sclite names speakers)
  label:COLUMN    an extra column of the labels file (utterance_labels), e.g. speaker
  sql:EXPR        a DuckDB expression over the row of compare/queries/group_context.sql
  speaker         utterances.speaker (from the dataset's layout: docs/ingest.md)
Files the rule gives no group (no match, no value, NULL) go to the group NO_GROUP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlalchemy as sa

from asrlens.db import named_query, one_line, query
from asrlens.errors import AsrlensError
from asrlens.scoring import rates
from asrlens.scoring.bootstrap import REPLICATES, corpus_intervals

RULE_KINDS = ("regex", "label", "sql")
DEFAULT_RULE = "regex:^[^-]+"
"""The chapter of an LJSpeech id (LJ001-0001 -> LJ001), which is also sclite's speaker."""
NO_GROUP = "(none)"
SPEAKER_RULE = "speaker"
"""`--group-by speaker`: utterances.speaker."""
CONFIDENCE = 0.95
OUTLIERS = 3
"""How many groups the report names as differing most from the corpus WER."""


@dataclass(frozen=True)
class GroupRule:
    """How files are grouped: kind is 'regex', 'label' or 'sql'; text is 'kind:value'."""

    kind: str
    value: str

    @property
    def text(self) -> str:
        return self.kind if self.kind == SPEAKER_RULE else f"{self.kind}:{self.value}"


@dataclass
class GroupTable:
    """Per-group rows of one run (ordered by group name) and the corpus row over all files."""

    run_id: str
    rule: GroupRule
    rows: list[dict] = field(default_factory=list)
    corpus: dict = field(default_factory=dict)
    outliers: list[dict] = field(default_factory=list)


def parse_rule(text: str | None) -> GroupRule:
    """'regex:^LJ\\d+' / 'label:speaker' / 'sql:EXPR' -> GroupRule; None -> the default.

    Raises AsrlensError for an unknown kind, an empty value or a regex that does not compile.
    """
    text = DEFAULT_RULE if text is None else text
    if text.strip() == SPEAKER_RULE:
        return GroupRule(SPEAKER_RULE, "")
    kind, sep, value = text.partition(":")
    if not sep or kind not in RULE_KINDS or not value.strip():
        raise AsrlensError(
            f"--group-by {text!r}: give regex:PATTERN, label:COLUMN, sql:EXPRESSION or "
            f"speaker (default {DEFAULT_RULE})"
        )
    if kind == "regex":
        try:
            re.compile(value)
        except re.error as exc:
            raise AsrlensError(f"--group-by {text!r}: not a regular expression: {exc}") from exc
    return GroupRule(kind, value.strip() if kind == "label" else value)


def assign_groups(conn: sa.Connection, *, dataset: str, rule: GroupRule) -> dict[str, str]:
    """utt_id -> group name for every utterance of `dataset` (NO_GROUP when the rule gives
    none). Raises AsrlensError for an unknown label column or an SQL expression that fails."""
    if rule.kind == "regex":
        pattern = re.compile(rule.value)
        ids = query(conn, "select utt_id from utterances where dataset = :d", d=dataset)
        groups = {}
        for row in ids:
            match = pattern.search(row["utt_id"])
            name = None
            if match:
                name = match.group(1) if pattern.groups else match.group(0)
            groups[row["utt_id"]] = name or NO_GROUP
        return groups
    if rule.kind == SPEAKER_RULE:
        rows = speakers_of(conn, dataset)
        if not any(rows.values()):
            raise AsrlensError(f"--group-by speaker: dataset {dataset} has no speakers (its "
                               "layout gives none, or it was ingested before schema 7: "
                               "ingest it again)")
        return {utt: speaker or NO_GROUP for utt, speaker in rows.items()}
    if rule.kind == "label":
        try:
            names = [r["name"] for r in query(
                conn, named_query("compare", "label_names"), dataset=dataset)]
        except sa.exc.DBAPIError as exc:  # a database from before utterance_labels existed
            raise AsrlensError(f"--group-by {rule.text}: {one_line(exc)}; re-ingest the "
                               f"dataset with this asrlens to store its label columns") from exc
        if rule.value not in names:
            known = ", ".join(names) or "none (its labels file has no extra columns)"
            raise AsrlensError(f"--group-by {rule.text}: dataset {dataset} has no label column "
                               f"{rule.value!r}; columns: {known}")
        rows = query(conn, named_query("compare", "group_labels"), dataset=dataset,
                     name=rule.value)
        return {r["utt_id"]: r["value"] or NO_GROUP for r in rows}
    context = named_query("compare", "group_context")
    expression = rule.value.replace(":", "\\:")  # a colon in it is text, not a parameter
    sql = (f"select utt_id, cast(({expression}) as varchar) as group_name "
           f"from ({context}) as utterance")
    try:
        rows = query(conn, sql, dataset=dataset)
    except sa.exc.DBAPIError as exc:
        raise AsrlensError(f"--group-by {rule.text}: the expression failed: {one_line(exc)}"
                           ) from exc
    return {r["utt_id"]: r["group_name"] or NO_GROUP for r in rows}


def speakers_of(conn: sa.Connection, dataset: str) -> dict[str, str | None]:
    """utt_id -> utterances.speaker (None when unknown) for every utterance of `dataset`."""
    return {r["utt_id"]: r["speaker"]
            for r in query(conn, named_query("compare", "speakers"), dataset=dataset)}


def group_results(
    conn: sa.Connection, *, run_id: str, dataset: str, rule: GroupRule, seed: int,
    replicates: int = REPLICATES,
) -> GroupTable:
    """Per group of the run's scored files: files, reference words, S, D, I, errors and the
    corpus WER (errors / reference words) with its percentile bootstrap interval (files of
    the group resampled, seeded); the corpus row over all files; and the OUTLIERS groups
    differing most from the corpus WER (those whose interval excludes it first)."""
    groups = assign_groups(conn, dataset=dataset, rule=rule)
    files = query(conn, named_query("compare", "run_files"), run_id=run_id)
    by_group: dict[str, list[dict]] = {}
    for f in files:
        by_group.setdefault(groups.get(f["utt_id"], NO_GROUP), []).append(f)
    table = GroupTable(run_id=run_id, rule=rule, corpus=_totals(files))
    for index, name in enumerate(sorted(by_group)):
        members = by_group[name]
        counts = {c: [f[c] for f in members] for c in _COUNTS}
        interval = corpus_intervals(counts, seed=seed + index, replicates=replicates,
                                    confidence=CONFIDENCE, metrics={"wer": rates.wer})["wer"]
        table.rows.append({"group_name": name, **_totals(members), "wer_low": interval.low,
                           "wer_high": interval.high})
    table.outliers = _outliers(table.rows, table.corpus.get("wer"))
    return table


_COUNTS = ("ref_words", "substitutions", "deletions", "insertions")


def _totals(files: list[dict]) -> dict:
    totals = rates.summed(files, _COUNTS)
    return {"files": len(files), **totals, "errors": rates.word_errors(totals),
            "wer": rates.value(rates.wer(totals))}


def _outliers(rows: list[dict], corpus_wer: float | None) -> list[dict]:
    """Up to OUTLIERS groups by |WER - corpus WER|, those whose interval excludes the corpus
    WER first; each with `difference` and `excludes_corpus` added."""
    if corpus_wer is None:
        return []
    ranked = []
    for row in rows:
        if row["wer"] is None:
            continue
        low, high = row["wer_low"], row["wer_high"]
        excludes = low is not None and not (low <= corpus_wer <= high)
        ranked.append({**row, "difference": row["wer"] - corpus_wer,
                       "excludes_corpus": excludes})
    ranked.sort(key=lambda r: (not r["excludes_corpus"], -abs(r["difference"]), r["group_name"]))
    return ranked[:OUTLIERS]
