"""The three output formats of `asrlens sql`, written batch by batch as rows arrive.

    writer = row_writer("csv", sys.stdout, columns)
    for batch in batches:            # lists of tuples, e.g. 1,000 rows from fetchmany
        writer.write(batch)
    writer.end()

Nothing holds the whole result: `asrlens sql ... | head` reads its first lines while the
query still runs, in constant memory. The table format sets its column widths from the first
batch (TABLE_WIDTH_ROWS rows); a longer value further down widens its own line only.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import math
import uuid
from collections.abc import Sequence
from typing import TextIO

from asrlens import defaults

FORMATS = defaults.SQL_FORMATS  # jsonl: one object per line, as `asrlens export`
"""Output formats of `asrlens sql`."""

TABLE_FLOAT_DIGITS = 6
"""Significant digits of floats in the table format (csv and json keep full precision)."""

TABLE_MAX_WIDTH = 60
"""Characters shown of a value in the table format; longer ones end with '…'."""

TABLE_WIDTH_ROWS = 1000
"""Rows the table format reads before it fixes the column widths (the first batch)."""

NULL_TEXT = "NULL"
"""How NULL appears in the table format (csv: empty field, json: null)."""


class RowWriter:
    """Writes one format to `out`: write(batch) for each batch of rows, then end()."""

    def __init__(self, out: TextIO, columns: Sequence[str]) -> None:
        self.out = out
        self.columns = list(columns)
        self.count = 0

    def write(self, batch: Sequence[tuple]) -> None:
        self.count += len(batch)
        text = self._text(batch)
        if text:
            self.out.write(text)
            self.out.flush()  # the reader (| head) gets the rows now

    def end(self) -> None:
        self.out.write(self._end())
        self.out.flush()

    def _text(self, batch: Sequence[tuple]) -> str:
        raise NotImplementedError

    def _end(self) -> str:
        raise NotImplementedError


class CsvWriter(RowWriter):
    """A header row, then one line per row; NULL is an empty field."""

    def __init__(self, out: TextIO, columns: Sequence[str]) -> None:
        super().__init__(out, columns)
        self._header = bool(self.columns)

    def _text(self, batch: Sequence[tuple]) -> str:
        lines = []
        if self._header:
            lines.append(_csv_line(self.columns))
            self._header = False
        lines += [_csv_line(["" if v is None else _plain(v) for v in row]) for row in batch]
        return "".join(lines)

    def _end(self) -> str:
        return _csv_line(self.columns) if self._header else ("" if self.count else "\n")


class JsonWriter(RowWriter):
    """A JSON list of objects (column -> value), indented by 2, written object by object."""

    def _text(self, batch: Sequence[tuple]) -> str:
        parts = []
        for i, row in enumerate(batch):
            record = {c: _plain(v) for c, v in zip(self.columns, row, strict=True)}
            text = json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False)
            first = self.count - len(batch) + i == 0
            parts.append(("[\n" if first else ",\n") + "\n".join(
                "  " + line for line in text.splitlines()))
        return "".join(parts)

    def _end(self) -> str:
        return "\n]\n" if self.count else "[]\n"


class TableWriter(RowWriter):
    """Aligned plain text: header, rule, rows, `(N rows)`; widths from the first batch."""

    def __init__(self, out: TextIO, columns: Sequence[str]) -> None:
        super().__init__(out, columns)
        self._widths: list[int] | None = None
        self._numeric: list[bool] = []

    def _text(self, batch: Sequence[tuple]) -> str:
        cells = [[_table_cell(v) for v in row] for row in batch]
        lines = []
        if self._widths is None:
            self._fix_widths(batch, cells)
            lines += [self._line(self.columns), "  ".join("-" * w for w in self._widths)]
        lines += [self._line(row) for row in cells]
        return "".join(line + "\n" for line in lines)

    def _fix_widths(self, batch: Sequence[tuple], cells: list[list[str]]) -> None:
        n = len(self.columns)
        self._numeric = [_is_numeric(row[i] for row in batch) for i in range(n)]
        self._widths = [max([len(c)] + [len(row[i]) for row in cells])
                        for i, c in enumerate(self.columns)]

    def _line(self, values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w)
                 for v, w, num in zip(values, self._widths, self._numeric, strict=True)]
        return "  ".join(parts).rstrip()

    def _end(self) -> str:
        if not self.columns:
            return "(statement ran; no rows returned)\n"
        head = "" if self._widths is not None else self._text([])
        return f"{head}({self.count} row{'s' if self.count != 1 else ''})\n"


class JsonlWriter(RowWriter):
    """One JSON object (column -> value) per line, as `asrlens export --format jsonl`."""

    def _text(self, batch: Sequence[tuple]) -> str:
        return "".join(json.dumps({c: _plain(v) for c, v in zip(self.columns, row, strict=True)},
                                  ensure_ascii=False, allow_nan=False) + "\n" for row in batch)

    def _end(self) -> str:
        return ""


WRITERS = {"table": TableWriter, "csv": CsvWriter, "json": JsonWriter, "jsonl": JsonlWriter}


def row_writer(fmt: str, out: TextIO, columns: Sequence[str]) -> RowWriter:
    """The writer of format `fmt` (one of FORMATS) onto `out`."""
    return WRITERS[fmt](out, columns)


def _csv_line(values: Sequence) -> str:
    class _Line:
        text = ""

        def write(self, s: str) -> None:
            self.text += s

    line = _Line()
    csv.writer(line, lineterminator="\n").writerow(values)
    return line.text


def _is_numeric(values) -> bool:
    """True when a column holds numbers (and NULLs) only: right-aligned in the table."""
    seen = False
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float | decimal.Decimal):
            return False
        seen = True
    return seen


def _table_cell(value: object) -> str:
    if value is None:
        return NULL_TEXT
    text = _short_float(value) if isinstance(value, float) else str(value)
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return text if len(text) <= TABLE_MAX_WIDTH else text[: TABLE_MAX_WIDTH - 1] + "…"


def _short_float(value: float) -> str:
    """TABLE_FLOAT_DIGITS significant digits, without an exponent for 1e-4 <= |x| < 1e15."""
    if not math.isfinite(value) or value == 0:
        return str(value)
    magnitude = math.floor(math.log10(abs(value)))
    if not -4 <= magnitude < 15:
        return f"{value:.{TABLE_FLOAT_DIGITS}g}"
    decimals = max(0, TABLE_FLOAT_DIGITS - 1 - magnitude)
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _plain(value: object) -> object:
    """A JSON-safe Python value: dates as ISO text, NaN/inf as None, decimals as floats."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.date | dt.time | dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID | bytes):
        return value.hex() if isinstance(value, bytes) else str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
