"""Where a dataset's files are: a folder as given, or a .zip extracted safely next to the DB.

    src = open_source(Path("speechdata.zip"), extract_base=Path(".asrlens/datasets"))
    src.root      # the folder audio paths are relative to
    src.issues    # unsafe or unreadable zip entries (never written)

A zip is extracted into `extract_base/<name>/`; entries with '..', absolute paths or symlinks
are skipped and reported, and nothing is written outside that folder. Re-opening an unchanged
zip (same size and mtime) extracts nothing; a changed one rewrites only entries whose size or
CRC differs and removes files the zip no longer holds.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from asrlens.errors import AsrlensError
from asrlens.ingest.labels import find_labels_file, unsafe_reason

MARKER = ".asrlens-extracted.json"
"""File in an extraction folder recording which zip (size, mtime) it holds, and its issues."""

SKIPPED_ZIP_PREFIXES = ("__MACOSX/",)
"""Zip entries ignored without an issue (macOS resource forks)."""

COPY_CHUNK_BYTES = 1 << 20
"""Read size when extracting an entry, bytes."""


@dataclass(frozen=True)
class SourceIssue:
    """A zip entry that was not extracted (kind 'unsafe_path' or 'bad_archive')."""

    kind: str
    path: str  # the entry name as stored in the zip
    message: str


@dataclass
class Source:
    """A dataset's files on disk."""

    name: str  # dataset name: folder name or zip stem unless given
    source: Path  # absolute path the user gave
    root: Path  # absolute folder the dataset's paths are relative to
    is_zip: bool
    extracted: int = 0  # zip entries written this time
    issues: list[SourceIssue] = field(default_factory=list)


def open_source(path: Path, *, extract_base: Path, name: str | None = None) -> Source:
    """Resolve a folder or a .zip to a Source; raises AsrlensError when it is unusable."""
    source = Path(os.path.abspath(path.expanduser()))  # absolute, ".." folded, links kept
    if not source.exists():
        raise AsrlensError(f"dataset {path} does not exist: give a folder or a .zip")
    if source.is_dir():
        return Source(name=name or source.resolve().name, source=source,
                      root=_inner_root(source.resolve()), is_zip=False)
    if not zipfile.is_zipfile(source):
        raise AsrlensError(
            f"dataset {path} is neither a folder nor a readable .zip archive "
            "(bad_archive): check the file, or unzip it and pass the folder"
        )
    name = name or source.stem
    unsafe = unsafe_reason(name) or ("/" in name and "contains '/'")
    if unsafe or name in (".", ""):
        raise AsrlensError(f"dataset name {name!r} is not a plain folder name: use --name")
    target = extract_base / name
    extracted, issues = _extract(source, target)
    return Source(name=name, source=source, root=_inner_root(target.resolve()), is_zip=True,
                  extracted=extracted, issues=issues)


def _inner_root(folder: Path) -> Path:
    """`folder`, or its single subfolder when that is where the dataset is (a zipped folder)."""
    if _holds_dataset(folder):
        return folder
    entries = [e for e in folder.iterdir()
               if not e.name.startswith(".") and e.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        inner = entries[0]
        if _holds_dataset(inner):
            return inner
    return folder


def _holds_dataset(folder: Path) -> bool:
    """True when `folder` has a wavs/ folder or a labels file at its top."""
    return (folder / "wavs").is_dir() or find_labels_file(folder) is not None


def _extract(archive: Path, target: Path) -> tuple[int, list[SourceIssue]]:
    """Extract `archive` into `target` unless the marker says it already holds it."""
    st = archive.stat()
    stamp = {"source": os.fspath(archive), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
    marker = target / MARKER
    previous = _read_marker(marker)
    if previous and all(previous.get(k) == v for k, v in stamp.items()) and _intact(
        archive, target
    ):
        return 0, [SourceIssue(**issue) for issue in previous.get("issues", [])]
    try:
        target.mkdir(parents=True, exist_ok=True)
        target = target.resolve()
        written, kept, issues = _extract_entries(archive, target)
        _remove_stale(target, kept)
        marker.write_text(json.dumps({**stamp, "issues": [vars(i) for i in issues]}))
    except zipfile.BadZipFile as exc:
        raise AsrlensError(f"cannot read zip {archive}: {exc} (bad_archive)") from exc
    except OSError as exc:
        raise AsrlensError(f"cannot extract {archive} into {target}: {exc}") from exc
    return written, issues


def _extract_entries(archive: Path, target: Path) -> tuple[int, set[Path], list[SourceIssue]]:
    written = 0
    kept: set[Path] = set()
    issues: list[SourceIssue] = []
    with zipfile.ZipFile(archive) as zf:
        for info in _file_entries(zf):
            entry = info.filename
            reason = _unsafe_entry(info, target)
            if reason:
                issues.append(SourceIssue("unsafe_path", entry,
                                          f"{archive.name}: entry {entry!r} {reason}; skipped"))
                continue
            dest = target / entry
            kept.add(dest)
            if _same_file(dest, info):
                continue
            try:
                _write_entry(zf, info, dest)
                written += 1
            except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError,
                    RuntimeError) as exc:  # corrupt data, unknown compression, encrypted
                dest.unlink(missing_ok=True)
                kept.discard(dest)
                issues.append(SourceIssue("bad_archive", entry,
                                          f"{archive.name}: entry {entry!r} cannot be "
                                          f"extracted: {exc}"))
    return written, kept, issues


def _intact(archive: Path, target: Path) -> bool:
    """True when every safe entry of `archive` is present in `target` with its size."""
    try:
        target = target.resolve()
        with zipfile.ZipFile(archive) as zf:
            for info in _file_entries(zf):
                if _unsafe_entry(info, target):
                    continue
                dest = target / info.filename
                if not dest.is_file() or dest.stat().st_size != info.file_size:
                    return False
    except (OSError, zipfile.BadZipFile):
        return False
    return True


def _file_entries(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The zip's file entries: folders and SKIPPED_ZIP_PREFIXES left out (without an issue)."""
    return [info for info in zf.infolist()
            if not info.is_dir() and not info.filename.startswith(SKIPPED_ZIP_PREFIXES)]


def _unsafe_entry(info: zipfile.ZipInfo, target: Path) -> str | None:
    """Why a zip entry must not be written (escapes `target`, or is a symlink), else None."""
    reason = unsafe_reason(info.filename)
    if reason:
        return reason
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link"
    dest = (target / info.filename).resolve()
    if not dest.is_relative_to(target):
        return "resolves outside the dataset folder"
    return None


def _same_file(dest: Path, info: zipfile.ZipInfo) -> bool:
    """True when `dest` already holds the entry's bytes (same size and CRC-32)."""
    try:
        if dest.is_symlink() or dest.stat().st_size != info.file_size:
            return False
        crc = 0
        with open(dest, "rb") as f:
            while chunk := f.read(COPY_CHUNK_BYTES):
                crc = zlib.crc32(chunk, crc)
        return crc == info.CRC
    except OSError:
        return False


def _write_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path) -> None:
    """Write one entry (via a temporary file, so a failure leaves no half file).

    The file gets the extraction time as mtime, so a rewritten entry is re-read by ingest
    while entries skipped as unchanged keep theirs.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_symlink():
        dest.unlink()
    partial = dest.with_name(dest.name + ".partial")
    with zf.open(info) as src, open(partial, "wb") as out:
        shutil.copyfileobj(src, out, COPY_CHUNK_BYTES)
    os.replace(partial, dest)


def _remove_stale(target: Path, kept: set[Path]) -> None:
    """Delete files under `target` that the zip no longer holds (never follows symlinks)."""
    for folder, _dirs, files in os.walk(target):
        for file_name in files:
            path = Path(folder) / file_name
            if path not in kept and file_name != MARKER:
                path.unlink()


def _read_marker(marker: Path) -> dict | None:
    try:
        return json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
