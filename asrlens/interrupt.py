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
from collections.abc import Iterator

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
