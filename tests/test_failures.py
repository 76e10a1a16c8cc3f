"""`analyze` fills the failure tables (hallucinations, formatting, punctuation, keywords) on
a crafted database with real audio files and word times; `compare` names the keywords run B
lost; the CLI's --keywords errors are one line."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from asrlens.analysis import analyze
from asrlens.cli import cli
from asrlens.compare import compare_runs, parse_rule, store_comparison
from asrlens.compare.keywords import keyword_change_lines
from asrlens.db import connect, insert_rows, query
from asrlens.report.render import render_report
from asrlens.scoring.normalize import get_normalizer
from asrlens.scoring.score import score_texts

RATE = 16000
NOW = datetime(2026, 1, 1)
NORM = get_normalizer("ljspeech")
LABELS = {  # utt_id -> raw transcript; audio: speech 0-1 s, silence 1-2 s, speech 2-3 s
    "u1": "Gutenberg printed the Bible, at Mainz.",
    "u2": "The woodcutters of the Netherlands came in 1455.",
    "u3": "Is it the colour red? Yes!",
}
RUNS = {
    "A": {"u1": "Gutenberg printed the bible at Mainz",
          "u2": "the wood cutters of the Netherlands came in fourteen fifty five",
          "u3": "Is it the color red? Yes!"},
    "B": {"u1": "good and burg printed the bible at Mainz thank you",
          "u2": "the the the the woodcutters of the Netherlands came in 1455",
          "u3": "is it the colour red yes"},
}
WORD_S = 0.12


def _audio(path):
    rng = np.random.default_rng(0)
    speech = 0.3 * rng.standard_normal(RATE)
    sf.write(path, np.concatenate([speech, np.zeros(RATE), speech]), RATE)


def _times(hyp: str, silent_tail: bool) -> list[tuple[float, float]]:
    """Words spread over the first second; with silent_tail the last two words fall in the
    silent second."""
    words = hyp.split()
    out = [(i * 0.9 / len(words), i * 0.9 / len(words) + 0.05) for i in range(len(words))]
    if silent_tail:
        out[-2:] = [(1.2, 1.4), (1.5, 1.7)]
    return out


def make_db(path, root, runs=None):
    (root / "wavs").mkdir(parents=True)
    engine = connect(path)
    utts, audio = [], []
    for i, (utt_id, raw) in enumerate(LABELS.items()):
        _audio(root / "wavs" / f"{utt_id}.wav")
        utts.append(dict(dataset="d", utt_id=utt_id, transcript=raw, normalized_transcript=raw,
                         audio_path=f"wavs/{utt_id}.wav", labels_line=i + 1))
        audio.append(dict(dataset="d", path=f"wavs/{utt_id}.wav", utt_id=utt_id,
                          duration_s=3.0, sample_rate=RATE))
    with engine.begin() as conn:
        insert_rows(conn, "datasets", [dict(name="d", source=str(root), root=str(root),
                                            ingested_at=NOW)])
        insert_rows(conn, "utterances", utts)
        insert_rows(conn, "audio_files", audio)
        insert_rows(conn, "utterance_labels", [
            dict(dataset="d", utt_id="u1", name="terms", value="Gutenberg; Mainz"),
            dict(dataset="d", utt_id="u3", name="terms", value="colour")])
        for run_id, hyps in (runs or RUNS).items():
            insert_rows(conn, "runs", [dict(
                run_id=run_id, dataset="d", engine="pocketsphinx", model="en-us",
                normalizer=NORM.id, reference_column="normalized_transcript", device="cpu",
                precision="fp32", status="finished", started_at=NOW)])
            for utt_id, hyp in hyps.items():
                ref_norm, hyp_norm = NORM(LABELS[utt_id]), NORM(hyp)
                score = score_texts(ref_norm, hyp_norm)
                keys = dict(run_id=run_id, utt_id=utt_id)
                insert_rows(conn, "transcripts", [dict(
                    **keys, ref_raw=LABELS[utt_id], ref_norm=ref_norm, hyp_raw=hyp,
                    hyp_norm=hyp_norm, audio_s=3.0, created_at=NOW)])
                insert_rows(conn, "utterance_errors", [dict(**keys, **score.counts())])
                insert_rows(conn, "alignment_ops", score.op_rows(**keys))
                times = _times(hyp, silent_tail=(run_id, utt_id) == ("B", "u1"))
                insert_rows(conn, "hyp_words", [
                    dict(**keys, word_index=k, word=w, start_s=s, end_s=e, confidence=0.9)
                    for k, (w, (s, e)) in enumerate(zip(hyp.split(), times, strict=True))])
    return engine


@pytest.fixture
def analysed(tmp_path):
    engine = make_db(tmp_path / "f.duckdb", tmp_path / "data")
    terms = tmp_path / "terms.txt"
    terms.write_text("Gutenberg\nthe Netherlands\nMainz\ncolour\n", encoding="utf-8")
    analyze(engine, run_id="A", keywords=str(terms))
    analyze(engine, run_id="B")
    yield engine
    engine.dispose()


def test_hallucination_tables(analysed):
    files = {r["utt_id"]: r for r in query(
        analysed, "select * from hallucination_files where run_id = 'B'")}
    assert set(files) == {"u1", "u2", "u3"}
    assert files["u1"]["inserted_in_silence"] == 2 and files["u1"]["flagged"]
    assert files["u2"]["loops"] == 1 and files["u2"]["loop_words"] == 3  # "the" x4, said once
    assert not files["u3"]["flagged"]
    a = query(analysed, "select * from hallucination_summary where run_id = 'A'")
    assert a and a[0]["files_flagged"] == 0 and a[0]["files_silence_checked"] == 3
    signals = query(analysed, "select * from hallucination_file_signals where run_id = 'B'")
    assert len(signals) == 3 and all(s["max_no_speech_prob"] is None for s in signals)


def test_formatting_summary(analysed):
    rows = query(analysed, "select kind, formatting_errors from formatting_summary "
                           "where run_id = 'A' and scoring = 'run' and kind is not null")
    kinds = {r["kind"]: r["formatting_errors"] for r in rows}
    assert kinds == {"compound": 2, "spelling": 1, "number": 3}  # the labels keep "1455"
    raw = query(analysed, "select kind, formatting_errors from formatting_summary "
                          "where run_id = 'A' and scoring = 'raw' and kind = 'number'")
    assert raw and raw[0]["formatting_errors"] == 3  # 1455 / fourteen fifty five


def test_punctuation_and_casing(analysed):
    overall = query(analysed, "select * from punctuation_summary "
                              "where run_id = 'A' and mark is null")
    # u1: ',' and '.' deleted; u2: '.' deleted; u3: '?' and '!' correct
    assert overall and (overall[0]["correct"], overall[0]["deletions"]) == (2, 3)
    assert overall[0]["punct_er"] == pytest.approx(3 / 5)
    casing = query(analysed, "select * from casing_summary where run_id = 'A'")
    assert casing[0]["casing_errors"] == 2  # 'Bible' -> 'bible', 'The' -> 'the'
    b = query(analysed, "select * from casing_summary where run_id = 'B'")
    assert b[0]["hyp_marks"] == 0


def test_keywords_and_compare(analysed):
    a = {r["term"]: r for r in query(analysed, "select * from keyword_results where run_id = 'A'")}
    assert a["Gutenberg"]["recall"] == 1.0 and a["colour"]["recall"] == 0.0
    b = {r["term"]: r for r in query(analysed, "select * from keyword_results where run_id = 'B'")}
    assert b["Gutenberg"]["recall"] == 0.0 and b["colour"]["recall"] == 1.0
    with analysed.connect() as conn:
        c = compare_runs(conn, run_a="A", run_b="B", rule=parse_rule(None), seed=0,
                         replicates=200)
    store_comparison(analysed, c)
    lines = keyword_change_lines(analysed, "A", "B")
    assert lines == ["Keywords B lost (found by A, missed by B): 'Gutenberg' 1 of 1.",
                     "Keywords B gained (missed by A, found by B): 'colour' 1 of 1."]


def test_label_keywords_are_per_file(analysed):
    analyze(analysed, run_id="A", keywords="label:terms")
    rows = query(analysed, "select term, ref_occurrences from keyword_results "
                           "where run_id = 'B' and term is not null order by term")
    assert rows == [{"term": "Gutenberg", "ref_occurrences": 1},
                    {"term": "Mainz", "ref_occurrences": 1},
                    {"term": "colour", "ref_occurrences": 1}]


def test_summary_sentences(analysed):
    topics = {r["topic"]: r["sentence"] for r in query(
        analysed, "select topic, sentence from analysis_summary where run_id = 'B'")}
    assert topics["hallucination"].startswith("Hallucination signals in 2 of 3 files")
    assert "recall 0.750" in topics["keywords"] and "'Gutenberg' (1 of 1)" in topics["keywords"]
    assert "punctuation" not in topics  # B writes no marks


def test_cli_bad_keywords_is_one_line(analysed, tmp_path):
    db = str(tmp_path / "f.duckdb")
    analysed.dispose()
    result = CliRunner().invoke(cli, ["analyze", "--run", "A", "--db", db,
                                      "--keywords", str(tmp_path / "nope.txt")])
    assert result.exit_code == 1 and result.output.startswith("Error: cannot read keywords")
    result = CliRunner().invoke(cli, ["analyze", "--run", "A", "--db", db,
                                      "--keywords", "label:nothing"])
    assert result.exit_code == 1 and "no labels column 'nothing'" in result.output
    kept = query(connect(db, read_only=True), "select count(*) as n from keywords")
    assert kept[0]["n"] == 4  # the stored terms survived the failures


def _ids(html: str) -> set[str]:
    from html.parser import HTMLParser

    ids = set()

    class Ids(HTMLParser):
        def handle_starttag(self, tag, attrs):
            ids.update(v for k, v in attrs if k == "id")

    Ids().feed(html)
    return ids


def test_report_section_shows_what_there_is(analysed, tmp_path):
    b = render_report(analysed, run_ids=["B", "A"], out_dir=tmp_path / "b",
                      audio="none").read_text(encoding="utf-8")
    assert {"failures", "failures-flagged", "failures-keywords"} <= _ids(b)
    assert "failures-punct-er" not in _ids(b) and "failures-formatting-run" not in _ids(b)
    assert "The recognizer writes no punctuation marks" in b
    assert 'data-utt="u1"' in b and "silence_insertion: THANK at 1.2 s" in b
    a = render_report(analysed, run_ids=["A"], out_dir=tmp_path / "a",
                      audio="none").read_text(encoding="utf-8")
    assert {"failures-formatting-run", "failures-punct-er", "failures-casing"} <= _ids(a)
    assert "failures-flagged" not in _ids(a)
    assert 'id="failures-punct-er" data-value="0.6"' in a


def test_report_leaves_the_section_out_with_nothing_to_say(tmp_path):
    plain = {"P": {u: " ".join(NORM(t).lower().split()) for u, t in LABELS.items()}}
    engine = make_db(tmp_path / "plain.duckdb", tmp_path / "data", runs=plain)
    try:
        analyze(engine, run_id="P")
        html = render_report(engine, run_ids=["P"], out_dir=tmp_path / "rep",
                             audio="none").read_text(encoding="utf-8")
    finally:
        engine.dispose()
    assert 'id="why"' in html and 'id="failures"' not in html


def test_a_run_without_word_times_skips_the_silence_signal(analysed):
    """As an imported run: no hyp_words, so inserted words over silence are not checked."""
    with analysed.begin() as conn:
        conn.exec_driver_sql("delete from hyp_words where run_id = 'B'")
    analyze(analysed, run_id="B")
    files = {r["utt_id"]: r for r in query(
        analysed, "select * from hallucination_files where run_id = 'B'")}
    assert files["u1"]["inserted"] == 4 and files["u1"]["inserted_in_silence"] is None
    assert files["u2"]["loops"] == 1  # the text signals still work
    summary = query(analysed, "select * from hallucination_summary where run_id = 'B'")
    assert summary[0]["files_silence_checked"] == 0
    sentence = query(analysed, "select sentence from analysis_summary "
                               "where run_id = 'B' and topic = 'hallucination'")
    assert sentence and "no word times: silence not checked" in sentence[0]["sentence"]


def test_report_of_a_database_without_the_failure_tables(analysed, tmp_path):
    """A file written before these tables existed, reported read-only: no section, no crash."""
    from asrlens.analysis.failures import RUN_TABLES

    with analysed.begin() as conn:
        for view in ("hallucination_file_signals", "hallucination_summary", "formatting_summary",
                     "punctuation_summary", "casing_summary", "keyword_results",
                     "keyword_changes", "probe_results"):
            conn.exec_driver_sql(f"drop view {view}")
        for table in RUN_TABLES:
            conn.exec_driver_sql(f"drop table {table}")
    db = analysed.url.database
    analysed.dispose()
    engine = connect(db, read_only=True)
    try:
        html = render_report(engine, run_ids=["B"], out_dir=tmp_path / "rep",
                             audio="none").read_text(encoding="utf-8")
    finally:
        engine.dispose()
    assert 'id="why"' in html and 'id="failures"' not in html


def test_a_span_of_a_longer_recording_is_read_as_infer_read_it(analysed, tmp_path):
    """Word times count from the span's start: u1 becomes the span from 2 s of a recording
    with 2 s of speech before it, and its inserted words still lie over the silence."""
    rng = np.random.default_rng(1)
    path = tmp_path / "data" / "wavs" / "u1.wav"
    before = 0.3 * rng.standard_normal(2 * RATE)
    sf.write(path, np.concatenate([before, sf.read(path)[0]]), RATE)
    with analysed.begin() as conn:
        insert_rows(conn, "utterance_spans", [dict(dataset="d", utt_id="u1",
                                                   path="wavs/u1.wav", start_s=2.0,
                                                   end_s=5.0)])
    analyze(analysed, run_id="B")
    u1 = query(analysed, "select * from hallucination_files where run_id = 'B' "
                         "and utt_id = 'u1'")
    assert u1[0]["inserted_in_silence"] == 2 and u1[0]["silence_s"] == pytest.approx(1.0)
