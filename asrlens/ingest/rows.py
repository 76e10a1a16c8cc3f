"""The rows `ingest` stages for a dataset, one label or file at a time: datasets, utterances,
utterance_labels, ingest_issues (asrlens/schema.sql) and the facts read from each file; each
with its `ord`, the order it is stored in. audio_files rows and the issues found once all is
matched are built by DuckDB (asrlens/ingest/queries/audio_rows.sql, derived_issues.sql).
"""

from __future__ import annotations

import os
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

from asrlens.ingest.audio_stats import AudioFacts
from asrlens.ingest.labels import (
    AUDIO_SUFFIXES,
    LABEL_FILE_NAMES,
    Label,
    LabelIssue,
    ParsedLabels,
)
from asrlens.ingest.matching import _candidates
from asrlens.ingest.source import Source

FACT_COLUMNS = tuple(f.name for f in fields(AudioFacts) if f.name not in ("problem", "message"))
"""audio_files columns that come from reading the file (the rest: dataset, utt_id)."""

SECTION = 1 << 40
"""ingest_issues rows are stored in the order of their section (source, no_labels, labels,
missing_audio, then those of asrlens/ingest/queries/derived_issues.sql), then of their rank:
`ord` = section * SECTION + rank."""


def _fact_rows(facts: list[AudioFacts], first: int) -> list[dict]:
    """`facts` scratch rows (audio_files columns, problem, message, ord from `first`)."""
    return [{**{c: getattr(f, c) for c in FACT_COLUMNS}, "problem": f.problem,
             "message": f.message, "ord": first + i} for i, f in enumerate(facts)]


def _dataset_row(src: Source, labels_rel: str | None, labels_format: str | None, n_labels: int,
                 n_audio: int) -> dict:
    return dict(
        name=src.name,
        source=os.fspath(src.source),
        root=os.fspath(src.root),
        labels_path=labels_rel,
        labels_format=labels_format,
        n_labels=n_labels,
        n_audio=n_audio,
        ingested_at=datetime.now(UTC).replace(tzinfo=None),
        ord=0,
    )


def _utterance_row(dataset: str, label: Label, path: str | None, ord: int) -> dict:
    return dict(dataset=dataset, utt_id=label.utt_id, transcript=label.transcript,
                normalized_transcript=label.normalized_transcript, audio_path=path,
                labels_line=label.line, speaker=label.speaker, ord=ord)


def _label_rows(dataset: str, label: Label, ord: int) -> list[dict]:
    """utterance_labels rows: the extra columns of a label (a file with a header)."""
    return [dict(dataset=dataset, utt_id=label.utt_id, name=name, value=value,
                 ord=ord * 1000 + i) for i, (name, value) in enumerate(label.extra)]


def _issue(dataset: str, kind: str, message: str, *, section: int, rank: int,
           utt_id: str | None = None, path: str | None = None, line: int | None = None) -> dict:
    return dict(dataset=dataset, kind=kind, utt_id=utt_id, path=path, line=line,
                message=message, ord=section * SECTION + rank)


def _source_issues(src: Source, parsed: ParsedLabels) -> list[dict]:
    """The zip's issues (section 0), and no_labels (section 1) when there is no labels file."""
    rows = [_issue(src.name, i.kind, i.message, path=i.path, section=0, rank=n)
            for n, i in enumerate(src.issues)]
    if parsed.format is None:
        rows.append(_issue(src.name, "no_labels", f"no labels file in {src.root} (looked for "
                           f"{', '.join(LABEL_FILE_NAMES)}); pass --labels FILE",
                           section=1, rank=0))
    return rows


def _label_issue(dataset: str, labels_rel: str | None, issue: LabelIssue, rank: int) -> dict:
    """A labels file's issue (section 2)."""
    return _issue(dataset, issue.kind, issue.message, utt_id=issue.utt_id,
                  path=issue.path or labels_rel, line=issue.line or None, section=2, rank=rank)


def _missing_audio(dataset: str, labels_rel: str | None, label: Label, rank: int) -> dict:
    """The missing_audio issue of a label without audio (section 3)."""
    expected = _candidates(label)[0]
    return _issue(dataset, "missing_audio", f"{label.file or labels_rel} line {label.line}: "
                  f"no audio for {label.utt_id!r} (looked for {expected}"
                  f"{'' if label.audio_hint else ' and other extensions'})",
                  utt_id=label.utt_id, path=expected, line=label.line, section=3, rank=rank)


def _unsafe_links(dataset: str, unsafe_links: list[str]) -> list[dict]:
    """unsafe_path issues of symbolic links leading out of the dataset (section 7)."""
    return [_issue(dataset, "unsafe_path", f"{path}: symbolic link to a file outside the "
                   "dataset folder; not read", path=path, section=7, rank=n)
            for n, path in enumerate(unsafe_links)]


def _nothing_usable(src: Source, labels_file: Path | None, n: int, n_audio: int) -> str:
    """`n`: the labels file's issues; `n_audio`: the audio files found."""
    if labels_file is None:
        labels_part = f"no labels file ({', '.join(LABEL_FILE_NAMES)})"
    else:
        labels_part = f"no usable line in {labels_file} ({n} problem{'s' * (n != 1)})"
    audio_part = (f"none of the {n_audio} audio files could be decoded" if n_audio
                  else f"no audio files ({', '.join(AUDIO_SUFFIXES)})")
    return f"nothing usable in {src.source}: {labels_part} and {audio_part}"
