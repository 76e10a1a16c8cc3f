"""Output files that are whole or absent: written beside their target, then renamed over it.

    with atomic_open(Path("report/index.html")) as handle:
        handle.write(html)          # a failure here (disk full, Ctrl-C) leaves the old file

The data goes to a temporary file in the target's folder (so the rename stays on one file
system and is atomic), is flushed to disk, and only then replaces the target. A reader sees
the previous complete file or the new complete file, never a cut one; on any error the
temporary file is removed and the target is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

TEMP_SUFFIX = ".partial"
"""Ending of the temporary file beside the target (`.index.html.<random>.partial`)."""


@contextlib.contextmanager
def atomic_open(
    path: str | os.PathLike, mode: str = "w", *, encoding: str | None = "utf-8",
    newline: str | None = None,
) -> Iterator[IO]:
    """A file handle whose content replaces `path` only when the block ends without error.

    mode is "w" (text, `encoding`, `newline` as for open) or "wb". The folder must exist.
    The new file keeps the permissions of the file it replaces (a new one: 0666 less umask).
    A symbolic link is followed (the file it names is replaced); a target that exists but is
    not a regular file (/dev/stdout, a named pipe) is written directly.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes whole files: mode 'w' or 'wb', not {mode!r}")
    target = Path(os.path.realpath(path))  # through a symlink: replace the file it names
    if target.exists() and not target.is_file():  # /dev/stdout, a named pipe: write through
        with open(target, mode, **({} if "b" in mode else {"encoding": encoding,
                                                           "newline": newline})) as handle:
            yield handle
        return
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX,
                                dir=target.parent)
    try:
        text = {} if "b" in mode else {"encoding": encoding, "newline": newline}
        with _open_fd(fd, mode, **text) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, _permissions(target))
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def atomic_write_text(path: str | os.PathLike, text: str, *, encoding: str = "utf-8") -> None:
    """Replace `path` by `text` as a whole (see atomic_open)."""
    with atomic_open(path, encoding=encoding) as handle:
        handle.write(text)


def _open_fd(fd: int, mode: str, **text) -> IO:
    """The temporary file's handle (a seam: tests replace it with one that fills the disk)."""
    return os.fdopen(fd, mode, **text)


def _permissions(target: Path) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
