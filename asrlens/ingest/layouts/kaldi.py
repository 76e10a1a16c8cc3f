"""Kaldi data directories: `wav.scp` (`RECORDING-ID PATH`), `text` (`UTTERANCE-ID
TRANSCRIPT`), optional `utt2spk` (`UTTERANCE-ID SPEAKER`), `segments` (`UTTERANCE-ID
RECORDING-ID START END`, END -1: to the end) and `spk2gender` (`SPEAKER m|f`).

    asrlens ingest data/test/

Without `segments` an utterance is its recording (same id). A wav.scp entry that is a shell
command (`sox in.wav -t wav - |`), or any other extended filename, is refused with a
`pipe_command` issue: asrlens never runs a command from a dataset file.
"""

from __future__ import annotations

from pathlib import Path

from asrlens.ingest.layouts.common import Collector, LayoutContext, LayoutResult

EXPECTS = "wav.scp and text (optional utt2spk, segments, spk2gender)"
REQUIRED = ("wav.scp", "text")


def detect(root: Path) -> Path | None:
    return root / "text" if all((root / n).is_file() for n in REQUIRED) else None


def claims(path: Path) -> bool:
    return path.name in REQUIRED and all((path.parent / n).is_file() for n in REQUIRED)


def parse(ctx: LayoutContext) -> LayoutResult:
    folder = (ctx.manifest.parent if ctx.manifest is not None and ctx.manifest.is_file()
              else ctx.root)
    c = Collector(ctx, "kaldi")
    recordings, refused = _recordings(c, ctx, folder)
    speakers = {key: value for key, value, _ in _table(c, ctx, folder / "utt2spk")}
    genders = {key: value for key, value, _ in _table(c, ctx, folder / "spk2gender")}
    segments = _segments(c, ctx, folder / "segments")
    text_name = ctx.name(folder / "text")
    for utt_id, transcript, number in _table(c, ctx, folder / "text", empty_value=True):
        start = end = None
        recording = utt_id
        if segments is not None:
            if utt_id not in segments:
                c.issue("bad_line", number, f"{text_name} line {number}: {utt_id!r} is in no "
                        "line of segments", file=text_name, utt_id=utt_id)
                continue
            recording, start, end = segments[utt_id]
        speaker = speakers.get(utt_id)
        extra = (("gender", genders[speaker]),) if speaker in genders else ()
        added = c.add(utt_id, transcript, line=number, file=text_name,
                      hint=recordings.get(recording), speaker=speaker, extra=extra,
                      start_s=start, end_s=end)
        if added and recordings.get(recording) is None and recording in refused:
            c.refused.add(utt_id)  # its pipe_command issue says why it has no audio
    return c.result(folder / "text")


def _table(c: Collector, ctx: LayoutContext, path: Path, *,
           empty_value: bool = False) -> list[tuple[str, str, int]]:
    """(key, rest of line, line number) of a Kaldi table file; [] when it does not exist."""
    if not path.is_file():
        return []
    name = ctx.name(path)
    rows = []
    for number, line in enumerate(path.read_bytes().decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        key, _, value = line.strip().partition(" ")
        if not value.strip() and not empty_value:
            c.issue("bad_line", number, f"{name} line {number}: expected 'KEY VALUE'",
                    file=name, utt_id=key or None)
            continue
        rows.append((key, value.strip(), number))
    return rows


def _recordings(c: Collector, ctx: LayoutContext,
                folder: Path) -> tuple[dict[str, str], set[str]]:
    """recording id -> audio path (relative to root) of every plain-file wav.scp entry, and
    the ids of the entries refused (commands, unsafe paths)."""
    name = ctx.name(folder / "wav.scp")
    recordings: dict[str, str] = {}
    refused: set[str] = set()
    for key, value, number in _table(c, ctx, folder / "wav.scp"):
        if value.endswith("|") or value.startswith("-") or "|" in value:
            c.issue("pipe_command", number, f"{name} line {number}: {key!r} is a shell "
                    f"command ({value[:60]!r}); asrlens never runs commands from a dataset: "
                    "convert the audio to files and list their paths", file=name)
            refused.add(key)
            continue
        if key in recordings:
            c.issue("duplicate_id", number, f"{name} line {number}: recording {key!r} "
                    "listed before; the first one is kept", file=name)
            continue
        hint, why = c.audio_path(value, base=folder)
        if hint is None:
            c.issue("unsafe_path", number, f"{name} line {number}: {why}", file=name)
            refused.add(key)
            continue
        recordings[key] = hint
    return recordings, refused


def _segments(c: Collector, ctx: LayoutContext,
              path: Path) -> dict[str, tuple[str, float, float | None]] | None:
    """utt id -> (recording, start s, end s or None); None when there is no segments file."""
    if not path.is_file():
        return None
    name = ctx.name(path)
    segments = {}
    for key, value, number in _table(c, ctx, path):
        fields = value.split()
        try:
            recording, start, end = fields[0], float(fields[1]), float(fields[2])
        except (IndexError, ValueError):
            fields = []
        if len(fields) != 3 or start < 0 or (end != -1 and end <= start):
            c.issue("bad_line", number, f"{name} line {number}: expected 'UTTERANCE-ID "
                    "RECORDING-ID START END' with 0 <= START < END (END -1: to the end)",
                    file=name, utt_id=key)
            continue
        segments[key] = (recording, start, None if end == -1 else end)
    return segments
