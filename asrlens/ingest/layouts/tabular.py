"""LJSpeech (`wavs/` + `id|transcript|normalized`, no header) and plain CSV/TSV (a header
naming a path or id column and a text column): both read by asrlens.ingest.labels.

    asrlens ingest LJSpeech-1.1/                 # wavs/ + metadata.csv
    asrlens ingest corpus/test.csv --layout csv --speaker-column reader

The speaker is the --speaker-column, else the first of SPEAKER_KEYS among the header's
columns; it is also kept in utterance_labels under its column name, as before speakers
were a column.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from asrlens.ingest.labels import (
    LABEL_FILE_NAMES,
    STREAM_BATCH,
    Label,
    ParsedLabels,
    StreamedLabels,
    find_labels_file,
    parse_labels,
    stream_labels,
)
from asrlens.ingest.layouts.common import LayoutContext, LayoutResult, speaker_key

LJSPEECH_EXPECTS = f"wavs/ and a labels file without header ({' or '.join(LABEL_FILE_NAMES[:2])})"
CSV_EXPECTS = "a .csv/.tsv whose header names a path column and a text column (path,text,...)"
CSV_SUFFIXES = (".csv", ".tsv", ".txt")


def detect_ljspeech(root: Path) -> Path | None:
    """The labels file of an LJSpeech-like folder (wavs/ or a labels file at the root)."""
    labels = find_labels_file(root)
    if labels is not None or (root / "wavs").is_dir():
        return labels or root / "wavs"
    return None


def detect_csv(root: Path) -> Path | None:
    """The single .csv/.tsv at the root with a header naming path and text columns."""
    found = [p for p in sorted(root.iterdir()) if p.suffix.lower() in CSV_SUFFIXES
             and p.is_file() and claims_csv(p)]
    return found[0] if len(found) == 1 else None


def claims_csv(path: Path) -> bool:
    """True when `path`'s first line is a header with a path and a text column."""
    from asrlens.ingest.labels import _detect_header

    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            first = f.readline().lstrip("\ufeff")
    except OSError:
        return False
    return _detect_header([(1, first.rstrip("\r\n"))]) is not None


def parse(ctx: LayoutContext) -> LayoutResult:
    """Labels of the file `ctx.manifest` (None: no labels file, audio only), read batch by
    batch (asrlens.ingest.labels.stream_labels); with --allow-outside-paths all at once,
    since the audio outside the dataset must be known before the labels are matched."""
    manifest = ctx.manifest if ctx.manifest is not None and ctx.manifest.is_file() else None
    if manifest is None:
        return LayoutResult(parsed=ParsedLabels(format=None), labels_file=None)
    options = dict(display_name=ctx.name(manifest), root=ctx.root,
                   allow_outside=ctx.options.allow_outside_paths)
    if not ctx.options.allow_outside_paths:
        streamed = stream_labels(manifest, **options)
        return LayoutResult(parsed=StreamedLabels(streamed.format, _with_speakers(
            streamed, ctx.options.speaker_column)), labels_file=manifest)
    parsed = parse_labels(manifest, **options)
    outside = sorted({os.path.normpath(label.audio_hint) for label in parsed.labels
                      if label.audio_hint and label.audio_hint.startswith("/")})
    parsed.labels = [record for record in _with_speakers(parsed, ctx.options.speaker_column)()
                     if isinstance(record, Label)]
    return LayoutResult(parsed=parsed, labels_file=manifest, outside=outside)


def _with_speakers(parsed: ParsedLabels, chosen: str | None):
    """A records function (labels and issues in order) whose labels carry their speaker:
    the --speaker-column, else the first of SPEAKER_KEYS among the extra columns."""
    def records():
        key, known = None, False
        for labels, issues in parsed.batches(STREAM_BATCH):
            yield from issues
            for label in labels:
                if not known:
                    names = [name for name, _ in label.extra]
                    key = speaker_key(names, chosen) if names else None
                    known = True
                yield (label if key is None else
                       dataclasses.replace(label, speaker=dict(label.extra).get(key)))
    return records
