"""What every layout shares: the context it reads in, the result it returns, and the
Collector that turns manifest entries into labels with the same checks for all of them
(empty id, path escaping the dataset, duplicate id).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from asrlens.errors import AsrlensError
from asrlens.ingest.audio_stats import AudioFacts
from asrlens.ingest.labels import Label, LabelIssue, ParsedLabels, audio_hint_path, unsafe_reason

SPEAKER_KEYS = ("speaker", "speaker_id", "spk", "spk_id", "client_id")
"""Column or key names (case-insensitive) read as the speaker when no --speaker-column is
given; the first one present is used."""


@dataclass(frozen=True)
class LayoutOptions:
    """What the user chose about a layout (asrlens ingest options)."""

    speaker_column: str | None = None  # --speaker-column: the speaker's column or key
    allow_outside_paths: bool = False  # --allow-outside-paths: absolute audio paths outside


@dataclass(frozen=True)
class LayoutContext:
    """Where a layout reads: the dataset root, its manifest (file or None), the options, and
    the audio rows stored by the last ingest (path -> row: a dict, or StoredAudio reading
    them from ingest's scratch file), for embedded audio."""

    root: Path
    manifest: Path | None
    options: LayoutOptions = LayoutOptions()
    old_audio: dict = field(default_factory=dict)

    def stored_starting_with(self, prefix: str) -> dict[str, dict]:
        """path -> stored audio row, of the stored paths starting with `prefix`."""
        if hasattr(self.old_audio, "starting_with"):  # asrlens.ingest.staging.StoredAudio
            return self.old_audio.starting_with(prefix)
        return {p: row for p, row in self.old_audio.items() if p.startswith(prefix)}

    def name(self, path: Path) -> str:
        """`path` as messages and ingest_issues name it: relative to root when inside."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return os.fspath(path)


@dataclass
class LayoutResult:
    """What a layout found: labels (with audio paths, speakers, spans), its issues, the
    labels file to record, and audio it read itself (embedded in a parquet file)."""

    parsed: ParsedLabels
    labels_file: Path | None = None
    labels_path: str | None = None  # datasets.labels_path when not labels_file ('*/*/*.trans.txt')
    embedded_facts: list[AudioFacts] = field(default_factory=list)  # decoded this time
    embedded_reused: list[dict] = field(default_factory=list)  # stored rows, same sha256
    outside: list[str] = field(default_factory=list)  # absolute audio paths allowed outside
    refused: set[str] = field(default_factory=set)  # utt ids whose audio an issue refused


class Collector:
    """Adds labels to a ParsedLabels with the checks every layout shares.

        c = Collector(ctx, "kaldi")
        c.add("utt1", "hello", line=3, file="text", hint="wav/rec1.wav", speaker="spk1")
        c.issue("bad_line", 4, "text line 4: no transcript", file="text")
    """

    def __init__(self, ctx: LayoutContext, format_name: str) -> None:
        self.ctx = ctx
        self.parsed = ParsedLabels(format=format_name)
        self.outside: list[str] = []
        self.refused: set[str] = set()
        self._seen: dict[str, tuple[str | None, int]] = {}

    def issue(self, kind: str, line: int, message: str, *, file: str | None = None,
              utt_id: str | None = None) -> None:
        self.parsed.issues.append(LabelIssue(kind=kind, line=line, message=message,
                                             utt_id=utt_id, path=file))

    def audio_path(self, written: str, *, base: Path | None = None) -> tuple[str | None, str]:
        """(path relative to root, or absolute when allowed outside; None when refused, why).

        `written` is the audio path as the manifest gives it, relative to `base` (default:
        the root) or absolute. An absolute path inside the dataset becomes relative to it.
        """
        posix = written.strip().replace("\\", "/")
        if not posix.startswith("/") and base is not None:
            relative_base = self.ctx.name(base)
            if relative_base not in ("", "."):
                posix = f"{relative_base}/{posix}"
            if relative_base.startswith("/"):  # the manifest itself lies outside the root
                posix = os.path.normpath(posix)
        hint = audio_hint_path(posix, self.ctx.root)
        reason = unsafe_reason(hint)
        if reason is None:
            return hint, ""
        absolute = os.path.normpath(hint)
        if hint.startswith("/") and self.ctx.options.allow_outside_paths:
            self.outside.append(absolute)
            return absolute, ""
        if hint.startswith("/"):
            return None, (f"audio path {written!r} is outside the dataset folder; pass "
                          "--allow-outside-paths to read it")
        return None, f"audio path {written!r} {reason}, which would escape the dataset folder"

    def add(self, utt_id: str, transcript: str | None, *, line: int, file: str | None,
            hint: str | None = None, normalized: str | None = None,
            speaker: str | None = None, extra: tuple[tuple[str, str | None], ...] = (),
            start_s: float | None = None, end_s: float | None = None) -> bool:
        """Add one label; False (and an issue) when it is refused."""
        where = f"{file} line {line}" if file else f"line {line}"
        utt_id = (utt_id or "").strip()
        if not utt_id:
            self.issue("bad_line", line, f"{where}: empty id", file=file)
            return False
        reason = unsafe_reason(utt_id) if hint is None else None
        if reason or "/" in utt_id and hint is None:
            self.issue("unsafe_path", line, f"{where}: id {utt_id!r} "
                       f"{reason or 'contains /'}; line skipped", file=file, utt_id=utt_id)
            return False
        if transcript is None:
            self.issue("bad_line", line, f"{where}: no transcript for {utt_id!r}", file=file,
                       utt_id=utt_id)
            return False
        if utt_id in self._seen:
            first_file, first_line = self._seen[utt_id]
            at = f"{first_file} line {first_line}" if first_file else f"line {first_line}"
            self.issue("duplicate_id", line, f"{where}: id {utt_id!r} already on {at}; the "
                       "first one is kept", file=file, utt_id=utt_id)
            return False
        self._seen[utt_id] = (file, line)
        self.parsed.labels.append(Label(
            utt_id=utt_id, transcript=transcript, normalized_transcript=normalized or None,
            line=line, audio_hint=hint, extra=extra, speaker=speaker or None, start_s=start_s,
            end_s=end_s, file=file))
        return True

    def result(self, labels_file: Path | None, **more) -> LayoutResult:
        self.parsed.issues.sort(key=lambda i: (i.path or "", i.line))
        return LayoutResult(parsed=self.parsed, labels_file=labels_file,
                            outside=sorted(set(self.outside)), refused=self.refused, **more)


def speaker_key(names: list[str], chosen: str | None) -> str | None:
    """The column/key holding the speaker: `chosen` (--speaker-column) when present, else the
    first of SPEAKER_KEYS present; None when there is none."""
    lowered = {n.lower(): n for n in names}
    if chosen:
        if chosen.lower() not in lowered:
            raise AsrlensError(f"--speaker-column {chosen}: no such column or key (there are: "
                               f"{', '.join(names) or 'none'})")
        return lowered[chosen.lower()]
    return next((lowered[k] for k in SPEAKER_KEYS if k in lowered), None)


def text_or_none(value) -> str | None:
    """A manifest value as utterance_labels stores it: text, None when empty or missing."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text.strip() or None
