"""Every dataset layout ingests the same clips to the same utterances as the LJSpeech
original, with speakers, labels and spans, and scores exactly as the original does."""

from __future__ import annotations

import json
import zipfile

import pytest
from click.testing import CliRunner
from conftest import rows
from layouts import (
    CLIPS,
    LAYOUTS,
    SPEAKERS,
    build,
    kaldi_segments,
)

from asrlens.cli import cli
from asrlens.errors import AsrlensError
from asrlens.ingest import ingest_into

OTHERS = [layout for layout in LAYOUTS if layout != "ljspeech"]
UTTERANCES = """
    select u.utt_id, coalesce(u.normalized_transcript, u.transcript) as reference,
           coalesce(s.frames, a.frames) as frames, a.sample_rate,
           coalesce(s.rms_dbfs, a.rms_dbfs) as rms_dbfs,
           coalesce(s.silence_fraction, a.silence_fraction) as silence_fraction
    from utterances u
    left join audio_files a on a.dataset = u.dataset and a.path = u.audio_path
    left join utterance_spans s on s.dataset = u.dataset and s.utt_id = u.utt_id
    where u.dataset = :d order by u.utt_id
"""


def ingest(db, path, **options):
    return ingest_into(db, path, progress=False, workers=1, **options)


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    base = tmp_path_factory.mktemp("original")
    db = base / "o.duckdb"
    ingest(db, build("ljspeech", base))
    found = rows(db, UTTERANCES, d="ljspeech")
    assert [r["utt_id"] for r in found] == list(CLIPS)
    return found


@pytest.mark.parametrize("layout", OTHERS)
def test_each_layout_ingests_to_the_same_utterances_with_speakers(layout, tmp_path, original):
    db = tmp_path / "l.duckdb"
    summary = ingest(db, build(layout, tmp_path))
    assert summary.layout == layout  # recognised by auto
    assert (summary.utterances, summary.with_audio, summary.issues_by_kind) == (3, 3, {})
    assert rows(db, UTTERANCES, d=summary.dataset) == original
    speakers = rows(db, "select utt_id, speaker from utterances order by utt_id")
    assert [r["speaker"] for r in speakers] == [SPEAKERS[0], SPEAKERS[1], SPEAKERS[0]]
    assert rows(db, "select labels_format from datasets")[0]["labels_format"] == layout


@pytest.mark.parametrize("layout", OTHERS)
def test_a_second_ingest_reads_nothing_and_changes_nothing(layout, tmp_path):
    db = tmp_path / "l.duckdb"
    folder = build(layout, tmp_path)
    first = ingest(db, folder)
    assert first.files_read == 3
    again = ingest(db, folder)
    assert (again.files_read, again.files_skipped, again.changed) == (0, 3, False)


@pytest.mark.parametrize("layout,manifest", [
    ("commonvoice", "test.tsv"), ("nemo", "test_manifest.json"), ("kaldi", "text"),
    ("parquet", "data/test-00000-of-00001.parquet"), ("csv", "test.csv"),
])
def test_the_manifest_file_itself_can_be_the_dataset(layout, manifest, tmp_path, original):
    db = tmp_path / "m.duckdb"
    summary = ingest(db, build(layout, tmp_path) / manifest)
    assert summary.layout == layout
    assert rows(db, UTTERANCES, d=summary.dataset) == original


def test_a_zip_of_a_layout_folder_is_recognised_inside_its_single_folder(tmp_path, original):
    folder = build("kaldi", tmp_path / "src")
    archive = tmp_path / "kaldi-test.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*")):
            zf.write(path, f"data/test/{path.relative_to(folder)}")
    db = tmp_path / "z.duckdb"
    summary = ingest(db, archive)
    assert (summary.layout, summary.dataset) == ("kaldi", "kaldi-test")
    assert rows(db, UTTERANCES, d="kaldi-test") == original


def test_nothing_recognisable_is_one_line_listing_every_layout(tmp_path):
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "notes.txt").write_text("hello")
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path / "stuff"), "--db",
                                      str(tmp_path / "x.duckdb"), "--no-progress"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert result.output.startswith("Error: no dataset layout recognised in ")
    for layout in LAYOUTS:
        assert f"{layout}: " in result.output
    assert "wav.scp and text" in result.output
    assert not (tmp_path / "x.duckdb").exists()


def test_a_forced_layout_that_does_not_fit_says_what_it_expects(tmp_path):
    folder = build("nemo", tmp_path)
    with pytest.raises(AsrlensError, match="does not hold wav.scp and text"):
        ingest(tmp_path / "x.duckdb", folder, layout="kaldi")


def test_kaldi_segments_are_spans_with_their_own_statistics(tmp_path, original):
    folder, spans = kaldi_segments(tmp_path)
    db = tmp_path / "s.duckdb"
    summary = ingest(db, folder)
    assert (summary.layout, summary.utterances, summary.audio_files) == ("kaldi", 3, 1)
    stored = rows(db, "select * from utterance_spans order by utt_id")
    assert [(r["utt_id"], r["start_s"], r["end_s"]) for r in stored] == [
        (u, *spans[u]) for u in CLIPS]
    # each span holds exactly its clip's samples: the same statistics as the clip's file
    assert rows(db, UTTERANCES, d=summary.dataset) == original
    recording = rows(db, "select utt_id, duration_s from audio_files")
    assert recording[0]["utt_id"] is None and recording[0]["duration_s"] > 7.0
    assert summary.issues_by_kind == {}
    assert ingest(db, folder).files_read == 0


def test_nemo_offsets_make_spans(tmp_path):
    folder = build("nemo", tmp_path)
    entry = json.loads((folder / "test_manifest.json").read_text().splitlines()[0])
    lines = [json.dumps({**entry, "offset": start, "duration": 0.5}) for start in (0.0, 1.0)]
    (folder / "test_manifest.json").write_text("\n".join(lines) + "\n")
    db = tmp_path / "n.duckdb"
    summary = ingest(db, folder)
    assert summary.utterances == 2 and summary.issues_by_kind == {"unlabelled_audio": 2}
    spans = rows(db, "select utt_id, start_s, end_s, duration_s from utterance_spans "
                     "order by start_s")
    assert [r["utt_id"] for r in spans] == ["LJ001-0002-0000000-0000500",
                                            "LJ001-0002-0001000-0001500"]
    assert [round(r["duration_s"], 3) for r in spans] == [0.5, 0.5]


# --- groups by speaker and label --------------------------------------------------------------

def test_speaker_column_option_and_group_rules(tmp_path):
    from asrlens.compare.groups import assign_groups, parse_rule
    from asrlens.db import connect

    folder = build("csv", tmp_path)
    db = tmp_path / "g.duckdb"
    ingest(db, folder, speaker_column="accent")
    assert [r["speaker"] for r in rows(db, "select speaker from utterances order by utt_id")] \
        == ["uk", "us", "uk"]
    with pytest.raises(AsrlensError, match="--speaker-column nope: no such column"):
        ingest(db, folder, speaker_column="nope")
    ingest(db, build("commonvoice", tmp_path))
    engine = connect(db, read_only=True)
    try:
        with engine.connect() as conn:
            by_accent = assign_groups(conn, dataset="commonvoice",
                                      rule=parse_rule("label:accents"))
            by_speaker = assign_groups(conn, dataset="commonvoice", rule=parse_rule("speaker"))
            with pytest.raises(AsrlensError, match="has no speakers"):
                assign_groups(conn, dataset="ljspeech-none", rule=parse_rule("speaker"))
    finally:
        engine.dispose()
    assert by_accent == {"LJ001-0002": "United States English", "LJ001-0008": "England English",
                         "LJ001-0013": "United States English"}
    assert by_speaker == {"LJ001-0002": "spk-a", "LJ001-0008": "spk-b", "LJ001-0013": "spk-a"}


def test_common_voice_mp3_clips_are_read(tmp_path):
    import soundfile as sf

    if "MP3" not in sf.available_formats():
        pytest.skip("this libsndfile cannot write MP3")
    db = tmp_path / "mp3.duckdb"
    summary = ingest(db, build("commonvoice", tmp_path, mp3=True))
    assert (summary.with_audio, summary.issues_by_kind) == (3, {})
    formats = rows(db, "select distinct format from audio_files")
    assert formats == [{"format": "MP3"}]


# --- scoring: every layout scores exactly as the original ------------------------------------

COUNTS = """
    select utt_id, ref_words, hyp_words, hits, substitutions, deletions, insertions
    from utterance_errors where run_id = :r order by utt_id
"""


@pytest.mark.slow
def test_every_layout_and_the_spans_score_exactly_as_the_ljspeech_original(tmp_path):
    from asrlens.db import connect
    from asrlens.infer import infer

    db = tmp_path / "all.duckdb"
    datasets = [ingest(db, build(layout, tmp_path)).dataset for layout in LAYOUTS]
    datasets.append(ingest(db, kaldi_segments(tmp_path)[0]).dataset)
    engine = connect(db)
    try:
        for dataset in datasets:
            infer(engine, dataset=dataset, engine_name="pocketsphinx", run_id=dataset,
                  progress=False)
    finally:
        engine.dispose()
    original = rows(db, COUNTS, r="ljspeech")
    assert [r["utt_id"] for r in original] == list(CLIPS)
    assert sum(r["hits"] for r in original) > 0  # the recognizer heard something
    for dataset in datasets[1:]:
        assert rows(db, COUNTS, r=dataset) == original, dataset


def test_a_rewritten_parquet_decodes_only_the_clips_whose_bytes_changed(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = build("parquet", tmp_path)
    db = tmp_path / "p.duckdb"
    assert ingest(db, folder).files_read == 3
    path = folder / "data" / "test-00000-of-00001.parquet"
    records = pq.read_table(path).to_pylist()
    records[2]["audio"] = dict(records[0]["audio"])  # row 2 now holds row 0's clip
    pq.write_table(pa.Table.from_pylist(records), path, row_group_size=2)
    again = ingest(db, folder)
    assert (again.files_read, again.files_skipped, again.files_updated) == (1, 2, 1)
    durations = rows(db, "select path, duration_s from audio_files order by path")
    assert durations[2]["duration_s"] == durations[0]["duration_s"]


def test_a_schema_6_file_gains_the_speaker_and_resampled_columns(tmp_path):
    import sqlalchemy as sa

    from asrlens.db import SCHEMA_VERSION, connect

    db = tmp_path / "old.duckdb"
    ingest(db, build("ljspeech", tmp_path))
    engine = connect(db)
    try:  # make it look like schema 6: without the columns schema 7 added
        with engine.begin() as conn:
            conn.execute(sa.text("alter table utterances drop column speaker"))
            conn.execute(sa.text("alter table run_comparisons drop column resampled"))
            conn.execute(sa.text("update schema_version set version = 6"))
            conn.execute(sa.text(  # a comparison stored by schema 6: files were resampled
                "insert into run_comparisons (run_a, run_b, dataset, group_rule, files_a, "
                "files_b, files_shared, files_left_out, ref_words_a, ref_words_b, errors_a, "
                "errors_b, replicates, seed, computed_at) values ('a', 'b', 'ljspeech', "
                "'regex:^[^-]+', 3, 3, 3, 0, 10, 10, 1, 2, 1000, 0, now())"))
    finally:
        engine.dispose()
    assert SCHEMA_VERSION >= 7  # 8 added runs.data_fingerprint (tests/test_gate.py)
    engine = connect(db)  # migrates
    engine.dispose()
    assert rows(db, "select max(version) as v from schema_version") == [{"v": SCHEMA_VERSION}]
    kept = rows(db, "select utt_id, speaker from utterances order by utt_id")
    assert [(r["utt_id"], r["speaker"]) for r in kept] == [(u, None) for u in CLIPS]
    assert rows(db, "select run_a, resampled from run_comparisons") == [
        {"run_a": "a", "resampled": "file"}]


def test_the_report_player_embeds_only_a_span(tmp_path):
    from asrlens.report.media import embed_audio

    folder, spans = kaldi_segments(tmp_path)
    start, end = spans["LJ001-0008"]
    clip = embed_audio(folder / "wav" / "session.flac", start_s=start, end_s=end)
    whole = embed_audio(folder / "wav" / "session.flac")
    assert clip.duration_s == pytest.approx(end - start, abs=1e-3)
    assert whole.duration_s > 7.0
