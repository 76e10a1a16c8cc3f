"""SIGTERM handled like Ctrl-C, and the exit status that says which one stopped a command.

    with stop_signals():
        ...                              # SIGTERM raises Terminated, a KeyboardInterrupt
    sys.exit(exit_status())              # 130 after Ctrl-C (SIGINT), 143 after SIGTERM

`timeout`, `kill`, systemd and batch schedulers stop a process with SIGTERM. Python's default
for it is to die on the spot, like SIGKILL: the batch being transcribed is lost and the run
stays 'running'. Raised as a KeyboardInterrupt instead, it takes the path Ctrl-C takes: whole
files are committed, the run is marked 'interrupted' and the command says how to resume.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

_received: list[int] = []  # signals received while stop_signals() was active


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the main thread is, like Ctrl-C's KeyboardInterrupt."""


def _on_sigterm(signum: int, frame) -> None:
    _received.append(signum)
    raise Terminated(f"signal {signum}")


def _default_in_child() -> None:
    """A forked worker (ingest's audio readers) dies on SIGTERM, as it would without asrlens."""
    if signal.getsignal(signal.SIGTERM) is _on_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


os.register_at_fork(after_in_child=_default_in_child)


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """Within the block, SIGTERM raises Terminated (a KeyboardInterrupt)."""
    _received.clear()
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (e.g. a test runner's worker): leave it alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def exit_status() -> int:
    """128 + the signal that stopped the command: 143 for SIGTERM, else 130 (SIGINT)."""
    return 128 + (signal.SIGTERM if signal.SIGTERM in _received else signal.SIGINT)


def signal_name() -> str:
    return "SIGTERM" if signal.SIGTERM in _received else "Ctrl-C"


POLL_S = 0.1
"""How often `interruptible` looks at its deadline while it waits, seconds."""

STOP_WAIT_S = 10.0
"""How long `interruptible` waits for a stopped DuckDB call to return, seconds."""


class DeadlinePassed(Exception):
    """`interruptible` stopped its call because the deadline passed."""


def interruptible(connection, call: Callable[[], T], *, deadline: float | None = None) -> T:
    """`call()` (a DuckDB call on `connection`) run so that Ctrl-C, SIGTERM and a deadline
    (time.monotonic()) stop it at once.

    A DuckDB call holds the main thread in C++, where Python runs no signal handler until it
    returns: a long query would finish before Ctrl-C is seen. So the call runs in a worker
    thread while the main thread waits in short steps; on KeyboardInterrupt (Terminated
    included) or past the deadline, `connection.interrupt()` stops the query, and the
    KeyboardInterrupt goes on, or DeadlinePassed is raised. The call's own error is raised
    as it is.
    """
    box: dict = {}
    done = threading.Event()  # waited on, not Thread.join: an interrupted join can leave
    # the Thread saying it is no longer alive while its call still runs (Python < 3.13)

    def target() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the main thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name="asrlens-query", daemon=True).start()
    try:
        while not done.wait(POLL_S):
            if deadline is not None and time.monotonic() > deadline:
                _stop(connection, done)
                raise DeadlinePassed()
    except KeyboardInterrupt:
        _stop(connection, done)
        raise
    if "error" in box:
        raise box["error"]
    return box["value"]


def _stop(connection, done: threading.Event) -> None:
    """Interrupt the running call and wait for it to return (it raises InterruptException)."""
    stop_by = time.monotonic() + STOP_WAIT_S
    while not done.is_set() and time.monotonic() < stop_by:
        connection.interrupt()  # again, in case the call had not reached DuckDB yet
        done.wait(POLL_S)
