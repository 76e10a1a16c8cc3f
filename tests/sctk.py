"""Running NIST SCTK (Debian's `sctk`: sclite, sc_stats) from tests, and reading its output.

    sgml = sclite_sgml(ref_trn, hyp_trn, title="A", out_dir=tmp)        # path of the SGML
    results = sc_stats([sgml_a, sgml_b])    # {'MP': ('~', 0.603), 'SI': ('B', 0.021), ...}
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

TEST_ABBREVIATIONS = {"MP": "mapsswe", "SI": "sign", "WI": "wilcoxon", "MN": "mcnemar"}
"""sc_stats's abbreviation in its unified report -> asrlens's test name."""

_UNIFIED_ROW = re.compile(
    r"^\|\s*(MP|SI|WI|MN)\s*\|\|[^|]*\|[^|]*\|\s*(\S+)\s+(<0\.001|\d+\.\d{3})"
)


def require_sctk() -> str:
    """The sctk executable, or skip the test when it is not installed."""
    path = shutil.which("sctk")
    if path is None:
        pytest.skip("NIST SCTK is not installed (Debian: apt-get install sctk)")
    return path


def sclite_sgml(ref_trn: Path, hyp_trn: Path, *, title: str, out_dir: Path) -> Path:
    """Score hyp_trn against ref_trn with sclite (ids as `speaker-utterance`) -> its SGML."""
    sctk = require_sctk()
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sctk, "sclite", "-r", str(ref_trn), "trn", "-h", str(hyp_trn), "trn", title,
         "-i", "rm", "-o", "sgml", "-O", str(out_dir), "-n", title],
        check=True, capture_output=True, text=True,
    )
    return out_dir / f"{title}.sgml"


def sc_stats(sgml_files: list[Path], *, work_dir: Path) -> dict[str, tuple[str, float]]:
    """sc_stats's four tests on two systems: abbreviation -> (winner or '~', p-value).

    '<0.001' is read as 0.0005 (the middle of what it can mean). sc_stats also writes a
    summary file per system (TITLE.sts): into `work_dir`.
    """
    sctk = require_sctk()
    work_dir.mkdir(parents=True, exist_ok=True)
    stdin = "".join(Path(f).read_text(encoding="utf-8") for f in sgml_files)
    result = subprocess.run([sctk, "sc_stats", "-p", "-t", "std4", "-u", "-n", "-", "-f", "0",
                             "-O", str(work_dir)],
                            input=stdin, check=True, capture_output=True, text=True,
                            cwd=work_dir)
    found = {}
    for line in result.stdout.splitlines():
        match = _UNIFIED_ROW.match(line)
        if match:
            abbrev, winner, p = match.groups()
            found[abbrev] = (winner, 0.0005 if p == "<0.001" else float(p))
    if set(found) != set(TEST_ABBREVIATIONS):
        raise AssertionError(f"could not read sc_stats's unified report:\n{result.stdout}")
    return found


_SCLITE_SUM = re.compile(
    r"\|\s*Sum\s*\|\s*(?P<snt>\d+)\s+(?P<wrd>\d+)\s*\|\s*(?P<corr>\d+)\s+(?P<sub>\d+)\s+"
    r"(?P<del>\d+)\s+(?P<ins>\d+)\s+(?P<err>\d+)"
)


def sclite_sum(ref_trn: Path, hyp_trn: Path) -> dict[str, int]:
    """sclite's raw summary over two trn files: snt, wrd, corr, sub, del, ins, err (counts)."""
    sctk = require_sctk()
    done = subprocess.run([sctk, "sclite", "-r", str(ref_trn), "trn", "-h", str(hyp_trn), "trn",
                           "-i", "rm", "-o", "rsum", "stdout"],
                          capture_output=True, text=True, check=True, timeout=60)
    match = _SCLITE_SUM.search(done.stdout)
    if match is None:
        raise AssertionError(f"could not read sclite's summary:\n{done.stdout}")
    return {key: int(value) for key, value in match.groupdict().items()}
