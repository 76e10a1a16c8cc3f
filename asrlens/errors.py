"""The one exception type the CLI turns into a clean `Error: ...` line (no traceback)."""


class AsrlensError(Exception):
    """An expected failure with a message written for the user.

    Raise it with a message that names the file (and line) at fault and, where there is one,
    what to do about it. `asrlens.cli` prints it as `Error: <message>` and exits with status 1.
    """


class CheckpointFailed(Exception):
    """Everything was committed, but the write-ahead log could not be folded into the file.

    Its message says which `.wal` is left and what to do. `asrlens.cli` prints it as
    `Warning: <message>` and exits with status 1, so no command reports "stored" while the
    `.duckdb` file alone lacks the latest rows.
    """
