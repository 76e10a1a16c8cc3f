"""Find a dataset's files: its labels file, the audio under its root, which label has which file.

    audio, unsafe_links = _list_audio(root)         # POSIX paths relative to root, sorted
    matched, missing = _match(labels, audio)        # [(label, path)], [label without audio]

A label's audio is `wavs/<id>.wav`, then .flac/.ogg/.mp3, then `<id>.<ext>` at the root (or
the file its labels line names); each file goes to one label.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from asrlens.errors import AsrlensError
from asrlens.ingest.labels import AUDIO_SUFFIXES, Label, find_labels_file

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
    return path if not dot or suffix == suffix.lower() else f"{stem}.{suffix.lower()}"


class AudioIndex:
    """The audio files of a dataset by their lower-suffix path, handing each file to one
    label (spans excepted: the spans of a recording share its file). Holds one entry per
    file, the path string itself (no copy) when its suffix is lower-case already.

        index = AudioIndex(audio)            # audio: paths, in the order ingest lists them
        index.take(label)                    # the label's file, or None
    """

    def __init__(self, audio: Iterable[str]) -> None:
        self._free: dict[str, str] = {}  # key -> path, not taken yet
        self._taken: dict[str, str] = {}  # key -> path, taken by a label (not a span)
        for path in audio:  # a later path of the same key wins, as in a dict
            self._free[_lower_suffix(path)] = path

    def take(self, label: Label) -> str | None:
        """The first of the label's candidates present and (not for a span) not taken yet;
        it is taken unless the label is a span."""
        span = label.start_s is not None
        for candidate in _candidates(label):
            path = self._free.get(candidate)
            if path is not None:
                if not span:
                    del self._free[candidate]
                    self._taken[candidate] = path
                return path
            if span and candidate in self._taken:
                return self._taken[candidate]
        return None


def _match(
    labels: list[Label], audio: list[str]
) -> tuple[list[tuple[Label, str]], list[Label]]:
    """(label, audio path) pairs, and labels without audio (AudioIndex.take in label order)."""
    index = AudioIndex(audio)
    matched, missing = [], []
    for label in labels:
        path = index.take(label)
        if path is None:
            missing.append(label)
        else:
            matched.append((label, path))
    return matched, missing


def needs_read(root: Path, path: str, stored_bytes: int, stored_mtime: float) -> bool:
    """False when the file still has the size and mtime of its stored row."""
    st = (root / path).stat()
    return not (st.st_size == stored_bytes and st.st_mtime == stored_mtime)
