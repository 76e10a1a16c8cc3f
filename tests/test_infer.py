"""The inference loop: one transcript per file, scores stored, resumable, failures recorded.

Loop, resume and storage behaviour is specified with a scripted test double (a Recognizer that
reads which file it was given from the audio and answers from a script); corpus figures with
the real pocketsphinx recognizer over the shared LJSpeech sample.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import jiwer
import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from conftest import rows

from asrlens.cli import cli
from asrlens.db import connect, insert_rows
from asrlens.errors import AsrlensError
from asrlens.infer import RunInterrupted, infer
from asrlens.infer.recognizers.base import Hypothesis, HypWord, Recognizer
from asrlens.scoring.normalize import LJSPEECH

RATE = 16000  # Hz, synthetic files and the scripted engine
DATASET = "toy"

# (utt_id, reference, what the scripted engine "hears")
SCRIPT = [
    ("U001", "The cat sat.", "the cat sat"),
    ("U002", "A well-known printer's mark", "a well known printers mark"),
    ("U003", "in fourteen fifty-five", "in forty fifty five"),
    ("U004", "Gutenberg and Schoeffer", "gutenberg and chauffeur said"),
    ("U005", "the arts and crafts", ""),
    ("U006", "represented in the Exhibition", "represented in the exhibition"),
    ("U007", "it is not", "it is not that"),
]
NO_AUDIO = [("U008", "a label without audio"), ("U009", "another one")]


# --- helpers -------------------------------------------------------------------------------


class ScriptedRecognizer(Recognizer):
    """Hears file i as SCRIPT[i]: the file's constant sample value is (i + 1) / 100."""

    name = "scripted"
    model = "script-v1"
    sample_rate = RATE

    def __init__(self, *, interrupt_at: int | None = None, fail_on: tuple[str, ...] = ()):
        self.calls: list[str] = []
        self.interrupt_at = interrupt_at
        self.fail_on = fail_on

    def transcribe(self, samples: np.ndarray) -> Hypothesis:
        utt_id, _ref, text = SCRIPT[round(float(samples[0]) * 100) - 1]
        self.calls.append(utt_id)
        if self.interrupt_at is not None and len(self.calls) == self.interrupt_at:
            raise KeyboardInterrupt
        if utt_id in self.fail_on:
            raise RuntimeError("scripted failure")
        words = [HypWord(w, start_s=0.1 * i, end_s=0.1 * i + 0.08, confidence=0.5 + 0.01 * i)
                 for i, w in enumerate(text.split())]
        return Hypothesis(text=text, words=words)

    def options(self) -> dict:
        return {"script": "SCRIPT"}


def make_db(db: Path, root: Path, labels: list[tuple], *, name: str = DATASET) -> Path:
    """A database holding one dataset, written directly (no ingest): labels are
    (utt_id, transcript, normalized or None, audio_path or None)."""
    engine = connect(db)
    try:
        with engine.begin() as conn:
            insert_rows(conn, "datasets", [{
                "name": name, "source": str(root), "root": str(root), "labels_path": "labels.csv",
                "labels_format": "ljspeech", "n_labels": len(labels),
                "n_audio": sum(1 for lab in labels if lab[3]), "ingested_at": datetime.now(),
            }])
            insert_rows(conn, "utterances", [
                {"dataset": name, "utt_id": u, "transcript": t, "normalized_transcript": n,
                 "audio_path": a, "labels_line": i}
                for i, (u, t, n, a) in enumerate(labels, 1)
            ])
    finally:
        engine.dispose()
    return db


@pytest.fixture
def toy_db(tmp_path) -> Path:
    """7 synthetic files (0.5 s each) with labels, plus 2 labels without audio."""
    return make_toy_db(tmp_path)


def make_toy_db(tmp_path: Path) -> Path:
    root = tmp_path / "toy"
    (root / "wavs").mkdir(parents=True)
    labels = []
    for i, (utt_id, ref, _hyp) in enumerate(SCRIPT):
        sf.write(root / "wavs" / f"{utt_id}.wav", np.full(RATE // 2, (i + 1) / 100), RATE,
                 subtype="PCM_16")
        labels.append((utt_id, ref, None, f"wavs/{utt_id}.wav"))
    labels += [(utt_id, ref, None, None) for utt_id, ref in NO_AUDIO]
    return make_db(tmp_path / "toy.duckdb", root, labels)


def run(db: Path, recognizer: Recognizer, **kwargs):
    engine = connect(db)
    try:
        return infer(engine, recognizer=recognizer, progress=False, **kwargs)
    finally:
        engine.dispose()


def assert_consistent(db: Path, run_id: str) -> None:
    """Every stored file is whole: a transcript without error has its error row and alignment."""
    bad = rows(db, """
        select t.utt_id from transcripts t
        left join utterance_errors e using (run_id, utt_id)
        left join (select run_id, utt_id, count(*) as n_ops from alignment_ops
                   group by all) a using (run_id, utt_id)
        where t.run_id = :run_id
          and ((t.error is null) != (e.utt_id is not null)
               or coalesce(a.n_ops, 0) != coalesce(e.hits + e.substitutions + e.deletions
                                                    + e.insertions, 0))
    """, run_id=run_id)
    assert bad == []


# --- one transcript per file ---------------------------------------------------------------


def test_every_file_with_audio_gets_one_transcript_and_one_error_row(toy_db):
    result = run(toy_db, ScriptedRecognizer(), run_id="r")
    assert (result.status, result.files_total, result.files_done) == ("finished", 7, 7)
    per_file = rows(toy_db, """
        select t.utt_id, count(distinct e.utt_id) as n_errors
        from transcripts t left join utterance_errors e using (run_id, utt_id)
        where run_id = 'r' group by t.utt_id order by t.utt_id""")
    assert [(r["utt_id"], r["n_errors"]) for r in per_file] == [(u, 1) for u, _, _ in SCRIPT]
    assert_consistent(toy_db, "r")


def test_reading_in_the_calling_thread_gives_the_same_rows(toy_db):
    run(toy_db, ScriptedRecognizer(), run_id="ahead")
    run(toy_db, ScriptedRecognizer(), run_id="inline", prefetch_files=0)
    columns = "utt_id, ref_norm, hyp_norm, audio_s, wer, cer"
    sql = (f"select {columns} from transcripts join utterance_errors using (run_id, utt_id) "
           "where run_id = :r order by utt_id")
    assert rows(toy_db, sql, r="ahead") == rows(toy_db, sql, r="inline")


def test_reading_ahead_leaves_the_recognizers_torch_threads_alone(toy_db):
    import threading

    import torch

    class ThreadCounting(ScriptedRecognizer):
        def transcribe(self, samples):
            self.threads = [*getattr(self, "threads", []), torch.get_num_threads()]
            return super().transcribe(samples)

    before = torch.get_num_threads()
    recognizer = ThreadCounting()
    run(toy_db, recognizer, run_id="r")
    assert recognizer.threads == [before] * len(SCRIPT)
    assert torch.get_num_threads() == before
    seen = []
    thread = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    assert seen == [before]  # the default for new threads is restored too


def test_texts_are_stored_raw_and_normalized(toy_db):
    run(toy_db, ScriptedRecognizer(), run_id="r")
    row = rows(toy_db, "select * from transcripts where utt_id = 'U002'")[0]
    assert row["ref_raw"] == "A well-known printer's mark"
    assert row["ref_norm"] == "A WELL KNOWN PRINTER'S MARK"
    assert row["hyp_raw"] == "a well known printers mark"
    assert row["hyp_norm"] == "A WELL KNOWN PRINTERS MARK"
    assert row["audio_s"] == pytest.approx(0.5)
    assert row["error"] is None and row["compute_s"] >= 0


def test_stored_counts_equal_jiwers_on_the_stored_texts(toy_db):
    run(toy_db, ScriptedRecognizer(), run_id="r")
    scored = rows(toy_db, """select * from transcripts join utterance_errors
                             using (run_id, utt_id) where run_id = 'r'""")
    assert len(scored) >= 5  # U005 is among them
    for row in scored:
        words = jiwer.process_words(row["ref_norm"], row["hyp_norm"])
        assert (row["hits"], row["substitutions"], row["deletions"], row["insertions"]) == (
            words.hits, words.substitutions, words.deletions, words.insertions), row["utt_id"]


def test_empty_hypothesis_is_stored_as_all_deletions(toy_db):
    run(toy_db, ScriptedRecognizer(), run_id="r")
    row = rows(toy_db, "select * from utterance_errors where utt_id = 'U005'")[0]
    assert (row["ref_words"], row["hyp_words"], row["deletions"], row["wer"]) == (4, 0, 4, 1.0)


def test_alignment_ops_and_hyp_words_are_stored_in_order(toy_db):
    run(toy_db, ScriptedRecognizer(), run_id="r")
    ops = rows(toy_db, """select op, ref_word, hyp_word, ref_pos, hyp_pos from alignment_ops
                          where utt_id = 'U004' order by op_index""")
    assert [(o["op"], o["ref_word"], o["hyp_word"]) for o in ops[:2]] == [
        ("equal", "GUTENBERG", "GUTENBERG"), ("equal", "AND", "AND")]
    assert sorted(o["op"] for o in ops[2:]) == ["insert", "substitute"]  # jiwer picks the order
    assert [o["hyp_word"] for o in ops] == ["GUTENBERG", "AND", "CHAUFFEUR", "SAID"]
    assert [o["hyp_pos"] for o in ops] == [0, 1, 2, 3]
    assert [o["ref_word"] for o in ops if o["ref_word"]] == ["GUTENBERG", "AND", "SCHOEFFER"]
    words = rows(toy_db, """select word_index, word, start_s, end_s, confidence from hyp_words
                            where utt_id = 'U004' order by word_index""")
    assert [w["word"] for w in words] == ["gutenberg", "and", "chauffeur", "said"]
    assert [w["word_index"] for w in words] == [0, 1, 2, 3]
    assert words[1]["start_s"] == pytest.approx(0.1)
    assert words[3]["confidence"] == pytest.approx(0.53)


def test_limit_takes_the_first_files_by_utt_id(toy_db):
    result = run(toy_db, ScriptedRecognizer(), run_id="r", limit=3)
    assert result.files_total == 3
    assert [r["utt_id"] for r in rows(toy_db, "select utt_id from transcripts order by 1")] == [
        "U001", "U002", "U003"]


def test_runs_row_records_the_settings(toy_db):
    run(toy_db, ScriptedRecognizer(), run_id="r", limit=5, batch_files=2)
    row = rows(toy_db, "select * from runs where run_id = 'r'")[0]
    assert (row["dataset"], row["engine"], row["model"]) == (DATASET, "scripted", "script-v1")
    assert (row["normalizer"], row["reference_column"]) == ("ljspeech-v1", "normalized_transcript")
    assert (row["device"], row["precision"], row["status"]) == ("cpu", "fp32", "finished")
    options = row["options"] if isinstance(row["options"], dict) else json.loads(row["options"])
    assert options["script"] == "SCRIPT" and options["limit"] == 5
    assert options["batch_files"] == 2
    versions = row["versions"] if isinstance(row["versions"], dict) else json.loads(row["versions"])
    assert {"python", "asrlens", "torch", "torchaudio", "jiwer", "duckdb"} <= set(versions)
    assert row["files_total"] == 5 and row["audio_s"] == pytest.approx(2.5)
    assert row["finished_at"] >= row["started_at"] and row["wall_s"] > 0


def test_default_run_id_names_dataset_and_engine(toy_db):
    assert run(toy_db, ScriptedRecognizer()).run_id == "toy:scripted:script-v1"


# --- the summary view ----------------------------------------------------------------------


def test_run_summary_rates_are_corpus_totals_not_means(toy_db):
    run(toy_db, ScriptedRecognizer(), run_id="r")
    texts = rows(toy_db, "select ref_norm, hyp_norm from transcripts where run_id = 'r'")
    h = s = d = i = ref_words = hyp_words = char_errors = ref_chars = 0
    for t in texts:  # independently of the stored counts
        w = jiwer.process_words(t["ref_norm"], t["hyp_norm"])
        c = jiwer.process_characters(t["ref_norm"], t["hyp_norm"])
        h, s, d, i = h + w.hits, s + w.substitutions, d + w.deletions, i + w.insertions
        ref_words += len(t["ref_norm"].split())
        hyp_words += len(t["hyp_norm"].split())
        char_errors += c.substitutions + c.deletions + c.insertions
        ref_chars += len(t["ref_norm"])
    summary = rows(toy_db, "select * from run_summary where run_id = 'r'")[0]
    assert summary["wer"] == pytest.approx((s + d + i) / ref_words)
    assert summary["mer"] == pytest.approx((s + d + i) / (h + s + d + i))
    assert summary["wil"] == pytest.approx(1 - (h / ref_words) * (h / hyp_words))
    assert summary["cer"] == pytest.approx(char_errors / ref_chars)
    assert (summary["files_scored"], summary["files_failed"], summary["ref_words"]) == (
        7, 0, ref_words)
    assert summary["audio_hours"] == pytest.approx(3.5 / 3600)
    assert summary["real_time_factor"] == pytest.approx(summary["wall_s"] / 3.5)
    per_file_mean = np.mean([r["wer"] for r in rows(toy_db, "select wer from utterance_errors")])
    assert summary["wer"] != pytest.approx(per_file_mean)  # the script makes them differ


# --- failures ------------------------------------------------------------------------------


def test_corrupt_audio_is_recorded_and_the_run_goes_on(toy_db):
    root = Path(rows(toy_db, "select root from datasets")[0]["root"])
    (root / "wavs" / "U003.wav").write_bytes(b"RIFF not really a wave file")
    result = run(toy_db, ScriptedRecognizer(), run_id="r")
    assert (result.status, result.files_done, result.files_failed) == ("finished", 6, 1)
    assert [u for u, _ in result.failed] == ["U003"]
    assert "U003.wav" in result.failed[0][1]
    row = rows(toy_db, "select * from transcripts where utt_id = 'U003'")[0]
    assert row["hyp_raw"] is None and row["error"]
    assert rows(toy_db, "select * from utterance_errors where utt_id = 'U003'") == []
    summary = rows(toy_db, "select * from run_summary")[0]
    assert (summary["files_scored"], summary["files_failed"]) == (6, 1)


def test_engine_errors_are_recorded_and_retried_on_resume(toy_db):
    result = run(toy_db, ScriptedRecognizer(fail_on=("U002", "U006")), run_id="r")
    assert [u for u, _ in result.failed] == ["U002", "U006"]
    assert "scripted failure" in result.failed[0][1]
    again = ScriptedRecognizer()
    result = run(toy_db, again, run_id="r")
    assert again.calls == ["U002", "U006"]
    assert (result.files_done, result.files_skipped, result.failed) == (2, 5, [])
    assert rows(toy_db, "select * from transcripts where error is not null") == []
    assert_consistent(toy_db, "r")


# --- resume --------------------------------------------------------------------------------


def test_an_interrupted_run_resumes_without_scoring_a_file_twice(toy_db):
    first = ScriptedRecognizer(interrupt_at=4)
    with pytest.raises(RunInterrupted) as caught:
        run(toy_db, first, run_id="r", batch_files=2)
    assert caught.value.result.status == "interrupted"
    assert rows(toy_db, "select status from runs")[0]["status"] == "interrupted"
    stored = {r["utt_id"] for r in rows(toy_db, "select utt_id from transcripts")}
    assert stored == set(first.calls[:3])  # whole files only, the interrupted one not
    assert_consistent(toy_db, "r")
    wall_before = rows(toy_db, "select wall_s from runs")[0]["wall_s"]

    second = ScriptedRecognizer()
    result = run(toy_db, second, run_id="r", batch_files=2)
    assert result.status == "finished" and result.files_skipped == 3
    assert sorted(first.calls[:3] + second.calls) == [u for u, _, _ in SCRIPT]
    assert rows(toy_db, "select count(*) as n from transcripts")[0]["n"] == len(SCRIPT)
    assert rows(toy_db, "select wall_s from runs")[0]["wall_s"] > wall_before
    assert_consistent(toy_db, "r")


def test_a_batch_is_committed_whole_or_not_at_all(toy_db, monkeypatch):
    import asrlens.infer.loop as loop_module

    real_insert = loop_module.insert_rows
    calls = {"hyp_words": 0}

    def failing_insert(conn, table, data, **kwargs):
        if table == "hyp_words":
            calls["hyp_words"] += 1
            if calls["hyp_words"] == 2:  # the second batch breaks after its other inserts
                raise KeyboardInterrupt
        return real_insert(conn, table, data, **kwargs)

    monkeypatch.setattr(loop_module, "insert_rows", failing_insert)
    with pytest.raises(RunInterrupted):
        run(toy_db, ScriptedRecognizer(), run_id="r", batch_files=3)
    assert_consistent(toy_db, "r")
    n = rows(toy_db, "select count(*) as n from transcripts")[0]["n"]
    assert n % 3 == 0 and n >= 3  # whole batches of 3 only
    monkeypatch.setattr(loop_module, "insert_rows", real_insert)
    result = run(toy_db, ScriptedRecognizer(), run_id="r")
    assert result.files_skipped == n and result.status == "finished"
    assert_consistent(toy_db, "r")


def test_a_finished_run_is_not_redone(toy_db):
    run(toy_db, ScriptedRecognizer(), run_id="r")
    finished_at = rows(toy_db, "select finished_at from runs")[0]["finished_at"]
    again = ScriptedRecognizer()
    result = run(toy_db, again, run_id="r")
    assert again.calls == []
    assert result.already_finished and result.status == "finished"
    assert (result.files_done, result.files_skipped, result.files_scored) == (0, 7, 7)
    assert rows(toy_db, "select finished_at from runs")[0]["finished_at"] == finished_at


def test_resuming_with_another_normalizer_or_model_is_refused(toy_db):
    run(toy_db, ScriptedRecognizer(), run_id="r", limit=2)
    with pytest.raises(AsrlensError, match="run 'r' was started with normalizer 'ljspeech-v1'"):
        run(toy_db, ScriptedRecognizer(), run_id="r", normalizer="verbatim")

    class OtherModel(ScriptedRecognizer):
        model = "script-v2"

    with pytest.raises(AsrlensError, match="model 'script-v1', not 'script-v2'"):
        run(toy_db, OtherModel(), run_id="r")


def test_resuming_with_another_engine_is_refused(toy_db):
    run(toy_db, ScriptedRecognizer(), run_id="r", limit=2)

    class OtherEngine(ScriptedRecognizer):
        name = "other"

    with pytest.raises(AsrlensError, match="engine 'scripted', not 'other'.*--run NEW_NAME"):
        run(toy_db, OtherEngine(), run_id="r")


def test_resuming_by_run_name_reuses_the_stored_settings(toy_db, scripted_get_engine):
    with pytest.raises(RunInterrupted):
        run(toy_db, ScriptedRecognizer(interrupt_at=3), run_id="r", limit=5, normalizer="ljspeech")
    engine = connect(toy_db)
    try:
        result = infer(engine, run_id="r", progress=False)
    finally:
        engine.dispose()
    assert scripted_get_engine["name"] == "scripted"
    assert scripted_get_engine["model"] == "script-v1"
    assert (result.status, result.files_total, result.files_scored) == ("finished", 5, 5)


def test_dataset_must_exist_and_be_chosen_among_several(toy_db, tmp_path):
    with pytest.raises(AsrlensError, match="no dataset named 'nope'.*toy"):
        run(toy_db, ScriptedRecognizer(), dataset="nope")
    make_db(toy_db, tmp_path, [("X1", "x", None, None)], name="other")
    with pytest.raises(AsrlensError, match="2 datasets.*--dataset"):
        run(toy_db, ScriptedRecognizer())
    with pytest.raises(AsrlensError, match="no utterance with audio"):
        run(toy_db, ScriptedRecognizer(), dataset="other")


# --- the command line ----------------------------------------------------------------------


@pytest.fixture
def scripted_get_engine(monkeypatch):
    """Make `asrlens infer` build ScriptedRecognizer; returns the kwargs it was built with."""
    import asrlens.infer.recognizers as recognizers

    built: dict = {}

    def get_recognizer(name, **kwargs):
        built.update(name=name, **kwargs)
        return ScriptedRecognizer()

    monkeypatch.setattr(recognizers, "get_recognizer", get_recognizer)
    # registered as an engine, so the option check (unknown engines fail early) accepts it
    monkeypatch.setitem(recognizers.RECOGNIZERS, "scripted", f"{__name__}:ScriptedRecognizer")
    return built


def test_cli_infer_prints_the_run_and_its_figures(toy_db, scripted_get_engine):
    result = CliRunner().invoke(cli, ["infer", "--db", str(toy_db), "--engine", "scripted",
                                      "--run", "r", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "run r" in result.output and "WER" in result.output
    assert scripted_get_engine["name"] == "scripted"
    assert scripted_get_engine["precision"] is None  # a new run: the engine's own default
    again = CliRunner().invoke(cli, ["infer", "--db", str(toy_db), "--engine", "scripted",
                                     "--run", "r", "--no-progress"])
    assert again.exit_code == 0, again.output
    assert "finished" in again.output


def test_cli_infer_names_failed_files(toy_db, scripted_get_engine):
    root = Path(rows(toy_db, "select root from datasets")[0]["root"])
    (root / "wavs" / "U005.wav").write_bytes(b"")
    result = CliRunner().invoke(cli, ["infer", "--db", str(toy_db), "--engine", "scripted",
                                      "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "U005" in result.output and "failed" in result.output


def test_cli_infer_interrupted_says_how_to_resume(toy_db, monkeypatch):
    import asrlens.infer.recognizers as recognizers

    monkeypatch.setattr(recognizers, "get_recognizer",
                        lambda name, **kw: ScriptedRecognizer(interrupt_at=2))
    monkeypatch.setitem(recognizers.RECOGNIZERS, "scripted", f"{__name__}:ScriptedRecognizer")
    result = CliRunner().invoke(cli, ["infer", "--db", str(toy_db), "--engine", "scripted",
                                      "--run", "r", "--no-progress"])
    assert result.exit_code == 130, result.output
    assert "interrupted" in result.output
    assert "asrlens infer --run r" in result.output


def test_cli_infer_unknown_dataset_is_an_error_line(toy_db):
    result = CliRunner().invoke(cli, ["infer", "--db", str(toy_db), "--dataset", "nope"])
    assert result.exit_code == 1
    assert "Error: no dataset named 'nope'" in result.output


# --- real recognizers on the shared LJSpeech sample ----------------------------------------


# sphinx_db (conftest): the ingested sample with a finished pocketsphinx run 'sphinx'.


@pytest.mark.slow
def test_pocketsphinx_transcribes_every_sample_file_once(sphinx_db, sample_dir):
    n_audio = len(list((sample_dir / "wavs").glob("*.wav")))
    counts = rows(sphinx_db, """
        select count(*) as transcripts, count(e.utt_id) as error_rows,
               count(distinct t.utt_id) as files, count(t.error) as failed
        from transcripts t left join utterance_errors e using (run_id, utt_id)""")[0]
    assert counts == {"transcripts": n_audio, "error_rows": n_audio, "files": n_audio,
                      "failed": 0}


@pytest.mark.slow
def test_pocketsphinx_counts_equal_jiwers_on_the_stored_texts(sphinx_db):
    scored = rows(sphinx_db, "select * from transcripts join utterance_errors "
                             "using (run_id, utt_id)")
    assert len(scored) >= 32  # every clip of the sample
    for row in scored:
        assert row["ref_norm"] == LJSPEECH(row["ref_raw"])
        assert row["hyp_norm"] == LJSPEECH(row["hyp_raw"])
        words = jiwer.process_words(row["ref_norm"], row["hyp_norm"])
        chars = jiwer.process_characters(row["ref_norm"], row["hyp_norm"])
        assert (row["hits"], row["substitutions"], row["deletions"], row["insertions"]) == (
            words.hits, words.substitutions, words.deletions, words.insertions), row["utt_id"]
        assert row["wer"] == pytest.approx(words.wer)
        assert row["cer"] == pytest.approx(chars.cer)


@pytest.mark.slow
def test_pocketsphinx_corpus_wer_is_total_errors_over_reference_words_and_below_035(sphinx_db):
    errors = ref_words = 0
    for t in rows(sphinx_db, "select ref_norm, hyp_norm from transcripts"):
        w = jiwer.process_words(t["ref_norm"], t["hyp_norm"])
        errors += w.substitutions + w.deletions + w.insertions
        ref_words += len(t["ref_norm"].split())
    summary = rows(sphinx_db, "select * from run_summary where run_id = 'sphinx'")[0]
    assert summary["wer"] == pytest.approx(errors / ref_words)
    assert summary["wer"] < 0.35
    assert summary["status"] == "finished" and summary["files_scored"] == 32
    assert summary["files_failed"] == 0 and summary["files_total"] == 32


@pytest.mark.slow
def test_pocketsphinx_words_carry_times_within_the_file(sphinx_db):
    bad = rows(sphinx_db, """
        select w.* from hyp_words w join transcripts t using (run_id, utt_id)
        where not (w.start_s >= 0 and w.end_s >= w.start_s and w.end_s <= t.audio_s + 0.05)""")
    assert bad == []


SHORT_CLIPS = ("LJ001-0002", "LJ001-0008", "LJ001-0013")  # 1.9, 1.8, 2.6 s: the shortest


@pytest.mark.slow
@pytest.mark.parametrize("use_checkpoint", [False, True], ids=["hub-cache", "checkpoint"])
def test_wav2vec2_placeholder_weights_store_transcripts_and_words(
    tmp_path, sample_dir, placeholder_torch_home, placeholder_checkpoint, use_checkpoint
):
    """Random weights: the transcripts are noise; assert storage and shapes only."""
    labels = [line.split("|") for line in
              (sample_dir / "labels.csv").read_text(encoding="utf-8").splitlines()]
    db = make_db(tmp_path / "w2v.duckdb", sample_dir, [
        (utt_id, raw, norm, f"wavs/{utt_id}.wav") for utt_id, raw, norm in labels
        if utt_id in SHORT_CLIPS], name="ljspeech-sample")
    n_files = 2 if use_checkpoint else 3
    engine = connect(db)
    try:
        result = infer(engine, engine_name="wav2vec2", limit=n_files, progress=False,
                       device="cpu",
                       checkpoint=str(placeholder_checkpoint) if use_checkpoint else None)
    finally:
        engine.dispose()
    assert (result.status, result.files_done, result.files_failed) == ("finished", n_files, 0)
    run_row = rows(db, "select * from runs")[0]
    assert (run_row["engine"], run_row["model"]) == ("wav2vec2", "WAV2VEC2_ASR_BASE_960H")
    assert run_row["run_id"] == "ljspeech-sample:wav2vec2"
    if use_checkpoint:
        digest = hashlib.sha256(placeholder_checkpoint.read_bytes()).hexdigest()
        assert run_row["checkpoint"] == str(placeholder_checkpoint.resolve())
        assert run_row["checkpoint_sha256"] == digest
    transcripts = rows(db, "select * from transcripts order by utt_id")
    assert [t["utt_id"] for t in transcripts] == sorted(SHORT_CLIPS)[:n_files]
    for t in transcripts:
        assert t["audio_s"] == pytest.approx(
            sf.info(sample_dir / "wavs" / f"{t['utt_id']}.wav").duration, abs=1e-3)
        words = rows(db, "select * from hyp_words where utt_id = :u order by word_index",
                     u=t["utt_id"])
        assert [w["word"] for w in words] == t["hyp_raw"].split()
        assert all(0 <= w["start_s"] <= w["end_s"] <= t["audio_s"] + 0.05 for w in words)
        assert all(0 <= w["confidence"] <= 1 for w in words)
        assert t["hyp_norm"] == LJSPEECH(t["hyp_raw"])
    assert len(rows(db, "select * from utterance_errors")) == n_files


# --- batches -------------------------------------------------------------------------------


class BatchingEngine(ScriptedRecognizer):
    """The scripted engine, recording the batches it is given (sizes, in order)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.batches: list[int] = []

    def transcribe_batch(self, batch):
        self.batches.append(len(batch))
        return super().transcribe_batch(batch)


def test_batched_runs_store_the_same_rows_as_one_file_at_a_time(toy_db):
    run(toy_db, ScriptedRecognizer(), run_id="alone", batch_audio_s=0)
    batching = BatchingEngine()
    run(toy_db, batching, run_id="batched", batch_audio_s=1.6)  # 0.5 s files: 3 per batch
    assert batching.batches == [3, 3, 1]
    columns = "utt_id, ref_norm, hyp_norm, audio_s, wer, cer"
    sql = (f"select {columns} from transcripts join utterance_errors using (run_id, utt_id) "
           "where run_id = :r order by utt_id")
    assert rows(toy_db, sql, r="batched") == rows(toy_db, sql, r="alone")
    assert_consistent(toy_db, "batched")
    options = rows(toy_db, "select options from runs where run_id = 'batched'")[0]["options"]
    options = options if isinstance(options, dict) else json.loads(options)
    assert (options["batch_audio_s"], options["read_workers"]) == (1.6, 0)


def test_reader_processes_give_the_same_rows(toy_db):
    run(toy_db, ScriptedRecognizer(), run_id="thread")
    run(toy_db, ScriptedRecognizer(), run_id="procs", read_workers=2, batch_audio_s=1.0)
    sql = ("select utt_id, hyp_norm, audio_s, wer from transcripts join utterance_errors "
           "using (run_id, utt_id) where run_id = :r order by utt_id")
    assert rows(toy_db, sql, r="procs") == rows(toy_db, sql, r="thread")


def test_a_file_failing_in_a_batch_is_recorded_and_its_batch_mates_are_not(toy_db):
    recognizer = BatchingEngine(fail_on=("U002",))
    result = run(toy_db, recognizer, run_id="r", batch_audio_s=10)
    assert recognizer.batches == [7]  # one batch, then each file alone
    assert [u for u, _ in result.failed] == ["U002"]
    assert "scripted failure" in result.failed[0][1]
    assert result.files_done == 6
    assert_consistent(toy_db, "r")


def test_batches_are_planned_longest_first_within_the_bound():
    from dataclasses import dataclass

    from asrlens.infer.batches import plan_batches

    @dataclass
    class File:
        name: str
        duration_s: float | None

    files = [File("a", 1.0), File("b", 30.0), File("c", 2.0), File("d", None),
             File("e", 45.0), File("f", 2.5)]
    plan = plan_batches(files, max_audio_s=32, alone_over_s=30)
    assert [[f.name for f in batch] for batch in plan] == [["d"], ["e"], ["b"], ["f", "c", "a"]]
    assert all(len(b) * max(f.duration_s or 0 for f in b) <= 32 for b in plan if len(b) > 1)
    assert [[f.name for f in b] for b in plan_batches(files, max_audio_s=0)] == [
        [f.name] for f in files]  # 0: one at a time, in the given order
