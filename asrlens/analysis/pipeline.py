"""`analyze`: fill the analysis tables for one run from what ingest and infer stored.

Reads utterances, audio_files, runs, transcripts, utterance_errors and alignment_ops; writes
utterance_features (for the run's dataset), reference_words, op_tags, feature_effects,
feature_correlations and analysis_summary (for the run). Re-running replaces those rows.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa

from asrlens import catalog
from asrlens.analysis import features as feats
from asrlens.analysis import tags as tagging
from asrlens.analysis import text
from asrlens.analysis.batches import utt_ranges
from asrlens.analysis.effects import feature_rows
from asrlens.analysis.failure_summary import failure_sentences
from asrlens.analysis.failures import analyze_failures, store_keywords
from asrlens.analysis.summary import _sql, summarize
from asrlens.db import delete_rows, insert_rows, named_query
from asrlens.raw_scores import score_raw
from asrlens.summaries import analysis_lines
from asrlens.vocabulary import FEATURES

OPS_FILES = 1000
"""Utterances read, analysed and written at a time (about 20 alignment ops each): every
per-file step of analyze works on one batch of this many (asrlens.analysis.batches)."""
FETCH_ROWS = 50_000
"""Rows fetched at a time where a column of numbers per file is read whole."""
RUN_TABLES = ("reference_words", "op_tags", "feature_effects", "feature_correlations",
              "analysis_summary")
"""Tables whose rows for the run are replaced by each analysis."""


@dataclass(frozen=True)
class AnalysisResult:
    """What `analyze` wrote for one run."""

    run_id: str
    dataset: str
    utterances: int            # rows written to utterance_features (all labels of the dataset)
    files_scored: int          # files of the run with a score (utterance_errors rows)
    errors: int                # alignment ops that are not 'equal'
    tag_counts: dict[str, int] = field(default_factory=dict)  # tag -> error ops carrying it
    summary: list[str] = field(default_factory=list)          # the written summary
    failures: dict[str, int] = field(default_factory=dict)    # analysis.failures counts

    def summary_lines(self) -> list[str]:
        """What `asrlens analyze` prints (asrlens.summaries.analysis_lines)."""
        return analysis_lines(self)


def _contexts(labels: list[dict]) -> dict[str, dict]:
    """Per utterance: the word-key sets the tag rules and word flags use."""
    out = {}
    for row in labels:
        raw, normalized = row["transcript"], row["normalized_transcript"]
        out[row["utt_id"]] = {
            "proper_nouns": frozenset(
                k for tok in text.proper_noun_tokens(raw) for k in text.word_keys(tok)),
            "normalized": frozenset(text.normalization_keys(raw, normalized)),
            "hyphenated": frozenset(
                k for tok in text.hyphenated_tokens(raw) for k in text.word_keys(tok)),
        }
    return out


def tag_run(
    op_rows: Sequence[tuple], *, run_id: str, contexts: dict[str, dict], frequencies
) -> tuple[list[dict], list[dict]]:
    """Rows of `op_tags` and `reference_words` for a run's alignment.

    op_rows: tuples (utt_id, op_index, op, ref_word, hyp_word, ref_pos, hyp_pos) ordered by
    utterance and op_index, as run_ops.sql returns them (tuples: 100,000 rows fetch fast).
    """
    tag_rows, word_rows = [], []
    empty = {"proper_nouns": frozenset(), "normalized": frozenset(), "hyphenated": frozenset()}
    for utt_id, group in itertools.groupby(op_rows, key=lambda r: r[0]):
        rows = list(group)
        ops = [tagging.Op(*r[2:7]) for r in rows]
        sets = contexts.get(utt_id, empty)
        ref_keys = [text.key(o.ref_word) for o in ops if o.ref_word is not None]
        ctx = tagging.Context(
            n_ref=len(ref_keys), proper_nouns=sets["proper_nouns"],
            normalized=sets["normalized"],
            rare=frozenset(feats.rare_keys(ref_keys, frequencies)),
        )
        for i, op in enumerate(ops):
            for tag in tagging.tag_op(ops, i, ctx):
                tag_rows.append({"run_id": run_id, "utt_id": utt_id,
                                 "op_index": rows[i][1], "tag": tag})
            if op.ref_word is not None and op.ref_pos is not None:
                k = text.key(op.ref_word)
                word_rows.append({
                    "run_id": run_id, "utt_id": utt_id, "ref_pos": op.ref_pos,
                    "word": op.ref_word, "op": op.op, "hyp_word": op.hyp_word,
                    "proper_noun": k in ctx.proper_nouns, "rare_word": k in ctx.rare,
                    "normalization": k in ctx.normalized,
                    "function_word": k in tagging.FUNCTION_WORDS,
                    "hyphenated": k in sets["hyphenated"],
                })
    return tag_rows, word_rows


def _features_and_tags(conn: sa.Connection, *, run_id: str, dataset: str,
                       ranges: list[dict]) -> tuple[int, int, Counter]:
    """utterance_features of the dataset, and op_tags and reference_words of the run, one
    batch of utterances at a time, each committed (memory does not grow with the data):
    (utterances, error ops, tag counts). The word frequencies (rare words) are counted over
    all labels first."""
    frequencies: Counter = Counter()
    for batch in ranges:
        frequencies.update(feats.word_frequencies(_sql(conn, "labels", dataset=dataset, **batch)))
    utterances, errors, tags = 0, 0, Counter()
    for batch in ranges:
        labels = _sql(conn, "labels", dataset=dataset, **batch)
        utterances += insert_rows(conn, "utterance_features", feats.utterance_features(
            labels, dataset=dataset, frequencies=frequencies))
        contexts = _contexts(labels)
        del labels
        op_rows = conn.execute(sa.text(named_query("analysis", "run_ops")),
                               {"run_id": run_id, **batch}).all()
        tag_rows, word_rows = tag_run(op_rows, run_id=run_id, contexts=contexts,
                                      frequencies=frequencies)
        insert_rows(conn, "op_tags", tag_rows)
        insert_rows(conn, "reference_words", word_rows)
        errors += sum(1 for r in op_rows if r[2] != "equal")
        tags.update(row["tag"] for row in tag_rows)
        conn.commit()
    return utterances, errors, tags


def _feature_effects(conn: sa.Connection, *, run_id: str) -> int:
    """Fill feature_effects and feature_correlations from per-feature columns of numbers
    (a few arrays of one number per file, never a row object per file); the files scored."""
    files = named_query("analysis", "file_features")
    for feature in FEATURES:  # fixed column names of utterance_features (asrlens.vocabulary)
        sql = (f"select {feature} as value, errors, scored_ref_words, wer from ({files}) "
               f"where {feature} is not null and wer is not null order by utt_id")
        result = conn.execute(sa.text(sql), {"run_id": run_id})
        chunks = [np.array([tuple(r) for r in part], dtype=float).reshape(-1, 4)
                  for part in result.partitions(FETCH_ROWS)]
        columns = np.concatenate(chunks) if chunks else np.empty((0, 4))
        effect_rows, correlation = feature_rows(
            feature, columns[:, 0], columns[:, 1], columns[:, 2], columns[:, 3], run_id=run_id)
        insert_rows(conn, "feature_effects", effect_rows)
        insert_rows(conn, "feature_correlations", [correlation])
    return conn.execute(sa.text(f"select count(*) from ({files})"), {"run_id": run_id}).scalar()


def analyze(engine: sa.Engine, *, run_id: str | None = None,
            keywords: str | None = None) -> AnalysisResult:
    """Analyse run `run_id` (None: the default run, asrlens.catalog): features, tags, feature
    effects, the failures (asrlens.analysis.failures) and the written summary. keywords: a
    keywords file or 'label:COLUMN' to store as the dataset's terms (None: keep them).

    Idempotent: the run's rows (and its dataset's utterance_features) are replaced. Files
    are read, analysed and written OPS_FILES utterances at a time (asrlens.analysis.batches),
    each batch committed: DuckDB holds what a transaction wrote in memory (about 3 KB per
    file, 3 GB for a million), so memory stays flat only if batches are committed. The old
    rows go first and the summary (analysis_summary) comes last: an analysis cut short
    leaves the run without a summary, and `asrlens analyze` again replaces everything.
    Raises AsrlensError when the run does not exist (or there is none).
    """
    with engine.connect() as conn:
        run = catalog.resolve_run(conn, run_id)
        run_id, dataset = run["run_id"], run["dataset"]
        score_raw(conn, run_id)  # runs made before raw scores existed get them here
        ranges = utt_ranges(conn, dataset=dataset, size=OPS_FILES)
        if keywords is not None:  # first: a bad source changes nothing
            store_keywords(conn, dataset, keywords, ranges=ranges)
        delete_rows(conn, "analysis_summary", run_id=run_id)  # first: a summary says done
        delete_rows(conn, "utterance_features", dataset=dataset)
        for table in RUN_TABLES:
            delete_rows(conn, table, run_id=run_id)
        conn.commit()
        utterances, errors, tags = _features_and_tags(conn, run_id=run_id, dataset=dataset,
                                                      ranges=ranges)
        files_scored = _feature_effects(conn, run_id=run_id)
        failures = analyze_failures(conn, run, ranges=ranges, commit=True,
                                    keywords_stored=keywords is not None)
        summary_rows = summarize(conn, run_id=run_id)
        summary_rows += failure_sentences(conn, run_id=run_id, start=len(summary_rows))
        insert_rows(conn, "analysis_summary", summary_rows)
        conn.commit()
    return AnalysisResult(
        run_id=run_id, dataset=dataset, utterances=utterances, files_scored=files_scored,
        errors=errors, tag_counts=dict(tags.most_common()),
        summary=[r["sentence"] for r in summary_rows], failures=failures,
    )
