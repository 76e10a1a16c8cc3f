"""The first errors a new user meets: one line that names the real cause, before any work.

A mistyped --db is not created; a misspelled engine fails before "N of N files to transcribe";
a dataset without labels says so and suggests --labels; import-run of a mistyped file says
"file not found"; a refused SQL statement is quoted as itself, not as the comment before it.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from asrlens.cli import cli

RATE = 16000


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def one_error_line(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


READING_COMMANDS = {
    "infer": ["infer", "--engine", "pocketsphinx", "--no-progress"],
    "analyze": ["analyze"],
    "report": ["report", "--audio", "none"],
    "export": ["export"],
    "explore": ["explore", "--no-wav2vec2"],
    "compare": ["compare", "a", "b"],
    "sql": ["sql", "select 1"],
    "doctor": ["doctor"],
}


@pytest.mark.parametrize("command", list(READING_COMMANDS))
def test_a_mistyped_db_is_not_created(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    typo = tmp_path / "asrlesn.duckdb"
    line = one_error_line(invoke(*READING_COMMANDS[command], "--db", str(typo)))
    assert line.startswith(f"Error: no database at {typo}; run `asrlens ingest DATASET` "
                           "first"), line
    assert list(tmp_path.iterdir()) == []


def test_import_run_of_a_mistyped_file_is_file_not_found(tmp_path, ingested_db, copy_db):
    db = copy_db(ingested_db)
    hyp = tmp_path / "whisper.csv"
    hyp.write_text("LJ001-0001,printing in the only sense\n")
    assert invoke("import-run", str(hyp), "--db", str(db), "--no-analyze").exit_code == 0
    typo = tmp_path / "other" / "whisper.csv"  # same stem, so the same default run name
    line = one_error_line(invoke("import-run", str(typo), "--db", str(db), "--no-analyze"))
    assert line == f"Error: file not found: {typo}"


def test_a_misspelled_engine_fails_before_any_work(ingested_db, copy_db):
    db = copy_db(ingested_db)
    before = db.read_bytes()
    result = invoke("infer", "--engine", "pocketsphnix", "--db", str(db), "--no-progress")
    line = one_error_line(result)
    assert line.startswith("Error: unknown engine 'pocketsphnix'; choose one of: wav2vec2, "
                           "pocketsphinx")
    assert "files to transcribe" not in result.output
    assert db.read_bytes() == before


@pytest.fixture
def unlabelled_db(tmp_path):
    """A dataset of two good wavs and no labels file, ingested."""
    folder = tmp_path / "nolabels" / "wavs"
    folder.mkdir(parents=True)
    for i in range(2):
        sf.write(folder / f"A{i}.wav", np.full(RATE // 2, 0.05), RATE, subtype="PCM_16")
    db = tmp_path / "db.duckdb"
    result = invoke("ingest", str(folder.parent), "--db", str(db), "--no-progress")
    assert result.exit_code == 0, result.output
    assert "no labels file found" in result.output and "--labels FILE" in result.output
    return db


@pytest.mark.parametrize("command", [["infer", "--engine", "pocketsphinx", "--no-progress"],
                                     ["explore", "--no-wav2vec2"]])
def test_a_dataset_without_labels_says_the_labels_are_missing(unlabelled_db, tmp_path, command):
    line = one_error_line(invoke(*command, "--db", str(unlabelled_db), "--out" if
                                 command[0] == "explore" else "--no-analyze",
                                 *([str(tmp_path / "look")] if command[0] == "explore" else [])))
    assert "dataset 'nolabels' has no labels: ingest found no labels file" in line, line
    assert "--labels FILE" in line
    assert "audio" not in line.split("(")[0]  # not blamed on the audio


def test_a_refused_statement_after_a_comment_is_quoted_as_itself(ingested_db):
    result = invoke("sql", "--db", str(ingested_db), "--",
                    "-- look at the data first\n/* then */ attach '/tmp/x.db' as x")
    line = one_error_line(result)
    assert "(attach '/tmp/x.db' as x)" in line, line
    assert "look at the data" not in line
