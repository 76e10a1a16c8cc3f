"""Common Voice: a split's .tsv (`client_id path sentence up_votes down_votes age gender
accents ...`, tab-separated, with a header) and the clips in `clips/`.

    asrlens ingest cv-corpus-17.0/en/                 # test.tsv (else dev, validated, train)
    asrlens ingest cv-corpus-17.0/en/validated.tsv    # that split

utt_id: the clip's name without extension; speaker: client_id; labels: every other column
(age, gender, accents, locale, ...), empty cells as NULL.
"""

from __future__ import annotations

import csv
from pathlib import Path

from asrlens.ingest.labels import PurePosixPath
from asrlens.ingest.layouts.common import (
    Collector,
    LayoutContext,
    LayoutResult,
    speaker_key,
    text_or_none,
)

EXPECTS = "test.tsv, dev.tsv or validated.tsv (client_id, path, sentence) and clips/"
SPLITS = ("test.tsv", "dev.tsv", "validated.tsv", "train.tsv", "other.tsv", "invalidated.tsv")
"""Split files looked for at the root, in this order."""
REQUIRED = ("path", "sentence")
CLIPS = "clips"


def detect(root: Path) -> Path | None:
    """The first of SPLITS at the root whose header has path and sentence."""
    for name in SPLITS:
        if claims(root / name):
            return root / name
    return None


def claims(path: Path) -> bool:
    """True when `path` is a .tsv whose header names client_id or path, and sentence."""
    if path.suffix.lower() != ".tsv" or not path.is_file():
        return False
    with open(path, encoding="utf-8", errors="replace") as f:
        header = f.readline().lstrip("\ufeff").rstrip("\r\n").split("\t")
    return all(column in header for column in REQUIRED) and "client_id" in header


def parse(ctx: LayoutContext) -> LayoutResult:
    manifest = ctx.manifest
    name = ctx.name(manifest)
    c = Collector(ctx, "commonvoice")
    with open(manifest, encoding="utf-8", errors="replace", newline="") as f:
        lines = f.read().lstrip("\ufeff").splitlines()
    header = lines[0].split("\t") if lines else []
    speaker = speaker_key(header, ctx.options.speaker_column)
    others = [h for h in header if h not in ("path", "sentence", speaker)]
    for number, row in enumerate(csv.reader(lines[1:], delimiter="\t", quoting=csv.QUOTE_NONE),
                                 start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            c.issue("bad_line", number, f"{name} line {number}: expected {len(header)} "
                    f"tab-separated fields like the header, found {len(row)}", file=name)
            continue
        cells = dict(zip(header, row, strict=True))
        clip = cells["path"].strip()
        folder = manifest.parent / CLIPS
        hint, why = c.audio_path(clip, base=folder if "/" not in clip else manifest.parent)
        if hint is None:
            c.issue("unsafe_path", number, f"{name} line {number}: {why}", file=name)
            continue
        c.add(PurePosixPath(clip).stem, cells["sentence"], line=number, file=name, hint=hint,
              speaker=text_or_none(cells.get(speaker)) if speaker else None,
              extra=tuple((h, text_or_none(cells[h])) for h in others))
    return c.result(manifest)
