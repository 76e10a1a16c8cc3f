"""Where a dataset's files are: a folder as given, or a .zip extracted safely next to the DB.

    src = open_source(Path("speechdata.zip"), extract_base=Path(".asrlens/datasets"))
    src.root      # the folder audio paths are relative to
    src.issues    # unsafe or unreadable zip entries (never written)

A zip is extracted into `extract_base/<name>/`; entries with '..', absolute paths or symlinks
are skipped and reported, and nothing is written outside that folder. Re-opening an unchanged
zip (same size and mtime) extracts nothing; a changed one rewrites only entries whose size or
CRC differs and removes files the zip no longer holds.

Zip bombs: before anything is written, the sizes the central directory declares are checked
against ZipLimits (total uncompressed size, expansion ratio of each entry, number of
entries) and against the free disk space; while extracting, an entry is stopped as soon as
its stream yields more than its declared size (and dropped as `bad_archive`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import shutil
import stat
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from asrlens import defaults
from asrlens.errors import AsrlensError
from asrlens.ingest.labels import find_labels_file, unsafe_reason

DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
"""Errors that stop the whole extraction (any other OSError skips the one entry)."""

MARKER = ".asrlens-extracted.json"
"""File in an extraction folder recording which zip (size, mtime) it holds, and its issues."""

SKIPPED_ZIP_PREFIXES = ("__MACOSX/",)
"""Zip entries ignored without an issue (macOS resource forks)."""

COPY_CHUNK_BYTES = 1 << 20
"""Read size when extracting an entry, bytes."""

MAX_UNZIPPED_BYTES = defaults.ZIP_MAX_BYTES
"""Default limit of a zip's total uncompressed size (20 GiB; LJSpeech unpacks to 3.6 GB)."""

MAX_ENTRY_RATIO = defaults.ZIP_MAX_RATIO
"""Default limit of one entry's uncompressed / compressed size (audio compresses 1-10 fold;
deflate's best is about 1032, which is what a zip bomb uses)."""

RATIO_MIN_BYTES = 1 << 20
"""Entries smaller than this (1 MiB uncompressed) are not held to the ratio: they cannot
fill a disk, and small text files compress well."""

MAX_ENTRIES = defaults.ZIP_MAX_ENTRIES
"""Default limit of the number of entries in a zip (LJSpeech has 13,104)."""


@dataclass(frozen=True)
class ZipLimits:
    """What a zip may unpack to; checked against its central directory before extracting."""

    max_bytes: int = MAX_UNZIPPED_BYTES  # total uncompressed size of the entries extracted
    max_ratio: float = MAX_ENTRY_RATIO  # uncompressed / compressed, per entry >= RATIO_MIN_BYTES
    max_entries: int = MAX_ENTRIES  # entries in the central directory, folders included


@dataclass(frozen=True)
class SourceIssue:
    """A zip entry that was not extracted (kind 'unsafe_path' or 'bad_archive'), or one
    name given to several entries ('duplicate_entry': the last is extracted)."""

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


def open_source(
    path: Path, *, extract_base: Path, name: str | None = None, limits: ZipLimits | None = None
) -> Source:
    """Resolve a folder or a .zip to a Source; raises AsrlensError when it is unusable, or
    when a zip would unpack beyond `limits` (default ZipLimits())."""
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
    extracted, issues = _extract(source, target, limits or ZipLimits())
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


def _extract(archive: Path, target: Path, limits: ZipLimits) -> tuple[int, list[SourceIssue]]:
    """Extract `archive` into `target` unless the marker says it already holds it."""
    st = archive.stat()
    stamp = {"source": os.fspath(archive), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
    marker = target / MARKER
    previous = _read_marker(marker)
    skipped = {issue.get("path") for issue in (previous or {}).get("issues", [])
                if issue.get("kind") != "duplicate_entry"}
    if previous and all(previous.get(k) == v for k, v in stamp.items()) and _intact(
        archive, target, skipped
    ):
        return 0, [SourceIssue(**issue) for issue in previous.get("issues", [])]
    try:
        check_limits(archive, target, limits)  # before anything is written
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


def check_limits(archive: Path, target: Path, limits: ZipLimits) -> None:
    """Refuse (AsrlensError) a zip whose central directory declares more than `limits`
    allow, or more than the disk holding `target` has free. Writes nothing."""
    flags = ("(a zip bomb, or a dataset larger than asrlens expects; if you trust it, "
             "raise the limit with asrlens ingest {flag})")
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            raise AsrlensError(
                f"{archive.name} holds {len(infos):,} entries, more than the limit of "
                f"{limits.max_entries:,} " + flags.format(flag="--zip-max-entries N"))
        entries = _file_entries(zf)
    for info in entries:
        if info.file_size < RATIO_MIN_BYTES:
            continue
        ratio = info.file_size / info.compress_size if info.compress_size else math.inf
        if ratio > limits.max_ratio:
            raise AsrlensError(
                f"{archive.name}: entry {info.filename!r} would expand {ratio:,.0f}-fold "
                f"({format_bytes(info.compress_size)} to {format_bytes(info.file_size)}), "
                f"more than the limit of {limits.max_ratio:g} "
                + flags.format(flag="--zip-max-ratio N"))
    total = sum(info.file_size for info in entries)
    if total > limits.max_bytes:
        size, limit = format_bytes(total), format_bytes(limits.max_bytes)
        if size == limit:  # too close to tell apart when rounded
            size, limit = f"{total:,} bytes", f"{limits.max_bytes:,} bytes"
        raise AsrlensError(
            f"{archive.name} would unpack to {size} in {len(entries):,} files, more than the "
            f"limit of {limit} " + flags.format(flag="--zip-max-size SIZE"))
    needed = sum(info.file_size for info in entries if not _present(target, info))
    folder = next(p for p in (target, *target.parents) if p.exists())
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise AsrlensError(
            f"{archive.name} would unpack to {format_bytes(needed)} in {target}, but only "
            f"{format_bytes(free)} is free there: free some space or unzip it elsewhere and "
            "pass the folder")


def _present(target: Path, info: zipfile.ZipInfo) -> bool:
    """True when `target` already holds a file of the entry's size (it needs no new space)."""
    if unsafe_reason(info.filename):
        return True  # never written
    try:
        return (target / info.filename).stat().st_size == info.file_size
    except OSError:
        return False


def format_bytes(n: float) -> str:
    """1536 -> '1.5 KiB', 513_000_000 -> '489.2 MiB'."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def parse_size(text: str) -> int:
    """'20G' -> 21474836480: a byte count with an optional K, M, G or T (binary) suffix."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if not match:
        raise AsrlensError(f"size {text!r} is not a number of bytes like 500M, 20G or 1T")
    power = " KMGT".index(match[2].upper() or " ")
    return int(float(match[1]) * 1024**power)


def _extract_entries(archive: Path, target: Path) -> tuple[int, set[Path], list[SourceIssue]]:
    written = 0
    kept: set[Path] = set()
    issues: list[SourceIssue] = []
    with zipfile.ZipFile(archive) as zf:
        entries = _file_entries(zf)
        counts = Counter(info.filename for info in entries)
        issues += [SourceIssue("duplicate_entry", name, f"{archive.name}: entry {name!r} "
                               f"appears {n} times; the last one is used")
                   for name, n in counts.items() if n > 1]
        for info in entries:
            entry = info.filename
            if counts[entry] > 1 and info is not _last(entries, entry):
                continue
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
                    RuntimeError, EntryTooLong, OSError) as exc:  # corrupt, unknown method,
                # encrypted; a name too long for the file system, a file where a folder
                # must be (ds/x and ds/x/y.wav): this entry is skipped, the rest go on
                if isinstance(exc, OSError) and exc.errno in DISK_FULL:
                    raise
                with contextlib.suppress(OSError):
                    if dest.is_file() and not dest.is_symlink():
                        dest.unlink()
                kept.discard(dest)
                issues.append(SourceIssue("bad_archive", entry,
                                          f"{archive.name}: entry {entry!r} cannot be "
                                          f"extracted: {exc}"))
    return written, kept, issues


def _intact(archive: Path, target: Path, skipped: set[str] = frozenset()) -> bool:
    """True when every safe entry of `archive` is present in `target` with its size
    (entries in `skipped`, reported as issues when it was extracted, left out)."""
    try:
        target = target.resolve()
        with zipfile.ZipFile(archive) as zf:
            for info in _file_entries(zf):
                if info.filename in skipped or _unsafe_entry(info, target):
                    continue
                dest = target / info.filename
                if not dest.is_file() or dest.stat().st_size != info.file_size:
                    return False
    except (OSError, zipfile.BadZipFile):
        return False
    return True


def _last(entries: list[zipfile.ZipInfo], name: str) -> zipfile.ZipInfo:
    """The last entry called `name` (the one a zip reader's name lookup finds)."""
    return next(info for info in reversed(entries) if info.filename == name)


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
    try:
        with zf.open(info) as src, open(partial, "wb") as out:
            copy_bounded(src, out, info.file_size)
        os.replace(partial, dest)  # fails when a folder of that name is there
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise


class EntryTooLong(Exception):
    """A zip entry's stream yields more bytes than its header declares."""


def copy_bounded(src: BinaryIO, out: BinaryIO, declared: int) -> int:
    """Copy `src` to `out`, stopping with EntryTooLong as soon as more than `declared` bytes
    come (zipfile itself stops at the declared size and then checks the CRC; this keeps the
    bound whatever the reader does). Returns the bytes copied."""
    copied = 0
    while chunk := src.read(min(COPY_CHUNK_BYTES, declared - copied + 1)):
        copied += len(chunk)
        if copied > declared:
            raise EntryTooLong(f"it expands beyond the {declared:,} bytes its header declares; "
                               "extraction stopped")
        out.write(chunk)
    return copied


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
