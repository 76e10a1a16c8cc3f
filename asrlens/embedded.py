"""Audio embedded in a parquet file (Hugging Face `datasets` saved as parquet): the `audio`
column is a struct of `bytes` (the encoded file) and `path`. Shared by ingest and infer.

An embedded clip is named like a file, `<parquet path>#<row>` ('data/test.parquet#12', the
row counted from 0 over the whole file), in utterances.audio_path and audio_files.path.

    ref = split_ref("data/test.parquet#12")     # (Path('data/test.parquet'), 12), else None
    data = read_embedded(root / "data/test.parquet", 12)   # the clip's encoded bytes

Reading a clip reads the one row group that holds it, never the whole file.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

from asrlens.errors import AsrlensError

AUDIO_COLUMNS = ("audio", "speech", "file")
"""Struct columns (with a `bytes` field) taken as the audio, in this order; else the first
struct column with a `bytes` field."""

_REF = re.compile(r"^(.+\.parquet)#(\d+)$", re.IGNORECASE)


def embedded_ref(parquet_path: str, row: int) -> str:
    """'data/test.parquet', 12 -> 'data/test.parquet#12'."""
    return f"{parquet_path}#{row}"


def split_ref(path: str | os.PathLike) -> tuple[Path, int] | None:
    """(parquet file, row) of an embedded clip's name, None for an ordinary file."""
    match = _REF.match(os.fspath(path))
    return (Path(match[1]), int(match[2])) if match else None


def audio_column(schema) -> str | None:
    """The name of the audio struct column of a pyarrow schema, None when there is none."""
    import pyarrow as pa

    structs = [f.name for f in schema
               if pa.types.is_struct(f.type) and f.type.get_field_index("bytes") >= 0]
    for wanted in AUDIO_COLUMNS:
        if wanted in structs:
            return wanted
    return structs[0] if structs else None


def read_embedded(parquet: Path, row: int) -> bytes:
    """The encoded bytes of row `row`'s audio; AsrlensError when there are none."""
    group, offset = _locate(os.fspath(parquet), os.stat(parquet).st_mtime_ns, row)
    column = _cached_group(os.fspath(parquet), os.stat(parquet).st_mtime_ns, group)
    value = column[offset].as_py() if offset < len(column) else None
    data = (value or {}).get("bytes")
    if not data:
        raise AsrlensError(f"{parquet} row {row}: no audio bytes")
    return data


@functools.lru_cache(maxsize=64)
def _locate(parquet: str, _mtime_ns: int, row: int) -> tuple[int, int]:
    """(row group, row within it) of `row` (the mtime keys the cache to the file's version)."""
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(parquet).metadata
    start = 0
    for group in range(meta.num_row_groups):
        rows = meta.row_group(group).num_rows
        if row < start + rows:
            return group, row - start
        start += rows
    raise AsrlensError(f"{parquet} has {start} rows, no row {row}: ingest it again")


@functools.lru_cache(maxsize=2)
def _cached_group(parquet: str, _mtime_ns: int, group: int):
    """The audio column of one row group (the last two read are kept: infer reads in order)."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(parquet)
    column = audio_column(pf.schema_arrow)
    if column is None:
        raise AsrlensError(f"{parquet} has no audio column (a struct with a `bytes` field)")
    return pf.read_row_group(group, columns=[column]).column(0)
