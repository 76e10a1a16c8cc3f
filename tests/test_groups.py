"""Per-group results: files grouped by a regex over utt_id, a labels-file column kept by
ingest, or an SQL expression; each group's corpus WER with its bootstrap interval and S/D/I;
the groups that differ most from the corpus WER.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from test_compare import add_run, crafted_texts, make_db

from asrlens.compare import group_results, parse_rule
from asrlens.compare.groups import DEFAULT_RULE, NO_GROUP, assign_groups
from asrlens.db import connect, query
from asrlens.errors import AsrlensError
from asrlens.ingest import ingest


def test_rules_are_parsed_and_bad_ones_refused():
    assert parse_rule(None).text == DEFAULT_RULE == "regex:^[^-]+"
    assert parse_rule("label: speaker").value == "speaker"
    assert parse_rule("sql:upper(utt_id)").kind == "sql"
    assert parse_rule("speaker").text == "speaker"  # utterances.speaker (issue 23)
    for bad, message in [("accent", "give regex:PATTERN"), ("regex:", "give regex:PATTERN"),
                         ("colour:red", "give regex:PATTERN"),
                         ("regex:(unclosed", "not a regular expression")]:
        with pytest.raises(AsrlensError, match=message):
            parse_rule(bad)


def test_the_default_groups_ljspeech_ids_by_chapter(tmp_path):
    ids = ["LJ001-0001", "LJ001-0002", "LJ002-0001", "odd"]
    engine = make_db(tmp_path / "g.duckdb", ids, ["a b"] * 4)
    try:
        with engine.connect() as conn:
            default = assign_groups(conn, dataset="crafted", rule=parse_rule(None))
            captured = assign_groups(conn, dataset="crafted", rule=parse_rule(r"regex:-(\d)"))
    finally:
        engine.dispose()
    assert default == {"LJ001-0001": "LJ001", "LJ001-0002": "LJ001", "LJ002-0001": "LJ002",
                       "odd": "odd"}
    assert captured == {"LJ001-0001": "0", "LJ001-0002": "0", "LJ002-0001": "0",
                        "odd": NO_GROUP}


def test_group_wer_is_errors_over_reference_words_with_an_interval(tmp_path):
    ids, refs, hyps_a, _ = crafted_texts(3, files=60, groups=4, sub_a=0.15, sub_b=0.0)
    engine = make_db(tmp_path / "g.duckdb", ids, refs)
    try:
        add_run(engine, "A", ids, refs, hyps_a)
        with engine.connect() as conn:
            table = group_results(conn, run_id="A", dataset="crafted", rule=parse_rule(None),
                                  seed=0)
            again = group_results(conn, run_id="A", dataset="crafted", rule=parse_rule(None),
                                  seed=0)
            files = query(conn, "select utt_id, ref_words, substitutions, deletions, "
                                "insertions from utterance_errors where run_id = 'A'")
    finally:
        engine.dispose()
    assert [r["group_name"] for r in table.rows] == ["G000", "G001", "G002", "G003"]
    for row in table.rows:
        members = [f for f in files if f["utt_id"].startswith(row["group_name"] + "-")]
        words = sum(f["ref_words"] for f in members)
        errors = sum(f["substitutions"] + f["deletions"] + f["insertions"] for f in members)
        assert (row["files"], row["ref_words"], row["errors"]) == (len(members), words, errors)
        assert row["wer"] == pytest.approx(errors / words)
        assert row["wer_low"] <= row["wer"] <= row["wer_high"]
        assert row["substitutions"] == errors  # the crafted hypotheses only substitute
    assert table.corpus["files"] == 60
    assert table.corpus["wer"] == pytest.approx(
        sum(r["errors"] for r in table.rows) / sum(r["ref_words"] for r in table.rows))
    assert table.rows == again.rows  # seeded


def test_the_group_far_from_the_corpus_wer_is_named_first(tmp_path):
    ids, refs, hyps, _ = crafted_texts(4, files=80, groups=4, sub_a=0.05, sub_b=0.0)
    # every word of group G002 is wrong
    hyps = [" ".join("x" + w for w in r.split()) if u.startswith("G002-") else h
            for u, r, h in zip(ids, refs, hyps, strict=True)]
    engine = make_db(tmp_path / "g.duckdb", ids, refs)
    try:
        add_run(engine, "A", ids, refs, hyps)
        with engine.connect() as conn:
            table = group_results(conn, run_id="A", dataset="crafted", rule=parse_rule(None),
                                  seed=0)
    finally:
        engine.dispose()
    first = table.outliers[0]
    assert first["group_name"] == "G002"
    assert first["wer"] == 1.0 and first["excludes_corpus"]
    assert first["difference"] == pytest.approx(1.0 - table.corpus["wer"])


def test_ingest_keeps_extra_label_columns_and_groups_can_use_them(tmp_path):
    folder = tmp_path / "spk"
    (folder / "wavs").mkdir(parents=True)
    tone = 0.3 * np.sin(np.linspace(0, 2000, 16_000))
    for name in ("a1", "a2", "b1"):
        sf.write(folder / "wavs" / f"{name}.wav", tone, 16_000)
    (folder / "labels.csv").write_text(
        "id,transcript,Speaker,accent,split\n"
        "a1,hello there,anna,us,test\n"
        "a2,good morning,anna,,test\n"
        "b1,good night,bert,uk,dev\n"
    )
    db = tmp_path / "t.duckdb"
    engine = connect(db)
    try:
        ingest(engine, folder, progress=False)
        rows = query(engine, "select utt_id, name, value from utterance_labels "
                             "order by utt_id, name")
        with engine.connect() as conn:
            by_speaker = assign_groups(conn, dataset="spk", rule=parse_rule("label:speaker"))
            by_accent = assign_groups(conn, dataset="spk", rule=parse_rule("label:accent"))
            by_sql = assign_groups(conn, dataset="spk", rule=parse_rule(
                "sql:labels['split'] || ':' || sample_rate::varchar"))
            with pytest.raises(AsrlensError, match="no label column 'gender'; columns: "
                                                   "accent, speaker, split"):
                assign_groups(conn, dataset="spk", rule=parse_rule("label:gender"))
            with pytest.raises(AsrlensError, match="the expression failed"):
                assign_groups(conn, dataset="spk", rule=parse_rule("sql:no_such_column"))
        # a second ingest of the unchanged folder keeps them once
        ingest(engine, folder, progress=False)
        count = query(engine, "select count(*) as n from utterance_labels")[0]["n"]
    finally:
        engine.dispose()
    assert rows == [
        {"utt_id": "a1", "name": "accent", "value": "us"},
        {"utt_id": "a1", "name": "speaker", "value": "anna"},
        {"utt_id": "a1", "name": "split", "value": "test"},
        {"utt_id": "a2", "name": "accent", "value": None},
        {"utt_id": "a2", "name": "speaker", "value": "anna"},
        {"utt_id": "a2", "name": "split", "value": "test"},
        {"utt_id": "b1", "name": "accent", "value": "uk"},
        {"utt_id": "b1", "name": "speaker", "value": "bert"},
        {"utt_id": "b1", "name": "split", "value": "dev"},
    ]
    assert by_speaker == {"a1": "anna", "a2": "anna", "b1": "bert"}
    assert by_accent == {"a1": "us", "a2": NO_GROUP, "b1": "uk"}
    assert by_sql == {"a1": "test:16000", "a2": "test:16000", "b1": "dev:16000"}
    assert count == 9


def test_ljspeech_labels_have_no_extra_columns(ingested_db):
    engine = connect(ingested_db, read_only=True)
    try:
        assert query(engine, "select count(*) as n from utterance_labels")[0]["n"] == 0
    finally:
        engine.dispose()
