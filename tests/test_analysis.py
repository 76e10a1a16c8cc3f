"""Error analysis: text features, feature-vs-WER effects, and `analyze` on real and crafted
databases."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from asrlens.analysis import analyze, text
from asrlens.analysis.effects import FEATURES, bucket_effects, rank, spearman
from asrlens.analysis.features import RARE_MAX_COUNT, text_features, word_frequencies
from asrlens.analysis.summary import bucket_phrase
from asrlens.analysis.tags import RULES
from asrlens.cli import cli
from asrlens.db import connect, insert_rows, named_query, query
from asrlens.errors import AsrlensError
from asrlens.scoring.score import score_texts

# --- text features ---------------------------------------------------------------------------


def test_word_keys_lower_case_and_split_hyphens():
    assert text.word_keys('the Gutenberg, or "forty-two line Bible" i.e. printer\'s') == [
        "the", "gutenberg", "or", "forty", "two", "line", "bible", "ie", "printer's"]


def test_proper_nouns_are_capitalised_words_that_do_not_start_a_sentence():
    raw = ("For although the Chinese took impressions. Then Peter Schoeffer printed; "
           "Mr. Smith said I would (Maintz) and \"Bible\"")
    assert text.proper_noun_tokens(raw) == ["Chinese", "Peter", "Schoeffer", "Smith",
                                            "Maintz", "Bible"]


def test_sentence_initial_and_lower_case_words_are_not_proper_nouns():
    assert text.proper_noun_tokens("Printing, in the only sense. The arts! And crafts?") == []


def test_abbreviations_are_counted_from_the_documented_list():
    raw = "Mr. and Mrs. Smith of St. Paul's, Dr. Jones etc., i.e. the No. 5 of Mr Brown"
    assert text.abbreviation_count(raw) == 6  # 'No.' is not in the list; 'Mr' needs its period


def test_hyphenated_tokens_join_letters_with_one_hyphen():
    raw = 'as picture-books, the "lower-case" ne-plus-ultra of 1450-1460 -- not this'
    assert text.hyphenated_tokens(raw) == ["picture-books", "lower-case", "ne-plus-ultra"]


def test_normalization_keys_are_the_words_spelled_out():
    raw = "of about 1455, by Mr. Smith"
    norm = "of about fourteen fifty-five, by Mister Smith"
    assert text.normalization_keys(raw, norm) == {"fourteen", "fifty", "five", "mister",
                                                  "1455", "mr"}


def test_text_features_of_a_crafted_label():
    raw = 'In 1465 Sweynheim and Pannartz, e.g. the "lower-case" Dr. Who'
    norm = 'In fourteen sixty-five Sweynheim and Pannartz, e.g. the "lower-case" Doctor Who'
    freqs = word_frequencies([{"transcript": raw, "normalized_transcript": norm},
                              {"transcript": "and the in", "normalized_transcript": None}] * 2)
    feats = text_features(raw, norm, frequencies=freqs)
    assert feats["ref_words"] == 13
    assert feats["n_digits"] == 4
    assert feats["n_abbreviations"] == 2          # e.g. and Dr.
    assert feats["norm_differs"] is True
    assert feats["n_proper_nouns"] == 3           # Sweynheim, Pannartz, Who ('In' starts it)
    assert feats["n_hyphenated"] == 1
    # 'and', 'the', 'in' occur 4 times over the labels, every other word twice.
    assert RARE_MAX_COUNT == 2 and feats["n_rare_words"] == 13 - 3


def test_norm_differs_ignores_case_and_punctuation():
    feats = text_features("The Bible, printed.", "the bible printed", frequencies={})
    assert feats["norm_differs"] is False


# --- effects ---------------------------------------------------------------------------------


def test_rank_averages_ties():
    assert rank([10, 20, 20, 5]).tolist() == [2.0, 3.5, 3.5, 1.0]


def test_spearman_on_known_answers():
    assert spearman([1, 2, 3, 4, 5], [2, 4, 8, 16, 32]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4, 5], [9, 7, 5, 3, 1]) == pytest.approx(-1.0)
    # ranks y = 1, 2, 3.5, 5, 3.5: sum dxdy 8 over sqrt(10 * 9.5)
    assert spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) == pytest.approx(8 / 95**0.5)
    assert spearman([1, 1, 1, 1], [1, 2, 3, 4]) is None


def test_buckets_split_at_quartiles():
    buckets = bucket_effects([1, 2, 3, 4, 5, 6, 7, 8], [0, 0, 1, 1, 2, 2, 3, 3], [10] * 8)
    assert [(b.lo, b.hi, b.files) for b in buckets] == [(1, 2, 2), (3, 4, 2), (5, 6, 2),
                                                         (7, 8, 2)]
    assert [b.wer for b in buckets] == [0.0, 0.1, 0.2, 0.3]


def test_a_feature_with_few_values_gets_one_bucket_per_value():
    buckets = bucket_effects([0, 0, 0, 1, 1, 2], [1] * 6, [4] * 6)
    assert [(b.lo, b.files) for b in buckets] == [(0, 3), (1, 2), (2, 1)]


def test_bucket_wer_is_errors_over_words_not_a_mean_of_file_wers():
    buckets = bucket_effects([1, 1, 2, 2], [1, 0, 5, 0], [1, 9, 10, 10])
    assert buckets[0].wer == pytest.approx(1 / 10)  # the mean of file WERs would be 0.5
    assert buckets[1].wer == pytest.approx(5 / 20)


# --- analyze on a crafted database -----------------------------------------------------------

LABELS = [
    # utt_id, raw, normalized, hypothesis (normalized, as infer stores it)
    ("u1", "Printed by Peter Schoeffer in 1462.",
     "Printed by Peter Schoeffer in fourteen sixty-two.",
     "PRINTED BY PETER CHAUFFEUR IN FOURTEEN SIXTY TWO"),
    ("u2", "before the woodcutters of the Netherlands",
     "before the woodcutters of the Netherlands", "BEFORE THE WOOD CUTTERS OF NETHERLANDS"),
    ("u3", "the art of printing", "the art of printing", "THE ART OF PRINTING"),
    ("u4", "a label without audio", "a label without audio", None),
]


def make_crafted_db(path):
    """One dataset, one run 'r' over three files with audio (u4 has none)."""
    engine = connect(path)
    now = datetime(2026, 1, 1)
    utts, audio, transcripts, errors, ops = [], [], [], [], []
    for i, (utt_id, raw, normalized, hyp) in enumerate(LABELS):
        utts.append(dict(dataset="d", utt_id=utt_id, transcript=raw,
                         normalized_transcript=normalized,
                         audio_path=f"wavs/{utt_id}.wav" if hyp else None, labels_line=i + 1))
        if hyp is None:
            continue
        audio.append(dict(dataset="d", path=f"wavs/{utt_id}.wav", utt_id=utt_id,
                          duration_s=1.0 + i, rms_dbfs=-20.0 - i, silence_fraction=0.1,
                          clipped_fraction=0.0))
        ref_norm = " ".join(k.upper() for k in text.word_keys(normalized))  # as infer does
        score = score_texts(ref_norm, hyp)
        errors.append(dict(run_id="r", utt_id=utt_id, **score.counts()))
        transcripts.append(dict(run_id="r", utt_id=utt_id, ref_raw=normalized,
                                ref_norm=ref_norm, hyp_raw=hyp, hyp_norm=hyp, created_at=now))
        ops += [dict(run_id="r", utt_id=utt_id, op_index=j, **vars(o))
                for j, o in enumerate(score.ops)]
    with engine.begin() as conn:
        insert_rows(conn, "datasets", [dict(name="d", source="/x", root="/x", ingested_at=now)])
        insert_rows(conn, "utterances", utts)
        insert_rows(conn, "audio_files", audio)
        insert_rows(conn, "runs", [dict(run_id="r", dataset="d", engine="pocketsphinx",
                                        model="en-us", normalizer="ljspeech-v1",
                                        reference_column="normalized_transcript", device="cpu",
                                        precision="fp32", status="finished", started_at=now)])
        insert_rows(conn, "transcripts", transcripts)
        insert_rows(conn, "utterance_errors", errors)
        insert_rows(conn, "alignment_ops", ops)
    return engine


@pytest.fixture
def crafted(db_path):
    engine = make_crafted_db(db_path)
    yield engine
    engine.dispose()


def _tags_by_word(engine, run_id):
    rows = query(engine, """
        select coalesce(o.ref_word, o.hyp_word) as word, list(t.tag order by t.tag) as tags
        from alignment_ops o join op_tags t using (run_id, utt_id, op_index)
        where run_id = :r group by all""", r=run_id)
    return {r["word"]: r["tags"] for r in rows}


def test_analyze_tags_the_crafted_errors(crafted):
    result = analyze(crafted, run_id="r")
    tags = _tags_by_word(crafted, "r")
    assert "proper_noun" in tags["SCHOEFFER"] and "near_homophone" in tags["SCHOEFFER"]
    assert "compound" in tags["WOODCUTTERS"]
    assert "function_word" in tags["THE"]
    assert "proper_noun" not in tags["WOODCUTTERS"]
    assert result.errors == query(crafted, "select count(*) as n from alignment_ops "
                                           "where op <> 'equal'")[0]["n"]
    assert result.utterances == 4, "features cover every label, audio or not"


def test_analyze_flags_every_reference_word(crafted):
    analyze(crafted, run_id="r")
    rows = query(crafted, "select * from reference_words where utt_id = 'u1' order by ref_pos")
    assert [r["word"] for r in rows] == "PRINTED BY PETER SCHOEFFER IN FOURTEEN SIXTY TWO".split()
    assert [r["normalization"] for r in rows] == [False] * 5 + [True] * 3
    assert [r["proper_noun"] for r in rows] == [False, False, True, True] + [False] * 4
    assert rows[3]["op"] == "substitute" and rows[3]["hyp_word"] == "CHAUFFEUR"


def test_analyze_writes_features_of_every_label(crafted):
    analyze(crafted, run_id="r")
    rows = {r["utt_id"]: r for r in query(crafted, "select * from utterance_features")}
    assert rows["u1"]["n_digits"] == 4 and rows["u1"]["norm_differs"] is True
    assert rows["u1"]["n_proper_nouns"] == 2
    assert rows["u1"]["words_per_s"] == pytest.approx(8 / 1.0)
    assert rows["u4"]["duration_s"] is None and rows["u4"]["words_per_s"] is None


def test_analyze_is_idempotent(crafted):
    first = analyze(crafted, run_id="r")
    counts = {t: query(crafted, f"select count(*) as n from {t}")[0]["n"]
              for t in ("op_tags", "reference_words", "utterance_features", "feature_effects",
                        "feature_correlations", "analysis_summary")}
    second = analyze(crafted, run_id="r")
    assert first == second
    assert counts == {t: query(crafted, f"select count(*) as n from {t}")[0]["n"] for t in counts}


def test_analyze_an_unknown_run_names_the_runs_there_are(crafted):
    with pytest.raises(AsrlensError, match="no run named 'nope' in the database; runs: r"):
        analyze(crafted, run_id="nope")


def test_cli_analyze_prints_the_summary(crafted, db_path):
    crafted.dispose()
    result = CliRunner().invoke(cli, ["analyze", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert "Analysed run r (dataset d)" in result.output
    assert "corpus WER" in result.output


def test_cli_analyze_unknown_run_is_a_clean_error(crafted, db_path):
    crafted.dispose()
    result = CliRunner().invoke(cli, ["analyze", "--run", "nope", "--db", str(db_path)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: no run named 'nope'")


# --- a real pocketsphinx run over the sample -------------------------------------------------


@pytest.fixture(scope="module")
def sphinx(sphinx_db):
    engine = connect(sphinx_db, read_only=True)
    yield engine
    engine.dispose()


def _sql(engine, name, **params):
    return query(engine, named_query("analysis", name), **params)


def _summary(engine, topic):
    rows = query(engine, "select sentence from analysis_summary where run_id = 'sphinx' "
                         "and topic = :t order by position", t=topic)
    return [r["sentence"] for r in rows]


def test_sphinx_run_errors_are_tagged(sphinx):
    rows = query(sphinx, "select tag, count(*) as n from op_tags where run_id = 'sphinx' "
                         "group by tag")
    counts = {r["tag"]: r["n"] for r in rows}
    assert set(counts) <= set(RULES)
    assert counts.get("proper_noun", 0) > 0
    assert counts.get("function_word", 0) > 0
    words = query(sphinx, "select count(*) as n from reference_words where run_id = 'sphinx'")
    scored = query(sphinx, "select sum(ref_words) as n from utterance_errors "
                           "where run_id = 'sphinx'")
    assert words[0]["n"] == scored[0]["n"]


def test_sphinx_summary_overall_numbers_come_from_run_summary(sphinx):
    row = _sql(sphinx, "summary_overall", run_id="sphinx")[0]
    [sentence] = _summary(sphinx, "overall")
    assert f"scored {row['files_scored']} files" in sentence
    assert f"corpus WER {row['wer']:.3f}" in sentence
    assert f"({row['errors']} errors over {row['ref_words']} reference words)" in sentence


def test_sphinx_summary_names_the_worst_files(sphinx):
    worst = _sql(sphinx, "worst_files", run_id="sphinx", limit=3)
    [sentence] = _summary(sphinx, "worst_files")
    assert len(worst) == 3
    for row in worst:
        assert f"{row['utt_id']} (WER {row['wer']:.3f}, {row['errors']} errors" in sentence


def test_sphinx_summary_tag_shares_come_from_op_tags(sphinx):
    [sentence] = _summary(sphinx, "tags")
    total = query(sphinx, "select count(*) as n from alignment_ops where run_id = 'sphinx' "
                          "and op <> 'equal'")[0]["n"]
    assert f"share of the {total} errors" in sentence
    for tag, pct, n in re.findall(r"(\w+) (\d+)% \((\d+)\)", sentence):
        count = query(sphinx, "select count(*) as n from op_tags where run_id = 'sphinx' "
                              "and tag = :t", t=tag)[0]["n"]
        assert int(n) == count and int(pct) == round(100 * count / total)


def test_sphinx_summary_feature_sentences_come_from_feature_tables(sphinx):
    sentences = _summary(sphinx, "features")
    assert sentences, "the sample has 32 files: at least one feature correlates with WER"
    strongest = _sql(sphinx, "strongest_features", run_id="sphinx", limit=1)[0]
    assert f"{strongest['spearman']:+.2f} over {strongest['files']} files" in sentences[0]
    assert f"WER {strongest['bucket_wer']:.3f}" in sentences[0]
    assert f"files {bucket_phrase(strongest)} have" in sentences[0]
    assert strongest["feature"] in FEATURES


def test_sphinx_feature_effects_add_up_to_the_run(sphinx):
    total = _sql(sphinx, "summary_overall", run_id="sphinx")[0]
    rows = query(sphinx, "select feature, sum(files) as files, sum(errors) as errors, "
                         "sum(ref_words) as ref_words from feature_effects "
                         "where run_id = 'sphinx' and feature = 'duration_s' group by feature")
    assert rows[0]["files"] == total["files_scored"]
    assert rows[0]["errors"] == total["errors"]
    assert rows[0]["ref_words"] == total["ref_words"]


# --- the report section "Why it fails" -------------------------------------------------------


def render_why(engine, run_id, tmp_path) -> str:
    """The page with only the "Why it fails" section, as the report renders it."""
    from asrlens.report.render import build_sections, render_page, resolve_context
    from asrlens.report.sections import why

    ctx = resolve_context(engine, run_ids=[run_id], dataset=None, out_dir=tmp_path,
                          audio="none", top_n=20, seed=0)
    return render_page(ctx, build_sections(engine, ctx, [why]))


def test_why_section_is_registered_between_patterns_and_compare():
    from asrlens.report.sections import SECTIONS, why

    names = [s.__name__.rsplit(".", 1)[-1] for s in SECTIONS]
    assert why in SECTIONS
    assert names.index("why") == names.index("patterns") + 1


def test_why_section_says_how_to_analyse_a_run_not_analysed(crafted, tmp_path):
    html = render_why(crafted, "r", tmp_path)
    assert "has not been analysed yet: run `asrlens analyze --run r`" in html


def test_why_section_escapes_transcripts(crafted, tmp_path):
    crafted.dispose()
    with crafted.begin() as conn:
        conn.execute(sa.text("update alignment_ops set hyp_word = '<script>alert(1)</script>' "
                             "where utt_id = 'u1' and op = 'substitute'"))
    analyze(crafted, run_id="r")
    html = render_why(crafted, "r", tmp_path)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html


def test_why_section_on_the_sphinx_run(sphinx, tmp_path):
    from htmlcheck import assert_well_formed

    html = render_why(sphinx, "sphinx", tmp_path)
    assert_well_formed(html)
    section = html[html.index('id="why"'):]
    for sentence in _summary(sphinx, "overall") + _summary(sphinx, "worst_files"):
        assert sentence in section
    for row in _sql(sphinx, "tag_shares", run_id="sphinx"):
        if row["tag"]:
            assert f'<tr data-tag="{row["tag"]}">' in section
            assert f'<td class="num">{row["ops"]}</td>' in section
    features = query(sphinx, "select count(*) as n from feature_correlations "
                             "where run_id = 'sphinx'")[0]["n"]
    assert section.count("<tr data-feature=") == features
    assert section.count('<table class="align why-example">') >= 3
    assert section.count("<figure") == section.count("<figcaption>") >= 2


def test_summary_describes_buckets_in_words():
    assert bucket_phrase({"feature": "n_proper_nouns", "lo": 2.0, "hi": 4.0}) == (
        "with 2 to 4 proper nouns")
    assert bucket_phrase({"feature": "duration_s", "lo": 1.834, "hi": 3.2}) == (
        "with duration (s) between 1.83 and 3.20")
    assert bucket_phrase({"feature": "norm_differs", "lo": 1.0, "hi": 1.0}) == (
        "whose raw and normalized transcripts differ")


def test_analyze_a_run_with_nothing_scored(crafted):
    with crafted.begin() as conn:
        insert_rows(conn, "runs", [dict(run_id="empty", dataset="d", engine="pocketsphinx",
                                        model="en-us", normalizer="ljspeech-v1",
                                        reference_column="normalized_transcript", device="cpu",
                                        precision="fp32", status="running",
                                        started_at=datetime(2026, 1, 2))])
    result = analyze(crafted, run_id="empty")
    assert result.files_scored == 0 and result.errors == 0 and result.tag_counts == {}
    assert result.summary == ["Run empty has no scored files: nothing to analyse."]


def test_tagging_a_few_files_at_a_time_gives_the_rows_of_one_batch(tmp_path, monkeypatch):
    # issue 26: analyze tags OPS_FILES utterances at a time, so memory stays flat
    from synthetic import make_synthetic_db

    from asrlens.analysis import pipeline

    db = make_synthetic_db(tmp_path / "s.duckdb", n_utts=60, n_runs=1, seed=3)
    engine = connect(db)
    tables = {"op_tags": "select * from op_tags order by all",
              "reference_words": "select * from reference_words order by all",
              "analysis_summary": "select * from analysis_summary order by all"}
    try:
        whole = analyze(engine, run_id="run0")
        expected = {name: query(engine, sql) for name, sql in tables.items()}
        monkeypatch.setattr(pipeline, "OPS_FILES", 7)
        batched = analyze(engine, run_id="run0")
        got = {name: query(engine, sql) for name, sql in tables.items()}
    finally:
        engine.dispose()
    assert whole.errors > 0 and len(expected["op_tags"]) > 0
    assert (batched.errors, batched.tag_counts) == (whole.errors, whole.tag_counts)
    assert got == expected
