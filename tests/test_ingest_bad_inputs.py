"""Bad inputs: each is recorded in ingest_issues (or refused with one line when nothing is
usable), nothing outside the dataset folder is read or written, and the rows stored by
earlier ingests are never lost."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from conftest import rows

from asrlens.cli import cli
from asrlens.db import connect
from asrlens.errors import AsrlensError
from asrlens.ingest import ingest

RATE = 16_000  # Hz
GOOD = "good"  # the dataset ingested first in every test


def make_dataset(folder: Path, ids=("u1", "u2", "u3"), labels: str | bytes | None = None):
    """A small LJSpeech-style folder: one 0.5 s tone per id, labels `id|text|text`."""
    (folder / "wavs").mkdir(parents=True, exist_ok=True)
    for i, utt in enumerate(ids):
        t = np.arange(RATE // 2) / RATE
        tone = 0.3 * np.sin(2 * np.pi * (220 + 20 * i) * t)
        sf.write(folder / "wavs" / f"{utt}.wav", tone, RATE, subtype="PCM_16")
    if labels is None:
        labels = "".join(f"{utt}|text of {utt}|text of {utt}\n" for utt in ids)
    if isinstance(labels, str):
        labels = labels.encode("utf-8")
    (folder / "labels.csv").write_bytes(labels)
    return folder


def run_ingest(db_path: Path, source, **kwargs):
    engine = connect(db_path)
    try:
        return ingest(engine, source, progress=False, **kwargs)
    finally:
        engine.dispose()


def snapshot(db_path: Path, dataset: str = GOOD) -> dict[str, list]:
    """All rows of one dataset in the ingest tables, sorted, without the ingest time."""
    out = {}
    for table, key in (("datasets", "name"), ("utterances", "dataset"),
                       ("audio_files", "dataset"), ("ingest_issues", "dataset")):
        found = rows(db_path, f"select * from {table} where {key} = :d", d=dataset)
        out[table] = sorted((tuple(sorted((k, v) for k, v in r.items() if k != "ingested_at"))
                             for r in found), key=repr)
    return out


def issues(db_path: Path, dataset: str) -> list[dict]:
    return rows(db_path, "select kind, utt_id, path, line, message from ingest_issues "
                         "where dataset = :d order by kind, path, line", d=dataset)


@pytest.fixture
def db_with_good(tmp_path) -> tuple[Path, dict]:
    """A database already holding a good dataset, and a snapshot of its rows."""
    db_path = tmp_path / "test.duckdb"
    summary = run_ingest(db_path, make_dataset(tmp_path / GOOD))
    assert (summary.utterances, summary.with_audio, summary.issues_by_kind) == (3, 3, {})
    return db_path, snapshot(db_path)


def test_labels_without_audio_are_missing_audio(tmp_path, db_with_good):
    db_path, good = db_with_good
    folder = make_dataset(tmp_path / "bad", ids=("u1",),
                          labels="u1|one|one\nu2|two|two\nu3|three|three\n")
    summary = run_ingest(db_path, folder)
    assert (summary.utterances, summary.with_audio, summary.labels_without_audio) == (3, 1, 2)
    assert [(i["kind"], i["utt_id"], i["path"], i["line"]) for i in issues(db_path, "bad")] == [
        ("missing_audio", "u2", "wavs/u2.wav", 2), ("missing_audio", "u3", "wavs/u3.wav", 3)]
    assert rows(db_path, "select utt_id, audio_path from utterances where dataset = 'bad' "
                         "order by utt_id") == [
        {"utt_id": "u1", "audio_path": "wavs/u1.wav"},
        {"utt_id": "u2", "audio_path": None},
        {"utt_id": "u3", "audio_path": None}]
    assert snapshot(db_path) == good


def test_audio_without_labels_is_stored_and_reported(tmp_path, db_with_good):
    db_path, good = db_with_good
    folder = make_dataset(tmp_path / "bad", ids=("u1", "u2", "extra"), labels="u1|a\nu2|b\n")
    summary = run_ingest(db_path, folder)
    assert summary.audio_without_labels == 1
    assert [(i["kind"], i["path"]) for i in issues(db_path, "bad")] == [
        ("unlabelled_audio", "wavs/extra.wav")]
    (row,) = rows(db_path, "select utt_id, duration_s from audio_files "
                           "where dataset = 'bad' and path = 'wavs/extra.wav'")
    assert row == {"utt_id": None, "duration_s": 0.5}
    assert snapshot(db_path) == good


def test_duplicate_ids_keep_the_first_line(tmp_path, db_with_good):
    db_path, good = db_with_good
    folder = make_dataset(tmp_path / "bad", ids=("u1",), labels="u1|first\nu1|second\n")
    run_ingest(db_path, folder)
    assert [(i["kind"], i["utt_id"], i["path"], i["line"]) for i in issues(db_path, "bad")] == [
        ("duplicate_id", "u1", "labels.csv", 2)]
    assert rows(db_path, "select transcript from utterances where dataset = 'bad'") == [
        {"transcript": "first"}]
    assert snapshot(db_path) == good


def test_wrong_field_counts_name_the_file_and_line(tmp_path, db_with_good):
    db_path, good = db_with_good
    folder = make_dataset(tmp_path / "bad", ids=("u1",),
                          labels="u1|ok|ok\njust-an-id\nu2|a|b|c|d\n")
    run_ingest(db_path, folder)
    found = issues(db_path, "bad")
    assert [(i["kind"], i["path"], i["line"]) for i in found] == [
        ("bad_line", "labels.csv", 2), ("bad_line", "labels.csv", 3)]
    assert found[0]["message"].startswith("labels.csv line 2: expected 2 or 3")
    assert snapshot(db_path) == good


def test_undecodable_bytes_are_recorded_with_the_line(tmp_path, db_with_good):
    db_path, good = db_with_good
    folder = make_dataset(tmp_path / "bad", ids=("u1", "u2"),
                          labels=b"u1|plain\nu2|na\xefve \xff\n")
    summary = run_ingest(db_path, folder)
    assert summary.with_audio == 2
    assert [(i["kind"], i["line"]) for i in issues(db_path, "bad")] == [("undecodable_text", 2)]
    assert rows(db_path, "select transcript from utterances where utt_id = 'u2' "
                         "and dataset = 'bad'") == [{"transcript": "na\ufffdve \ufffd"}]
    assert snapshot(db_path) == good


def test_empty_truncated_and_corrupt_audio_are_recorded_without_statistics(
    tmp_path, db_with_good
):
    db_path, good = db_with_good
    folder = make_dataset(tmp_path / "bad", ids=("ok", "zero", "header", "trunc", "junk"))
    wavs = folder / "wavs"
    (wavs / "zero.wav").write_bytes(b"")
    sf.write(wavs / "header.wav", np.zeros(0), RATE, subtype="PCM_16")
    data = (wavs / "trunc.wav").read_bytes()
    (wavs / "trunc.wav").write_bytes(data[: len(data) // 2])
    (wavs / "junk.wav").write_bytes(os.urandom(4000))
    summary = run_ingest(db_path, folder)
    assert summary.issues_by_kind == {"corrupt_audio": 2, "empty_audio": 2}
    assert [(i["kind"], i["utt_id"]) for i in issues(db_path, "bad")] == [
        ("corrupt_audio", "junk"), ("corrupt_audio", "trunc"),
        ("empty_audio", "header"), ("empty_audio", "zero")]
    stored = {r["path"]: r for r in rows(db_path, "select * from audio_files "
                                                  "where dataset = 'bad'")}
    assert len(stored) == 5
    assert stored["wavs/ok.wav"]["duration_s"] == 0.5
    for name in ("zero", "header", "trunc", "junk"):
        row = stored[f"wavs/{name}.wav"]
        assert row["silence_fraction"] is None and row["rms_dbfs"] is None
        assert row["bytes"] == (wavs / f"{name}.wav").stat().st_size
    assert stored["wavs/trunc.wav"]["duration_s"] is None
    assert snapshot(db_path) == good


def test_a_file_that_goes_bad_is_reported_and_the_rest_kept(tmp_path):
    db_path = tmp_path / "test.duckdb"
    folder = make_dataset(tmp_path / GOOD)
    run_ingest(db_path, folder)
    (folder / "wavs" / "u2.wav").write_bytes(b"RIFF....WAVEgarbage")
    summary = run_ingest(db_path, folder)
    assert summary.issues_by_kind == {"corrupt_audio": 1}
    assert (summary.files_read, summary.files_skipped) == (1, 2)
    assert rows(db_path, "select path from audio_files where duration_s is not null "
                         "order by path") == [{"path": "wavs/u1.wav"}, {"path": "wavs/u3.wav"}]


def test_ids_escaping_the_folder_are_never_read(tmp_path, db_with_good):
    db_path, good = db_with_good
    folder = make_dataset(tmp_path / "bad", ids=("u1",))
    make_dataset(tmp_path / "secret", ids=("s",))  # tmp/secret/wavs/s.wav, outside "bad"
    (folder / "labels.csv").write_text(
        f"u1|ok\n../../secret/wavs/s|escape\n{tmp_path / 'secret' / 'wavs' / 's'}|absolute\n")
    summary = run_ingest(db_path, folder)
    assert (summary.utterances, summary.with_audio) == (1, 1)
    assert [(i["kind"], i["line"]) for i in issues(db_path, "bad")] == [
        ("unsafe_path", 2), ("unsafe_path", 3)]
    assert rows(db_path, "select path from audio_files where dataset = 'bad'") == [
        {"path": "wavs/u1.wav"}]
    assert snapshot(db_path) == good


def test_symlink_to_a_file_outside_the_folder_is_not_read(tmp_path, db_with_good):
    db_path, good = db_with_good
    folder = make_dataset(tmp_path / "bad", ids=("u1",))
    outside = make_dataset(tmp_path / "secret", ids=("s",)) / "wavs" / "s.wav"
    (folder / "wavs" / "u2.wav").symlink_to(outside)
    (folder / "labels.csv").write_text("u1|a\nu2|b\n")
    run_ingest(db_path, folder)
    assert [(i["kind"], i["path"]) for i in issues(db_path, "bad")] == [
        ("missing_audio", "wavs/u2.wav"), ("unsafe_path", "wavs/u2.wav")]
    assert rows(db_path, "select path from audio_files where dataset = 'bad'") == [
        {"path": "wavs/u1.wav"}]
    assert snapshot(db_path) == good


def write_evil_zip(archive: Path, good_folder: Path) -> None:
    """A zip holding a good dataset plus entries that try to escape the extraction folder."""
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(good_folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(good_folder).as_posix())
        zf.writestr("../escaped.wav", b"x")
        zf.writestr("wavs/../../escaped2.wav", b"x")
        zf.writestr("/tmp/asrlens-absolute-escape.wav", b"x")
        link = zipfile.ZipInfo("wavs/link.wav")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")


def test_zip_entries_escaping_the_folder_are_skipped_and_never_written(tmp_path, db_with_good):
    db_path, good = db_with_good
    archive = tmp_path / "zips" / "evil.zip"
    archive.parent.mkdir()
    write_evil_zip(archive, make_dataset(tmp_path / "src", ids=("u1", "u2")))
    before = set(tmp_path.rglob("*"))
    summary = run_ingest(db_path, archive)
    assert (summary.dataset, summary.utterances, summary.with_audio) == ("evil", 2, 2)
    assert [(i["kind"], i["path"]) for i in issues(db_path, "evil")] == [
        ("unsafe_path", "../escaped.wav"), ("unsafe_path", "/tmp/asrlens-absolute-escape.wav"),
        ("unsafe_path", "wavs/../../escaped2.wav"), ("unsafe_path", "wavs/link.wav")]
    root = tmp_path / ".asrlens" / "datasets" / "evil"
    created = {p for p in set(tmp_path.rglob("*")) - before}
    assert created and all(p == tmp_path / ".asrlens" or p.is_relative_to(root.parent)
                           for p in created)
    assert not Path("/tmp/asrlens-absolute-escape.wav").exists()
    assert not (root / "wavs" / "link.wav").exists()
    assert snapshot(db_path) == good
    again = run_ingest(db_path, archive)  # unchanged zip: issues kept, nothing extracted
    assert (again.zip_entries_extracted, again.changed) == (0, False)


def test_a_corrupt_zip_entry_is_a_bad_archive_issue(tmp_path, db_with_good):
    db_path, good = db_with_good
    archive = tmp_path / "crc.zip"
    src = make_dataset(tmp_path / "src", ids=("u1", "u2"))
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.write(src / "labels.csv", "labels.csv")
        zf.write(src / "wavs" / "u1.wav", "wavs/u1.wav")
        zf.write(src / "wavs" / "u2.wav", "wavs/u2.wav")
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo("wavs/u2.wav")
    data[info.header_offset + 30 + len(info.filename) + 100] ^= 0xFF  # flip a data byte
    archive.write_bytes(bytes(data))
    summary = run_ingest(db_path, archive)
    assert summary.issues_by_kind == {"bad_archive": 1, "missing_audio": 1}
    assert [(i["kind"], i["path"]) for i in issues(db_path, "crc")] == [
        ("bad_archive", "wavs/u2.wav"), ("missing_audio", "wavs/u2.wav")]
    assert snapshot(db_path) == good


def test_a_zip_that_is_not_a_zip_is_refused_in_one_line(tmp_path, db_with_good):
    db_path, good = db_with_good
    fake = tmp_path / "speechdata.zip"
    fake.write_bytes(b"this is not a zip archive\n" * 10)
    result = CliRunner().invoke(cli, ["ingest", str(fake), "--db", str(db_path)])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert result.output.startswith("Error: dataset ")
    assert "not a" in result.output or "neither" in result.output
    assert snapshot(db_path) == good
    assert rows(db_path, "select name from datasets") == [{"name": GOOD}]


def test_nothing_usable_is_refused_and_changes_nothing(tmp_path, db_with_good):
    db_path, good = db_with_good
    empty = tmp_path / "empty"
    (empty / "wavs").mkdir(parents=True)
    (empty / "notes.txt").write_text("hello")
    with pytest.raises(AsrlensError, match="nothing usable"):
        run_ingest(db_path, empty)
    (empty / "labels.csv").write_text("only-an-id\n")
    (empty / "wavs" / "x.wav").write_bytes(b"junk")
    result = CliRunner().invoke(cli, ["ingest", str(empty), "--db", str(db_path),
                                      "--no-progress"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: nothing usable in ")
    assert "could be decoded" in result.output
    assert snapshot(db_path) == good
    assert rows(db_path, "select name from datasets") == [{"name": GOOD}]


def test_a_missing_dataset_is_an_error(tmp_path, db_with_good):
    db_path, good = db_with_good
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path / "nope"), "--db", str(db_path)])
    assert result.exit_code == 1
    assert "does not exist" in result.output
    assert snapshot(db_path) == good


def test_audio_without_any_labels_file_is_ingested_with_a_no_labels_issue(tmp_path):
    folder = make_dataset(tmp_path / "nolabels", ids=("a", "b"))
    (folder / "labels.csv").unlink()
    db_path = tmp_path / "t.duckdb"
    summary = run_ingest(db_path, folder)
    assert (summary.utterances, summary.audio_files, summary.labels_path) == (0, 2, None)
    assert summary.issues_by_kind == {"no_labels": 1, "unlabelled_audio": 2}


def test_a_failure_while_writing_leaves_the_earlier_rows_intact(tmp_path, monkeypatch):
    import asrlens.ingest.store as store

    db_path = tmp_path / "test.duckdb"
    folder = make_dataset(tmp_path / GOOD)
    run_ingest(db_path, folder)
    good = snapshot(db_path)
    make_dataset(folder, ids=("u1", "u2", "u3", "u4"))  # one more file and label
    calls = []

    def failing_copy(conn, table):
        calls.append(table)
        if table == "audio_files":
            raise RuntimeError("disk full")
        return real_copy(conn, table)

    real_copy = store.copy_table
    monkeypatch.setattr(store, "copy_table", failing_copy)
    with pytest.raises(RuntimeError, match="disk full"):
        run_ingest(db_path, folder)
    assert calls == ["datasets", "utterances", "audio_files"]  # deletes and inserts had begun
    assert snapshot(db_path) == good


def _dying_reader(task):
    os._exit(3)  # a worker killed by a crash in libsndfile, or by the OOM killer


def test_a_reader_process_that_dies_is_an_error_and_changes_nothing(
    tmp_path, db_with_good, monkeypatch
):
    import asrlens.ingest.audio_stats as audio_stats

    db_path, good = db_with_good
    monkeypatch.setattr(audio_stats, "POOL_MIN_FILES", 1)
    monkeypatch.setattr(audio_stats, "_read_chunk", _dying_reader)
    with pytest.raises(AsrlensError, match="retry with --workers 1"):
        run_ingest(db_path, make_dataset(tmp_path / "other"), workers=2)
    assert snapshot(db_path) == good
    assert rows(db_path, "select name from datasets") == [{"name": GOOD}]
