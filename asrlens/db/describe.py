"""Database errors as one line a user can act on: which file, and the likely cause.

    describe_error(path, exc)   # 'db.duckdb: the disk is full (...); what was committed ...'
    one_line(exc)               # the first meaningful line of a database error
"""

from __future__ import annotations

import errno
import os

from asrlens.owner import lock_holder


def describe_error(db_path: str | os.PathLike, exc: BaseException) -> str:
    """One line naming the database file and the likely cause of a database error."""
    text = one_line(exc)
    low = text.lower()
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        text = f"{exc.strerror} ({exc.filename})" if exc.filename else str(exc.strerror)
        low = "no space left"
    if any(s in low for s in ("no space left", "disk full", "file too large", "quota")):
        return (f"{db_path}: the disk is full ({text}); what was committed before is kept: "
                f"free some space and run the command again")
    if "not a valid duckdb" in low:
        return f"{db_path}: not a DuckDB database file ({text}); check --db"
    if any(s in low for s in ("corrupt", "checksum", "serializ", "invalid block",
                              "read past the end", "unexpected eof")):
        return (f"{db_path}: the file is damaged ({text}); restore it from a copy, or ingest "
                f"again into a new file (--db NEW.duckdb); `asrlens doctor` shows what still "
                f"reads")
    if "permission denied" in low or "read-only file system" in low:
        return (f"{db_path}: cannot write there ({text}); pass --db with a path in a folder "
                f"you can write to")
    if "set lock" in low or "conflicting lock" in low:
        holder = lock_holder(text) or "another asrlens or DuckDB process"
        return (f"{db_path}: in use by {holder}; run this when it ends, or wait for it with "
                f"--wait SECONDS")
    return f"{db_path}: {text}"


def one_line(exc: BaseException) -> str:
    """The first meaningful line of a database error, without SQLAlchemy's boilerplate."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return text.splitlines()[0] if text else type(orig).__name__
