"""Hostile and careless inputs to `asrlens ingest` (issue 11): a failed ingest leaves no
database behind, label paths written `./audio/x.flac` or absolute still match their file,
float audio with NaN samples is flagged and measured on its finite samples, and zip bombs
are refused before anything is written."""

from __future__ import annotations

import hashlib
import io
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import duckdb
import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from conftest import rows
from test_ingest_bad_inputs import make_dataset

from asrlens.cli import cli


def ingest_cli(db_path: Path, source, *args):
    return CliRunner().invoke(cli, ["ingest", str(source), "--db", str(db_path),
                                    "--no-progress", *args])


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- a failed ingest leaves no database file (item 15) ---


def failing_sources(tmp_path: Path) -> dict[str, Path]:
    empty = tmp_path / "empty"
    empty.mkdir()
    not_zip = tmp_path / "speechdata.zip"
    not_zip.write_bytes(b"not a zip archive\n" * 100)
    return {"wrong path": tmp_path / "no-such-folder", "empty folder": empty,
            "not a zip": not_zip}


@pytest.mark.parametrize("case", ["wrong path", "empty folder", "not a zip"])
def test_a_failed_ingest_leaves_no_database_file(tmp_path, case):
    source = failing_sources(tmp_path)[case]
    db_path = tmp_path / "out" / "new.duckdb"
    result = ingest_cli(db_path, source)
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert not db_path.exists()
    assert not db_path.with_name("new.duckdb.wal").exists()


@pytest.mark.parametrize("case", ["wrong path", "empty folder", "not a zip"])
def test_a_failed_ingest_leaves_an_existing_database_byte_for_byte(tmp_path, case):
    db_path = tmp_path / "kept.duckdb"
    assert ingest_cli(db_path, make_dataset(tmp_path / "good")).exit_code == 0
    before = digest(db_path)
    result = ingest_cli(db_path, failing_sources(tmp_path)[case])
    assert result.exit_code == 1
    assert digest(db_path) == before
    assert [r["name"] for r in rows(db_path, "select name from datasets")] == ["good"]


def test_a_successful_ingest_into_a_new_file_creates_it(tmp_path):
    db_path = tmp_path / "deep" / "er" / "new.duckdb"
    result = ingest_cli(db_path, make_dataset(tmp_path / "good"))
    assert result.exit_code == 0, result.output
    assert rows(db_path, "select count(*) n from utterances") == [{"n": 3}]


# --- label paths written ./audio/x.flac or absolute (item 14) ---


def labelled_by_paths(folder: Path, paths: list[str]) -> Path:
    """A dataset whose audio is in audio/ and whose labels.csv names each file by `paths`."""
    make_dataset(folder, ids=("clip_001", "clip_002", "clip_003"))
    (folder / "wavs").rename(folder / "audio")
    lines = ["path,text"] + [f"{p},words of {Path(p).stem}" for p in paths]
    (folder / "labels.csv").write_text("\n".join(lines) + "\n")
    return folder


def test_label_paths_with_dot_slash_and_absolute_paths_inside_the_dataset_match(tmp_path):
    folder = tmp_path / "ds"
    labelled_by_paths(folder, ["./audio/clip_001.wav", f"{folder}/audio/clip_002.wav",
                               "audio//./clip_003.wav"])
    db_path = tmp_path / "a.duckdb"
    result = ingest_cli(db_path, folder)
    assert result.exit_code == 0, result.output
    assert rows(db_path, "select utt_id, audio_path from utterances order by utt_id") == [
        {"utt_id": f"clip_00{i}", "audio_path": f"audio/clip_00{i}.wav"} for i in (1, 2, 3)]
    assert rows(db_path, "select count(*) n from ingest_issues") == [{"n": 0}]


def test_an_absolute_label_path_through_a_symlinked_folder_matches(tmp_path):
    folder = tmp_path / "ds"
    link = tmp_path / "link-to-ds"
    link.symlink_to(folder, target_is_directory=True)
    labelled_by_paths(folder, [f"{link}/audio/clip_001.wav", "audio/clip_002.wav",
                               "audio/clip_003.wav"])
    db_path = tmp_path / "a.duckdb"
    assert ingest_cli(db_path, link).exit_code == 0
    assert rows(db_path, "select count(*) n from utterances where audio_path is null") == [
        {"n": 0}]


def test_label_paths_outside_the_dataset_stay_refused(tmp_path):
    outside = make_dataset(tmp_path / "secret", ids=("clip_003",))
    folder = tmp_path / "ds"
    labelled_by_paths(folder, ["./audio/clip_001.wav", "./../secret/wavs/clip_003.wav",
                               f"{outside}/wavs/clip_003.wav"])
    db_path = tmp_path / "a.duckdb"
    assert ingest_cli(db_path, folder).exit_code == 0
    assert rows(db_path, "select utt_id from utterances") == [{"utt_id": "clip_001"}]
    found = rows(db_path, "select kind, line, message from ingest_issues "
                          "where kind = 'unsafe_path' order by line")
    assert [(i["kind"], i["line"]) for i in found] == [("unsafe_path", 3), ("unsafe_path", 4)]
    assert "absolute path" in found[1]["message"]
    assert rows(db_path, "select count(*) n from audio_files where path like '%secret%'") == [
        {"n": 0}]


# --- float audio with NaN samples (item 10) ---

RATE = 16_000  # Hz


def nan_dataset(folder: Path) -> tuple[Path, np.ndarray]:
    """u1: a 1 s float wav, loud tone then a quiet half, with 300 NaN and 20 inf samples;
    u2: a clean PCM_16 tone. Returns the folder and u1's finite samples."""
    make_dataset(folder, ids=("u1", "u2"))
    t = np.arange(RATE) / RATE
    tone = 0.5 * np.sin(2 * np.pi * 220 * t)
    tone[RATE // 2:] *= 0.001  # -60 dB: the second half is silence by the 40 dB rule
    tone[1000:1300] = np.nan
    tone[5000:5020] = np.inf
    sf.write(folder / "wavs" / "u1.wav", tone.astype(np.float32), RATE, subtype="FLOAT")
    return folder, tone[np.isfinite(tone)].astype(np.float32)


def test_nan_samples_are_an_issue_and_levels_describe_the_finite_samples(tmp_path):
    folder, finite = nan_dataset(tmp_path / "ds")
    db_path = tmp_path / "a.duckdb"
    result = ingest_cli(db_path, folder)
    assert result.exit_code == 0, result.output
    assert "non_finite_samples 1" in result.output
    (row,) = rows(db_path, "select * from audio_files where utt_id = 'u1'")
    assert row["non_finite_samples"] == 320
    assert row["peak_dbfs"] == pytest.approx(20 * np.log10(np.abs(finite).max()), abs=1e-3)
    assert row["rms_dbfs"] == pytest.approx(
        10 * np.log10(np.mean(finite.astype(np.float64) ** 2)), abs=1e-3)
    assert row["silence_fraction"] == pytest.approx(0.5, abs=0.03)
    assert row["clipped_fraction"] == 0.0
    (issue,) = rows(db_path, "select * from ingest_issues where kind = 'non_finite_samples'")
    assert (issue["utt_id"], issue["path"]) == ("u1", "wavs/u1.wav")
    assert issue["message"].startswith("wavs/u1.wav: 320 of 16000 samples are not finite")
    assert rows(db_path, "select non_finite_samples n from audio_files where utt_id = 'u2'") == [
        {"n": 0}]


def test_the_nan_issue_stays_when_an_unchanged_file_is_not_read_again(tmp_path):
    folder, _ = nan_dataset(tmp_path / "ds")
    db_path = tmp_path / "a.duckdb"
    assert ingest_cli(db_path, folder).exit_code == 0
    again = ingest_cli(db_path, folder)
    assert "files read: 0, unchanged and skipped: 2" in again.output
    assert "already held exactly this" in again.output
    assert len(rows(db_path, "select * from ingest_issues where kind = 'non_finite_samples'")) == 1


def test_a_file_of_nothing_but_nan_has_no_levels(tmp_path):
    folder = make_dataset(tmp_path / "ds", ids=("u1",))
    sf.write(folder / "wavs" / "u1.wav", np.full(RATE, np.nan, dtype=np.float32), RATE,
             subtype="FLOAT")
    db_path = tmp_path / "a.duckdb"
    assert ingest_cli(db_path, folder).exit_code == 0
    (row,) = rows(db_path, "select * from audio_files")
    assert row["non_finite_samples"] == RATE
    assert row["duration_s"] == 1.0
    assert (row["peak_dbfs"], row["rms_dbfs"], row["silence_fraction"]) == (None, None, None)
    (issue,) = rows(db_path, "select message from ingest_issues")
    assert "no level can be measured" in issue["message"]


def test_a_database_from_before_the_count_reads_its_float_files_once_more(tmp_path):
    folder, _ = nan_dataset(tmp_path / "ds")
    db_path = tmp_path / "a.duckdb"
    assert ingest_cli(db_path, folder).exit_code == 0
    con = duckdb.connect(str(db_path))  # make it a version-1 file, as an older asrlens left it
    con.execute("alter table audio_files drop column non_finite_samples")
    con.execute("delete from ingest_issues where kind = 'non_finite_samples'")
    con.execute("delete from schema_version; insert into schema_version (version) values (1)")
    con.close()
    again = ingest_cli(db_path, folder)
    assert again.exit_code == 0, again.output
    assert "files read: 1, unchanged and skipped: 1" in again.output  # the float file only
    assert rows(db_path, "select utt_id, non_finite_samples n from audio_files "
                         "order by utt_id") == [{"utt_id": "u1", "n": 320},
                                                {"utt_id": "u2", "n": 0}]


@pytest.mark.slow
def test_infer_on_nan_audio_prints_no_numpy_warning(tmp_path):
    folder, _ = nan_dataset(tmp_path / "ds")
    db_path = tmp_path / "a.duckdb"
    assert ingest_cli(db_path, folder).exit_code == 0
    done = subprocess.run(
        [sys.executable, "-W", "default", "-m", "asrlens", "infer", "--engine", "pocketsphinx",
         "--no-progress", "--no-analyze", "--db", str(db_path)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr
    assert "2 of 2 files scored" in done.stdout


# --- zip bombs (item 2) ---


def zip_dataset(path: Path, folder: Path, extra: dict[str, bytes] | None = None) -> Path:
    """`folder` zipped (deflate) into `path`, plus `extra` entries (name -> bytes)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                zf.write(file, file.relative_to(folder).as_posix())
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def lie_about_size(path: Path, name: str, declared: int, *, crc: int | None = None) -> None:
    """Rewrite the uncompressed size (and CRC) of entry `name` in its local header and in the
    central directory, as a crafted zip would."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        offset = zf.getinfo(name).header_offset
    assert data[offset:offset + 4] == b"PK\x03\x04"
    struct.pack_into("<I", data, offset + 22, declared)
    if crc is not None:
        struct.pack_into("<I", data, offset + 14, crc)
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + name_len] == name.encode():
            struct.pack_into("<I", data, at + 24, declared)
            if crc is not None:
                struct.pack_into("<I", data, at + 16, crc)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def extracted_bytes(db_path: Path) -> int:
    base = db_path.parent / ".asrlens"
    return sum(p.stat().st_size for p in base.rglob("*") if p.is_file()) if base.exists() else 0


def test_a_zip_bomb_is_refused_before_anything_is_written(tmp_path):
    bomb = zip_dataset(tmp_path / "speechdata.zip", make_dataset(tmp_path / "ds"),
                       {"wavs/u9.wav": bytes(200 * 2**20)})  # 200 MiB of zeros: about 200 KB
    assert bomb.stat().st_size < 400_000
    db_path = tmp_path / "db" / "a.duckdb"
    result = ingest_cli(db_path, bomb)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert result.output.startswith("Error: speechdata.zip: entry 'wavs/u9.wav' would expand ")
    assert "more than the limit of 200" in result.output
    assert "--zip-max-ratio" in result.output
    assert not (db_path.parent / ".asrlens").exists()
    assert not db_path.exists()


def test_each_limit_is_checked_and_can_be_raised(tmp_path):
    archive = zip_dataset(tmp_path / "speechdata.zip", make_dataset(tmp_path / "ds"),
                          {"wavs/zeros.wav": bytes(4 * 2**20)})  # ratio about 1000
    total = sum(i.file_size for i in zipfile.ZipFile(archive).infolist())
    db_path = tmp_path / "a.duckdb"
    refused = {
        "--zip-max-ratio": ingest_cli(db_path, archive),
        "--zip-max-size": ingest_cli(db_path, archive, "--zip-max-ratio", "2000",
                                     "--zip-max-size", str(total - 1)),
        "--zip-max-entries": ingest_cli(db_path, archive, "--zip-max-ratio", "2000",
                                        "--zip-max-entries", "4"),
    }
    for flag, result in refused.items():
        assert result.exit_code == 1, flag
        assert flag in result.output, result.output
        assert extracted_bytes(db_path) == 0
    assert (f"would unpack to {total:,} bytes in 5 files, more than the limit of {total - 1:,} "
            "bytes") in refused["--zip-max-size"].output
    assert "holds 5 entries, more than the limit of 4" in refused["--zip-max-entries"].output
    allowed = ingest_cli(db_path, archive, "--zip-max-ratio", "2000", "--zip-max-size", "5M",
                         "--zip-max-entries", "5")
    assert allowed.exit_code == 0, allowed.output
    assert extracted_bytes(db_path) >= total


def test_a_zip_larger_than_the_free_disk_space_is_refused(tmp_path, monkeypatch):
    import asrlens.ingest.source as source

    archive = zip_dataset(tmp_path / "speechdata.zip", make_dataset(tmp_path / "ds"))
    monkeypatch.setattr(source.shutil, "disk_usage",
                        lambda folder: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000))
    result = ingest_cli(tmp_path / "a.duckdb", archive)
    assert result.exit_code == 1
    assert "but only 1000 bytes is free there" in result.output
    assert extracted_bytes(tmp_path / "a.duckdb") == 0


def test_an_entry_whose_headers_understate_its_size_is_not_extracted(tmp_path):
    """Both headers say 1,000 bytes; the deflate stream expands to 8 MiB."""
    archive = zip_dataset(tmp_path / "speechdata.zip", make_dataset(tmp_path / "ds"),
                          {"wavs/liar.wav": bytes(8 * 2**20)})
    lie_about_size(archive, "wavs/liar.wav", 1000)
    db_path = tmp_path / "a.duckdb"
    result = ingest_cli(db_path, archive)
    assert result.exit_code == 0, result.output
    assert extracted_bytes(db_path) < 200_000
    (issue,) = rows(db_path, "select kind, path, message from ingest_issues "
                             "where kind = 'bad_archive'")
    assert issue["path"] == "wavs/liar.wav"
    assert not list((db_path.parent / ".asrlens").rglob("liar.wav*"))
    assert rows(db_path, "select count(*) n from utterances where audio_path is not null") == [
        {"n": 3}]


def test_an_entry_is_never_written_beyond_its_declared_size(tmp_path):
    """Even when the declared CRC matches the first 1,000 bytes of the longer stream."""
    archive = zip_dataset(tmp_path / "speechdata.zip", make_dataset(tmp_path / "ds"),
                          {"wavs/liar.wav": bytes(8 * 2**20)})
    lie_about_size(archive, "wavs/liar.wav", 1000, crc=zlib.crc32(bytes(1000)))
    db_path = tmp_path / "a.duckdb"
    assert ingest_cli(db_path, archive).exit_code == 0
    (liar,) = (db_path.parent / ".asrlens").rglob("liar.wav")
    assert liar.stat().st_size == 1000
    assert extracted_bytes(db_path) < 200_000


def test_copy_bounded_stops_mid_entry_when_the_stream_runs_past_its_declared_size():
    from asrlens.ingest.source import COPY_CHUNK_BYTES, EntryTooLong, copy_bounded

    out = io.BytesIO()
    with pytest.raises(EntryTooLong, match="beyond the 1,000 bytes its header declares"):
        copy_bounded(io.BytesIO(bytes(10 * COPY_CHUNK_BYTES)), out, 1000)
    assert len(out.getvalue()) <= 1000
    out = io.BytesIO()
    assert copy_bounded(io.BytesIO(b"x" * 1000), out, 1000) == 1000


def test_sizes_are_parsed_with_binary_suffixes():
    from asrlens.errors import AsrlensError
    from asrlens.ingest.source import parse_size

    assert parse_size("20G") == 20 * 2**30
    assert parse_size("500M") == 500 * 2**20
    assert parse_size("1.5KiB") == 1536
    assert parse_size("123") == 123
    with pytest.raises(AsrlensError, match="500M, 20G"):
        parse_size("lots")


def test_the_cli_defaults_are_the_documented_limits():
    from asrlens.ingest.source import ZipLimits, parse_size

    params = {p.name: p.default for p in cli.commands["ingest"].params}
    assert ZipLimits() == ZipLimits(max_bytes=parse_size(params["zip_max_size"]),
                                    max_ratio=params["zip_max_ratio"],
                                    max_entries=params["zip_max_entries"])
