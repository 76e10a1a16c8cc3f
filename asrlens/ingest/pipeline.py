"""`ingest`: labels + audio facts of one dataset -> the ingest tables.

    engine = connect("asrlens.duckdb")
    summary = ingest(engine, Path("speechdata.zip"))
    summary.utterances, summary.with_audio, summary.issues_by_kind

Steps: find the files (folder, or zip extracted next to the DB), parse the labels, list the
audio under the root, match labels to audio (`wavs/<id>.wav`, then .flac/.ogg/.mp3, then
`<id>.<ext>` at the root), read new or changed audio in parallel, and replace the dataset's
rows in one transaction, only when something changed. Problems become ingest_issues rows;
AsrlensError is raised only when nothing usable was found. Finding and matching the files is
in asrlens.ingest.matching, building the rows in asrlens.ingest.rows and .stage. The rows
are built batch by batch in a scratch DuckDB file (asrlens.ingest.staging), compared with
the stored ones and copied by DuckDB (asrlens.ingest.store): memory stays flat with the
dataset's size but for one index entry per audio file and one per label id.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import duckdb
import sqlalchemy as sa

from asrlens.db import (
    base_tables,
    check_readable,
    check_version,
    close,
    connect,
    describe_error,
    resolve_path,
    wal_path,
)
from asrlens.errors import AsrlensError, CheckpointFailed
from asrlens.ingest import layouts
from asrlens.ingest.matching import _labels_file
from asrlens.ingest.source import Source, ZipLimits, open_source
from asrlens.ingest.stage import stage
from asrlens.ingest.staging import Scratch, StoredAudio
from asrlens.ingest.store import copy_stored, differs, replace_dataset_rows
from asrlens.summaries import ingest_lines

EXTRACT_DIR = Path(".asrlens") / "datasets"
"""Where zips are extracted, relative to the folder of the database file."""

INNER_FOLDERS = 3
"""How deep ingest looks through lone subfolders for a layout it recognises (data/test/)."""


@dataclass
class IngestSummary:
    """What one ingest found and did. Hours are of audio that decoded."""

    dataset: str
    root: str  # absolute folder the paths are relative to
    labels_path: str | None  # relative to root (absolute when outside it); None: no labels
    labels_format: str | None
    utterances: int  # labels kept
    with_audio: int  # utterances whose audio file was found
    labels_without_audio: int
    audio_files: int  # audio files under root
    audio_without_labels: int
    hours: float  # duration of the utterances' audio, hours
    audio_hours: float  # duration of all audio files, hours
    issues_by_kind: dict[str, int] = field(default_factory=dict)
    files_read: int = 0  # audio files decoded this time
    files_skipped: int = 0  # unchanged since the last ingest (same bytes and mtime): not read
    files_new: int = 0
    files_updated: int = 0  # stored before, content changed
    files_removed: int = 0  # stored before, gone now
    zip_entries_extracted: int = 0
    changed: bool = True  # False when the database already held exactly this
    seconds: float = 0.0  # wall-clock time of the ingest
    layout: str = "ljspeech"  # the layout read (asrlens.ingest.layouts.LAYOUTS)
    speakers: int = 0  # distinct speakers of the utterances (0: none known)

    def summary_lines(self, db_path: str | os.PathLike) -> list[str]:
        """What `asrlens ingest` prints (asrlens.summaries.ingest_lines)."""
        return ingest_lines(self, db_path)


@dataclass(frozen=True)
class _Storage:
    """Where `ingest` keeps a dataset: zips extracted under extract_base; copy_stored puts the
    stored audio rows into the scratch file, differs compares the staged rows with the
    stored ones and store replaces them (asrlens.ingest.store)."""

    extract_base: Path
    copy_stored: Callable[[str, Path], None]
    differs: Callable[[str, Path], bool]
    store: Callable[[str, Path], None]


def ingest(
    engine: sa.Engine | _Storage,
    source: str | os.PathLike,
    *,
    name: str | None = None,
    labels: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: bool = True,
    zip_limits: ZipLimits | None = None,
    layout: str = "auto",
    speaker_column: str | None = None,
    allow_outside_paths: bool = False,
) -> IngestSummary:
    """Load a dataset folder, .zip or manifest file into the database behind `engine`; see
    the module doc.

    name: dataset name (default: folder name or zip stem; for a manifest file, its folder's
    name and its stem). labels: labels or manifest file, a path or a name inside the dataset
    (default: what the layout finds). workers: processes reading audio (default: all cores).
    progress: show a tqdm bar. zip_limits: what a .zip may unpack to (default: ZipLimits(),
    see ingest/source.py). layout: 'auto' or one of layouts.LAYOUTS. speaker_column: the
    column or key holding the speaker. allow_outside_paths: read audio a manifest names by an
    absolute path outside the dataset folder (recorded as outside_path issues).
    Raises AsrlensError when the source is missing or not a zip, when a zip exceeds its
    limits, when --labels does not exist, when no layout fits, or when neither labels nor
    decodable audio were found. (`ingest_into` passes a _Storage instead of an engine.)
    """
    storage = engine if isinstance(engine, _Storage) else _Storage(
        _extract_base(engine), partial(copy_stored, engine), partial(differs, engine),
        partial(replace_dataset_rows, engine))
    started = time.perf_counter()
    src, given = _open(Path(source), storage.extract_base, name, zip_limits)
    labels_file = _labels_file(src.root, labels) if labels is not None else given
    chosen, manifest = layouts.resolve(src.root, layout, labels_file)
    with tempfile.TemporaryDirectory(prefix="asrlens-ingest-") as folder:
        scratch = Scratch(Path(folder))
        storage.copy_stored(src.name, scratch.path)
        scratch.open()
        try:
            ctx = layouts.LayoutContext(src.root, manifest, layouts.LayoutOptions(
                speaker_column, allow_outside_paths), StoredAudio(scratch))
            summary = IngestSummary(**stage(scratch, src, layouts.parse(chosen, ctx),
                                            workers=workers, progress=progress))
        finally:
            scratch.close()
        summary.changed = storage.differs(src.name, scratch.path)
        if summary.changed:
            storage.store(src.name, scratch.path)
    summary.zip_entries_extracted = src.extracted
    summary.seconds = time.perf_counter() - started
    summary.layout = chosen
    return summary


def _open(path: Path, extract_base: Path, name: str | None,
          zip_limits: ZipLimits | None) -> tuple[Source, Path | None]:
    """The dataset's Source, and the manifest file when `path` is one (not a folder or zip).

    A manifest file's folder is the root; the dataset is named `<folder>-<stem>` unless
    given. A zip or folder whose files lie in a single subfolder is read from there."""
    absolute = Path(os.path.abspath(path.expanduser()))
    if absolute.is_file() and not zipfile.is_zipfile(absolute):
        if not layouts.claims_any(absolute):
            raise AsrlensError(
                f"dataset {path} is neither a folder, a readable .zip archive nor a manifest "
                "file (bad_archive): check the file, or unzip it and pass the folder")
        root = absolute.parent.resolve()
        return Source(name=name or f"{root.name}-{absolute.name.split('.')[0]}",
                      source=absolute, root=root, is_zip=False), absolute
    src = open_source(path, extract_base=extract_base, name=name, limits=zip_limits)
    folder = src.root
    for _ in range(INNER_FOLDERS):  # a zipped `data/test/`: look into lone subfolders
        if layouts.detects(folder):
            src.root = folder.resolve()
            break
        inner = [e for e in folder.iterdir()
                 if not e.name.startswith(".") and e.name != "__MACOSX"]
        if len(inner) != 1 or not inner[0].is_dir() or inner[0].is_symlink():
            break
        folder = inner[0]
    return src, None


def ingest_into(db_path: str | os.PathLike, source: str | os.PathLike, **options) -> IngestSummary:
    """`ingest` into the database file `db_path`, opened for writing only when there is
    something to store: an ingest that fails (no such dataset, not a zip, nothing usable)
    creates no database file and leaves an existing one byte for byte as it was. Same options.
    """
    path = resolve_path(db_path)
    existed = path.exists()

    def copy_old(dataset: str, scratch: Path) -> None:
        if existed:
            _reading(lambda engine: copy_stored(engine, dataset, scratch), checked=True)

    def compare(dataset: str, scratch: Path) -> bool:
        return not existed or _reading(lambda engine: differs(engine, dataset, scratch))

    def _reading(work, *, checked: bool = False):
        engine = connect(path, read_only=True)
        try:  # a damaged file or a newer schema is said now, even when nothing changes
            if checked:
                check_version(engine)
                check_readable(engine, base_tables(engine))
            return work(engine)
        finally:
            engine.dispose()

    def store(dataset: str, scratch: Path) -> None:
        engine = None
        try:
            engine = connect(path)
            replace_dataset_rows(engine, dataset, scratch)
        except BaseException as exc:
            warning = close(engine) if engine is not None else None
            if not existed:  # we created it: leave nothing half-made
                _remove_new_database(path)
            elif warning:
                print(f"Warning: {warning}", file=sys.stderr)
            if isinstance(exc, sa.exc.SQLAlchemyError | duckdb.Error):
                raise AsrlensError(f"cannot store dataset {dataset}: "
                                   f"{describe_error(path, exc)}") from exc
            raise
        warning = close(engine)  # checkpointed: the .duckdb file alone holds the rows
        if warning and not existed:  # a new file that only a .wal completes: not kept
            _remove_new_database(path)
            raise AsrlensError(f"cannot store dataset {dataset} in the new database {path}: "
                               f"{_why_not_checkpointed(warning)}; nothing was kept (the new "
                               f"file and its .wal were removed): free some space and run "
                               f"the command again")
        if warning:
            raise CheckpointFailed(warning)

    return ingest(_Storage(path.parent.absolute() / EXTRACT_DIR, copy_old, compare, store),
                  source, **options)


def _remove_new_database(path: Path) -> None:
    """Remove a database file this ingest created, and its .wal; a failure to do so (a
    read-only folder) must not hide the error that led here."""
    for leftover in (path, wal_path(path)):
        with contextlib.suppress(OSError):
            leftover.unlink(missing_ok=True)


def _why_not_checkpointed(warning: str) -> str:
    """The cause inside close()'s warning: '(the checkpoint failed: ...)', else the warning."""
    start = warning.find("(the checkpoint failed: ")
    return warning[start + 1:warning.find("):", start)] if start >= 0 else warning


def _extract_base(engine: sa.Engine) -> Path:
    """`<folder of the DB file>/.asrlens/datasets` (the working directory for an in-memory DB)."""
    database = engine.url.database
    folder = Path.cwd() if not database or database == ":memory:" else Path(database).parent
    return folder.absolute() / EXTRACT_DIR
