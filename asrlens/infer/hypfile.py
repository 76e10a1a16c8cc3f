"""Read hypothesis files written by other recognizers: sclite trn, CSV/TSV, JSON lines, NeMo.

    parsed = read_hypotheses(Path("whisper.csv"), fmt="auto")
    parsed.fmt, parsed.lines[0]      # 'csv', HypLine(line=2, key='LJ001-0001', text='...')
    parsed.problems                  # [(line, key, message)] for lines that could not be read
    for item in open_hypotheses(Path("whisper.csv")):   # a line at a time (a big file)
        ...                          # HypLine, or BadLine(line, key, message)

Formats (one hypothesis per line or record; `key` is an utterance id or an audio path):
  trn    sclite's `TEXT (KEY)`
  csv    comma-separated, `KEY,HYPOTHESIS`; a first row naming the columns (see ID_FIELDS and
  tsv    TEXT_FIELDS, e.g. `utt_id,hypothesis`) is a header, other columns are then ignored
  jsonl  one JSON object per line with an id field and a text field (ID_FIELDS, TEXT_FIELDS;
         the fields are chosen from the first object and must be in every line)
  nemo   a NeMo manifest: JSON lines with `audio_filepath` and `pred_text` (its `text` is
         the reference and is not read)
'auto' goes by the file's suffix (.trn, .csv, .tsv, .json/.jsonl/.ndjson: nemo when the
first object has audio_filepath and pred_text), else by the first line's look.

Nothing is dropped silently: a line that cannot be parsed is a problem with its line number.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from asrlens.errors import AsrlensError

FORMATS = ("trn", "csv", "tsv", "jsonl", "nemo")
ID_FIELDS = ("utt_id", "id", "utterance_id", "uttid", "key", "audio_filepath", "audio_path",
             "path", "file", "filename", "wav_filename", "audio")
"""Names of the id column or field, in order of preference (case-insensitive for CSV)."""
TEXT_FIELDS = ("hypothesis", "hyp", "pred_text", "prediction", "transcription", "text",
               "transcript", "sentence")
"""Names of the hypothesis column or field, in order of preference."""
SUFFIXES = {".trn": "trn", ".csv": "csv", ".tsv": "tsv", ".json": "jsonl", ".jsonl": "jsonl",
            ".ndjson": "jsonl"}

_TRN_LINE = re.compile(r"^(?P<text>.*?)\s*\((?P<key>[^()]*)\)\s*$")


@dataclass(frozen=True)
class HypLine:
    """One hypothesis read from the file: 1-based line, the id or path it names, its text."""

    line: int
    key: str
    text: str


@dataclass(frozen=True)
class BadLine:
    """A line that could not be used: 1-based line, the key when one was read, why."""

    line: int
    key: str | None
    message: str


@dataclass
class ParsedFile:
    """A hypothesis file read: its format, the hypotheses, and the lines it could not use."""

    fmt: str
    lines: list[HypLine] = field(default_factory=list)
    problems: list[tuple[int, str | None, str]] = field(default_factory=list)


@dataclass(frozen=True)
class HypStream:
    """A hypothesis file checked (UTF-8) and its format known, read a line at a time:
    iterating yields a HypLine or a BadLine per line, in file order. Memory does not grow
    with the file. Iterating raises AsrlensError where read_hypotheses would."""

    path: Path
    fmt: str

    def __iter__(self) -> Iterator[HypLine | BadLine]:
        reader = {"trn": _read_trn, "csv": _read_table, "tsv": _read_table,
                  "jsonl": _read_jsonl, "nemo": _read_jsonl}[self.fmt]
        try:
            # csv splits lines itself (newline=""); the others split as str.splitlines
            with self.path.open(encoding="utf-8-sig",
                                newline="" if self.fmt in ("csv", "tsv") else None) as file:
                yield from reader(file, self.fmt, self.path)
        except OSError as exc:
            raise AsrlensError(f"cannot read {self.path}: {exc.strerror or exc}") from exc


def read_hypotheses(path: Path, *, fmt: str = "auto") -> ParsedFile:
    """Parse `path` as `fmt` ('auto' detects it), all lines at once. Raises AsrlensError when
    the file cannot be read, is not UTF-8, or its header or first record names no id or
    hypothesis field."""
    stream = open_hypotheses(path, fmt=fmt)
    parsed = ParsedFile(stream.fmt)
    for item in stream:
        if isinstance(item, HypLine):
            parsed.lines.append(item)
        else:
            parsed.problems.append((item.line, item.key, item.message))
    return parsed


def open_hypotheses(path: Path, *, fmt: str = "auto") -> HypStream:
    """`path` checked to be UTF-8 text of a known format ('auto' detects it), ready to be
    read a line at a time. Raises AsrlensError when the file cannot be read or is not UTF-8."""
    if fmt != "auto" and fmt not in FORMATS:
        raise AsrlensError(f"unknown hypothesis format {fmt!r}: choose auto or one of "
                           f"{', '.join(FORMATS)}")
    first = _check_utf8(path)
    if fmt == "auto":
        fmt = detect_format(path, first)
    return HypStream(path, fmt)


def _check_utf8(path: Path) -> str:
    """Read `path` through once: AsrlensError naming the line of the first byte that is not
    UTF-8; returns the first non-blank line (stripped) for detect_format."""
    first = ""
    try:
        with path.open("rb") as file:
            for number, raw in enumerate(file, start=1):  # UTF-8 never holds a 0x0A byte
                try:
                    text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    raise AsrlensError(f"{path} line {number}: not UTF-8 text") from exc
                if not first:
                    first = next((part.strip() for part in text.splitlines() if part.strip()),
                                 "")
    except OSError as exc:
        raise AsrlensError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return first


def detect_format(path: Path, text: str) -> str:
    """The format of a hypothesis file from its suffix, else from its first non-blank line."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        if first.startswith("{"):
            fmt = "jsonl"
        elif _TRN_LINE.match(first):
            fmt = "trn"
        else:
            fmt = "tsv" if "\t" in first else "csv"
    if fmt == "jsonl":
        try:
            record = json.loads(first)
        except ValueError:
            return fmt
        if isinstance(record, dict) and {"audio_filepath", "pred_text"} <= set(record):
            return "nemo"
    return fmt


def _lines(file: TextIO) -> Iterator[tuple[int, str]]:
    """(1-based number, line) as str.splitlines numbers the whole text's lines."""
    number = 0
    for physical in file:
        for line in physical.splitlines():
            number += 1
            yield number, line


def _read_trn(file: TextIO, fmt: str, path: Path) -> Iterator[HypLine | BadLine]:
    for number, line in _lines(file):
        if not line.strip():
            continue
        match = _TRN_LINE.match(line)
        if match is None or not match["key"].strip():
            yield BadLine(number, None, "not a trn line `TEXT (ID)`")
            continue
        yield HypLine(number, match["key"].strip(), match["text"].strip())


def _read_table(file: TextIO, fmt: str, path: Path) -> Iterator[HypLine | BadLine]:
    reader = csv.reader(file, delimiter="\t" if fmt == "tsv" else ",")
    id_col, text_col, width = 0, 1, 2
    first = True
    try:
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if first:
                first = False
                names = [cell.strip().lower() for cell in row]
                if any(name in ID_FIELDS or name in TEXT_FIELDS for name in names):
                    id_col, text_col = _pick(names, path, number)
                    width = None
                    continue
            if width is not None and len(row) != width:
                yield BadLine(number, row[0].strip() or None,
                              f"{len(row)} fields, expected 2 (KEY,HYPOTHESIS; "
                              "quote a hypothesis that holds the separator)")
                continue
            if len(row) <= max(id_col, text_col):
                yield BadLine(number, row[0].strip() or None,
                              f"{len(row)} fields, fewer than the header's")
                continue
            key = row[id_col].strip()
            if not key:
                yield BadLine(number, None, "empty id")
                continue
            yield HypLine(number, key, row[text_col].strip())
    except csv.Error as exc:
        raise AsrlensError(f"{path} line {reader.line_num}: {exc}") from exc


def _pick(names: list[str], path: Path, line: int) -> tuple[int, int]:
    """Columns of the id and the hypothesis in a header row."""
    id_name, text_name = _id_and_text(names, path, line, where="the header names", noun="column")
    return names.index(id_name), names.index(text_name)


def _id_and_text(names, path: Path, line: int, *, where: str, noun: str) -> tuple[str, str]:
    """The first of ID_FIELDS and of TEXT_FIELDS among `names` (a header row, a JSON object's
    keys); a one-line error naming the file and line when either is missing."""
    id_name = next((n for n in ID_FIELDS if n in names), None)
    text_name = next((n for n in TEXT_FIELDS if n in names), None)
    if id_name is None or text_name is None:
        missing = "id" if id_name is None else "hypothesis"
        expected = ID_FIELDS if id_name is None else TEXT_FIELDS
        raise AsrlensError(f"{path} line {line}: {where} no {missing} {noun} "
                           f"(one of {', '.join(expected)})")
    return id_name, text_name


def _read_jsonl(file: TextIO, fmt: str, path: Path) -> Iterator[HypLine | BadLine]:
    fields: tuple[str, str] | None = ("audio_filepath", "pred_text") if fmt == "nemo" else None
    for number, line in _lines(file):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            yield BadLine(number, None, f"not JSON: {exc}")
            continue
        if not isinstance(record, dict):
            yield BadLine(number, None, "not a JSON object")
            continue
        if fields is None:
            fields = _id_and_text(record, path, number, where="the first object has",
                                  noun="field")
        id_field, text_field = fields
        key, hyp = record.get(id_field), record.get(text_field)
        shown = key.strip() if isinstance(key, str) and key.strip() else None
        if shown is None:
            yield BadLine(number, None, f"no {id_field!r} string")
        elif not isinstance(hyp, str):
            what = "missing" if text_field not in record else f"not a string ({hyp!r})"
            yield BadLine(number, shown, f"{text_field!r} is {what}")
        else:
            yield HypLine(number, shown, hyp.strip())
