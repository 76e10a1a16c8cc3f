"""Outputs that are whole or absent (issue 11, item 6): the report and the export files are
written beside their target and renamed over it, so a failed write leaves the previous file
complete; a closed pipe on stdout ends `asrlens export` and `asrlens sql` quietly."""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import asrlens.atomic
from asrlens.atomic import atomic_open, atomic_write_text
from asrlens.cli import cli
from asrlens.db import connect

PREVIOUS = "<!doctype html><html><body>the previous, complete report</body></html>\n"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(asrlens.atomic.TEMP_SUFFIX))


@pytest.mark.slow
def test_a_report_cut_by_a_full_disk_leaves_the_previous_one_whole(ingested_db, tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    (out / "index.html").write_text(PREVIOUS)
    limit = 100_000  # bytes a process may write to one file: the report is larger

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(
        [sys.executable, "-m", "asrlens", "report", "--db", str(ingested_db), "--out", str(out),
         "--audio", "none"],
        capture_output=True, text=True, timeout=600, preexec_fn=small_disk, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(f"Error: cannot write the report to {out / 'index.html'}")
    assert "Traceback" not in done.stderr
    assert (out / "index.html").read_text() == PREVIOUS
    assert leftovers(out) == []


class FullDisk:
    """A file handle that takes `room` characters, then fails as a full disk does."""

    def __init__(self, handle, room: int):
        self._handle = handle
        self._room = room

    def write(self, text: str) -> int:
        if len(text) > self._room:
            self._handle.write(text[: self._room])
            self._handle.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(text)
        return self._handle.write(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._handle.close()


def fill_disk_after(monkeypatch, room: int, *, files_that_fit: int = 0) -> None:
    """atomic_open handles fail after `room` characters, except the first `files_that_fit`."""
    real = asrlens.atomic._open_fd
    opened = []

    def open_fd(fd, mode, **text):
        opened.append(fd)
        handle = real(fd, mode, **text)
        return handle if len(opened) <= files_that_fit else FullDisk(handle, room)

    monkeypatch.setattr(asrlens.atomic, "_open_fd", open_fd)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_export_cut_by_a_full_disk_leaves_the_previous_one_whole(big_run_db, tmp_path,
                                                                     monkeypatch, fmt):
    out = tmp_path / f"big.{fmt}"
    first = CliRunner().invoke(cli, ["export", "--run", "big", "--format", fmt, "--out", str(out),
                                     "--db", str(big_run_db)])
    assert first.exit_code == 0, first.output
    previous = out.read_bytes()
    assert previous.count(b"\n") >= 2000

    fill_disk_after(monkeypatch, 5000)
    result = CliRunner().invoke(cli, ["export", "--run", "big", "--format", fmt, "--out",
                                      str(out), "--db", str(big_run_db)])
    assert result.exit_code == 1
    assert result.output == (f"Error: cannot write the export to {out}: "
                             "No space left on device\n")
    assert out.read_bytes() == previous
    assert leftovers(tmp_path) == []


def test_trn_files_cut_by_a_full_disk_leave_the_previous_ones_whole(big_run_db, tmp_path,
                                                                    monkeypatch):
    fill_disk_after(monkeypatch, 200, files_that_fit=1)  # ref.trn fits, hyp.trn does not
    folder = tmp_path / "trn"
    folder.mkdir()
    for name in ("ref.trn", "hyp.trn"):
        (folder / name).write_text(f"previous {name} (u1)\n")
    result = CliRunner().invoke(cli, ["export", "--run", "big", "--format", "trn", "--out",
                                      str(folder), "--db", str(big_run_db)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot write the export to ")
    for name in ("ref.trn", "hyp.trn"):  # a new ref.trn beside the old hyp.trn would lie
        assert (folder / name).read_text() == f"previous {name} (u1)\n"
    assert leftovers(folder) == []


@pytest.fixture(scope="module")
def big_run_db(tmp_path_factory) -> Path:
    """A database with a finished run 'big' of 3000 files (made-up texts: only its size counts,
    more than a pipe holds)."""
    path = tmp_path_factory.mktemp("big") / "big.duckdb"
    engine = connect(path)
    try:
        with engine.begin() as conn:
            raw = conn.connection.driver_connection
            raw.execute("insert into runs (run_id, dataset, engine, model, normalizer, "
                        "reference_column, device, precision, status, started_at) values "
                        "('big', 'd', 'pocketsphinx', 'en-us', 'ljspeech-v1', 'transcript', "
                        "'cpu', 'fp32', 'finished', now())")
            raw.execute("insert into transcripts (run_id, utt_id, ref_raw, ref_norm, hyp_raw, "
                        "hyp_norm, audio_s, compute_s, created_at) select 'big', "
                        "printf('u%05d', i), repeat('word ', 20), repeat('word ', 20), "
                        "repeat('word ', 20), repeat('word ', 20), 1.0, 0.1, now() "
                        "from range(3000) t(i)")
    finally:
        engine.dispose()
    return path


@pytest.mark.parametrize("command", [
    ["export", "--run", "big", "--format", "jsonl"],
    ["export", "--run", "big", "--format", "csv"],
    ["sql", "select * from transcripts", "--format", "csv"],
])
def test_a_closed_pipe_ends_the_command_quietly(big_run_db, command):
    """`asrlens export --run big --format jsonl | head -3`, with a real pipe."""
    proc = subprocess.Popen([sys.executable, "-m", "asrlens", *command, "--db", str(big_run_db)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head = [proc.stdout.readline() for _ in range(3)]
    proc.stdout.close()  # what `head -3` does once it has its lines
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, stderr
    assert stderr == ""
    assert all(line.endswith(b"\n") for line in head)


def test_atomic_open_keeps_permissions_and_follows_symlinks(tmp_path):
    target = tmp_path / "data.txt"
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    atomic_write_text(link, "new")
    assert link.is_symlink()
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o640


def test_atomic_open_leaves_nothing_when_the_block_fails(tmp_path):
    target = tmp_path / "data.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(target) as handle:
        handle.write("half")
        raise RuntimeError("stop")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.txt"]
