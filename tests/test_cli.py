"""The CLI as a whole: help that teaches, and `infer` followed by `analyze`."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from asrlens.cli import cli
from asrlens.db import connect, query


def test_every_command_has_help_with_examples():
    runner = CliRunner()
    top = runner.invoke(cli, ["--help"])
    assert top.exit_code == 0, top.output
    for command in ["ingest", "explore", "infer", "analyze", "report", "run", "sql", "export"]:
        assert command in top.output
        result = runner.invoke(cli, [command, "--help"])
        assert result.exit_code == 0, result.output
        assert "--db" in result.output
        assert "asrlens " + command in result.output, f"{command} --help shows no example"


@pytest.mark.slow
def test_infer_analyses_the_run_unless_told_not_to(ingested_db, copy_db):
    db = copy_db(ingested_db)
    runner = CliRunner()
    args = ["infer", "--db", str(db), "--run", "cli", "--no-progress"]
    first = runner.invoke(cli, [*args, "--engine", "pocketsphinx", "--limit", "2", "--no-analyze"])
    assert first.exit_code == 0, first.output
    engine = connect(db)
    try:
        assert query(engine, "select count(*) as n from analysis_summary") == [{"n": 0}]
    finally:
        engine.dispose()

    again = runner.invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert "already finished" in again.output
    assert "analysed:" in again.output
    engine = connect(db)
    try:
        rows = query(engine, "select count(*) as n from analysis_summary where run_id = 'cli'")
        assert rows[0]["n"] > 0
        scored = query(engine, "select count(*) as n from utterance_errors where run_id = 'cli'")
        assert scored == [{"n": 2}]
    finally:
        engine.dispose()


def test_chunk_length_reaches_the_wav2vec2_engine_and_is_recorded(
    ingested_db, copy_db, placeholder_torch_home
):
    db = copy_db(ingested_db)
    result = CliRunner().invoke(cli, [
        "infer", "--db", str(db), "--run", "chunked", "--no-progress", "--no-analyze",
        "--limit", "1", "--chunk-s", "2", "--overlap-s", "0.5",
    ])
    assert result.exit_code == 0, result.output
    engine = connect(db)
    try:
        rows = query(engine, "select options, engine from runs")
        assert rows[0]["engine"] == "wav2vec2"
        options = rows[0]["options"]
        assert options["engine_options"] == {"chunk_s": 2.0, "overlap_s": 0.5}  # as asked
        assert (options["chunk_s"], options["overlap_s"]) == (2.0, 0.5)  # as the engine used
    finally:
        engine.dispose()


def test_chunk_options_pocketsphinx_cannot_honour_are_clear_errors(ingested_db, copy_db):
    # pocketsphinx decodes long files in blocks of --chunk-s seconds, without overlap
    db = copy_db(ingested_db)
    args = ["infer", "--db", str(db), "--engine", "pocketsphinx", "--no-progress"]
    overlap = CliRunner().invoke(cli, [*args, "--overlap-s", "1"])
    assert overlap.exit_code == 1
    assert overlap.output.startswith("Error:") and "overlap_s" in overlap.output
    short = CliRunner().invoke(cli, [*args, "--chunk-s", "5"])
    assert short.exit_code == 1
    assert short.output == "Error: pocketsphinx: --chunk-s must be at least 10 s, got 5\n"


@pytest.mark.slow
def test_run_resumes_a_named_run_with_its_stored_engine(sample_dir, tmp_path):
    db = tmp_path / "resume.duckdb"
    runner = CliRunner()
    common = ["run", str(sample_dir), "--db", str(db), "--run", "quick", "--limit", "1",
              "--audio", "none", "--no-progress", "--out", str(tmp_path / "report")]
    first = runner.invoke(cli, [*common, "--engine", "pocketsphinx"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(cli, common)  # no --engine: the run keeps pocketsphinx
    assert again.exit_code == 0, again.output
    engine = connect(db)
    try:
        assert query(engine, "select engine, files_scored from run_summary") == [
            {"engine": "pocketsphinx", "files_scored": 1}
        ]
    finally:
        engine.dispose()
