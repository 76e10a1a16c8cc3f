"""The one exception type the CLI turns into a clean `Error: ...` line (no traceback)."""


class AsrlensError(Exception):
    """An expected failure with a message written for the user.

    Raise it with a message that names the file (and line) at fault and, where there is one,
    what to do about it. `asrlens.cli` prints it as `Error: <message>` and exits with status 1.
    """
