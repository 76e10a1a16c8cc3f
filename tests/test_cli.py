"""The CLI as a whole: help that teaches, and `infer` followed by `analyze`."""

from __future__ import annotations

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
