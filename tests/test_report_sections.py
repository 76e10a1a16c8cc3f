"""Report sections 4-7 (distribution, worst files, error patterns, run comparison).

Each section's numbers are checked against independent SQL or Python over the same tables,
on a generated database (tests/synthetic.py) and on the real pocketsphinx run of the sample.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from htmlcheck import assert_well_formed
from synthetic import make_synthetic_db

from asrlens.db import connect, query
from asrlens.report import render
from asrlens.report.sections import compare, distribution, patterns, worst

N_UTTS = 300
TOP_N = 40


@pytest.fixture(scope="module")
def synth_db(tmp_path_factory) -> Path:
    """300 generated utterances, two runs (run0, run1) of the same files. Read it only."""
    return make_synthetic_db(
        tmp_path_factory.mktemp("synth") / "synth.duckdb", n_utts=N_UTTS, n_runs=2, seed=1
    )


@pytest.fixture
def synth(synth_db):
    engine = connect(synth_db, read_only=True)
    yield engine
    engine.dispose()


def write(engine, sql: str, **params) -> None:
    """Run a modifying statement and commit it."""
    with engine.begin() as conn:
        query(conn, sql, **params)


def make_ctx(engine, tmp_path, *runs, audio="none", top_n=TOP_N):
    return render.resolve_context(
        engine, run_ids=list(runs), dataset=None, out_dir=tmp_path, audio=audio, top_n=top_n,
        seed=0,
    )


def page_of(engine, ctx, *modules) -> str:
    """The report page with only `modules` as sections, checked for well-formedness."""
    html = render.render_page(ctx, render.build_sections(engine, ctx, modules))
    assert_well_formed(html)
    return html


class Elements(HTMLParser):
    """Collects elements (tag, attrs, text inside) and the article each one sits in."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[dict] = []
        self.open: list[dict] = []
        self.article: str | None = None

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": "", "article": self.article}
        if tag == "article":
            self.article = element["attrs"].get("data-utt")
            element["article"] = self.article
        self.found.append(element)
        if tag not in {"br", "img", "source", "meta", "input", "hr", "link"}:
            self.open.append(element)

    def handle_endtag(self, tag):
        while self.open:
            element = self.open.pop()
            if element["tag"] == tag:
                break
        if tag == "article":
            self.article = None

    def handle_data(self, data):
        for element in self.open:
            element["text"] += data


def elements(html: str) -> list[dict]:
    parser = Elements()
    parser.feed(html)
    return parser.found


def by_id(html: str, element_id: str) -> dict:
    return next(e for e in elements(html) if e["attrs"].get("id") == element_id)


# --- the generated database ---------------------------------------------------------------


def test_synthetic_counts_are_consistent(synth):
    bad = query(synth, """
        select e.run_id, e.utt_id
        from utterance_errors e
        left join (
            select run_id, utt_id,
                   count(*) filter (where op = 'equal')      as h,
                   count(*) filter (where op = 'substitute') as s,
                   count(*) filter (where op = 'delete')     as d,
                   count(*) filter (where op = 'insert')     as i
            from alignment_ops group by all
        ) o using (run_id, utt_id)
        left join (select run_id, utt_id, count(*) as n from hyp_words group by all) w
            using (run_id, utt_id)
        where e.hits + e.substitutions + e.deletions <> e.ref_words
           or e.hits + e.substitutions + e.insertions <> e.hyp_words
           or coalesce(o.h, 0) <> e.hits or coalesce(o.s, 0) <> e.substitutions
           or coalesce(o.d, 0) <> e.deletions or coalesce(o.i, 0) <> e.insertions
           or coalesce(w.n, 0) <> e.hyp_words
           or e.char_hits + e.char_substitutions + e.char_deletions <> e.ref_chars
    """)
    assert bad == []
    runs = query(synth, "select run_id, files_scored, files_failed, files_total from run_summary")
    assert [r["run_id"] for r in runs] == ["run0", "run1"]
    for r in runs:
        assert r["files_scored"] + r["files_failed"] == r["files_total"]


def test_synthetic_database_is_reproducible(tmp_path):
    a = make_synthetic_db(tmp_path / "a.duckdb", n_utts=40, seed=3)
    b = make_synthetic_db(tmp_path / "b.duckdb", n_utts=40, seed=3)
    sql = "select utt_id, hyp_norm from transcripts order by utt_id"
    rows = []
    for path in (a, b):
        engine = connect(path, read_only=True)
        rows.append(query(engine, sql))
        engine.dispose()
    assert rows[0] == rows[1] and len(rows[0]) > 30


# --- 4. distribution -----------------------------------------------------------------------


def test_distribution_summary_equals_independent_sql(synth, tmp_path):
    ctx = make_ctx(synth, tmp_path, "run0")
    data = distribution.build(synth, ctx)
    wers = np.array([r["wer"] for r in query(
        synth, "select wer from utterance_errors where run_id = 'run0'")])
    s = data["summary"]
    assert s["files"] == wers.size
    assert s["perfect_files"] == int((wers == 0).sum())
    assert s["files_wer_over_half"] == int((wers >= 0.5).sum())
    assert s["median_wer"] == pytest.approx(float(np.median(wers)))
    assert s["p90_wer"] == pytest.approx(float(np.quantile(wers, 0.9)))
    corpus = query(synth, "select sum(substitutions + deletions + insertions) / sum(ref_words)"
                   " as wer from utterance_errors where run_id = 'run0'")[0]["wer"]
    assert s["corpus_wer"] == pytest.approx(corpus)
    html = page_of(synth, ctx, distribution)
    assert float(by_id(html, "distribution-median-wer")["attrs"]["data-value"]) == pytest.approx(
        float(np.median(wers)))
    assert by_id(html, "distribution-perfect-files")["attrs"]["data-value"] == str(
        int((wers == 0).sum()))


def test_distribution_correlations_use_audio_facts_through_utterances(synth, tmp_path):
    rows = query(synth, """
        select e.wer, a.duration_s, e.ref_words / a.duration_s as rate, a.rms_dbfs
        from utterance_errors e
        join utterances u on u.utt_id = e.utt_id
        join audio_files a on a.dataset = u.dataset and a.path = u.audio_path
        where e.run_id = 'run0'
    """)
    wer, duration, rate, level = (np.array(c, dtype=float) for c in zip(
        *[(r["wer"], r["duration_s"], r["rate"], r["rms_dbfs"]) for r in rows], strict=True))
    s = distribution.build(synth, make_ctx(synth, tmp_path, "run0"))["summary"]
    assert s["corr_duration"] == pytest.approx(np.corrcoef(wer, duration)[0, 1])
    assert s["corr_words_per_s"] == pytest.approx(np.corrcoef(wer, rate)[0, 1])
    assert s["corr_rms_dbfs"] == pytest.approx(np.corrcoef(wer, level)[0, 1])
    # the generator makes fast speech harder: the report must see it
    assert s["corr_words_per_s"] > 0


def test_distribution_figures_are_titled_and_captioned(synth, tmp_path, monkeypatch):
    plots = distribution.build(synth, make_ctx(synth, tmp_path, "run0"))["plots"]
    assert [p.title for p in plots] == [
        "Per-file word error rate", "WER against duration", "WER against speaking rate",
        "WER against level",
    ]
    assert all(p.caption and p.svg for p in plots)
    assert "Pearson correlation" in plots[2].caption
    monkeypatch.setattr(distribution, "SVG_MAX_POINTS", 50)
    many = distribution.build(synth, make_ctx(synth, tmp_path, "run0"))["plots"]
    assert all(p.png_uri and p.png_uri.startswith("data:image/png;base64,") for p in many[1:])


def test_binned_wer_pools_errors_over_reference_words():
    x = np.arange(10.0, 0.0, -1.0)  # 10 files, given in descending x
    errors = np.array([0, 0, 0, 0, 5, 1, 1, 0, 0, 0], dtype=float)
    ref_words = np.array([5, 5, 5, 5, 5, 1, 1, 1, 1, 6], dtype=float)
    centers, rates = distribution.binned_wer(x, errors, ref_words, bins=2)
    assert centers.tolist() == [3.0, 8.0]
    # pooled: (1 + 1) / (1 + 1 + 1 + 1 + 6) and 5 / 25, not means of per-file rates
    assert rates.tolist() == [pytest.approx(2 / 10), pytest.approx(5 / 25)]
    # small runs get fewer, fuller groups
    few, _ = distribution.binned_wer(x, errors, ref_words, bins=10)
    assert few.size == 10 // distribution.TREND_MIN_FILES


def test_distribution_is_left_out_without_a_run(synth, tmp_path):
    ctx = make_ctx(synth, tmp_path, "run0")
    no_run = render.ReportContext(run_ids=(), dataset=ctx.dataset)
    assert distribution.build(synth, no_run) is None
    assert worst.build(synth, no_run) is None
    assert patterns.build(synth, no_run) is None
    assert compare.build(synth, no_run) is None


# --- 5. worst files ------------------------------------------------------------------------


def expected_worst(engine, run_id: str, n: int) -> list[str]:
    rows = query(engine, "select utt_id, wer, substitutions + deletions + insertions as errors "
                 "from utterance_errors where run_id = :r", r=run_id)
    rows.sort(key=lambda r: (r["wer"] is None, -(r["wer"] or 0), -r["errors"], r["utt_id"]))
    return [r["utt_id"] for r in rows[:n]]


def test_worst_files_are_top_n_by_wer_ties_broken_by_errors(synth, tmp_path):
    data = worst.build(synth, make_ctx(synth, tmp_path, "run0"))
    files = data["files"]
    assert [f["utt_id"] for f in files] == expected_worst(synth, "run0", TOP_N)
    # the list holds ties on WER, so the tie-break is really exercised
    wers = [f["wer"] for f in files]
    ties = [(a, b) for a, b in zip(files, files[1:], strict=False) if a["wer"] == b["wer"]]
    assert any(a["errors"] > b["errors"] for a, b in ties), wers
    assert all(a["errors"] >= b["errors"] for a, b in ties)


def test_worst_table_lists_the_files_in_rank_order_and_sorts(synth, tmp_path):
    ctx = make_ctx(synth, tmp_path, "run0", top_n=7)
    html = page_of(synth, ctx, worst)
    rows = [e["attrs"]["data-utt"] for e in elements(html)
            if e["tag"] == "tr" and "data-utt" in e["attrs"]]
    assert rows == expected_worst(synth, "run0", 7)
    table = by_id(html, "worst-table")
    assert table["attrs"]["class"] == "sortable"


def test_aligned_view_marks_every_substitution_deletion_and_insertion(synth, tmp_path):
    ctx = make_ctx(synth, tmp_path, "run0")
    html = page_of(synth, ctx, worst)
    found = elements(html)
    ops = defaultdict(list)
    for e in found:
        if e["tag"] == "span" and "data-op" in e["attrs"] and e["article"]:
            ops[e["article"]].append(e)
    counts = {r["utt_id"]: r for r in query(synth, "select * from utterance_errors "
                                            "where run_id = 'run0'")}
    assert len(ops) == TOP_N
    for utt_id, spans in ops.items():
        tally = Counter(s["attrs"]["data-op"] for s in spans)
        c = counts[utt_id]
        assert (tally["substitute"], tally["delete"], tally["insert"], tally["equal"]) == (
            c["substitutions"], c["deletions"], c["insertions"], c["hits"])
        expected = query(synth, "select op, ref_word, hyp_word from alignment_ops where "
                         "run_id = 'run0' and utt_id = :u order by op_index", u=utt_id)
        for span, op in zip(spans, expected, strict=True):
            assert span["attrs"]["data-op"] == op["op"]
            kind = {"equal": "eq", "substitute": "sub", "delete": "del", "insert": "ins"}
            assert span["attrs"]["class"] == f"op {kind[op['op']]}"
            # legible without colour: brackets, and <del>/<ins> around the changed words
            if op["op"] == "equal":
                assert span["text"] == op["ref_word"]
            elif op["op"] == "substitute":
                assert span["text"] == f"[{op['ref_word']}\u2192{op['hyp_word']}]"
            elif op["op"] == "delete":
                assert span["text"] == f"[\u2212{op['ref_word']}]"
            else:
                assert span["text"] == f"[+{op['hyp_word']}]"
            assert span["attrs"]["title"].startswith(
                {"equal": "correct", "substitute": "substitution", "delete": "deletion",
                 "insert": "insertion"}[op["op"]])
    shown = [counts[u] for u in ops]
    marked = Counter(e["tag"] for e in found if e["tag"] in ("del", "ins") and e["article"])
    assert marked["del"] == sum(c["substitutions"] + c["deletions"] for c in shown)
    assert marked["ins"] == sum(c["substitutions"] + c["insertions"] for c in shown)
    assert by_id(html, "worst-legend")["text"].count("[") >= 3


def test_low_confidence_words_are_italic_with_confidence_in_title(synth, tmp_path):
    html = page_of(synth, make_ctx(synth, tmp_path, "run0", top_n=5), worst)
    italic = [e for e in elements(html) if e["tag"] == "em" and e["article"]]
    top = expected_worst(synth, "run0", 5)
    low = query(synth, "select count(*) as n from hyp_words where run_id = 'run0' and "
                "confidence < :c and list_contains(:top, utt_id)", c=worst.LOW_CONFIDENCE, top=top)
    assert len(italic) == low[0]["n"] > 0
    titled = [e for e in elements(html) if e["tag"] == "span" and "data-op" in e["attrs"]]
    assert all("confidence" in e["attrs"]["title"] for e in titled
               if e["attrs"]["data-op"] != "delete")


def test_worst_files_show_their_error_tags_counted(synth, tmp_path):
    data = worst.build(synth, make_ctx(synth, tmp_path, "run0", top_n=3))
    for f in data["files"]:
        expected = Counter(r["tag"] for r in query(
            synth, "select tag from op_tags where run_id = 'run0' and utt_id = :u",
            u=f["utt_id"]))
        assert {t["tag"]: t["ops"] for t in f["tags"]} == dict(expected)
    assert data["has_tags"]


def test_worst_files_show_no_tags_before_analysis(synth_db, copy_db, tmp_path):
    path = copy_db(synth_db)
    engine = connect(path)
    try:
        write(engine, "delete from op_tags")
        write(engine, "delete from hyp_words")
        ctx = make_ctx(engine, tmp_path, "run0", top_n=3)
        data = worst.build(engine, ctx)
        html = page_of(engine, ctx, worst)
    finally:
        engine.dispose()
    assert not data["has_tags"] and all(f["tags"] == [] for f in data["files"])
    assert not data["has_confidence"]
    assert "Error tags" not in html and "<em" not in html
    assert "no word confidences" in html


def test_worst_files_escape_words_from_the_transcripts(synth_db, copy_db, tmp_path):
    path = copy_db(synth_db)
    payload_ref, payload_hyp = '"><img src=x onerror=alert(1)>', "<script>alert(1)</script>"
    engine = connect(path)
    try:
        top = expected_worst(engine, "run0", 1)[0]
        write(engine, "update alignment_ops set ref_word = :r, hyp_word = :h where run_id = "
              "'run0' and utt_id = :u and op = 'substitute'", r=payload_ref, h=payload_hyp, u=top)
        write(engine, "update transcripts set ref_raw = :r where run_id = 'run0' and utt_id = :u",
              r=payload_hyp, u=top)
        ctx = make_ctx(engine, tmp_path, "run0", top_n=1)
        html = page_of(engine, ctx, worst)
    finally:
        engine.dispose()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    spans = [e for e in elements(html) if e["attrs"].get("data-op") == "substitute"]
    assert spans and all(payload_ref in s["text"] and payload_hyp in s["text"] for s in spans)


def test_worst_audio_follows_the_audio_option(synth, tmp_path):
    linked = worst.build(synth, make_ctx(synth, tmp_path, "run0", audio="link", top_n=2))
    for f in linked["files"]:
        assert f["audio"].url.startswith("file://") and f["audio"].url.endswith(f["audio_path"])
    none = worst.build(synth, make_ctx(synth, tmp_path, "run0", audio="none", top_n=2))
    assert all(f["audio"] is None for f in none["files"])
    # embed: the synthetic dataset has no audio files, so there is nothing to embed
    html = page_of(synth, make_ctx(synth, tmp_path, "run0", audio="embed", top_n=2), worst)
    assert "<audio" not in html and "Audio not available" in html


# --- 6. error patterns ---------------------------------------------------------------------


def ops_of(engine, run_id: str) -> list[dict]:
    return query(engine, "select op, ref_word, hyp_word, utt_id from alignment_ops "
                 "where run_id = :r", r=run_id)


def test_substitution_pairs_equal_a_group_by(synth, tmp_path):
    data = patterns.build(synth, make_ctx(synth, tmp_path, "run0"))
    ops = ops_of(synth, "run0")
    pairs = Counter((o["ref_word"], o["hyp_word"]) for o in ops if o["op"] == "substitute")
    expected = sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[: patterns.TOP_PAIRS]
    assert [((p["ref_word"], p["hyp_word"]), p["count"]) for p in data["pairs"]] == expected
    assert data["totals"]["substitutions"] == sum(pairs.values())
    assert data["pairs_share"] == pytest.approx(
        sum(n for _, n in expected) / sum(pairs.values()))


def test_most_deleted_and_inserted_words_equal_counts(synth, tmp_path):
    data = patterns.build(synth, make_ctx(synth, tmp_path, "run0"))
    ops = ops_of(synth, "run0")
    for key, op, column in (("deleted", "delete", "ref_word"), ("inserted", "insert", "hyp_word")):
        counts = Counter(o[column] for o in ops if o["op"] == op)
        files = defaultdict(set)
        for o in ops:
            if o["op"] == op:
                files[o[column]].add(o["utt_id"])
        expected = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: patterns.TOP_WORDS]
        assert expected, key  # the synthetic run has words of both kinds
        assert [(w["word"], w["count"]) for w in data[key]] == expected
        assert all(w["files"] == len(files[w["word"]]) for w in data[key])


def test_word_error_rates_cover_only_frequent_words(synth, tmp_path):
    data = patterns.build(synth, make_ctx(synth, tmp_path, "run0"))
    ops = [o for o in ops_of(synth, "run0") if o["ref_word"] is not None]
    k = data["min_count"]
    assert k == max(patterns.FREQUENT_WORD_MIN, math.ceil(len(ops) / 2000))
    seen, wrong = Counter(), Counter()
    for o in ops:
        seen[o["ref_word"]] += 1
        wrong[o["ref_word"]] += o["op"] != "equal"
    rates = sorted(((wrong[w] / n, n, w) for w, n in seen.items() if n >= k),
                   key=lambda t: (-t[0], -t[1], t[2]))[: patterns.TOP_WORDS]
    assert [(w["word"], w["occurrences"], w["errors"]) for w in data["word_errors"]] == [
        (w, n, wrong[w]) for _, n, w in rates]
    assert all(w["error_rate"] == pytest.approx(w["errors"] / w["occurrences"])
               for w in data["word_errors"])


def test_patterns_page_shows_the_pair_counts(synth, tmp_path):
    ctx = make_ctx(synth, tmp_path, "run0")
    html = page_of(synth, ctx, patterns)
    data = patterns.build(synth, ctx)
    found = elements(html)
    table = [e for e in found if e["tag"] == "td"]
    top = data["pairs"][0]
    texts = [e["text"] for e in table]
    i = texts.index(top["ref_word"])
    assert texts[i + 1: i + 3] == [top["hyp_word"], f"{top['count']:,}"]


# --- 7. comparison -------------------------------------------------------------------------


def test_comparison_is_left_out_with_one_run(synth, tmp_path):
    assert compare.build(synth, make_ctx(synth, tmp_path, "run0")) is None


def test_comparison_picks_the_largest_wer_changes(synth, tmp_path):
    data = compare.build(synth, make_ctx(synth, tmp_path, "run0", "run1", top_n=15))
    (pair,) = data["comparisons"]
    a = {r["utt_id"]: r["wer"] for r in query(
        synth, "select utt_id, wer from utterance_errors where run_id = 'run0'")}
    b = {r["utt_id"]: r["wer"] for r in query(
        synth, "select utt_id, wer from utterance_errors where run_id = 'run1'")}
    shared = sorted(set(a) & set(b), key=lambda u: (-abs(b[u] - a[u]), u))
    assert [f["utt_id"] for f in pair["changes"]] == shared[:15]
    for f in pair["changes"]:
        assert (f["wer_a"], f["wer_b"]) == (a[f["utt_id"]], b[f["utt_id"]])
        assert f["delta"] == pytest.approx(b[f["utt_id"]] - a[f["utt_id"]])
        hyps = query(synth, "select run_id, hyp_norm from transcripts where utt_id = :u "
                     "order by run_id", u=f["utt_id"])
        assert [f["hyp_a"], f["hyp_b"]] == [h["hyp_norm"] for h in hyps]
    plot = pair["plot"]
    assert plot.title == "Per-file WER: run1 against run0" and plot.caption
    assert plot.svg.count("<path") > 0  # 300 files: small enough for SVG
    o = pair["overview"]
    assert o["files_shared"] == len(shared)
    assert o["files_better"] == sum(b[u] < a[u] for u in shared)
    assert o["files_worse"] == sum(b[u] > a[u] for u in shared)
    assert o["files_better"] + o["files_worse"] + o["files_unchanged"] == len(shared)


def test_comparison_table_puts_run_summary_side_by_side(synth, tmp_path):
    ctx = make_ctx(synth, tmp_path, "run0", "run1")
    html = page_of(synth, ctx, compare)
    summary = {r["run_id"]: r for r in query(synth, "select * from run_summary")}
    found = elements(html)
    for key in ("wer", "cer", "files_scored", "substitutions"):
        row = next(i for i, e in enumerate(found)
                   if e["tag"] == "tr" and e["attrs"].get("data-key") == key)
        cells = [e for e in found[row:] if e["tag"] == "td"][:2]
        assert [float(c["attrs"]["data-value"]) for c in cells] == [
            pytest.approx(summary["run0"][key]), pytest.approx(summary["run1"][key])]
    wer_row = next(e for e in found if e["attrs"].get("data-key") == "wer")
    assert f"{100 * summary['run1']['wer']:.2f}%" in wer_row["text"]
    assert by_id(html, "compare-1-changes")["attrs"]["class"] == "sortable"


# --- the real sample, transcribed by pocketsphinx --------------------------------------------


@pytest.mark.slow
def test_sections_on_the_sphinx_run_match_sql(sphinx_db, tmp_path):
    engine = connect(sphinx_db, read_only=True)
    try:
        ctx = make_ctx(engine, tmp_path, "sphinx", audio="embed", top_n=5)
        html = page_of(engine, ctx, distribution, worst, patterns, compare)
        data = worst.build(engine, ctx)
        dist = distribution.build(engine, ctx)["summary"]
        pats = patterns.build(engine, ctx)
        ops = ops_of(engine, "sphinx")
        scored = query(engine, "select count(*) as n from utterance_errors where run_id = 'sphinx'")
    finally:
        engine.dispose()
    assert [f["utt_id"] for f in data["files"]] == expected_worst_from(sphinx_db, 5)
    assert dist["files"] == scored[0]["n"] == 32
    pairs = Counter((o["ref_word"], o["hyp_word"]) for o in ops if o["op"] == "substitute")
    assert pats["totals"]["substitutions"] == sum(pairs.values())
    assert [p["count"] for p in pats["pairs"]] == sorted(pairs.values(), reverse=True)[
        : len(pats["pairs"])]
    # real audio: the worst files carry an embedded, playable clip
    assert all(f["audio"] and f["audio"].url.startswith("data:audio/ogg;base64,")
               for f in data["files"])
    assert html.count("<audio") == 5
    assert 'id="compare"' not in html  # one run: no comparison section


def expected_worst_from(path: Path, n: int) -> list[str]:
    engine = connect(path, read_only=True)
    try:
        return expected_worst(engine, "sphinx", n)
    finally:
        engine.dispose()
