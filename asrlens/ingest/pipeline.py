"""`ingest`: labels + audio facts of one dataset -> the ingest tables.

    engine = connect("asrlens.duckdb")
    summary = ingest(engine, Path("speechdata.zip"))
    summary.utterances, summary.with_audio, summary.issues_by_kind

Steps: find the files (folder, or zip extracted next to the DB), parse the labels, list the
audio under the root, match labels to audio (`wavs/<id>.wav`, then .flac/.ogg/.mp3, then
`<id>.<ext>` at the root), read new or changed audio in parallel, and replace the dataset's
rows in one transaction, only when something changed. Problems become ingest_issues rows;
AsrlensError is raised only when nothing usable was found. Finding and matching the files is
in asrlens.ingest.matching, building the rows in asrlens.ingest.rows.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
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
from asrlens.ingest.audio_stats import read_many
from asrlens.ingest.matching import (
    _labels_file,
    _list_audio,
    _match,
    _plan_reads,
    _relative_or_absolute,
)
from asrlens.ingest.rows import (
    _audio_rows,
    _dataset_row,
    _issue_rows,
    _label_rows,
    _non_finite_issues,
    _nothing_usable,
    _utterance_rows,
)
from asrlens.ingest.source import Source, ZipLimits, open_source
from asrlens.ingest.spans import span_rows
from asrlens.ingest.store import DatasetRows, load_dataset_rows, replace_dataset_rows
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
    """Where `ingest` keeps a dataset: zips extracted under extract_base; load_old and store
    read and replace its rows."""

    extract_base: Path
    load_old: Callable[[str], DatasetRows]
    store: Callable[[str, DatasetRows], None]


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
        _extract_base(engine), lambda dataset: load_dataset_rows(engine, dataset),
        lambda dataset, rows: replace_dataset_rows(engine, dataset, rows))
    started = time.perf_counter()
    src, given = _open(Path(source), storage.extract_base, name, zip_limits)
    labels_file = _labels_file(src.root, labels) if labels is not None else given
    chosen, manifest = layouts.resolve(src.root, layout, labels_file)

    old = storage.load_old(src.name)
    old_audio = {row["path"]: row for row in old.audio_files}
    ctx = layouts.LayoutContext(src.root, manifest, layouts.LayoutOptions(
        speaker_column, allow_outside_paths), old_audio)
    result = layouts.parse(chosen, ctx)
    parsed = result.parsed
    labels_file = result.labels_file
    labels_rel = (result.labels_path or
                  (_relative_or_absolute(labels_file, src.root) if labels_file else None))
    disk_audio, unsafe_links = _list_audio(src.root)
    disk_audio += [p for p in result.outside if os.path.isfile(p)]
    embedded = [f.path for f in result.embedded_facts] + [r["path"] for r in
                                                          result.embedded_reused]
    audio = sorted(disk_audio) + sorted(embedded)
    matched, missing = _match(parsed.labels, audio)

    reuse, to_read = _plan_reads(src.root, disk_audio, old_audio)
    facts = read_many(src.root, to_read, workers=workers, progress=progress)
    facts += result.embedded_facts
    reuse += result.embedded_reused

    claimed = {path: label.utt_id for label, path in matched if label.start_s is None}
    recordings = {path for label, path in matched if label.start_s is not None}
    audio_rows = _audio_rows(src.name, reuse, facts, claimed)
    usable_audio = [r for r in audio_rows if r["duration_s"]]
    if not parsed.labels and not usable_audio:
        raise AsrlensError(_nothing_usable(src, labels_file, parsed, audio))
    claimed.update({path: None for path in recordings - claimed.keys()})
    unchanged = {r["path"] for r in reuse}
    spans = span_rows(src.name, src.root, [(lb, p) for lb, p in matched
                                           if lb.start_s is not None],
                      old.utterance_spans, unchanged)

    new = DatasetRows(
        datasets=[_dataset_row(src, labels_rel, parsed, len(audio))],
        utterances=_utterance_rows(src.name, parsed.labels, matched),
        audio_files=audio_rows,
        ingest_issues=_issue_rows(src, labels_rel, parsed, missing, claimed, audio, facts,
                                  unsafe_links, refused=result.refused,
                                  outside=result.outside)
        + _non_finite_issues(src.name, audio_rows),
        utterance_labels=_label_rows(src.name, parsed.labels),
        utterance_spans=spans,
    )
    changed = not old.same_content(new)
    if changed:
        storage.store(src.name, new)

    durations = {r["path"]: r["duration_s"] or 0.0 for r in audio_rows}
    span_s = {r["utt_id"]: r["duration_s"] or 0.0 for r in spans}
    updated = sum(1 for f in facts if f.path in old_audio
                  and old_audio[f.path]["sha256"] != f.sha256)
    return IngestSummary(
        dataset=src.name,
        root=os.fspath(src.root),
        labels_path=labels_rel,
        labels_format=parsed.format,
        utterances=len(parsed.labels),
        with_audio=len(matched),
        labels_without_audio=len(missing),
        audio_files=len(audio),
        audio_without_labels=len(audio) - len(claimed),
        hours=sum(span_s[lb.utt_id] if lb.utt_id in span_s else durations[path]
                  for lb, path in matched) / 3600,
        audio_hours=sum(durations.values()) / 3600,
        issues_by_kind=dict(sorted(Counter(i["kind"] for i in new.ingest_issues).items())),
        files_read=len(facts),
        files_skipped=len(reuse),
        files_new=sum(1 for f in facts if f.path not in old_audio),
        files_updated=updated,
        files_removed=len(set(old_audio) - set(audio)),
        zip_entries_extracted=src.extracted,
        changed=changed,
        seconds=time.perf_counter() - started,
        layout=chosen,
        speakers=len({lb.speaker for lb in parsed.labels if lb.speaker}),
    )


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

    def load_old(dataset: str) -> DatasetRows:
        if not existed:
            return DatasetRows()
        engine = connect(path, read_only=True)
        try:  # a damaged file or a newer schema is said now, even when nothing changes
            check_version(engine)
            check_readable(engine, base_tables(engine))
            return load_dataset_rows(engine, dataset)
        finally:
            engine.dispose()

    def store(dataset: str, rows: DatasetRows) -> None:
        engine = None
        try:
            engine = connect(path)
            replace_dataset_rows(engine, dataset, rows)
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

    return ingest(_Storage(path.parent.absolute() / EXTRACT_DIR, load_old, store), source,
                  **options)


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
