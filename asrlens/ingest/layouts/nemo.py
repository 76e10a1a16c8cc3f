"""NeMo manifests: JSON lines `{"audio_filepath": ..., "text": ..., "duration": ...}`, with an
optional `offset` (then the line is the span [offset, offset + duration) of the file) and
any other keys.

    asrlens ingest data/test_manifest.json
    asrlens ingest data/ --layout nemo            # the single .json/.jsonl manifest in it

audio_filepath: relative to the manifest's folder, or absolute (inside the dataset, or
outside with --allow-outside-paths). utt_id: the `utt_id` or `id` key, else the file's name
without extension, with `-<start ms>-<end ms>` added for a span. speaker: the `speaker` key
(or --speaker-column); labels: every other key but text, duration and offset.
"""

from __future__ import annotations

import json
import math
from pathlib import Path, PurePosixPath

from asrlens.ingest.layouts.common import (
    Collector,
    LayoutContext,
    LayoutResult,
    speaker_key,
    text_or_none,
)

EXPECTS = "a .json/.jsonl manifest of lines {audio_filepath, text, duration[, offset]}"
SUFFIXES = (".json", ".jsonl")
PATH_KEY = "audio_filepath"
TEXT_KEYS = ("text", "pred_text_reference", "transcript")
ID_KEYS = ("utt_id", "id")
SPAN_KEYS = ("offset", "duration")


def detect(root: Path) -> Path | None:
    """The single NeMo manifest at the root, or None."""
    found = [p for p in sorted(root.iterdir()) if claims(p)]
    return found[0] if len(found) == 1 else None


def claims(path: Path) -> bool:
    """True when `path` is a .json/.jsonl file whose first line is an object with
    audio_filepath."""
    if path.suffix.lower() not in SUFFIXES or not path.is_file():
        return False
    with open(path, encoding="utf-8", errors="replace") as f:
        first = f.readline()
    try:
        return PATH_KEY in json.loads(first)
    except (ValueError, TypeError):
        return False


def parse(ctx: LayoutContext) -> LayoutResult:
    manifest = ctx.manifest
    name = ctx.name(manifest)
    c = Collector(ctx, "nemo")
    data = manifest.read_bytes().decode("utf-8", errors="replace")
    for number, text in enumerate(data.splitlines(), start=1):
        if not text.strip():
            continue
        entry = _entry(text)
        if entry is None:
            c.issue("bad_line", number, f"{name} line {number}: not a JSON object with "
                    f"{PATH_KEY!r}", file=name)
            continue
        _add(c, ctx, entry, number, name, manifest.parent)
    return c.result(manifest)


def _entry(text: str) -> dict | None:
    try:
        entry = json.loads(text)
    except ValueError:
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get(PATH_KEY), str):
        return None
    return entry


def _add(c: Collector, ctx: LayoutContext, entry: dict, number: int, name: str,
         base: Path) -> None:
    where = f"{name} line {number}"
    hint, why = c.audio_path(entry[PATH_KEY], base=base)
    if hint is None:
        c.issue("unsafe_path", number, f"{where}: {why}", file=name)
        return
    text_key = next((k for k in TEXT_KEYS if k in entry), None)
    span = _span(entry)
    if span is False:
        c.issue("bad_line", number, f"{where}: offset and duration must be numbers >= 0",
                file=name)
        return
    id_key = next((k for k in ID_KEYS if k in entry), None)
    utt_id = str(entry[id_key]) if id_key else PurePosixPath(hint).stem
    if span and not id_key:
        utt_id += f"-{round(span[0] * 1000):07d}-{round(span[1] * 1000):07d}"
    speaker = speaker_key(list(entry), ctx.options.speaker_column)
    skip = {PATH_KEY, text_key, id_key, speaker, *SPAN_KEYS}
    extra = tuple((k, text_or_none(v)) for k, v in entry.items() if k not in skip)
    transcript = entry.get(text_key) if text_key else None
    c.add(utt_id, None if transcript is None else str(transcript), line=number, file=name,
          hint=hint, speaker=text_or_none(entry.get(speaker)) if speaker else None,
          extra=extra, start_s=span[0] if span else None, end_s=span[1] if span else None)


def _span(entry: dict) -> tuple[float, float] | None | bool:
    """(start, end) seconds when the entry has an offset; None: the whole file; False: bad."""
    if "offset" not in entry:
        return None
    try:
        offset = float(entry["offset"])
        duration = float(entry.get("duration"))
    except (TypeError, ValueError):
        return False
    if not (math.isfinite(offset) and math.isfinite(duration)) or offset < 0 or duration < 0:
        return False
    return offset, offset + duration
