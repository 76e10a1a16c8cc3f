"""Whether a database file is still the one a command opened.

    watch_identity(engine)     # every commit first checks the file (connect does this)
    check_identity(engine)     # AsrlensError when the file was deleted or replaced

DuckDB writes through the file descriptor it opened: after `rm asrlens.duckdb` (or a copy
moved over it) a run goes on committing into a file nobody can open again, and would report
success. A file is known by (st_dev, st_ino), which a deletion or a replacement changes.
"""

from __future__ import annotations

import os

import sqlalchemy as sa

from asrlens.errors import AsrlensError


def file_identity(path: str | os.PathLike) -> tuple[int, int] | None:
    """(st_dev, st_ino) of the file at `path`, None when there is none: the same pair means
    the same file, even when another was moved over the path or the path was deleted."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def watch_identity(engine: sa.Engine) -> None:
    """Every commit of a read-write engine first checks that its file is still the one it
    opened (check_identity): DuckDB keeps writing to a deleted file's open descriptor, so
    without it a run whose database was deleted or replaced would report success."""
    engine.asrlens_identity = file_identity(engine.asrlens_path)
    sa.event.listen(engine, "commit", lambda conn: check_identity(engine))


def check_identity(engine: sa.Engine) -> None:
    """AsrlensError when the file at the engine's path is not the one it opened."""
    opened = getattr(engine, "asrlens_identity", None)
    if opened is not None and file_identity(engine.asrlens_path) != opened:
        raise AsrlensError(
            f"database {engine.asrlens_path} was deleted or replaced while this command "
            f"wrote to it: what it wrote is not in the file at that path now; run the "
            f"command again on the database you mean")
