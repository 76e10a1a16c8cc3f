"""A writer whose database file is deleted or replaced while it runs fails with one line
(exit 1) instead of committing into a file nobody can open again and reporting success."""

from __future__ import annotations

import os
import shutil

import pytest
from click.testing import CliRunner
from test_infer import ScriptedRecognizer, make_toy_db

from asrlens.cli import cli
from asrlens.db import wal_path


class Vandal(ScriptedRecognizer):
    """A recognizer that, at its third file, does `what` to the database file."""

    def __init__(self, db, what):
        super().__init__()
        self.db, self.what = db, what

    def transcribe(self, samples):
        if len(self.calls) == 2:
            if self.what == "delete":
                os.unlink(self.db)
                wal_path(self.db).unlink(missing_ok=True)
            else:  # a copy moved over it: same bytes, another file
                shutil.copy(self.db, f"{self.db}.copy")
                os.replace(f"{self.db}.copy", self.db)
        return super().transcribe(samples)


@pytest.mark.parametrize("what", ["delete", "replace"])
def test_infer_notices_its_database_is_gone_or_replaced(tmp_path, monkeypatch, what):
    from asrlens.infer import recognizers

    db = make_toy_db(tmp_path)
    monkeypatch.setattr(recognizers, "get_recognizer", lambda name, **kw: Vandal(db, what))
    result = CliRunner().invoke(cli, ["infer", "--db", str(db), "--run", "r", "--no-progress",
                                      "--batch-files", "2", "--no-analyze"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "finished" not in result.output and "WER" not in result.output, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert errors == [f"Error: database {db} was deleted or replaced while this command wrote "
                      f"to it: what it wrote is not in the file at that path now; run the "
                      f"command again on the database you mean"], result.output
