"""Ingesting the real LJSpeech sample, as a folder and zipped: everything accounted for,
durations as soundfile reports them, and a second ingest that changes nothing."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import soundfile as sf
from click.testing import CliRunner

from asrlens.cli import cli
from asrlens.db import connect, query
from asrlens.ingest import ingest

SAMPLE_WAVS = 32
SAMPLE_LABELS = 100


def contents(db_path: Path) -> dict[str, list]:
    """Every ingest table's rows, sorted, without the ingest time."""
    engine = connect(db_path, read_only=True)
    try:
        out = {}
        for table in ("datasets", "utterances", "audio_files", "ingest_issues"):
            rows = query(engine, f"select * from {table}")
            out[table] = sorted(
                (tuple(sorted((k, v) for k, v in r.items() if k != "ingested_at")) for r in rows),
                key=repr,
            )
        return out
    finally:
        engine.dispose()


def ingest_into(db_path: Path, source, **kwargs):
    engine = connect(db_path)
    try:
        return ingest(engine, source, progress=False, **kwargs)
    finally:
        engine.dispose()


def zip_folder(folder: Path, archive: Path, *, prefix: str = "") -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(folder).as_posix())
    return archive


def assert_sample_accounted_for(db_path: Path, root_expected: Path | None = None):
    engine = connect(db_path, read_only=True)
    try:
        (dataset,) = query(engine, "select * from datasets")
        utterances = query(engine, "select * from utterances order by utt_id")
        audio = query(engine, "select * from audio_files order by path")
        issues = query(engine, "select * from ingest_issues order by line")
    finally:
        engine.dispose()
    root = Path(dataset["root"])
    assert dataset["name"] == "ljspeech-sample"
    assert root.is_absolute()
    if root_expected is not None:
        assert root == root_expected
    assert (dataset["labels_path"], dataset["labels_format"]) == ("labels.csv", "ljspeech")
    assert (dataset["n_labels"], dataset["n_audio"]) == (SAMPLE_LABELS, SAMPLE_WAVS)
    assert len(utterances) == SAMPLE_LABELS
    with_audio = [u for u in utterances if u["audio_path"] is not None]
    assert [u["utt_id"] for u in with_audio] == [f"LJ001-{i:04d}" for i in range(1, 33)]
    assert all(u["audio_path"] == f"wavs/{u['utt_id']}.wav" for u in with_audio)
    assert len(audio) == SAMPLE_WAVS
    assert {a["utt_id"] for a in audio} == {u["utt_id"] for u in with_audio}
    for row in audio:
        info = sf.info(os.fspath(root / row["path"]))
        assert row["duration_s"] == info.duration
        assert (row["sample_rate"], row["channels"], row["frames"]) == (22050, 1, info.frames)
        assert (row["format"], row["subtype"]) == ("WAV", "PCM_16")
        assert row["bytes"] == (root / row["path"]).stat().st_size
        assert -20 < row["peak_dbfs"] <= 0
        assert row["rms_dbfs"] < row["peak_dbfs"]
        assert 0 <= row["silence_fraction"] < 1
    assert [i["kind"] for i in issues] == ["missing_audio"] * (SAMPLE_LABELS - SAMPLE_WAVS)
    assert [i["utt_id"] for i in issues] == [f"LJ001-{i:04d}" for i in range(33, 101)]
    assert issues[0]["line"] == 33


def test_sample_folder_every_label_and_wav_accounted_for(sample_dir, db_path):
    summary = ingest_into(db_path, sample_dir)
    assert summary.dataset == "ljspeech-sample"
    assert (summary.utterances, summary.with_audio, summary.labels_without_audio) == (100, 32, 68)
    assert summary.audio_without_labels == 0
    assert summary.issues_by_kind == {"missing_audio": 68}
    assert 0.06 < summary.hours < 0.063  # 3.7 minutes
    assert_sample_accounted_for(db_path, root_expected=sample_dir.resolve())


def test_shared_ingested_db_fixture_holds_the_sample(ingested_db):
    assert_sample_accounted_for(ingested_db)


def test_second_ingest_of_the_folder_changes_nothing(sample_dir, db_path):
    ingest_into(db_path, sample_dir)
    before = contents(db_path)
    again = ingest_into(db_path, sample_dir)
    assert (again.files_read, again.files_skipped, again.changed) == (0, 32, False)
    assert contents(db_path) == before


def test_sample_zip_is_extracted_next_to_the_db_and_accounted_for(sample_dir, tmp_path):
    archive = zip_folder(sample_dir, tmp_path / "speechdata.zip")
    db_path = tmp_path / "db" / "test.duckdb"
    summary = ingest_into(db_path, archive, name="ljspeech-sample")
    extracted = (db_path.parent / ".asrlens" / "datasets" / "ljspeech-sample").resolve()
    assert summary.root == os.fspath(extracted)
    assert_sample_accounted_for(db_path, root_expected=extracted)
    # the zip's own name is the default dataset name
    assert ingest_into(tmp_path / "other.duckdb", archive).dataset == "speechdata"


def test_second_ingest_of_an_unchanged_zip_extracts_and_reads_nothing(sample_dir, tmp_path):
    archive = zip_folder(sample_dir, tmp_path / "speechdata.zip")
    db_path = tmp_path / "test.duckdb"
    first = ingest_into(db_path, archive)
    assert first.zip_entries_extracted == SAMPLE_WAVS + 2  # wavs, labels.csv, SHA256SUMS
    before = contents(db_path)
    again = ingest_into(db_path, archive)
    assert (again.zip_entries_extracted, again.files_read, again.changed) == (0, 0, False)
    assert contents(db_path) == before


def test_zip_with_one_top_folder_uses_that_folder_as_root(sample_dir, tmp_path):
    archive = zip_folder(sample_dir, tmp_path / "speechdata.zip", prefix="LJSpeech-1.1/")
    summary = ingest_into(tmp_path / "test.duckdb", archive)
    assert summary.root.endswith("/.asrlens/datasets/speechdata/LJSpeech-1.1")
    assert (summary.utterances, summary.with_audio) == (100, 32)


def test_changed_zip_rewrites_only_changed_entries_and_drops_removed_ones(sample_dir, tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(sample_dir, folder)
    archive = zip_folder(folder, tmp_path / "speechdata.zip")
    db_path = tmp_path / "test.duckdb"
    ingest_into(db_path, archive)
    (folder / "wavs" / "LJ001-0032.wav").unlink()
    data, rate = sf.read(folder / "wavs" / "LJ001-0001.wav")
    sf.write(folder / "wavs" / "LJ001-0001.wav", data[: rate], rate, subtype="PCM_16")
    archive.unlink()
    zip_folder(folder, archive)
    summary = ingest_into(db_path, archive)
    assert summary.zip_entries_extracted == 1
    assert (summary.files_read, summary.files_updated, summary.files_removed) == (1, 1, 1)
    engine = connect(db_path, read_only=True)
    try:
        rows = query(engine, "select path, duration_s from audio_files order by path")
    finally:
        engine.dispose()
    assert len(rows) == 31
    assert rows[0] == {"path": "wavs/LJ001-0001.wav", "duration_s": 1.0}
    root = db_path.parent / ".asrlens" / "datasets" / "speechdata"
    assert not (root / "wavs" / "LJ001-0032.wav").exists()


def test_changed_file_in_a_folder_is_updated_not_duplicated(sample_dir, tmp_path):
    folder = tmp_path / "ds"
    shutil.copytree(sample_dir, folder)
    db_path = tmp_path / "test.duckdb"
    ingest_into(db_path, folder)
    data, rate = sf.read(folder / "wavs" / "LJ001-0002.wav")
    sf.write(folder / "wavs" / "LJ001-0002.wav", data * 0.5, rate, subtype="PCM_16")
    summary = ingest_into(db_path, folder)
    assert (summary.files_read, summary.files_skipped, summary.files_updated) == (1, 31, 1)
    engine = connect(db_path, read_only=True)
    try:
        (row,) = query(engine, "select count(*) n, max(peak_dbfs) p from audio_files "
                               "where path = 'wavs/LJ001-0002.wav'")
        assert query(engine, "select count(*) n from audio_files")[0]["n"] == 32
    finally:
        engine.dispose()
    assert row["n"] == 1
    assert abs(row["p"] - (-6.05885 - 6.0206)) < 0.01  # half the amplitude: 6 dB lower


def test_parallel_and_serial_reads_store_the_same_rows(sample_dir, tmp_path, monkeypatch):
    import asrlens.ingest.audio_stats as audio_stats

    monkeypatch.setattr(audio_stats, "POOL_MIN_FILES", 1)
    monkeypatch.setattr(audio_stats, "CHUNK_FILES", 5)
    ingest_into(tmp_path / "pool.duckdb", sample_dir, workers=2)
    ingest_into(tmp_path / "serial.duckdb", sample_dir, workers=1)
    assert contents(tmp_path / "pool.duckdb") == contents(tmp_path / "serial.duckdb")


def test_cli_prints_the_summary(sample_dir, db_path):
    result = CliRunner().invoke(cli, ["ingest", str(sample_dir), "--db", str(db_path),
                                      "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "utterances: 100 (32 with audio, 68 without)" in result.output
    assert "hours: 0.062" in result.output
    assert "issues: missing_audio 68" in result.output
    again = CliRunner().invoke(cli, ["ingest", str(sample_dir), "--db", str(db_path),
                                     "--no-progress"])
    assert again.exit_code == 0, again.output
    assert "nothing changed" in again.output


def test_cli_labels_option_and_name(sample_dir, tmp_path, metadata_csv):
    db_path = tmp_path / "t.duckdb"
    result = CliRunner().invoke(cli, ["ingest", str(sample_dir), "--db", str(db_path),
                                      "--labels", str(metadata_csv), "--name", "full",
                                      "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "utterances: 13100 (32 with audio, 13068 without)" in result.output
    engine = connect(db_path, read_only=True)
    try:
        (row,) = query(engine, "select name, labels_path from datasets")
    finally:
        engine.dispose()
    assert row == {"name": "full", "labels_path": os.fspath(metadata_csv.resolve())}


def test_cli_missing_labels_option_is_a_clear_error(sample_dir, db_path):
    result = CliRunner().invoke(cli, ["ingest", str(sample_dir), "--db", str(db_path),
                                      "--labels", "nope.csv"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: labels file nope.csv not found")


def test_an_extracted_file_deleted_by_hand_is_restored_from_the_unchanged_zip(
    sample_dir, tmp_path
):
    archive = zip_folder(sample_dir, tmp_path / "speechdata.zip")
    db_path = tmp_path / "test.duckdb"
    ingest_into(db_path, archive)
    before = contents(db_path)
    root = tmp_path / ".asrlens" / "datasets" / "speechdata"
    (root / "wavs" / "LJ001-0005.wav").unlink()
    again = ingest_into(db_path, archive)
    assert again.zip_entries_extracted == 1
    assert (again.files_read, again.with_audio) == (1, 32)
    after = contents(db_path)
    assert after["utterances"] == before["utterances"]
    assert after["ingest_issues"] == before["ingest_issues"]


def test_labels_named_inside_the_dataset_are_found_from_any_folder(tmp_path, monkeypatch):
    folder = tmp_path / "corpus"
    (folder / "wavs").mkdir(parents=True)
    sf.write(folder / "wavs" / "a.wav", [0.1, -0.1] * 800, 16_000)
    (folder / "train.tsv").write_text("utt_id\ttext\na\thello\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path / "corpus" / "wavs")
    summary = ingest_into(tmp_path / "t.duckdb", folder, labels="train.tsv")
    assert (summary.labels_path, summary.labels_format) == ("train.tsv", "tsv")
    assert (summary.utterances, summary.with_audio) == (1, 1)


def test_labels_without_any_audio_are_usable(metadata_csv, db_path):
    summary = ingest_into(db_path, metadata_csv.parent)
    assert summary.dataset == "ljspeech-metadata"
    assert (summary.utterances, summary.with_audio, summary.audio_files) == (13_100, 0, 0)
    assert summary.issues_by_kind == {"missing_audio": 13_100}
