"""Staging one dataset's rows into the scratch file (asrlens.ingest.staging), a batch at a
time: the labels as they are parsed, the audio files as they are read.

    fields = stage(scratch, src, layout_result, workers=None, progress=True)

Steps: list the audio (held: one index entry per file, for matching), stream the labels
through the index (utterances, utterance_labels, label and missing_audio issues written per
batch), decide in DuckDB which stored rows stand (same size and mtime), read the others a
batch at a time, then let DuckDB build the audio_files rows and the issues that need
everything matched (unlabelled_audio, ...). Only the summary's figures come back.
"""

from __future__ import annotations

import os
from pathlib import Path

from asrlens.errors import AsrlensError
from asrlens.ingest.audio_stats import read_batches
from asrlens.ingest.labels import STREAM_BATCH
from asrlens.ingest.layouts import LayoutResult
from asrlens.ingest.matching import AudioIndex, _list_audio, _relative_or_absolute, needs_read
from asrlens.ingest.rows import (
    FACT_COLUMNS,
    _dataset_row,
    _fact_rows,
    _label_issue,
    _label_rows,
    _missing_audio,
    _nothing_usable,
    _source_issues,
    _unsafe_links,
    _utterance_row,
)
from asrlens.ingest.source import Source
from asrlens.ingest.spans import span_rows
from asrlens.ingest.staging import Scratch


def stage(scratch: Scratch, src: Source, result: LayoutResult, *, workers: int | None,
          progress: bool) -> dict:
    """Stage the dataset's rows; returns the IngestSummary fields it knows (all but changed,
    seconds, layout and zip_entries_extracted)."""
    parsed = result.parsed
    labels_file = result.labels_file
    labels_rel = (result.labels_path or
                  (_relative_or_absolute(labels_file, src.root) if labels_file else None))
    disk_audio, unsafe_links = _list_audio(src.root)
    disk_audio += [p for p in result.outside if os.path.isfile(p)]
    embedded = sorted([f.path for f in result.embedded_facts]
                      + [r["path"] for r in result.embedded_reused])
    disk_audio.sort()
    n_audio = len(disk_audio) + len(embedded)
    for start in range(0, n_audio, STREAM_BATCH):
        scratch.append("listing", [
            dict(ord=i, path=disk_audio[i] if i < len(disk_audio)
                 else embedded[i - len(disk_audio)], embedded=i >= len(disk_audio))
            for i in range(start, min(n_audio, start + STREAM_BATCH))])
    index = AudioIndex(disk_audio + embedded)
    del disk_audio
    counts = _stage_labels(scratch, src.name, labels_rel, parsed, index, result.refused)
    del index
    recordings = counts.pop("recordings")
    spans = counts.pop("spans")
    scratch.append("outside", [dict(ord=i, path=p) for i, p in enumerate(result.outside)])
    scratch.run("insert into claims select path, null from unnest(?) as r(path) "
                "where path not in (select path from claims)", sorted(recordings))

    _stage_audio(scratch, src.root, result, workers=workers, progress=progress)
    scratch.build_audio_rows(src.name)
    usable = scratch.value("select count(*) from audio_files where duration_s <> 0")
    if not counts["labels"] and not usable:
        raise AsrlensError(_nothing_usable(src, labels_file, counts["label_issues"], n_audio))
    if spans:
        unchanged = {r["path"] for r in scratch.rows(
            "select path from reused union all select path from embedded_reused")
            if r["path"] in recordings}
        old = scratch.rows("select * from old_spans")
        rows = span_rows(src.name, src.root, spans, old, unchanged)
        scratch.append("utterance_spans", [dict(r, ord=i) for i, r in enumerate(rows)])

    scratch.append("ingest_issues", _source_issues(src, parsed) + _unsafe_links(
        src.name, unsafe_links))
    scratch.build_derived_issues(src.name)
    scratch.append("datasets", [_dataset_row(src, labels_rel, parsed.format, counts["labels"],
                                             n_audio)])
    figures = scratch.summary()
    scratch.sort()
    return dict(
        dataset=src.name,
        root=os.fspath(src.root),
        labels_path=labels_rel,
        labels_format=parsed.format,
        utterances=counts["labels"],
        with_audio=counts["matched"],
        labels_without_audio=counts["missing"],
        audio_files=n_audio,
        audio_without_labels=figures["audio_without_labels"],
        hours=figures["seconds"] / 3600,
        audio_hours=figures["audio_seconds"] / 3600,
        issues_by_kind=scratch.issue_counts(),
        files_read=figures["files_read"],
        files_skipped=figures["files_skipped"],
        files_new=figures["files_new"],
        files_updated=figures["files_updated"],
        files_removed=figures["files_removed"],
        speakers=figures["speakers"],
    )


def _stage_labels(scratch: Scratch, dataset: str, labels_rel: str | None, parsed,
                  index: AudioIndex, refused: set[str]) -> dict:
    """Match the labels batch by batch and stage utterances, utterance_labels, the labels
    file's issues and missing_audio; returns the counts, the spans ((label, path), held: a
    layout with segments) and the recordings they cut."""
    counts = dict(labels=0, matched=0, missing=0, label_issues=0)
    spans, recordings = [], set()
    for labels, issues in parsed.batches(STREAM_BATCH):
        issue_rows = [_label_issue(dataset, labels_rel, issue, counts["label_issues"] + n)
                      for n, issue in enumerate(issues)]
        counts["label_issues"] += len(issues)
        utterances, extra, claims = [], [], []
        for label in labels:
            rank = counts["labels"]
            counts["labels"] += 1
            path = index.take(label)
            if path is None:
                counts["missing"] += 1
                if label.utt_id not in refused:
                    issue_rows.append(_missing_audio(dataset, labels_rel, label, rank))
            elif label.start_s is not None:
                counts["matched"] += 1
                spans.append((label, path))
                recordings.add(path)
            else:
                counts["matched"] += 1
                claims.append(dict(path=path, utt_id=label.utt_id))
            utterances.append(_utterance_row(dataset, label, path, rank))
            extra += _label_rows(dataset, label, rank)
        scratch.append("ingest_issues", issue_rows)
        scratch.append("utterances", utterances)
        scratch.append("utterance_labels", extra)
        scratch.append("claims", claims)
    return dict(counts, spans=spans, recordings=recordings)


def _stage_audio(scratch: Scratch, root: Path, result: LayoutResult, *, workers: int | None,
                 progress: bool) -> None:
    """Stage `reused` (files whose stored row stands) and `facts` (files read now, and the
    embedded clips a layout read), a page at a time."""
    scratch.plan_reuse()
    for page in scratch.pages("reuse_check", "path, bytes, mtime"):
        scratch.append("reused", [dict(path=p) for p, size, mtime in page
                                  if not needs_read(root, p, size, mtime)])
    scratch.plan_reads()
    total = scratch.value("select count(*) from to_read")
    done = 0
    batches = ([path for (path,) in page] for page in scratch.pages("to_read", "path"))
    for facts in read_batches(root, batches, total=total, workers=workers, progress=progress):
        scratch.append("facts", _fact_rows(facts, done))
        done += len(facts)
    scratch.append("facts", _fact_rows(result.embedded_facts, done))
    scratch.append("embedded_reused", [
        {**{c: r.get(c) for c in FACT_COLUMNS}, "ord": i}
        for i, r in enumerate(result.embedded_reused)])
