"""Parsing a labels file into utterances: LJSpeech (`id|transcript|normalized`) or a CSV/TSV
with a header.

    parsed = parse_labels(Path("labels.csv"))
    parsed.format          # 'ljspeech'
    parsed.labels[0]       # Label(utt_id='LJ001-0001', transcript='Printing, ...', ...)
    parsed.issues          # bad lines, duplicate ids, undecodable bytes, with line numbers

LJSpeech format: no header, one utterance per line, `|`-separated, 2 or 3 fields. Quotes are
part of the text (no CSV quoting). A file is read as CSV/TSV with a header instead when its
first line names a path column and a text column (see PATH_COLUMNS and TEXT_COLUMNS); then
commas are CSV (with its quoting rules), tabs and `|` plain separators.
"""

from __future__ import annotations

import csv
import os
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from asrlens.errors import AsrlensError

LABEL_FILE_NAMES = ("labels.csv", "metadata.csv", "labels.tsv", "metadata.tsv", "labels.txt")
"""Labels files looked for at the dataset root, in this order, when --labels is not given."""

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
"""Audio extensions searched for a label id (`wavs/<id>.wav` first), in order of preference."""

PATH_COLUMNS = (
    "id", "utt_id", "utterance_id", "path", "audio", "audio_path", "file", "filename",
    "file_name", "wav", "wav_filename", "audio_filepath",
)
"""Header names (case-insensitive) recognised as the id / audio path column."""

TEXT_COLUMNS = ("transcript", "text", "transcription", "sentence", "raw_transcript", "label")
"""Header names (case-insensitive) recognised as the raw transcript column."""

NORMALIZED_COLUMNS = (
    "normalized_transcript", "normalized_text", "normalized", "norm_text", "normalized_sentence",
)
"""Header names (case-insensitive) recognised as the normalized transcript column (optional)."""

HEADER_DELIMITERS = {",": "csv", "\t": "tsv", "|": "psv"}
"""Separator of a file with a header -> the labels_format recorded for it."""

LJSPEECH_FIELDS = (2, 3)
"""Fields allowed on an LJSpeech line: id|transcript or id|transcript|normalized."""

STREAM_BATCH = 10_000
"""Labels per batch when a labels file is read batch by batch (stream_labels)."""

_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True, slots=True)
class Label:
    """One usable labels line.

    `audio_hint` is the audio path the line names (CSV path columns such as `wavs/x.wav`),
    relative to the dataset root; None when the line gives only an id (LJSpeech).
    `extra` holds the other columns of a file with a header, (name, value) in header order:
    speaker, accent, split, ... (stored in utterance_labels); empty for LJSpeech.
    """

    utt_id: str
    transcript: str
    normalized_transcript: str | None
    line: int  # 1-based line number in the labels file
    audio_hint: str | None = None
    extra: tuple[tuple[str, str | None], ...] = ()
    speaker: str | None = None  # utterances.speaker (other layouts: asrlens/ingest/layouts)
    start_s: float | None = None  # a span of a longer recording: [start_s, end_s) seconds
    end_s: float | None = None  # None with start_s set: to the end of the recording
    file: str | None = None  # the labels file of the line, when a layout reads several


@dataclass(frozen=True, slots=True)
class LabelIssue:
    """A labels line that could not be used as written (kinds as in schema.sql ingest_issues)."""

    kind: str  # 'bad_line', 'duplicate_id', 'undecodable_text', 'unsafe_path'
    line: int
    message: str
    utt_id: str | None = None
    path: str | None = None  # the file concerned, when not the labels file (layouts)


@dataclass
class ParsedLabels:
    """What parse_labels found: the labels to keep, the problems, and the format detected."""

    format: str  # 'ljspeech', 'csv', 'tsv' or 'psv'
    labels: list[Label] = field(default_factory=list)
    issues: list[LabelIssue] = field(default_factory=list)

    def batches(self, size: int) -> Iterator[tuple[list[Label], list[LabelIssue]]]:
        """(labels, issues) at most `size` labels at a time, in file order; the issues all
        come with the first batch."""
        yield self.labels[:size], self.issues
        for start in range(size, len(self.labels), size):
            yield self.labels[start:start + size], []


class StreamedLabels(ParsedLabels):
    """ParsedLabels read from the file batch by batch (stream_labels): `labels` and `issues`
    stay empty; `batches` parses the file again each time it is called, holding one batch."""

    def __init__(self, format: str, records: Callable[[], Iterator[Label | LabelIssue]]):
        super().__init__(format=format)
        self._records = records

    def batches(self, size: int) -> Iterator[tuple[list[Label], list[LabelIssue]]]:
        labels: list[Label] = []
        issues: list[LabelIssue] = []
        for record in self._records():
            (labels if isinstance(record, Label) else issues).append(record)
            if len(labels) + len(issues) >= size:
                yield labels, issues
                labels, issues = [], []
        if labels or issues:
            yield labels, issues


def find_labels_file(root: Path) -> Path | None:
    """The first of LABEL_FILE_NAMES present at `root`, or None."""
    for name in LABEL_FILE_NAMES:
        candidate = root / name
        if candidate.is_file():
            return candidate
    return None


def parse_labels(
    path: Path, *, display_name: str | None = None, root: Path | None = None,
    allow_outside: bool = False,
) -> ParsedLabels:
    """Parse a labels file; never raises on bad lines (they become issues with line numbers).

    Raises AsrlensError only when the file itself cannot be read. `display_name` is how the
    file is named in messages (default: its path). `root`: the dataset folder, so that audio
    paths written as absolute paths inside it are accepted (see audio_hint_path).
    allow_outside: accept absolute audio paths outside it too (--allow-outside-paths).
    All labels are held; stream_labels reads the same batch by batch.
    """
    streamed = stream_labels(path, display_name=display_name, root=root,
                             allow_outside=allow_outside)
    parsed = ParsedLabels(format=streamed.format)
    for labels, issues in streamed.batches(STREAM_BATCH):
        parsed.labels += labels
        parsed.issues += issues
    return parsed


def stream_labels(
    path: Path, *, display_name: str | None = None, root: Path | None = None,
    allow_outside: bool = False,
) -> StreamedLabels:
    """parse_labels without holding the file: the format is read from its first line now,
    the labels and issues come batch by batch from `.batches(size)`, in line order (an
    undecodable line's issue before the line's other one). Only the ids seen so far are
    held (for duplicate_id). Raises AsrlensError when the file cannot be read."""
    name = display_name or os.fspath(path)
    first = next((item for item in _read_lines(path, name) if isinstance(item, tuple)), None)
    header = _detect_header([first] if first else [])

    def records() -> Iterator[Label | LabelIssue]:
        lines = _read_lines(path, name)
        if header is None:
            yield from _parse_ljspeech(lines, name)
        else:
            yield from _parse_with_header(lines, header[0], name, root, allow_outside)

    return StreamedLabels("ljspeech" if header is None else HEADER_DELIMITERS[header[0]],
                          records)


def unsafe_reason(relative: str) -> str | None:
    """Why an id or path would escape the dataset folder ('..', absolute), else None."""
    if not relative:
        return None
    if relative.startswith(("/", "\\")) or _DRIVE.match(relative):
        return "is an absolute path"
    parts = re.split(r"[\\/]", relative)
    if ".." in parts:
        return "contains '..'"
    return None


def _read_lines(path: Path, name: str) -> Iterator[tuple[int, str] | LabelIssue]:
    """(line number, text) of every non-blank line, each after the undecodable_text issue
    of its line if any (such a line is decoded with U+FFFD). Lines end at b'\\n' only; a
    trailing '\\r' is dropped."""
    try:
        with open(path, "rb") as f:
            for number, raw in enumerate(f, start=1):
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                raw = (raw[:-1] if raw.endswith(b"\n") else raw).rstrip(b"\r")
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    text = raw.decode("utf-8", errors="replace")
                    yield LabelIssue(
                        kind="undecodable_text",
                        line=number,
                        message=f"{name} line {number}: bytes that are not UTF-8 at column "
                        f"{exc.start + 1}; read with replacement characters (U+FFFD)",
                    )
                if text.strip():
                    yield number, text
    except OSError as exc:
        raise AsrlensError(f"cannot read labels file {name}: {exc.strerror or exc}") from exc


def _detect_header(lines: list[tuple[int, str]]) -> tuple[str, int] | None:
    """(delimiter, index of the header line) when the first line is a header, else None."""
    if not lines:
        return None
    first = lines[0][1]
    for delimiter in HEADER_DELIMITERS:
        if delimiter not in first:
            continue
        names = {cell.strip().strip('"').lower() for cell in first.split(delimiter)}
        if names & set(PATH_COLUMNS) and names & set(TEXT_COLUMNS):
            return delimiter, 0
    return None


def _parse_ljspeech(
    lines: Iterable[tuple[int, str] | LabelIssue], name: str
) -> Iterator[Label | LabelIssue]:
    seen: dict[str, int] = {}
    for item in lines:
        if isinstance(item, LabelIssue):
            yield item
            continue
        number, text = item
        fields = text.split("|")
        if len(fields) not in LJSPEECH_FIELDS:
            yield LabelIssue(
                kind="bad_line",
                line=number,
                message=f"{name} line {number}: expected 2 or 3 '|'-separated fields "
                f"(id|transcript|normalized transcript), found {len(fields)}",
            )
            continue
        normalized = fields[2] if len(fields) == 3 and fields[2].strip() else None
        yield _add_label(seen, name, number, fields[0].strip(), fields[1], normalized, None)


def _parse_with_header(
    lines: Iterable[tuple[int, str] | LabelIssue], delimiter: str, name: str,
    root: Path | None, allow_outside: bool = False,
) -> Iterator[Label | LabelIssue]:
    """The first line of `lines` (after its issue, if any) is the header."""
    columns: list[str] | None = None
    seen: dict[str, int] = {}
    for item in lines:
        if isinstance(item, LabelIssue):
            yield item
            continue
        number, text = item
        if columns is None:
            header_number = number
            columns = [cell.strip().strip('"').lower() for cell in text.split(delimiter)]
            path_col = _first_index(columns, PATH_COLUMNS)
            text_col = _first_index(columns, TEXT_COLUMNS)
            norm_col = _first_index(columns, NORMALIZED_COLUMNS)
            extra_cols = _extra_columns(columns, {path_col, text_col, norm_col})
            continue
        cells = _split_row(text, delimiter)
        if len(cells) != len(columns):
            yield LabelIssue(
                kind="bad_line",
                line=number,
                message=f"{name} line {number}: expected {len(columns)} fields like the "
                f"header on line {header_number}, found {len(cells)}",
            )
            continue
        value = cells[path_col].strip()
        utt_id, hint = _id_and_hint(value, root)
        normalized = cells[norm_col] if norm_col is not None and cells[norm_col].strip() else None
        extra = tuple((columns[i], cells[i].strip() or None) for i in extra_cols)
        yield _add_label(seen, name, number, utt_id, cells[text_col], normalized, hint,
                         raw_value=value, extra=extra,
                         allow_absolute=allow_outside and bool(hint) and hint.startswith("/"))


def _split_row(text: str, delimiter: str) -> list[str]:
    """Cells of one data line; commas follow CSV quoting, tabs and `|` are plain separators."""
    if delimiter != ",":
        return text.split(delimiter)
    try:
        return next(csv.reader([text], strict=True))
    except csv.Error:
        return []  # reported as a wrong field count


def _id_and_hint(value: str, root: Path | None = None) -> tuple[str, str | None]:
    """An id column holds either an id ('LJ001-0001') or an audio path ('wavs/LJ001-0001.wav')."""
    posix = value.replace("\\", "/")
    if posix.lower().endswith(AUDIO_SUFFIXES):
        return PurePosixPath(posix).stem, audio_hint_path(posix, root)
    return value, None


def audio_hint_path(posix: str, root: Path | None) -> str:
    """An audio path from a labels file, relative to the dataset root where it can be.

    './audio/x.flac' and 'audio//x.flac' become 'audio/x.flac'; an absolute path inside
    `root` (as written, or once its folder's symbolic links are resolved) becomes relative
    to it. Anything else is returned as written (normalised), so that unsafe_reason refuses
    a path that leads outside ('../x.wav', '/elsewhere/x.wav').
    """
    if posix.startswith("/") and root is not None:
        absolute = PurePosixPath(posixpath.normpath(posix))
        real = PurePosixPath(os.path.realpath(absolute.parent)) / absolute.name
        for base in dict.fromkeys([root.absolute(), root.resolve()]):
            for candidate in (absolute, real):
                if candidate.is_relative_to(base.as_posix()):
                    return candidate.relative_to(base.as_posix()).as_posix()
        return posix
    if _DRIVE.match(posix) or posix.startswith("/"):
        return posix
    return posixpath.normpath(posix)


def _add_label(
    seen: dict[str, int], name: str, number: int, utt_id: str,
    transcript: str, normalized: str | None, hint: str | None, *, raw_value: str | None = None,
    extra: tuple[tuple[str, str | None], ...] = (), allow_absolute: bool = False,
) -> Label | LabelIssue:
    def refuse(kind: str, why: str) -> LabelIssue:
        return LabelIssue(kind=kind, line=number, utt_id=utt_id or None,
                          message=f"{name} line {number}: {why}")

    if not utt_id:
        return refuse("bad_line", "empty id")
    reason = None if allow_absolute else unsafe_reason(
        hint if hint is not None else raw_value if raw_value is not None else utt_id)
    if reason:
        return refuse("unsafe_path", f"id {raw_value or utt_id!r} {reason}, which would "
                      "escape the dataset folder; line skipped")
    if utt_id in seen:
        return refuse("duplicate_id", f"id {utt_id!r} already on line {seen[utt_id]}; the "
                      "first one is kept")
    seen[utt_id] = number
    return Label(utt_id, transcript, normalized, number, hint, extra)


def _extra_columns(columns: list[str], used: set[int | None]) -> list[int]:
    """Indexes of the header's other columns: named, and the first of any repeated name."""
    seen: set[str] = set()
    extra = []
    for index, column in enumerate(columns):
        if index in used or not column or column in seen:
            continue
        seen.add(column)
        extra.append(index)
    return extra


def _first_index(columns: list[str], names: tuple[str, ...]) -> int | None:
    for wanted in names:
        if wanted in columns:
            return columns.index(wanted)
    return None
