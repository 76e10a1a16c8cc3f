"""Waiting for a database that another process holds (`--wait SECONDS`).

    with wait_for_lock(30):          # db_option does this for every command
        engine = connect(path)       # tries again every LOCK_POLL_S for up to 30 s

DuckDB lets one process open a file read-write, and then no other process at all; a reader
started while `asrlens infer` writes fails at once with a line naming the writer
(asrlens.health.owner.lock_holder), or, with --wait, waits for it to end.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import sqlalchemy as sa

from asrlens.errors import AsrlensError

LOCK_WAIT: contextvars.ContextVar[float] = contextvars.ContextVar("lock_wait_s", default=0.0)
"""Seconds `connect` waits for a database another process holds (`--wait`; 0: fail at once)."""

LOCK_POLL_S = 0.5
"""How often a waiting `connect` tries the file again, seconds."""


def is_locked(exc: BaseException) -> bool:
    """True for DuckDB's error on a file another process holds."""
    low = str(getattr(exc, "orig", None) or exc).lower()
    return "set lock" in low or "conflicting lock" in low


def waiting_for_lock(call: Callable[[], Any]) -> Any:
    """`call()`, tried again every LOCK_POLL_S while the database is locked, for LOCK_WAIT_S."""
    deadline = time.monotonic() + LOCK_WAIT.get()
    while True:
        try:
            return call()
        except (AsrlensError, sa.exc.SQLAlchemyError, duckdb.Error) as exc:
            cause = exc.__cause__ if isinstance(exc, AsrlensError) else exc
            if cause is None or not is_locked(cause) or time.monotonic() >= deadline:
                raise
        time.sleep(LOCK_POLL_S)


@contextlib.contextmanager
def wait_for_lock(seconds: float | None) -> Iterator[None]:
    """Within the block, `waiting_for_lock` waits up to `seconds` (None or 0: not at all)."""
    token = LOCK_WAIT.set(float(seconds or 0))
    try:
        yield
    finally:
        LOCK_WAIT.reset(token)
