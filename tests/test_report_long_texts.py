"""Long transcripts in the report: the first words in the page, the rest one click away.

A 30-minute recording gives an aligned text of over a thousand words; the worst-files section
shows the first worst.SHOWN_WORDS of them and folds the rest into a closed <details> element.
Checked on the parsed page, word by word.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from htmlcheck import assert_well_formed
from synthetic import make_synthetic_db

from asrlens.db import connect, insert_rows, query
from asrlens.infer.refresh import score_rows
from asrlens.report import render
from asrlens.report.sections import worst

LONG_WORDS = 1322  # words of the long hypothesis, as in the issue


class Article(HTMLParser):
    """The aligned-word spans of one worst-file article: visible, or inside a <details>."""

    def __init__(self, utt_id: str):
        super().__init__(convert_charrefs=True)
        self.utt_id = utt_id
        self.inside = False
        self.depth = 0  # open <details> elements inside the article
        self.visible: list[str] = []
        self.folded: list[str] = []
        self.details: list[dict] = []
        self.summaries: list[str] = []
        self._summary = False
        self._span: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "article":
            self.inside = attrs.get("data-utt") == self.utt_id
        if not self.inside:
            return
        if tag == "details":
            self.depth += 1
            self.details.append(attrs)
        elif tag == "summary":
            self._summary = True
            self.summaries.append("")
        elif tag == "span" and "data-op" in attrs:
            self._span = self.folded if self.depth else self.visible
            self._span.append(attrs["data-op"])

    def handle_endtag(self, tag):
        if tag == "article":
            self.inside = False
        elif tag == "details" and self.inside:
            self.depth -= 1
        elif tag == "summary":
            self._summary = False

    def handle_data(self, data):
        if self._summary:
            self.summaries[-1] += data


@pytest.fixture
def long_db(tmp_path):
    """A synthetic run whose worst file heard LONG_WORDS words (its reference is short)."""
    path = make_synthetic_db(tmp_path / "long.duckdb", n_utts=20, n_runs=1, seed=3)
    engine = connect(path)
    try:
        first = query(engine, "select utt_id, ref_norm from transcripts "
                              "where run_id = 'run0' order by utt_id limit 1")[0]
        utt_id, ref_norm = first["utt_id"], first["ref_norm"]
        hyp_norm = " ".join(f"word{i % 97}" for i in range(LONG_WORDS))
        counts, ops = score_rows("run0", utt_id, ref_norm, hyp_norm)
        with engine.begin() as conn:
            for table in ("utterance_errors", "alignment_ops", "hyp_words"):
                query(conn, f"delete from {table} where run_id = 'run0' and utt_id = :u",
                      u=utt_id)
            query(conn, "update transcripts set hyp_norm = :h, hyp_raw = :h "
                        "where run_id = 'run0' and utt_id = :u", h=hyp_norm, u=utt_id)
            insert_rows(conn, "utterance_errors", [counts])
            insert_rows(conn, "alignment_ops", ops)
    finally:
        engine.dispose()
    return path, utt_id, ops


def worst_page(path, tmp_path) -> str:
    engine = connect(path, read_only=True)
    try:
        ctx = render.resolve_context(engine, run_ids=["run0"], dataset=None, out_dir=tmp_path,
                                     audio="none", top_n=3, seed=0)
        html = render.render_page(ctx, render.build_sections(engine, ctx, [worst]))
    finally:
        engine.dispose()
    assert_well_formed(html)
    return html


def test_a_long_aligned_text_shows_its_first_words_and_folds_the_rest(long_db, tmp_path):
    path, utt_id, ops = long_db
    page = Article(utt_id)
    page.feed(worst_page(path, tmp_path))
    assert len(ops) >= LONG_WORDS
    assert len(page.visible) == worst.SHOWN_WORDS
    assert len(page.folded) == len(ops) - worst.SHOWN_WORDS
    assert page.visible + page.folded == [op["op"] for op in ops]  # every word, in order
    assert len(page.details) == 1 and "open" not in page.details[0]  # closed until clicked
    errors = sum(1 for op in ops[worst.SHOWN_WORDS:] if op["op"] != "equal")
    assert page.summaries == [f"The other {len(page.folded)} of {len(ops)} aligned words "
                              f"({errors} errors)"]


def test_short_aligned_texts_are_shown_whole(long_db, tmp_path):
    path, long_utt, _ops = long_db
    html = worst_page(path, tmp_path)
    engine = connect(path, read_only=True)
    try:
        others = [r["utt_id"] for r in query(engine, "select utt_id from utterance_errors "
                                                     "where run_id = 'run0' and utt_id != :u "
                                                     "order by wer desc, utt_id limit 2",
                                             u=long_utt)]
    finally:
        engine.dispose()
    assert len(others) == 2
    for utt_id in others:
        page = Article(utt_id)
        page.feed(html)
        assert page.visible and page.folded == [] and page.details == []


def test_a_long_text_without_alignment_is_folded_too(long_db, tmp_path):
    path, utt_id, _ops = long_db
    engine = connect(path)
    try:
        with engine.begin() as conn:
            query(conn, "delete from alignment_ops where utt_id = :u", u=utt_id)
    finally:
        engine.dispose()
    page = Article(utt_id)
    page.feed(worst_page(path, tmp_path))
    assert page.visible == [] and len(page.details) == 1  # the recognized text only
    assert page.summaries == [f"the other {LONG_WORDS - worst.SHOWN_WORDS} words"]
