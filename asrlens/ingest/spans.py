"""Utterances that are spans of a longer recording (Kaldi `segments`, NeMo `offset`): each
span's audio statistics, measured on its frames only (utterance_spans in schema.sql).

    rows = span_rows("kaldi-test", root, spans, old_rows, unchanged_paths)

A span is re-read only when its recording changed or its bounds did; each recording is
opened once for all its spans, and only the span's frames are decoded.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import soundfile as sf

from asrlens.audio import open_audio, span_frames
from asrlens.ingest.audio_stats import _level_stats
from asrlens.ingest.labels import Label

STAT_COLUMNS = ("peak_dbfs", "rms_dbfs", "clipped_fraction", "silence_fraction",
                "non_finite_samples")


class _Window:
    """The frames [start, stop) of an open SoundFile, read like a SoundFile (_level_stats)."""

    def __init__(self, f: sf.SoundFile, start: int, stop: int) -> None:
        self.samplerate, self.channels = f.samplerate, f.channels
        self._f, self._left = f, stop - start
        f.seek(start)

    def read(self, frames: int, **kwargs):
        data = self._f.read(max(0, min(frames, self._left)), **kwargs)
        self._left -= len(data)
        return data


def span_rows(dataset: str, root: Path, spans: list[tuple[Label, str]], old: list[dict],
              unchanged: set[str]) -> list[dict]:
    """utterance_spans rows of the (label, audio path) pairs whose label is a span.

    `old`: the rows stored by the last ingest; one is kept as it is when its recording is in
    `unchanged` (same bytes and mtime, decoded fine) and its bounds are the same.
    """
    stored = {(r["utt_id"], r["path"], r["start_s"], r["end_s"]): r for r in old}
    rows, to_read = [], defaultdict(list)
    for label, path in spans:
        key = (label.utt_id, path, label.start_s, label.end_s)
        if path in unchanged and key in stored:
            rows.append({**stored[key], "dataset": dataset})
        else:
            to_read[path].append(label)
    for path, labels in to_read.items():
        rows += _read_recording(dataset, root, path, labels)
    return sorted(rows, key=lambda r: r["utt_id"])


def _read_recording(dataset: str, root: Path, path: str, labels: list[Label]) -> list[dict]:
    rows = []
    try:
        with sf.SoundFile(open_audio(root / path)) as f:
            for label in labels:
                start, stop = span_frames(f.frames, f.samplerate, label.start_s, label.end_s)
                stats, read = _level_stats(_Window(f, start, stop)) if stop > start else ({}, 0)
                rows.append(dict(_row(dataset, label, path), frames=read,
                                 duration_s=read / f.samplerate,
                                 **{c: stats.get(c) for c in STAT_COLUMNS}))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError, OSError):
        # the recording's own corrupt_audio issue says why; the spans keep no statistics
        rows = [dict(_row(dataset, label, path), frames=None, duration_s=None,
                     **dict.fromkeys(STAT_COLUMNS)) for label in labels]
    return rows


def _row(dataset: str, label: Label, path: str) -> dict:
    return dict(dataset=dataset, utt_id=label.utt_id, path=os.fspath(path),
                start_s=label.start_s, end_s=label.end_s)
