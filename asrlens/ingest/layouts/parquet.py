"""Hugging Face datasets saved as parquet: an `audio` column (a struct of the encoded file's
`bytes` and its `path`), a text column, and any others.

    asrlens ingest ljspeech-parquet/                  # every *.parquet under it
    asrlens ingest data/test-00000-of-00001.parquet

Audio held as bytes is decoded in memory (soundfile on a BytesIO), never extracted to disk;
it is named `<parquet path>#<row>` in audio_files and hashed like a file (sha256 of the
bytes: an unchanged clip is not decoded again). Rows are read one row group at a time, so
memory is bounded by a row group, not by the file. A row whose struct has a `path` but no
bytes points to a file on disk, relative to the parquet file's folder.

utt_id: the `id` (or utt_id, ...) column, else the name of the audio's `path` without
extension, else `<parquet stem>-<row>`. Text: the first of labels.TEXT_COLUMNS present;
speaker: --speaker-column or the first of SPEAKER_KEYS; labels: every other scalar column.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import os
from pathlib import Path, PurePosixPath

from asrlens.embedded import audio_column, embedded_ref
from asrlens.errors import AsrlensError
from asrlens.ingest.audio_stats import read_bytes_facts
from asrlens.ingest.labels import NORMALIZED_COLUMNS, TEXT_COLUMNS
from asrlens.ingest.layouts.common import (
    Collector,
    LayoutContext,
    LayoutResult,
    speaker_key,
    text_or_none,
)

EXPECTS = "*.parquet with an audio column (struct of bytes, path) and a text column"
ID_COLUMNS = ("id", "utt_id", "utterance_id", "audio_id", "key", "file")


def detect(root: Path) -> Path | None:
    return root if parquet_files(root) else None


def claims(path: Path) -> bool:
    return path.suffix.lower() == ".parquet" and path.is_file()


def parquet_files(root: Path) -> list[Path]:
    """Every *.parquet under root, hidden folders skipped, sorted."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(folder) / f for f in files if f.lower().endswith(".parquet")]
    return sorted(found)


def parse(ctx: LayoutContext) -> LayoutResult:
    files = ([ctx.manifest] if ctx.manifest is not None and ctx.manifest.is_file()
             else parquet_files(ctx.root))
    c = Collector(ctx, "parquet")
    facts, reused = [], []
    for path in files:
        _read_file(c, ctx, path, facts, reused)
    labels_path = ctx.name(files[0]) if len(files) == 1 else "**/*.parquet"
    return c.result(files[0] if len(files) == 1 else None, labels_path=labels_path,
                    embedded_facts=facts, embedded_reused=reused)


def _read_file(c: Collector, ctx: LayoutContext, path: Path, facts: list, reused: list) -> None:
    import pyarrow.parquet as pq

    name = ctx.name(path)
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid, OSError, ...
        raise AsrlensError(f"cannot read parquet file {name}: {exc}") from exc
    schema = pf.schema_arrow
    names = schema.names
    audio = audio_column(schema)
    text = next((n for n in names if n.lower() in TEXT_COLUMNS), None)
    norm = next((n for n in names if n.lower() in NORMALIZED_COLUMNS), None)
    ident = next((n for n in names if n.lower() in ID_COLUMNS and n != audio), None)
    speaker = speaker_key(names, ctx.options.speaker_column)
    if text is None:
        c.issue("no_labels", 0, f"{name} has no text column (looked for "
                f"{', '.join(TEXT_COLUMNS)}); its audio is read without labels", file=name)
    scalar = [f.name for f in schema if not _nested(f.type)]
    others = [n for n in scalar if n not in (text, norm, ident, speaker)]
    mtime = path.stat().st_mtime
    stored = _unchanged(ctx, name, mtime, pf.metadata.num_rows)
    columns = [n for n in names if n != audio] if stored else None
    row = 0
    with cf.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for group in range(pf.metadata.num_row_groups):  # one row group in memory at a time
            records = pf.read_row_group(group, columns=columns).to_pylist()
            pending: list[tuple[str, bytes]] = []
            for record in records:
                if stored:
                    record[audio] = {"stored": stored[embedded_ref(name, row)]}
                _add_row(c, ctx, path, name, row, record, audio=audio, text=text, norm=norm,
                         ident=ident, speaker=speaker, others=others, pending=pending,
                         reused=reused)
                row += 1
            del records
            # libsndfile and numpy release the GIL: threads decode a row group's clips together
            facts += pool.map(lambda clip: read_bytes_facts(clip[1], name=clip[0], mtime=mtime),
                              pending)


def _unchanged(ctx: LayoutContext, name: str, mtime: float, rows: int) -> dict[str, dict]:
    """The stored rows of every clip of the parquet file `name` when it is unchanged since
    (each row stored, decoded fine, with the file's mtime); {} otherwise. Then the audio
    column is not read at all."""
    prefix = f"{name}#"
    stored = ctx.stored_starting_with(prefix)
    if len(stored) != rows or not all(
            r["mtime"] == mtime and r["silence_fraction"] is not None for r in stored.values()):
        return {}
    return stored


def _add_row(c: Collector, ctx: LayoutContext, path: Path, name: str, row: int, record: dict,
             *, audio, text, norm, ident, speaker, others, pending, reused) -> None:
    """Add the row's label; its clip to `pending` (to decode) or `reused` (same sha256)."""
    value = record.get(audio) if audio else None
    data, written = (value or {}).get("bytes"), (value or {}).get("path")
    hint = None
    if value and "stored" in value:  # the file is unchanged: its stored row stands
        hint = embedded_ref(name, row)
        reused.append(dict(value["stored"]))
    elif data:
        hint = embedded_ref(name, row)
        old = ctx.old_audio.get(hint)
        if (old is not None and old.get("silence_fraction") is not None
                and hashlib.sha256(data).hexdigest() == old["sha256"]):
            reused.append(dict(old))
        else:
            pending.append((hint, data))
    elif written:
        hint, why = c.audio_path(written, base=path.parent)
        if hint is None:
            c.issue("unsafe_path", row + 1, f"{name} row {row}: {why}", file=name)
            return
    if text is None:
        return
    if ident and record.get(ident) is not None:
        utt_id = str(record[ident])
    elif written:
        utt_id = PurePosixPath(written.replace("\\", "/")).stem
    else:
        utt_id = f"{path.stem}-{row}"
    transcript = record.get(text)
    c.add(utt_id, None if transcript is None else str(transcript), line=row + 1, file=name,
          hint=hint, normalized=text_or_none(record.get(norm)) if norm else None,
          speaker=text_or_none(record.get(speaker)) if speaker else None,
          extra=tuple((k, text_or_none(record.get(k))) for k in others))
    if hint is None:
        c.issue("missing_audio", row + 1, f"{name} row {row}: no audio bytes nor path for "
                f"{utt_id!r}", file=name, utt_id=utt_id)
        c.refused.add(utt_id)


def _nested(arrow_type) -> bool:
    import pyarrow as pa

    return (pa.types.is_struct(arrow_type) or pa.types.is_list(arrow_type)
            or pa.types.is_large_list(arrow_type) or pa.types.is_map(arrow_type)
            or pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type))
