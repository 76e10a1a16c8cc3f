"""The failures today's models are judged on, for one run: hallucinations and loops,
formatting-only errors, punctuation and casing, keywords. Reads what infer stored, writes
the tables of docs/schema.md "Failures" (the run's rows are replaced).

    with engine.begin() as conn:
        counts = analyze_failures(conn, run)    # run: its `runs` row
        # {'files_flagged': 2, 'formatting_errors': 14, 'punctuation_files': 32, ...}

Each analysis is its own module (hallucination, formatting, punctuation, keywords) of pure
functions; this one only reads, loops over files and writes, a few thousand files at a
time (asrlens.analysis.batches): memory does not grow with the run.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import sqlalchemy as sa

from asrlens.analysis import formatting, hallucination, keywords, punctuation
from asrlens.analysis.batches import utt_ranges
from asrlens.analysis.tags import Op
from asrlens.audio import load_audio
from asrlens.db import delete_rows, insert_rows, named_query, query
from asrlens.errors import AsrlensError
from asrlens.scoring.normalize import get_normalizer

RUN_TABLES = ("hallucination_files", "hallucination_events", "formatting_errors",
              "punctuation_files", "punctuation_substitutions", "casing_files",
              "keyword_occurrences")
"""Tables whose rows for the run are replaced by each analysis."""
BATCH_FILES = 1000
"""Files analysed at a time when the caller gives no batches (asrlens.analysis.batches)."""


def _sql(conn, name: str, **params) -> list[dict]:
    return query(conn, named_query("analysis", name), **params)


def _ops_by_file(conn, sql: str, run_id: str,
                 batch: dict) -> dict[str, tuple[list[Op], list[int]]]:
    """utt_id -> (its alignment ops, their op_index) of one batch of files (`batch`: lo, hi)
    from a query like run_ops.sql."""
    rows = conn.execute(sa.text(sql), {"run_id": run_id, **batch}).all()
    out = {}
    for utt_id, group in itertools.groupby(rows, key=lambda r: r[0]):
        group = list(group)
        out[utt_id] = ([Op(*r[2:7]) for r in group], [r[1] for r in group])
    return out


def analyze_failures(conn: sa.Connection, run: dict, *, keyword_source: str | None = None,
                     ranges: list[dict] | None = None, commit: bool = False,
                     keywords_stored: bool = False) -> dict[str, int]:
    """Fill the failure tables for `run` (a dict with its run_id and dataset). keyword_source:
    a keywords file or 'label:COLUMN' to store as the dataset's terms first (None: keep the
    stored ones). keywords_stored: the dataset's terms were just replaced (store_keywords),
    so every other run of it is counted again too (as with keyword_source). ranges: the
    batches of files to work through (asrlens.analysis.batches; None: BATCH_FILES at a
    time). commit: commit `conn` after each batch (DuckDB holds what a transaction wrote in
    memory; otherwise all stays in the caller's transaction). Returns counts of what was
    found, for the summary."""
    run_id, dataset = run["run_id"], run["dataset"]
    if ranges is None:
        ranges = utt_ranges(conn, dataset=dataset, size=BATCH_FILES)
    runs = {r["run_id"]: r for r in _sql(conn, "dataset_runs", dataset=dataset)}
    normalizer = _normalizer(runs[run_id]["normalizer"])
    if keyword_source is not None:
        store_keywords(conn, dataset, keyword_source, ranges=ranges)
        keywords_stored = True
    for table in RUN_TABLES:
        delete_rows(conn, table, run_id=run_id)
    counts = dict.fromkeys(("files_flagged", "hallucination_events", "formatting_errors",
                            "punctuation_files", "keyword_occurrences"), 0)
    for batch in ranges:
        ops = _ops_by_file(conn, named_query("analysis", "run_ops"), run_id, batch)
        files, events = hallucination_rows(conn, run_id, dataset, ops, normalizer, batch)
        insert_rows(conn, "hallucination_files", files)
        insert_rows(conn, "hallucination_events", events)
        counts["files_flagged"] += sum(f["flagged"] for f in files)
        counts["hallucination_events"] += len(events)
        del files, events
        raw_ops = _ops_by_file(conn, named_query("analysis", "raw_run_ops"), run_id, batch)
        for scoring, by_file in (("run", ops), ("raw", raw_ops)):
            fmt = []
            for utt_id, (file_ops, indexes) in by_file.items():
                fmt += formatting.formatting_rows(
                    file_ops, indexes,
                    keys={"run_id": run_id, "scoring": scoring, "utt_id": utt_id})
            insert_rows(conn, "formatting_errors", fmt)
            if scoring == "run":
                counts["formatting_errors"] += len(fmt)
        del raw_ops
        marks, subs, casing = punctuation_rows(conn, run_id, batch)
        insert_rows(conn, "punctuation_files", marks)
        insert_rows(conn, "punctuation_substitutions", subs)
        insert_rows(conn, "casing_files", casing)
        counts["punctuation_files"] += len({r["utt_id"] for r in marks})
        del marks, subs, casing
        occurrences = keyword_rows(conn, run_id, dataset, ops, normalizer, batch)
        insert_rows(conn, "keyword_occurrences", occurrences)
        counts["keyword_occurrences"] += len(occurrences)
        if commit:
            conn.commit()
    if keywords_stored:  # new terms: every run of the dataset is counted again
        for other in runs.values():
            if other["run_id"] != run_id:
                refresh_keywords(conn, other["run_id"], dataset,
                                 _normalizer(other["normalizer"]), ranges=ranges,
                                 commit=commit)
    return counts


def _normalizer(name: str):
    """The run's normalizer; None for one this version does not know (a run stored by
    another tool or version): word times and keywords, which need it, are then skipped."""
    try:
        return get_normalizer(name)
    except AsrlensError:
        return None


def hallucination_rows(conn, run_id: str, dataset: str, ops: dict, normalizer, batch: dict):
    """hallucination_files and hallucination_events rows of one batch of a run's files (ops:
    their alignment, _ops_by_file). Audio is read only for files with an inserted word that
    has a time."""
    words = {}
    for utt_id, group in itertools.groupby(_sql(conn, "run_hyp_words", run_id=run_id, **batch),
                                           key=lambda r: r["utt_id"]):
        words[utt_id] = list(group)
    audio = {r["utt_id"]: r for r in _sql(conn, "run_audio", dataset=dataset, **batch)}
    files, events = [], []
    scored = [r["utt_id"] for r in _sql(conn, "scored_files", run_id=run_id, **batch)]
    for utt_id in scored:  # a file with both texts empty has no op, and still counts
        file_ops = ops.get(utt_id, ([], []))[0]
        n_hyp = sum(o.hyp_word is not None for o in file_ops)
        times = _times(words.get(utt_id), n_hyp, normalizer)
        silent = None
        if times is not None and any(o.op == "insert" and times[o.hyp_pos] is not None
                                     for o in file_ops):
            silent = _silence(audio.get(utt_id))
        row, found = hallucination.file_signals(
            file_ops, keys={"run_id": run_id, "utt_id": utt_id}, times=times, silent=silent)
        if times is not None and silent is None and row["inserted"] == 0:
            row.update(inserted_timed=0, inserted_in_silence=0)  # nothing to look at
        files.append(row)
        events += found
    return files, events


def _times(word_rows: list[dict] | None, n_hyp: int, normalizer) -> list | None:
    """(start_s, end_s) per normalized hypothesis word; None without usable word times."""
    if normalizer is None or not word_rows or all(w["start_s"] is None for w in word_rows):
        return None
    mapping = hallucination.word_index_map([w["word"] for w in word_rows], n_hyp, normalizer)
    if mapping is None:
        return None
    out = []
    for index in mapping:
        w = word_rows[index]
        ok = w["start_s"] is not None and w["end_s"] is not None
        out.append((w["start_s"], w["end_s"]) if ok else None)
    return out


def _silence(audio: dict | None):
    """silent_frames of a run_audio.sql row's audio (the span only, for a span of a longer
    recording); None when it is missing or unreadable."""
    if audio is None or not Path(audio["audio"]).exists():
        return None
    try:
        samples, rate = load_audio(audio["audio"], start_s=audio["start_s"],
                                   end_s=audio["end_s"])
    except AsrlensError:
        return None
    return hallucination.silent_frames(samples, rate)


def punctuation_rows(conn, run_id: str,
                     batch: dict) -> tuple[list[dict], list[dict], list[dict]]:
    """punctuation_files, punctuation_substitutions and casing_files rows of one batch of a
    run's files."""
    marks, subs, casing = [], [], []
    for row in _sql(conn, "raw_texts", run_id=run_id, **batch):
        keys = {"run_id": run_id, "utt_id": row["utt_id"]}
        counts = punctuation.punctuation_counts(row["ref_text"], row["hyp_text"] or "")
        for mark, ops in counts.amounts.items():
            if any(ops.values()):
                marks.append({**keys, "mark": mark, **ops})
        subs += [{**keys, "ref_mark": r, "hyp_mark": h, "count": n}
                 for (r, h), n in counts.substitutions.items()]
        c = punctuation.casing_counts(row["ref_text"], row["hyp_text"] or "")
        casing.append({**keys, "words": c.words, "casing_errors": c.errors,
                       "hyp_writes_case": punctuation.writes_case(row["hyp_text"] or ""),
                       "hyp_marks": sum(t in punctuation.PUNCTUATION_MARKS for t in
                                        punctuation.tokenize(row["hyp_text"] or "")),
                       "examples": "; ".join(f"{r} -> {h}" for r, h in c.examples[:3]) or None})
    return marks, subs, casing


def store_keywords(conn, dataset: str, source: str, *, ranges: list[dict]) -> int:
    """Replace the dataset's keyword terms with those of a file or 'label:COLUMN' (a labels
    column is read one batch of `ranges` at a time)."""
    if not source.startswith(keywords.LABEL_PREFIX):
        rows = [{"dataset": dataset, "term": term, "utt_id": None,
                 "source": str(Path(source).resolve())}
                for term in keywords.read_terms(source)]
        delete_rows(conn, "keywords", dataset=dataset)
        return insert_rows(conn, "keywords", rows)
    name = source[len(keywords.LABEL_PREFIX):].strip().lower()
    delete_rows(conn, "keywords", dataset=dataset)
    stored = 0
    for batch in ranges:
        cells = _sql(conn, "label_terms", dataset=dataset, column=name, **batch)
        stored += insert_rows(conn, "keywords", [
            {"dataset": dataset, "term": term, "utt_id": c["utt_id"], "source": source}
            for c in cells for term in dict.fromkeys(keywords.split_label_terms(c["value"]))])
    if not stored:
        raise AsrlensError(f"--keywords {source}: dataset {dataset} has no labels column "
                           f"{name!r} with terms (see utterance_labels)")
    return stored


def keyword_rows(conn, run_id: str, dataset: str, ops: dict, normalizer,
                 batch: dict) -> list[dict]:
    """keyword_occurrences rows of one batch of a run's files (ops: their alignment): the
    dataset's terms in each scored file."""
    stored = _sql(conn, "dataset_keywords", dataset=dataset, **batch)
    if normalizer is None:
        return []
    everywhere = {r["term"]: normalizer(r["term"]).split() for r in stored if r["utt_id"] is None}
    own: dict[str, dict] = {}
    for r in stored:
        if r["utt_id"] is not None:
            own.setdefault(r["utt_id"], {})[r["term"]] = normalizer(r["term"]).split()
    rows = []
    for utt_id, (file_ops, _) in ops.items():
        terms = {**everywhere, **own.get(utt_id, {})}
        if terms:
            rows += keywords.occurrences(terms, file_ops,
                                         keys={"run_id": run_id, "utt_id": utt_id})
    return rows


def refresh_keywords(conn, run_id: str, dataset: str, normalizer, *,
                     ranges: list[dict], commit: bool = False) -> None:
    """Count the dataset's (new) terms again in another run's files, batch by batch
    (commit: each batch committed)."""
    delete_rows(conn, "keyword_occurrences", run_id=run_id)
    for batch in ranges:
        ops = _ops_by_file(conn, named_query("analysis", "run_ops"), run_id, batch)
        insert_rows(conn, "keyword_occurrences",
                    keyword_rows(conn, run_id, dataset, ops, normalizer, batch))
        if commit:
            conn.commit()
