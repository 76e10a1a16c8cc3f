"""`ingest`: labels + audio facts of one dataset -> the ingest tables.

    engine = connect("asrlens.duckdb")
    summary = ingest(engine, Path("speechdata.zip"))
    summary.utterances, summary.with_audio, summary.issues_by_kind

Steps: find the files (folder, or zip extracted next to the DB), parse the labels, list the
audio under the root, match labels to audio (`wavs/<id>.wav`, then .flac/.ogg/.mp3, then
`<id>.<ext>` at the root), read new or changed audio in parallel, and replace the dataset's
rows in one transaction, only when something changed. Problems become ingest_issues rows;
AsrlensError is raised only when nothing usable was found.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from asrlens.db import close, connect, resolve_path, wal_path
from asrlens.errors import AsrlensError, CheckpointFailed
from asrlens.ingest.audio_stats import AudioFacts, read_many
from asrlens.ingest.labels import (
    AUDIO_SUFFIXES,
    LABEL_FILE_NAMES,
    Label,
    ParsedLabels,
    find_labels_file,
    parse_labels,
)
from asrlens.ingest.source import Source, ZipLimits, open_source
from asrlens.ingest.store import DatasetRows, load_dataset_rows, replace_dataset_rows

EXTRACT_DIR = Path(".asrlens") / "datasets"
"""Where zips are extracted, relative to the folder of the database file."""

FLOAT_SUBTYPES = ("FLOAT", "DOUBLE")
"""libsndfile sample encodings that can hold NaN or infinite samples."""

AUDIO_FOLDER = "wavs"
"""Folder searched first for a label's audio: `wavs/<id>.wav`."""

FACT_COLUMNS = tuple(f.name for f in fields(AudioFacts) if f.name not in ("problem", "message"))
"""audio_files columns that come from reading the file (the rest: dataset, utt_id)."""


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

    def summary_lines(self, db_path: str | os.PathLike) -> list[str]:
        """What `asrlens ingest` prints (asrlens.summaries.ingest_lines)."""
        from asrlens.summaries import ingest_lines

        return ingest_lines(self, db_path)


def ingest(
    engine: sa.Engine,
    source: str | os.PathLike,
    *,
    name: str | None = None,
    labels: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: bool = True,
    zip_limits: ZipLimits | None = None,
) -> IngestSummary:
    """Load a dataset folder or .zip into the database behind `engine`; see the module doc.

    name: dataset name (default: folder name or zip stem). labels: labels file, a path or a
    name inside the dataset (default: the first of labels.csv, metadata.csv, ... at the root).
    workers: processes reading audio (default: all cores). progress: show a tqdm bar.
    zip_limits: what a .zip may unpack to (default: ZipLimits(), see ingest/source.py).
    Raises AsrlensError when the source is missing or not a zip, when a zip exceeds its
    limits, when --labels does not exist, or when neither labels nor decodable audio were
    found.
    """
    return _ingest(
        source, extract_base=_extract_base(engine),
        load_old=lambda dataset: load_dataset_rows(engine, dataset),
        store=lambda dataset, rows: replace_dataset_rows(engine, dataset, rows),
        name=name, labels=labels, workers=workers, progress=progress, zip_limits=zip_limits,
    )


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
        try:
            return load_dataset_rows(engine, dataset)
        finally:
            engine.dispose()

    def store(dataset: str, rows: DatasetRows) -> None:
        engine = None
        try:
            engine = connect(path)
            replace_dataset_rows(engine, dataset, rows)
        except BaseException:
            if engine is not None:
                close(engine)
            if not existed:  # we created it: leave nothing half-made
                for leftover in (path, wal_path(path)):
                    leftover.unlink(missing_ok=True)
            raise
        warning = close(engine)  # checkpointed: the .duckdb file alone holds the rows
        if warning:
            raise CheckpointFailed(warning)

    return _ingest(source, extract_base=path.parent.absolute() / EXTRACT_DIR,
                   load_old=load_old, store=store, **options)


def _ingest(
    source: str | os.PathLike,
    *,
    extract_base: Path,
    load_old: Callable[[str], DatasetRows],
    store: Callable[[str, DatasetRows], None],
    name: str | None = None,
    labels: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: bool = True,
    zip_limits: ZipLimits | None = None,
) -> IngestSummary:
    """The steps of `ingest`; `load_old` and `store` read and replace a dataset's rows."""
    started = time.perf_counter()
    src = open_source(Path(source), extract_base=extract_base, name=name, limits=zip_limits)
    labels_file = _labels_file(src.root, labels)
    labels_rel = _relative_or_absolute(labels_file, src.root) if labels_file else None
    parsed = (parse_labels(labels_file, display_name=labels_rel, root=src.root) if labels_file
              else ParsedLabels(format=None))
    audio, unsafe_links = _list_audio(src.root)
    matched, missing = _match(parsed.labels, audio)

    old = load_old(src.name)
    old_audio = {row["path"]: row for row in old.audio_files}
    reuse, to_read = _plan_reads(src.root, audio, old_audio)
    facts = read_many(src.root, to_read, workers=workers, progress=progress)

    claimed = {path: label.utt_id for label, path in matched}
    audio_rows = _audio_rows(src.name, reuse, facts, claimed)
    usable_audio = [r for r in audio_rows if r["duration_s"]]
    if not parsed.labels and not usable_audio:
        raise AsrlensError(_nothing_usable(src, labels_file, parsed, audio))

    new = DatasetRows(
        datasets=[_dataset_row(src, labels_rel, parsed, len(audio))],
        utterances=_utterance_rows(src.name, parsed.labels, matched),
        audio_files=audio_rows,
        ingest_issues=_issue_rows(src, labels_rel, parsed, missing, claimed, audio, facts,
                                  unsafe_links) + _non_finite_issues(src.name, audio_rows),
        utterance_labels=_label_rows(src.name, parsed.labels),
    )
    changed = not old.same_content(new)
    if changed:
        store(src.name, new)

    durations = {r["path"]: r["duration_s"] or 0.0 for r in audio_rows}
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
        hours=sum(durations[path] for _, path in matched) / 3600,
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
    )


def _extract_base(engine: sa.Engine) -> Path:
    """`<folder of the DB file>/.asrlens/datasets` (the working directory for an in-memory DB)."""
    database = engine.url.database
    folder = Path.cwd() if not database or database == ":memory:" else Path(database).parent
    return folder.absolute() / EXTRACT_DIR


def _labels_file(root: Path, labels: str | os.PathLike | None) -> Path | None:
    if labels is None:
        return find_labels_file(root)
    given = Path(labels).expanduser()
    for candidate in (given, root / given):
        if candidate.is_file():
            return candidate.absolute()
    raise AsrlensError(
        f"labels file {labels} not found (looked in the current folder and in {root})"
    )


def _relative_or_absolute(path: Path, root: Path) -> str:
    path = path.resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else os.fspath(path)


def _list_audio(root: Path) -> tuple[list[str], list[str]]:
    """Audio files under root (POSIX paths relative to it, sorted), and symlinks leading out.

    Hidden folders (such as .asrlens) and macOS `._*` files are skipped; symlinked folders
    are not followed.
    """
    found: list[str] = []
    unsafe: list[str] = []
    pending = [(root, "")]
    while pending:
        folder, prefix = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                if entry.is_dir(follow_symlinks=False):
                    if not name.startswith(".") and name != "__MACOSX":
                        pending.append((Path(entry.path), f"{prefix}{name}/"))
                    continue
                if name.startswith("._") or not name.lower().endswith(AUDIO_SUFFIXES):
                    continue
                if entry.is_symlink() and not Path(entry.path).resolve().is_relative_to(root):
                    unsafe.append(prefix + name)
                    continue
                found.append(prefix + name)
    return sorted(found), sorted(unsafe)


def _candidates(label: Label) -> list[str]:
    """Audio paths (relative to root, lower-case suffix) that may hold a label's audio."""
    if label.audio_hint:
        hint = _lower_suffix(label.audio_hint)
        return [hint, f"{AUDIO_FOLDER}/{hint}"]
    return ([f"{AUDIO_FOLDER}/{label.utt_id}{s}" for s in AUDIO_SUFFIXES]
            + [f"{label.utt_id}{s}" for s in AUDIO_SUFFIXES])


def _lower_suffix(path: str) -> str:
    stem, dot, suffix = path.rpartition(".")
    return f"{stem}.{suffix.lower()}" if dot else path


def _match(
    labels: list[Label], audio: list[str]
) -> tuple[list[tuple[Label, str]], list[Label]]:
    """(label, audio path) pairs, and labels without audio. Each file goes to one label."""
    index = {_lower_suffix(path): path for path in audio}
    taken: set[str] = set()
    matched, missing = [], []
    for label in labels:
        path = next((index[c] for c in _candidates(label)
                     if c in index and index[c] not in taken), None)
        if path is None:
            missing.append(label)
        else:
            taken.add(path)
            matched.append((label, path))
    return matched, missing


def _plan_reads(
    root: Path, audio: list[str], old_audio: dict[str, dict]
) -> tuple[list[dict], list[str]]:
    """Stored rows still valid (same bytes and mtime, decoded fine), and paths to read."""
    reuse, to_read = [], []
    for path in audio:
        old = old_audio.get(path)
        if old is not None and old["silence_fraction"] is not None and _counted(old):
            st = (root / path).stat()
            if st.st_size == old["bytes"] and st.st_mtime == old["mtime"]:
                reuse.append({**old, "non_finite_samples": old.get("non_finite_samples") or 0})
                continue
        to_read.append(path)
    return reuse, to_read


def _counted(row: dict) -> bool:
    """False for a float file stored before asrlens counted NaN / inf samples (schema 1):
    it is read once more, so that its statistics leave such samples out. Other formats
    cannot hold them."""
    return (row.get("non_finite_samples") is not None
            or row.get("subtype") not in FLOAT_SUBTYPES)


def _audio_rows(
    dataset: str, reuse: list[dict], facts: list[AudioFacts], claimed: dict[str, str]
) -> list[dict]:
    rows = [dict(row) for row in reuse]
    rows += [{column: getattr(f, column) for column in FACT_COLUMNS} for f in facts]
    for row in rows:
        row["dataset"] = dataset
        row["utt_id"] = claimed.get(row["path"])
    return sorted(rows, key=lambda r: r["path"])


def _dataset_row(src: Source, labels_rel: str | None, parsed: ParsedLabels, n_audio: int) -> dict:
    return dict(
        name=src.name,
        source=os.fspath(src.source),
        root=os.fspath(src.root),
        labels_path=labels_rel,
        labels_format=parsed.format,
        n_labels=len(parsed.labels),
        n_audio=n_audio,
        ingested_at=datetime.now(UTC).replace(tzinfo=None),
    )


def _utterance_rows(
    dataset: str, labels: list[Label], matched: list[tuple[Label, str]]
) -> list[dict]:
    audio_of = {label.utt_id: path for label, path in matched}
    return [
        dict(dataset=dataset, utt_id=label.utt_id, transcript=label.transcript,
             normalized_transcript=label.normalized_transcript,
             audio_path=audio_of.get(label.utt_id), labels_line=label.line)
        for label in labels
    ]


def _label_rows(dataset: str, labels: list[Label]) -> list[dict]:
    """utterance_labels rows: the extra columns of each label (a file with a header)."""
    return [dict(dataset=dataset, utt_id=label.utt_id, name=name, value=value)
            for label in labels for name, value in label.extra]


def _issue_rows(
    src: Source, labels_rel: str | None, parsed: ParsedLabels, missing: list[Label],
    claimed: dict[str, str], audio: list[str], facts: list[AudioFacts], unsafe_links: list[str],
) -> list[dict]:
    def issue(kind, message, *, utt_id=None, path=None, line=None):
        return dict(dataset=src.name, kind=kind, utt_id=utt_id, path=path, line=line,
                    message=message)

    rows = [issue(i.kind, i.message, path=i.path) for i in src.issues]
    if labels_rel is None:
        rows.append(issue("no_labels", f"no labels file in {src.root} (looked for "
                          f"{', '.join(LABEL_FILE_NAMES)}); pass --labels FILE"))
    rows += [issue(i.kind, i.message, utt_id=i.utt_id, path=labels_rel, line=i.line)
             for i in parsed.issues]
    for label in missing:
        expected = _candidates(label)[0]
        rows.append(issue("missing_audio", f"{labels_rel} line {label.line}: no audio for "
                          f"{label.utt_id!r} (looked for {expected} and other extensions)",
                          utt_id=label.utt_id, path=expected, line=label.line))
    rows += [issue("unlabelled_audio", f"{path}: no label refers to this file", path=path)
             for path in audio if path not in claimed]
    rows += [issue(f.problem, f.message, utt_id=claimed.get(f.path), path=f.path)
             for f in facts if f.problem]
    rows += [issue("unsafe_path", f"{path}: symbolic link to a file outside the dataset "
                   "folder; not read", path=path) for path in unsafe_links]
    return rows


def _non_finite_issues(dataset: str, audio_rows: list[dict]) -> list[dict]:
    """A `non_finite_samples` issue for each file holding NaN or infinite samples."""
    rows = []
    for row in audio_rows:
        bad = row.get("non_finite_samples")
        if not bad:
            continue
        total = (row["frames"] or 0) * (row["channels"] or 0)
        kept = ("levels and silence are measured on the other samples" if bad < total
                else "no level can be measured")
        rows.append(dict(dataset=dataset, kind="non_finite_samples", utt_id=row["utt_id"],
                         path=row["path"], line=None,
                         message=f"{row['path']}: {bad} of {total} samples are not finite "
                         f"numbers (NaN or infinity); {kept}, and the recognizer hears them "
                         "as silence"))
    return rows


def _nothing_usable(src: Source, labels_file: Path | None, parsed: ParsedLabels,
                    audio: list[str]) -> str:
    if labels_file is None:
        labels_part = f"no labels file ({', '.join(LABEL_FILE_NAMES)})"
    else:
        n = len(parsed.issues)
        labels_part = f"no usable line in {labels_file} ({n} problem{'s' * (n != 1)})"
    audio_part = (f"none of the {len(audio)} audio files could be decoded" if audio
                  else f"no audio files ({', '.join(AUDIO_SUFFIXES)})")
    return f"nothing usable in {src.source}: {labels_part} and {audio_part}"
