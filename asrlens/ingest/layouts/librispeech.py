"""LibriSpeech: `SPEAKER/CHAPTER/SPEAKER-CHAPTER.trans.txt` files, each line
`UTTERANCE-ID TRANSCRIPT`, beside `UTTERANCE-ID.flac`.

    asrlens ingest LibriSpeech/test-clean/

utt_id: the line's id; speaker: the SPEAKER folder; labels: `chapter` (the CHAPTER folder)
and, when a SPEAKERS.TXT lies at the root or above it, `gender` (its SEX column).
"""

from __future__ import annotations

import os
from pathlib import Path

from asrlens.ingest.layouts.common import Collector, LayoutContext, LayoutResult

EXPECTS = "SPEAKER/CHAPTER/SPEAKER-CHAPTER.trans.txt files beside the .flac files"
TRANSCRIPT_SUFFIX = ".trans.txt"
SPEAKERS_FILE = "SPEAKERS.TXT"


def detect(root: Path) -> Path | None:
    """The root itself when a transcript file lies two folders down."""
    for path in root.glob(f"*/*/*{TRANSCRIPT_SUFFIX}"):
        if path.is_file():
            return root
    return None


def transcript_files(root: Path) -> list[Path]:
    """Every *.trans.txt under root (hidden folders skipped), sorted."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(folder) / f for f in files if f.endswith(TRANSCRIPT_SUFFIX)]
    return sorted(found)


def parse(ctx: LayoutContext) -> LayoutResult:
    files = ([ctx.manifest] if ctx.manifest is not None and ctx.manifest.is_file()
             else transcript_files(ctx.root))
    genders = _genders(ctx.root)
    c = Collector(ctx, "librispeech")
    for path in files:
        name = ctx.name(path)
        folder = path.parent
        speaker, chapter = folder.parent.name, folder.name
        data = path.read_bytes().decode("utf-8", errors="replace")
        for number, text in enumerate(data.splitlines(), start=1):
            if not text.strip():
                continue
            utt_id, _, transcript = text.strip().partition(" ")
            if not transcript.strip():
                c.issue("bad_line", number, f"{name} line {number}: expected "
                        "'UTTERANCE-ID TRANSCRIPT'", file=name, utt_id=utt_id or None)
                continue
            hint, why = c.audio_path(f"{utt_id}.flac", base=folder)
            if hint is None:
                c.issue("unsafe_path", number, f"{name} line {number}: {why}", file=name)
                continue
            extra = [("chapter", chapter)]
            if speaker in genders:
                extra.append(("gender", genders[speaker]))
            c.add(utt_id, transcript.strip(), line=number, file=name, hint=hint,
                  speaker=speaker, extra=tuple(extra))
    return c.result(None, labels_path=f"*/*/*{TRANSCRIPT_SUFFIX}")


def _genders(root: Path) -> dict[str, str]:
    """SPEAKER -> SEX from LibriSpeech's SPEAKERS.TXT (`ID | SEX | SUBSET | MINUTES | NAME`),
    looked for at the root and up to two folders above it."""
    for folder in (root, root.parent, root.parent.parent):
        path = folder / SPEAKERS_FILE
        if path.is_file():
            genders = {}
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                if line.startswith(";") or "|" not in line:
                    continue
                cells = [cell.strip() for cell in line.split("|")]
                if len(cells) >= 2 and cells[0]:
                    genders[cells[0]] = cells[1]
            return genders
    return {}
