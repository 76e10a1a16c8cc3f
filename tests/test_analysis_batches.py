"""`analyze` reads, analyses and writes a few files at a time (issue 26: memory stays flat
however many files a run has). Every table it fills holds the same rows whatever the batch
size: one batch of everything, or batches of a file or a few."""

from __future__ import annotations

import pytest
from synthetic import make_synthetic_db
from test_failures import make_db

from asrlens.analysis import analyze, pipeline
from asrlens.db import connect, query

RUN_TABLES = ("utterance_features", "reference_words", "op_tags", "feature_effects",
              "feature_correlations", "analysis_summary", "hallucination_files",
              "hallucination_events", "formatting_errors", "punctuation_files",
              "punctuation_substitutions", "casing_files", "keywords", "keyword_occurrences")


def _tables(engine) -> dict[str, list[dict]]:
    return {table: query(engine, f"select * from {table} order by all") for table in RUN_TABLES}


@pytest.mark.parametrize("batch", [1, 7])
def test_synthetic_run_gives_the_rows_of_one_batch(tmp_path, monkeypatch, batch):
    engine = connect(make_synthetic_db(tmp_path / "s.duckdb", n_utts=60, n_runs=2, seed=5))
    try:
        whole = [analyze(engine, run_id=run) for run in ("run0", "run1")]
        expected = _tables(engine)
        monkeypatch.setattr(pipeline, "OPS_FILES", batch)
        batched = [analyze(engine, run_id=run) for run in ("run0", "run1")]
        got = _tables(engine)
    finally:
        engine.dispose()
    assert len(expected["op_tags"]) > 0 and len(expected["formatting_errors"]) > 0
    assert len(expected["feature_effects"]) > 0 and len(expected["casing_files"]) > 0
    assert batched == whole
    assert got == expected


@pytest.mark.parametrize("keywords", ["file", "label:terms"])
def test_failures_and_keywords_give_the_rows_of_one_batch(tmp_path, monkeypatch, keywords):
    terms = tmp_path / "terms.txt"
    terms.write_text("Gutenberg\nthe Netherlands\nMainz\ncolour\n", encoding="utf-8")
    source = str(terms) if keywords == "file" else keywords
    results = []
    for batch in (5000, 1, 2):
        monkeypatch.setattr(pipeline, "OPS_FILES", batch)
        engine = make_db(tmp_path / f"f{batch}.duckdb", tmp_path / f"data{batch}")
        try:
            runs = [analyze(engine, run_id="A", keywords=source), analyze(engine, run_id="B")]
            tables = _tables(engine)
        finally:
            engine.dispose()
        results.append((runs, tables))
    (runs, tables), *others = results
    assert len(tables["hallucination_events"]) > 0 and len(tables["keyword_occurrences"]) > 0
    assert len(tables["punctuation_files"]) > 0 and len(tables["formatting_errors"]) > 0
    for other_runs, other_tables in others:
        assert [r.failures for r in other_runs] == [r.failures for r in runs]
        assert [r.summary for r in other_runs] == [r.summary for r in runs]
        assert other_tables == tables


def test_an_analysis_cut_short_leaves_no_summary_and_the_next_replaces_it(tmp_path,
                                                                           monkeypatch):
    # batches are committed as they go (DuckDB holds a transaction's writes in memory)
    from asrlens.analysis import failures

    engine = connect(make_synthetic_db(tmp_path / "s.duckdb", n_utts=40, n_runs=1, seed=2))
    try:
        analyze(engine, run_id="run0")
        expected = _tables(engine)
        monkeypatch.setattr(pipeline, "OPS_FILES", 9)

        def broken(*args, **kwargs):
            raise KeyboardInterrupt

        with monkeypatch.context() as m:
            m.setattr(failures, "punctuation_rows", broken)
            with pytest.raises(KeyboardInterrupt):
                analyze(engine, run_id="run0")
        assert query(engine, "select * from analysis_summary") == []
        analyze(engine, run_id="run0")
        assert _tables(engine) == expected
    finally:
        engine.dispose()
