"""Export a run's per-file results: NIST sclite `trn` files, CSV, or JSON lines.

    export_run(engine, run_id="sphinx", fmt="trn", out="sphinx-trn")   # ref.trn + hyp.trn
    export_run(engine, run_id="sphinx", fmt="csv", out="sphinx.csv")
    export_run(engine, run_id="sphinx", fmt="jsonl", stream=sys.stdout)

trn holds the normalized texts that were scored, one utterance per line, `TEXT (utt_id)`, in
two files, ref.trn and hyp.trn, so any figure can be cross-checked with
`sctk sclite -r ref.trn trn -h hyp.trn trn -i rm -o rsum stdout`. Files that failed (no
hypothesis) are written with an empty hypothesis, so sclite counts all their reference words
as deletions, as run_summary.strict_wer does: sclite's WER over the export is asrlens's strict
WER (with a run's --alignment sclite, file by file). CSV and JSON lines hold every file of
the run, failed ones with their error and empty counts.
"""

from __future__ import annotations

import contextlib
import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa

from asrlens import defaults
from asrlens.atomic import atomic_open
from asrlens.catalog import resolve_run
from asrlens.db import named_query
from asrlens.errors import AsrlensError

FORMATS = defaults.EXPORT_FORMATS
TRN_FILES = {"ref": "ref.trn", "hyp": "hyp.trn"}  # side -> file name inside the trn folder
_TRN_RESERVED = str.maketrans({"(": "[", ")": "]"})  # trn reserves parentheses for the id


@dataclass(frozen=True)
class ExportResult:
    """What was written: the files (empty when written to a stream) and the rows per file."""

    run_id: str
    fmt: str
    paths: list[Path]
    rows: int


def default_trn_folder(run_id: str) -> Path:
    """'sphinx' -> ./sphinx-trn; characters unsafe in a folder name become '_'."""
    return Path(re.sub(r"[^A-Za-z0-9._-]+", "_", run_id) + "-trn")


def export_run(
    engine: sa.Engine,
    *,
    run_id: str | None = None,
    fmt: str,
    out: str | Path | None = None,
    stream: TextIO | None = None,
) -> ExportResult:
    """Write run `run_id` (None: the default run, asrlens.catalog) as fmt 'trn' (a folder:
    `out`, default ./RUN-trn), 'csv' or 'jsonl' (the file `out`, or `stream` when out is
    None). Files are written whole or not at all: a failure leaves an earlier export in
    place. Raises AsrlensError for an unknown run or
    format, or an unwritable destination; BrokenPipeError when `stream`'s reader has gone."""
    if fmt not in FORMATS:
        raise AsrlensError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    run_id = resolve_run(engine, run_id)["run_id"]
    columns, rows = _export_rows(engine, run_id)
    try:
        if fmt == "trn":
            folder = Path(out) if out is not None else default_trn_folder(run_id)
            return ExportResult(run_id, fmt, write_trn(rows, folder), rows=len(rows))
        if out is not None:
            path = Path(out)
            if path.parent and not path.parent.exists():
                path.parent.mkdir(parents=True)
            with atomic_open(path, newline="") as handle:  # whole or not at all
                _write_table(columns, rows, fmt, handle)
            return ExportResult(run_id, fmt, [path], rows=len(rows))
        if stream is None:
            raise ValueError("export_run needs out or stream for csv and jsonl")
        _write_table(columns, rows, fmt, stream)
        return ExportResult(run_id, fmt, [], rows=len(rows))
    except BrokenPipeError:  # the reader of `stream` has gone (`| head`): the CLI ends quietly
        raise
    except OSError as exc:
        raise AsrlensError(f"cannot write the export to {exc.filename or out}: "
                           f"{exc.strerror or exc}") from exc


def write_trn(rows: list[dict], folder: Path) -> list[Path]:
    """ref.trn and hyp.trn in `folder` (created) from export rows; returns both paths.

    Every file is written: a failed one (no hypothesis) with an empty hypothesis."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name in TRN_FILES.values()]
    with contextlib.ExitStack() as stack:  # both files written before either replaces its old
        for side, path in zip(TRN_FILES, paths, strict=True):
            handle = stack.enter_context(atomic_open(path))
            handle.writelines(trn_line(r[f"{side}_norm"], r["utt_id"]) for r in rows)
    return paths


def trn_line(text: str | None, utt_id: str) -> str:
    """One trn line: 'TEXT (utt_id)'; an empty text gives ' (utt_id)'."""
    return f"{(text or '').translate(_TRN_RESERVED)} ({utt_id})\n"


def _export_rows(engine: sa.Engine, run_id: str) -> tuple[list[str], list[dict]]:
    """Column names and rows of export_rows.sql for the run."""
    with engine.connect() as conn:
        result = conn.execute(sa.text(named_query("infer", "export_rows")), {"run_id": run_id})
        return list(result.keys()), [dict(row._mapping) for row in result]


def _write_table(columns: list[str], rows: list[dict], fmt: str, handle: TextIO) -> None:
    if fmt == "csv":
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
