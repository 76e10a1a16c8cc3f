"""Hostile input in every dataset layout: one ingest issue each, nothing else lost; wav.scp
commands never run; paths outside the dataset only with --allow-outside-paths."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import rows
from layouts import LAYOUTS, build, duplicate_first, remove_audio

from asrlens.ingest import ingest_into


def ingest(db, path, **options):
    return ingest_into(db, path, progress=False, workers=1, **options)


def _kinds(db):
    return {r["kind"]: r["n"] for r in rows(
        db, "select kind, count(*) as n from ingest_issues group by kind")}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_in_every_layout_a_missing_audio_file_is_one_issue(layout, tmp_path):
    folder = build(layout, tmp_path)
    remove_audio(layout, folder, "LJ001-0008")
    db = tmp_path / "h.duckdb"
    summary = ingest(db, folder)
    assert (summary.utterances, summary.with_audio) == (3, 2)
    assert _kinds(db) == {"missing_audio": 1}
    assert rows(db, "select utt_id from ingest_issues") == [{"utt_id": "LJ001-0008"}]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_in_every_layout_a_duplicated_id_is_one_issue(layout, tmp_path):
    folder = build(layout, tmp_path)
    duplicate_first(layout, folder)
    db = tmp_path / "h.duckdb"
    summary = ingest(db, folder)
    assert (summary.utterances, summary.with_audio) == (3, 3)
    # parquet: the repeated row also carries a second copy of the clip, stored as audio
    # without a label (every other layout points both lines at the same file)
    extra = {"unlabelled_audio": 1} if layout == "parquet" else {}
    assert _kinds(db) == {"duplicate_id": 1, **extra}


def test_a_nemo_line_that_is_not_json_is_one_issue(tmp_path):
    folder = build("nemo", tmp_path)
    manifest = folder / "test_manifest.json"
    lines = manifest.read_text().splitlines()
    manifest.write_text("\n".join([lines[0], "{not json", *lines[1:]]) + "\n")
    db = tmp_path / "h.duckdb"
    summary = ingest(db, manifest)
    assert summary.utterances == 3 and summary.with_audio == 3
    assert _kinds(db) == {"bad_line": 1}
    assert rows(db, "select line from ingest_issues") == [{"line": 2}]


def test_a_pipe_in_wav_scp_is_refused_recorded_and_never_run(tmp_path):
    folder = build("kaldi", tmp_path)
    marker = tmp_path / "ran"
    scp = (folder / "wav.scp").read_text().splitlines()
    scp[1] = f"LJ001-0008 touch {marker} && sph2pipe -f wav sph/LJ001-0008.sph |"
    (folder / "wav" / "LJ001-0008.flac").unlink()  # the audio is only behind the command
    (folder / "wav.scp").write_text("\n".join(scp) + "\n")
    db = tmp_path / "h.duckdb"
    summary = ingest(db, folder)
    assert not marker.exists()
    assert (summary.utterances, summary.with_audio) == (3, 2)  # the utterance itself is kept
    assert _kinds(db) == {"pipe_command": 1}
    issue = rows(db, "select * from ingest_issues")[0]
    assert (issue["path"], issue["line"]) == ("wav.scp", 2)


def test_a_parquet_without_a_text_column_keeps_its_audio(tmp_path):
    import pyarrow.parquet as pq

    folder = build("parquet", tmp_path)
    path = folder / "data" / "test-00000-of-00001.parquet"
    pq.write_table(pq.read_table(path).drop(["text"]), path, row_group_size=2)
    db = tmp_path / "h.duckdb"
    summary = ingest(db, folder)
    assert (summary.utterances, summary.audio_files) == (0, 3)
    # the one issue says why there are no labels; each clip is stored, as audio without one
    assert _kinds(db) == {"no_labels": 1, "unlabelled_audio": 3}
    assert len(rows(db, "select * from audio_files where duration_s > 1")) == 3


def test_absolute_paths_outside_the_dataset_need_the_flag(tmp_path):
    folder = build("nemo", tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.move(folder / "audio" / "LJ001-0008.wav", elsewhere / "LJ001-0008.wav")
    manifest = folder / "test_manifest.json"
    lines = [json.loads(line) for line in manifest.read_text().splitlines()]
    lines[1]["audio_filepath"] = str(elsewhere / "LJ001-0008.wav")
    manifest.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    db = tmp_path / "h.duckdb"
    refused = ingest(db, folder)
    assert (refused.utterances, _kinds(db)) == (2, {"unsafe_path": 1})
    assert "--allow-outside-paths" in rows(db, "select message from ingest_issues")[0]["message"]
    allowed = ingest(db, folder, allow_outside_paths=True)
    assert (allowed.utterances, allowed.with_audio) == (3, 3)
    assert _kinds(db) == {"outside_path": 1}
    stored = rows(db, "select audio_path from utterances where utt_id = 'LJ001-0008'")
    assert stored[0]["audio_path"] == str(elsewhere / "LJ001-0008.wav")


def test_an_id_escaping_the_dataset_is_refused_in_a_manifest(tmp_path):
    folder = build("kaldi", tmp_path)
    (folder / "wav.scp").write_text((folder / "wav.scp").read_text()
                                    + "evil ../../etc/passwd.wav\n")
    db = tmp_path / "h.duckdb"
    summary = ingest(db, folder)
    assert summary.utterances == 3 and _kinds(db) == {"unsafe_path": 1}


def test_a_csv_absolute_path_outside_the_dataset_needs_the_flag(tmp_path):
    folder = build("csv", tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.move(folder / "audio" / "LJ001-0013.wav", elsewhere / "LJ001-0013.wav")
    manifest = folder / "test.csv"
    manifest.write_text(manifest.read_text().replace(
        "audio/LJ001-0013.wav", str(elsewhere / "LJ001-0013.wav")))
    db = tmp_path / "c.duckdb"
    assert (ingest(db, folder).utterances, _kinds(db)) == (2, {"unsafe_path": 1})
    allowed = ingest(db, folder, allow_outside_paths=True)
    assert (allowed.utterances, allowed.with_audio, _kinds(db)) == (3, 3, {"outside_path": 1})
