"""Find a dataset's files: its labels file, the audio under its root, which label has which file.

    audio, unsafe_links = _list_audio(root)         # POSIX paths relative to root, sorted
    matched, missing = _match(labels, audio)        # [(label, path)], [label without audio]
    reuse, to_read = _plan_reads(root, audio, old)  # stored rows still valid, paths to read

A label's audio is `wavs/<id>.wav`, then .flac/.ogg/.mp3, then `<id>.<ext>` at the root (or
the file its labels line names); each file goes to one label.
"""

from __future__ import annotations

import os
from pathlib import Path

from asrlens.errors import AsrlensError
from asrlens.ingest.labels import AUDIO_SUFFIXES, Label, find_labels_file

FLOAT_SUBTYPES = ("FLOAT", "DOUBLE")
"""libsndfile sample encodings that can hold NaN or infinite samples."""

AUDIO_FOLDER = "wavs"
"""Folder searched first for a label's audio: `wavs/<id>.wav`."""


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
    """(label, audio path) pairs, and labels without audio. Each file goes to one label,
    but for spans (label.start_s set): the spans of a recording share its file."""
    index = {_lower_suffix(path): path for path in audio}
    taken: set[str] = set()
    matched, missing = [], []
    for label in labels:
        span = label.start_s is not None
        path = next((index[c] for c in _candidates(label)
                     if c in index and (span or index[c] not in taken)), None)
        if path is None:
            missing.append(label)
        else:
            if not span:
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
