"""`asrlens ingest` when the database cannot take it: a read-only folder, a full disk, a damaged
file or one from a newer asrlens. One `Error:` line each, and nothing left that was not there.

A read-only folder and a small disk are real mounts made in a user namespace (unshare) where
that is allowed (DuckDB checkpoints again when it closes, so a patched checkpoint cannot stand
in for a full disk); the read-only folder is also made by patched calls.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

import asrlens.db
from asrlens.cli import cli

RATE = 16000


def make_dataset(folder: Path, n: int = 3) -> Path:
    (folder / "wavs").mkdir(parents=True)
    lines = []
    for i in range(n):
        sf.write(folder / "wavs" / f"U{i}.wav", np.full(RATE // 4, (i + 1) / 100), RATE,
                 subtype="PCM_16")
        lines.append(f"U{i}|word number {i}|word number {i}")
    (folder / "labels.csv").write_text("\n".join(lines) + "\n")
    return folder


def ingest(db: Path, dataset: Path):
    return CliRunner().invoke(cli, ["ingest", str(dataset), "--db", str(db), "--no-progress"])


def one_error_line(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def can_mount() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "true"],
        capture_output=True).returncode == 0


def in_namespace(tmp_path: Path, script: str) -> tuple[int, str]:
    """Run `script` (sh) in a private mount namespace; its exit status and output."""
    result = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                             script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=300)
    return result.returncode, result.stdout


# --- (3) a read-only folder -----------------------------------------------------------------


def test_ingest_into_a_read_only_folder_is_one_line_and_the_clean_up_hides_nothing(
        tmp_path, monkeypatch):
    """The clean-up of the half-made file fails too (EROFS): the first error is the one shown."""
    dataset = make_dataset(tmp_path / "ds")
    db = tmp_path / "ro" / "asrlens.duckdb"
    db.parent.mkdir()
    real_connect = asrlens.db.connect

    def refused(path, **kwargs):
        if not kwargs.get("read_only"):
            raise duckdb.IOException(f'Cannot open file "{path}": Read-only file system')
        return real_connect(path, **kwargs)

    def unlink(self, missing_ok=False):
        raise OSError(30, "Read-only file system", str(self))

    monkeypatch.setattr("asrlens.ingest.pipeline.connect", refused)
    monkeypatch.setattr(Path, "unlink", unlink)
    line = one_error_line(ingest(db, dataset))
    assert str(db) in line and "Read-only file system" in line, line
    assert "--db" in line


def test_ingest_into_a_real_read_only_folder(tmp_path):
    if not can_mount():
        pytest.skip("no unprivileged mount namespace here to mount a read-only folder")
    dataset = make_dataset(tmp_path / "ds")
    folder = tmp_path / "ro"
    folder.mkdir()
    rc, out = in_namespace(tmp_path, f"""
        mount -t tmpfs -o size=1m,ro tmpfs {folder} && cd {folder} &&
        {sys.executable} -m asrlens ingest {dataset} --no-progress""")
    assert rc == 1, out
    assert "Traceback" not in out
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), out
    assert "asrlens.duckdb: cannot write there" in lines[0], out
    assert list(folder.iterdir()) == []


# --- (10) a full disk -----------------------------------------------------------------------


def test_a_failed_checkpoint_of_a_new_database_leaves_nothing(tmp_path, monkeypatch):
    dataset = make_dataset(tmp_path / "ds")
    db = tmp_path / "new.duckdb"

    def full_disk(connection):
        connection.execute("pragma disable_checkpoint_on_shutdown")  # the close fails too
        raise duckdb.IOException(f'Could not write file "{db}": No space left on device')

    monkeypatch.setattr(asrlens.db, "_checkpoint", full_disk)
    line = one_error_line(ingest(db, dataset))
    assert line.startswith(f"Error: cannot store dataset ds in the new database {db}: the "
                           f"checkpoint failed: "), line
    assert "No space left on device" in line and "nothing was kept" in line
    assert list(tmp_path.iterdir()) == [tmp_path / "ds"]  # no .duckdb, no .wal


def test_full_disk_on_a_real_small_filesystem_leaves_nothing(tmp_path):
    if not can_mount():
        pytest.skip("no unprivileged mount namespace here to mount a small tmpfs")
    dataset = make_dataset(tmp_path / "ds", n=40)
    disk = tmp_path / "disk"
    disk.mkdir()
    rc, out = in_namespace(tmp_path, f"""
        mount -t tmpfs -o size=600k tmpfs {disk} &&
        {sys.executable} -m asrlens ingest {dataset} --db {disk}/new.duckdb --no-progress 2>&1;
        echo "rc=$?"; ls -A {disk}""")
    assert "rc=1" in out, out
    assert "Traceback" not in out
    errors = [line for line in out.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, out
    assert "space" in errors[0].lower(), out
    assert out.strip().splitlines()[-1] == "rc=1", out  # `ls -A` printed nothing after it


# --- (9) an unchanged dataset into a damaged or newer database ------------------------------


def damage_table(db: Path, table: str) -> None:
    connection = duckdb.connect(str(db), read_only=True)
    block = connection.execute(f"select min(block_id) from pragma_storage_info('{table}') "
                               "where block_id >= 0").fetchone()[0]
    connection.close()
    with db.open("r+b") as f:
        f.seek(3 * 4096 + block * 262144 + 1000)
        f.write(bytes(range(256)) * 4)


def test_an_unchanged_dataset_into_a_damaged_database_says_so(tmp_path):
    dataset = make_dataset(tmp_path / "ds")
    db = tmp_path / "db.duckdb"
    assert ingest(db, dataset).exit_code == 0
    connection = duckdb.connect(str(db))
    connection.execute("create table filler as select range as i, md5(range::varchar) as h "
                       "from range(200000)")
    connection.close()
    damage_table(db, "filler")
    before = db.read_bytes()
    line = one_error_line(ingest(db, dataset))
    assert str(db) in line and "damaged" in line, line
    assert db.read_bytes() == before


def test_an_unchanged_dataset_into_a_newer_database_says_so(tmp_path):
    dataset = make_dataset(tmp_path / "ds")
    db = tmp_path / "db.duckdb"
    assert ingest(db, dataset).exit_code == 0
    connection = duckdb.connect(str(db))
    connection.execute("insert into schema_version (version) values (?)",
                       [asrlens.db.SCHEMA_VERSION + 1])
    connection.close()
    line = one_error_line(ingest(db, dataset))
    assert "is newer than this asrlens" in line, line
