"""A damaged database file and a full disk give one `Error:` line naming the file and the
likely cause, never a traceback; a damaged file is not written to.

Damage is made by overwriting bytes of a copy; a full disk by a patched writer and, where
user namespaces allow it, by a real 4 MB tmpfs.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from test_infer import (
    SCRIPT,
    ScriptedRecognizer,
    assert_consistent,
    make_db,
    make_toy_db,
    rows,
    run,
)

import asrlens.infer.loop as infer_loop
import asrlens.infer.runs as infer_runs
from asrlens.cli import cli
from asrlens.db import wal_path
from asrlens.infer.refresh import RESULT_TABLES

BLOCK = 262144  # DuckDB's block size
HEADER = 3 * 4096  # the file header and two database headers come before block 0


@pytest.fixture(scope="module")
def finished_db(tmp_path_factory) -> Path:
    """The toy dataset with a finished, analysed run 'r' (read it only)."""
    from asrlens.analysis import analyze
    from asrlens.db import close, connect

    db = make_toy_db(tmp_path_factory.mktemp("finished"))
    run(db, ScriptedRecognizer(), run_id="r")
    engine = connect(db)
    analyze(engine, run_id="r")
    close(engine)
    return db


def damaged_copy(db: Path, tmp_path: Path, *, table: str | None) -> Path:
    """A copy of `db` with 1 KB overwritten: in the first block of `table`, else the header."""
    offset = 100
    if table is not None:
        connection = duckdb.connect(str(db), read_only=True)
        block = connection.execute(f"select min(block_id) from pragma_storage_info('{table}') "
                                   "where block_id >= 0").fetchone()[0]
        connection.close()
        offset = HEADER + block * BLOCK + 1000
    copy = tmp_path / "damaged.duckdb"
    shutil.copy(db, copy)
    with copy.open("r+b") as f:
        f.seek(offset)
        f.write(bytes(range(256)) * 4)
    return copy


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


COMMANDS = {
    "report": ["report", "--run", "r", "--audio", "none"],
    "infer": ["infer", "--run", "r", "--no-progress"],
    "analyze": ["analyze", "--run", "r"],
    "export": ["export", "--run", "r", "--format", "csv"],
}


@pytest.mark.parametrize("where", ["header", "transcripts"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_damaged_database_is_one_error_line_naming_the_file(finished_db, tmp_path, command,
                                                               where):
    db = damaged_copy(finished_db, tmp_path, table=None if where == "header" else "transcripts")
    args = [*COMMANDS[command], "--db", str(db)]
    if command == "report":
        args += ["--out", str(tmp_path / "report")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert str(db) in lines[0]
    assert "the file is damaged" in lines[0] or "not a DuckDB database file" in lines[0]


def test_infer_does_not_touch_a_damaged_database(finished_db, tmp_path):
    db = damaged_copy(finished_db, tmp_path, table="alignment_ops")
    before = sha256(db)
    result = CliRunner().invoke(cli, ["infer", "--db", str(db), "--run", "r2",
                                      "--engine", "pocketsphinx", "--no-progress"])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: cannot open database {db}: the file is damaged")
    assert "(table alignment_ops); nothing was written" in result.output
    assert sha256(db) == before and not wal_path(db).exists()


def test_doctor_names_the_damaged_table(finished_db, tmp_path):
    db = damaged_copy(finished_db, tmp_path, table="alignment_ops")
    result = CliRunner().invoke(cli, ["doctor", "--db", str(db)])
    assert result.exit_code == 1
    assert "[damaged]" in result.output and "(reading table alignment_ops)" in result.output


def test_disk_full_during_infer_is_one_error_line_and_keeps_whole_files(tmp_path, monkeypatch):
    from asrlens.infer import recognizers

    db = make_toy_db(tmp_path)
    monkeypatch.setattr(recognizers, "get_recognizer", lambda name, **kw: ScriptedRecognizer())
    calls = []
    per_batch = len(RESULT_TABLES)  # a batch inserts into each result table once

    def writer_on_a_full_disk(conn, table, rows_, **kwargs):
        calls.append(table)
        if len(calls) > 1 + 2 * per_batch:  # the run row and two batches fit, then no more
            raise duckdb.IOException(f'Could not write file "{db}.wal": No space left on device')
        return real_insert_rows(conn, table, rows_, **kwargs)

    real_insert_rows = infer_loop.insert_rows
    monkeypatch.setattr(infer_runs, "insert_rows", writer_on_a_full_disk)  # the run row
    monkeypatch.setattr(infer_loop, "insert_rows", writer_on_a_full_disk)  # the batches
    result = CliRunner().invoke(cli, ["infer", "--db", str(db), "--run", "r", "--no-progress",
                                      "--batch-files", "2"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert errors == [f'Error: {db}: the disk is full (Could not write file '
                      f'"{db}.wal": No space left on device); what was committed before is '
                      f'kept: free some space and run the command again']
    assert rows(db, "select count(*) as n from transcripts") == [{"n": 4}]
    assert_consistent(db, "r")


TALKER = textwrap.dedent('''
    """asrlens with a recognizer that hears 300 words in every file (fills a disk fast)."""
    import sys

    from asrlens.infer import recognizers
    from asrlens.infer.recognizers.base import Recognizer, Hypothesis, HypWord


    class Talker(Recognizer):
        name, model, sample_rate = "talker", "talker-v1", 16000

        def transcribe(self, samples):
            words = [f"word{i}" for i in range(300)]
            return Hypothesis(text=" ".join(words),
                              words=[HypWord(w, start_s=0.0, end_s=0.1, confidence=1.0)
                                     for w in words])

        def options(self):
            return {}


    recognizers.get_recognizer = lambda name, **kwargs: Talker()
    from asrlens.cli import cli

    cli(sys.argv[1:], prog_name="asrlens")
''')


@pytest.mark.slow
def test_disk_full_on_a_real_small_filesystem(tmp_path):
    if shutil.which("unshare") is None or subprocess.run(
            ["unshare", "--user", "--map-root-user", "--mount", "true"]).returncode != 0:
        pytest.skip("no unprivileged mount namespace here to mount a small tmpfs in")
    root = tmp_path / "toy"
    (root / "wavs").mkdir(parents=True)
    import numpy as np
    import soundfile as sf

    sf.write(root / "wavs" / "one.wav", np.full(8000, 0.01), 16000, subtype="PCM_16")
    labels = [(f"U{i:04}", SCRIPT[0][1], None, "wavs/one.wav") for i in range(400)]
    source = make_db(tmp_path / "source.duckdb", root, labels)
    (tmp_path / "talker.py").write_text(TALKER)
    disk = tmp_path / "disk"
    disk.mkdir()
    python, db = sys.executable, disk / "db.duckdb"
    check = (f"import json, duckdb; c = duckdb.connect('{db}', read_only=True); "
             "print(json.dumps(c.execute('select count(*) from transcripts').fetchone()))")
    script = f"""
        set -u
        mount -t tmpfs -o size=4m tmpfs {disk}
        cp {source} {db}
        {python} {tmp_path / 'talker.py'} infer --db {db} --run r --no-progress \\
            --batch-files 5 --no-analyze > {tmp_path / 'out.txt'} 2> {tmp_path / 'err.txt'}
        echo $? > {tmp_path / 'rc.txt'}
        mount -o remount,size=64m {disk}
        {python} -m asrlens doctor --db {db} --fix > {tmp_path / 'doctor.txt'} 2>&1
        {python} -c "{check}" > {tmp_path / 'after.txt'}
    """
    subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
                   check=True, timeout=600)
    out = (tmp_path / "out.txt").read_text() + (tmp_path / "err.txt").read_text()
    assert (tmp_path / "rc.txt").read_text().strip() == "1", out
    assert "Traceback" not in out
    errors = [line for line in out.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, out
    assert errors[0].startswith(f"Error: {db}: the disk is full (")
    assert "No space left on device" in errors[0]
    assert len(out.strip().splitlines()) <= 2, out  # the error, and the WAL warning if any
    stored = json.loads((tmp_path / "after.txt").read_text())[0]
    assert 0 < stored < 400  # what was committed before the disk filled is still there
