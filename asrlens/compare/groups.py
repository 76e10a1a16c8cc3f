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
from array import array
from dataclasses import dataclass, field

import numpy as np
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


def group_query(conn: sa.Connection, *, dataset: str, rule: GroupRule) -> tuple[str, dict]:
    """(SQL, parameters) of a query giving utt_id and group_name (NULL: no group) for every
    utterance of `dataset` under `rule`; for a regex rule group_name is NULL and the pattern
    is applied to utt_id in Python (group_name()). Raises AsrlensError for an unknown label
    column, and for speakers when the dataset has none."""
    if rule.kind == "regex":
        return ("select utt_id, null::varchar as group_name from utterances "
                "where dataset = :dataset", {"dataset": dataset})
    if rule.kind == SPEAKER_RULE:
        if not has_speakers(conn, dataset):
            raise AsrlensError(f"--group-by speaker: dataset {dataset} has no speakers (its "
                               "layout gives none, or it was ingested before schema 7: "
                               "ingest it again)")
        return ("select utt_id, speaker as group_name from utterances "
                "where dataset = :dataset", {"dataset": dataset})
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
        return (named_query("compare", "group_labels").replace("select * from final",
                                                                "select utt_id, value as "
                                                                "group_name from final"),
                {"dataset": dataset, "name": rule.value})
    context = named_query("compare", "group_context")
    expression = rule.value.replace(":", "\\:")  # a colon in it is text, not a parameter
    return (f"select utt_id, cast(({expression}) as varchar) as group_name "
            f"from ({context}) as utterance", {"dataset": dataset})


def group_name(rule: GroupRule, utt_id: str, value: str | None,
               pattern: re.Pattern | None = None) -> str:
    """The group of one utterance: group_query's group_name, or for a regex rule the first
    capture group (else the whole match) of `pattern` (re.compile(rule.value)) in utt_id;
    NO_GROUP when there is none."""
    if rule.kind == "regex":
        match = (pattern or re.compile(rule.value)).search(utt_id)
        value = None
        if match:
            value = match.group(1) if match.re.groups else match.group(0)
    return value or NO_GROUP


def failed_expression(rule: GroupRule, exc: sa.exc.DBAPIError) -> AsrlensError:
    """The error of a `--group-by sql:` expression that failed."""
    return AsrlensError(f"--group-by {rule.text}: the expression failed: {one_line(exc)}")


def assign_groups(conn: sa.Connection, *, dataset: str, rule: GroupRule) -> dict[str, str]:
    """utt_id -> group name for every utterance of `dataset` (NO_GROUP when the rule gives
    none). Raises AsrlensError for an unknown label column or an SQL expression that fails.
    (One entry per utterance: compare and group_results stream group_query instead.)"""
    sql, params = group_query(conn, dataset=dataset, rule=rule)
    pattern = re.compile(rule.value) if rule.kind == "regex" else None
    try:
        rows = conn.execute(sa.text(sql), params).all()
    except sa.exc.DBAPIError as exc:
        raise failed_expression(rule, exc) from exc
    return {utt_id: group_name(rule, utt_id, value, pattern) for utt_id, value in rows}


def has_speakers(conn: sa.Connection, dataset: str) -> bool:
    """Whether any utterance of `dataset` has a speaker (utterances.speaker, not empty)."""
    return bool(conn.execute(sa.text(named_query("compare", "has_speakers")),
                             {"dataset": dataset}).scalar())


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
    differing most from the corpus WER (those whose interval excludes it first).

    The files are read as columns of numbers with a group number each (FETCH_ROWS rows at a
    time), never as a row object per file."""
    sql, params = group_query(conn, dataset=dataset, rule=rule)
    files = named_query("compare", "run_files")
    joined = (f"select f.utt_id, g.utt_id is not null as known, g.group_name, "
              f"{', '.join('f.' + c for c in _COUNTS)} from ({files}) as f "
              f"left join ({sql}) as g on g.utt_id = f.utt_id order by f.utt_id")
    pattern = re.compile(rule.value) if rule.kind == "regex" else None
    numbers: dict[str, int] = {}
    codes, columns = array("q"), {c: array("q") for c in _COUNTS}
    try:
        result = conn.execute(sa.text(joined), {**params, "run_id": run_id})
        for part in result.partitions(FETCH_ROWS):
            for utt_id, known, value, *counts in part:
                name = group_name(rule, utt_id, value, pattern) if known else NO_GROUP
                codes.append(numbers.setdefault(name, len(numbers)))
                for column, count in zip(columns.values(), counts, strict=True):
                    column.append(count or 0)
    except sa.exc.DBAPIError as exc:
        raise failed_expression(rule, exc) from exc
    index = np.frombuffer(codes, dtype=np.int64)
    arrays = {c: np.frombuffer(values, dtype=np.int64) for c, values in columns.items()}
    table = GroupTable(run_id=run_id, rule=rule, corpus=_totals(arrays))
    for position, name in enumerate(sorted(numbers)):
        inside = index == numbers[name]
        counts = {c: arrays[c][inside] for c in _COUNTS}
        interval = corpus_intervals(counts, seed=seed + position, replicates=replicates,
                                    confidence=CONFIDENCE, metrics={"wer": rates.wer})["wer"]
        table.rows.append({"group_name": name, **_totals(counts), "wer_low": interval.low,
                           "wer_high": interval.high})
    table.outliers = _outliers(table.rows, table.corpus.get("wer"))
    return table


_COUNTS = ("ref_words", "substitutions", "deletions", "insertions")
FETCH_ROWS = 50_000
"""Rows fetched at a time where a query gives one row per file."""


def _totals(counts: dict[str, np.ndarray]) -> dict:
    """files, the summed counts, errors and WER of one column of numbers per count."""
    totals = {c: int(counts[c].sum()) for c in _COUNTS}
    return {"files": int(counts[_COUNTS[0]].size), **totals,
            "errors": rates.word_errors(totals), "wer": rates.value(rates.wer(totals))}


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
