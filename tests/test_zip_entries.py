"""A zip entry that cannot be written (a name too long for the file system, a file where a
folder must be) is skipped with an ingest issue and the rest is ingested; nothing partial is
left; two entries of one name are recorded (the last one is used)."""

from __future__ import annotations

import io
import warnings
import zipfile

import numpy as np
import soundfile as sf
from click.testing import CliRunner
from conftest import rows

from asrlens.cli import cli

RATE = 16000


def wav_bytes(level: float) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, np.full(RATE // 4, level), RATE, subtype="PCM_16", format="WAV")
    return buffer.getvalue()


def make_zip(path):
    long_name = "ds/wavs/" + "x" * 300 + ".wav"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("ds/labels.csv", "A0|first words|first words\n"
                                         "A1|second words|second words\n")
            zf.writestr("ds/wavs/A0.wav", wav_bytes(0.01))
            zf.writestr("ds/wavs/A1.wav", b"not audio at all")
            zf.writestr("ds/wavs/A1.wav", wav_bytes(0.02))  # the same name again: used
            zf.writestr(long_name, wav_bytes(0.03))
            zf.writestr("ds/x", b"a file where a folder must be")
            zf.writestr("ds/x/y.wav", wav_bytes(0.04))
    return long_name


def test_bad_entries_are_skipped_with_issues_and_the_rest_is_ingested(tmp_path):
    archive = tmp_path / "ds.zip"
    long_name = make_zip(archive)
    db = tmp_path / "db.duckdb"
    args = ["ingest", str(archive), "--db", str(db), "--no-progress"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    utts = rows(db, "select u.utt_id, a.duration_s from utterances u join audio_files a "
                    "on a.dataset = u.dataset and a.path = u.audio_path order by 1")
    assert [(u["utt_id"], u["duration_s"]) for u in utts] == [("A0", 0.25), ("A1", 0.25)]
    issues = rows(db, "select kind, path from ingest_issues where kind in "
                      "('bad_archive', 'duplicate_entry') order by kind, path")
    assert {(i["kind"], i["path"]) for i in issues} == {
        ("bad_archive", long_name), ("bad_archive", "ds/x/y.wav"),
        ("duplicate_entry", "ds/wavs/A1.wav")}
    extracted = tmp_path / ".asrlens" / "datasets" / "ds"
    left = sorted(p.relative_to(extracted).as_posix() for p in extracted.rglob("*"))
    assert not [p for p in left if p.endswith(".partial")], left
    assert "ds/x" in left and "ds/wavs/A1.wav" in left
    again = CliRunner().invoke(cli, args)  # nothing extracted again, nothing changed
    assert again.exit_code == 0, again.output
    assert "nothing changed" in again.output
