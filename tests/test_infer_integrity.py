"""No silent wrong results: a run's scores follow the dataset as it is ingested now.

- Audio ingest found corrupt (here a real clip cut in half behind a header that still
  announces the whole recording) is never transcribed nor scored: its transcript row says why.
- A file whose decoded length differs from its header, or from what ingest recorded, is an
  error for that file, not a shorter transcript.
- A label fixed and re-ingested after a run makes `infer --run R` rescore that file against
  the new reference, from the stored hypothesis, without running the recognizer again.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import jiwer
import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from conftest import rows
from test_infer import run

from asrlens import db
from asrlens.cli import cli
from asrlens.infer.recognizers.base import Hypothesis, HypWord, Recognizer
from asrlens.ingest import ingest_into

CLIPS = ("LJ001-0002", "LJ001-0007", "LJ001-0008")  # 1.90 s, 8.39 s, 1.78 s
TRUNCATED = "LJ001-0007"
HEARD = "in being comparatively modern"


class Listener(Recognizer):
    """Hears HEARD in every file and remembers how many samples each file had."""

    name = "listener"
    model = "fixed-v1"
    sample_rate = 16000

    def __init__(self):
        self.lengths: list[int] = []

    def transcribe(self, samples: np.ndarray) -> Hypothesis:
        self.lengths.append(len(samples))
        words = [HypWord(w, start_s=0.2 * i, end_s=0.2 * i + 0.15, confidence=0.9)
                 for i, w in enumerate(HEARD.split())]
        return Hypothesis(text=HEARD, words=words)


@pytest.fixture
def dataset(tmp_path, sample_dir) -> Path:
    """Three real clips of the sample with their LJSpeech labels, in a folder of their own."""
    root = tmp_path / "three"
    (root / "wavs").mkdir(parents=True)
    lines = (sample_dir / "labels.csv").read_text(encoding="utf-8").splitlines()
    (root / "labels.csv").write_text(
        "".join(line + "\n" for line in lines if line.split("|")[0] in CLIPS), encoding="utf-8")
    for utt_id in CLIPS:
        shutil.copy(sample_dir / "wavs" / f"{utt_id}.wav", root / "wavs" / f"{utt_id}.wav")
    return root


def cut_data_in_half(wav: Path) -> None:
    """Keep the header (which still announces every frame) and the first half of the data."""
    data = wav.read_bytes()
    start = data.index(b"data") + 8
    wav.write_bytes(data[: start + (len(data) - start) // 4 * 2])


def relabel(root: Path, utt_id: str, text: str) -> None:
    """Rewrite one label line's transcript and normalized transcript."""
    labels = root / "labels.csv"
    lines = labels.read_text(encoding="utf-8").splitlines()
    lines = [f"{utt_id}|{text}|{text}" if line.startswith(f"{utt_id}|") else line
             for line in lines]
    labels.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


# --- item 9: truncated audio -----------------------------------------------------------------


def test_the_truncated_clip_decodes_to_half_of_what_its_header_says(dataset):
    wav = dataset / "wavs" / f"{TRUNCATED}.wav"
    whole = sf.info(wav).frames
    cut_data_in_half(wav)
    with sf.SoundFile(wav) as f:
        decoded = len(f.read())
    assert whole / 22050 == pytest.approx(8.39, abs=0.01)
    assert decoded / 22050 == pytest.approx(4.19, abs=0.01)


def test_audio_ingest_found_corrupt_is_recorded_as_skipped_and_never_scored(dataset, db_path):
    cut_data_in_half(dataset / "wavs" / f"{TRUNCATED}.wav")
    ingest_into(db_path, dataset, progress=False)
    issue = rows(db_path, "select kind, utt_id from ingest_issues where kind = 'corrupt_audio'")
    assert issue == [{"kind": "corrupt_audio", "utt_id": TRUNCATED}]

    listener = Listener()
    result = run(db_path, listener, run_id="r")
    assert len(listener.lengths) == 2  # the two whole clips only
    assert (result.status, result.files_done, result.files_unusable) == ("finished", 2, 1)
    assert [utt for utt, _ in result.failed] == [TRUNCATED]
    assert "not transcribed" in result.failed[0][1] and "truncated" in result.failed[0][1]
    assert rows(db_path, "select * from utterance_errors where utt_id = :u", u=TRUNCATED) == []
    summary = rows(db_path, "select files_scored, files_failed from run_summary")[0]
    assert summary == {"files_scored": 2, "files_failed": 1}

    again = Listener()
    result = run(db_path, again, run_id="r")
    assert again.lengths == [] and result.already_finished  # a skip is not retried


def test_a_scored_file_found_corrupt_by_a_re_ingest_loses_its_scores(dataset, db_path):
    ingest_into(db_path, dataset, progress=False)
    run(db_path, Listener(), run_id="r")
    audio_before = rows(db_path, "select audio_s from runs")[0]["audio_s"]
    assert rows(db_path, "select count(*) as n from utterance_errors")[0]["n"] == 3

    cut_data_in_half(dataset / "wavs" / f"{TRUNCATED}.wav")
    ingest_into(db_path, dataset, progress=False)
    listener = Listener()
    result = run(db_path, listener, run_id="r")
    assert listener.lengths == [] and not result.already_finished
    assert (result.files_scored, result.files_unusable) == (2, 1)
    assert [utt for utt, _ in result.failed] == [TRUNCATED]
    for table in ("utterance_errors", "alignment_ops", "hyp_words"):
        assert rows(db_path, f"select * from {table} where utt_id = :u", u=TRUNCATED) == []
    transcript = rows(db_path, "select hyp_raw, error from transcripts where utt_id = :u",
                      u=TRUNCATED)[0]
    assert transcript["hyp_raw"] is None and "corrupt_audio" in transcript["error"]
    audio_after = rows(db_path, "select audio_s from runs")[0]["audio_s"]
    assert audio_after == pytest.approx(audio_before - 8.39, abs=0.01)


def test_a_file_truncated_after_ingest_is_an_error_for_that_file(dataset, db_path, sample_dir):
    ingest_into(db_path, dataset, progress=False)
    cut_data_in_half(dataset / "wavs" / f"{TRUNCATED}.wav")  # ingest did not see this
    listener = Listener()
    result = run(db_path, listener, run_id="r")
    assert len(listener.lengths) == 2
    assert (result.files_done, result.files_failed) == (2, 1)
    (utt_id, error), = result.failed
    assert utt_id == TRUNCATED
    whole = sf.info(sample_dir / "wavs" / f"{TRUNCATED}.wav").frames
    assert f"{TRUNCATED}.wav: truncated: decoded " in error and "frames (4.19 s)" in error
    assert f"but its header announces {whole} frames (8.39 s)" in error
    assert rows(db_path, "select * from utterance_errors where utt_id = :u", u=TRUNCATED) == []


def test_a_file_shorter_than_ingest_recorded_is_an_error_for_that_file(dataset, db_path):
    ingest_into(db_path, dataset, progress=False)
    wav = dataset / "wavs" / f"{TRUNCATED}.wav"
    samples, rate = sf.read(wav, dtype="int16")
    sf.write(wav, samples[: len(samples) // 2], rate, subtype="PCM_16")  # a whole, shorter file
    result = run(db_path, Listener(), run_id="r")
    (utt_id, error), = result.failed
    assert utt_id == TRUNCATED
    assert f"but ingest recorded {len(samples)} frames (8.39 s)" in error
    assert "asrlens ingest" in error


# --- item 11: references changed since the run -----------------------------------------------


def test_a_fixed_label_is_rescored_without_recognizing_again(dataset, db_path):
    ingest_into(db_path, dataset, progress=False)
    run(db_path, Listener(), run_id="r")
    before = {r["utt_id"]: r for r in rows(db_path, "select * from transcripts")}
    words_before = rows(db_path, "select * from hyp_words order by utt_id, word_index")
    wer_before = rows(db_path, "select wer from run_summary")[0]["wer"]

    relabel(dataset, "LJ001-0008", HEARD.capitalize() + ".")  # now what the listener hears
    ingest_into(db_path, dataset, progress=False)
    listener = Listener()
    result = run(db_path, listener, run_id="r")

    assert listener.lengths == []
    assert (result.files_rescored, result.files_done, result.already_finished) == (1, 0, False)
    after = {r["utt_id"]: r for r in rows(db_path, "select * from transcripts")}
    fixed = after["LJ001-0008"]
    assert fixed["ref_raw"] == HEARD.capitalize() + "."
    assert fixed["ref_sha256"] == hashlib.sha256(fixed["ref_raw"].encode()).hexdigest()
    assert fixed["rescored_at"] is not None and fixed["hyp_raw"] == HEARD
    assert fixed["created_at"] == before["LJ001-0008"]["created_at"]
    for utt_id in ("LJ001-0002", "LJ001-0007"):  # unchanged references: left as they were
        assert after[utt_id] == before[utt_id]
    errors = rows(db_path, "select * from utterance_errors where utt_id = 'LJ001-0008'")[0]
    assert (errors["hits"], errors["wer"]) == (4, 0.0)
    expected = jiwer.process_words(fixed["ref_norm"], fixed["hyp_norm"])
    ops = rows(db_path, "select op from alignment_ops where utt_id = 'LJ001-0008' "
                        "order by op_index")
    assert [o["op"] for o in ops] == ["equal"] * expected.hits
    assert rows(db_path, "select * from hyp_words order by utt_id, word_index") == words_before
    assert result.wer < wer_before

    again = Listener()
    assert run(db_path, again, run_id="r").already_finished and again.lengths == []


def test_cli_says_how_many_files_were_rescored(dataset, db_path, monkeypatch):
    import asrlens.infer.recognizers as recognizers

    monkeypatch.setattr(recognizers, "get_recognizer", lambda name, **kwargs: Listener())
    monkeypatch.setitem(recognizers.RECOGNIZERS, "listener", f"{__name__}:Listener")
    args = ["infer", "--db", str(db_path), "--engine", "listener", "--run", "r",
            "--no-progress", "--no-analyze"]
    ingest_into(db_path, dataset, progress=False)
    assert CliRunner().invoke(cli, args).exit_code == 0
    relabel(dataset, "LJ001-0002", "in being comparatively new.")
    relabel(dataset, "LJ001-0008", "a fixed label")
    ingest_into(db_path, dataset, progress=False)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "rescored 2 files whose reference changed" in result.output
    assert "nothing redone" not in result.output
    result = CliRunner().invoke(cli, args)
    assert "already finished: nothing redone" in result.output


def test_migrating_an_older_database_hashes_the_stored_references(db_path, monkeypatch):
    engine = db.connect(db_path)
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        raw.execute("alter table transcripts drop column ref_sha256")
        raw.execute("alter table transcripts drop column rescored_at")
        raw.execute("delete from schema_version")
        raw.execute("insert into schema_version (version) values (1)")
        raw.execute("insert into transcripts (run_id, utt_id, ref_raw, created_at) "
                    "values ('r', 'u', 'Le café.', now())")
    engine.dispose()
    engine = db.connect(db_path)
    try:
        row = db.query(engine, "select ref_sha256, rescored_at from transcripts")[0]
        assert row == {"ref_sha256": hashlib.sha256("Le café.".encode()).hexdigest(),
                       "rescored_at": None}
    finally:
        engine.dispose()
