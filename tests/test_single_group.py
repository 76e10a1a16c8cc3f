"""One group says why: when every file falls in one group (the LJSpeech sample is all of
chapter LJ001), the report's group section says so in one line instead of drawing one dot,
and the sign and Wilcoxon tests over groups are not run (no p-value) by compare or the
report."""

from __future__ import annotations

import math
import re

import pytest
from click.testing import CliRunner
from conftest import rows
from synthetic import make_synthetic_db

from asrlens.cli import cli
from asrlens.compare import significance as sig


@pytest.fixture(scope="module")
def one_chapter_db(tmp_path_factory):
    """20 utterances, LJ001-0001 to LJ001-0020: one group under the default rule."""
    return make_synthetic_db(tmp_path_factory.mktemp("one") / "one.duckdb", n_utts=20,
                             n_runs=2, seed=4)


def test_compare_does_not_run_the_group_tests_over_one_group(one_chapter_db, copy_db):
    db = copy_db(one_chapter_db)
    result = CliRunner().invoke(cli, ["compare", "run0", "run1", "--db", str(db)])
    assert result.exit_code == 0, result.output
    for label in ("sign test (per-group WER)", "Wilcoxon signed-rank (per-group WER)"):
        line = next(ln for ln in result.output.splitlines() if label in ln)
        assert "not run: every shared file is in one group" in line, line
    stored = rows(db, "select test, p_value, significant from comparison_tests order by test")
    assert [r["test"] for r in stored] == ["mapsswe", "mcnemar", "sign", "wilcoxon"]
    not_run = [r for r in stored if r["test"] in ("sign", "wilcoxon")]
    assert all(math.isnan(r["p_value"]) and not r["significant"] for r in not_run)  # NaN
    assert all(0 <= r["p_value"] <= 1 for r in stored if r["test"] in ("mapsswe", "mcnemar"))


def test_the_report_says_why_in_one_line(one_chapter_db, tmp_path):
    result = CliRunner().invoke(cli, ["report", "--db", str(one_chapter_db), "--run", "run0",
                                      "--run", "run1", "--audio", "none",
                                      "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "r" / "index.html").read_text()
    groups = html[html.index('id="groups"'):]
    groups = groups[:groups.index("</section>")]
    single = re.search(r'<p class="note" id="groups-single">([^<]*)</p>', groups)
    assert single, groups[:2000]
    assert single[1].startswith("All 20 scored files of run run0 are in one group, LJ001, "
                                "under regex:^[^-]+")
    assert "<svg" not in groups and 'id="groups-outliers"' not in groups
    for test in ("sign", "wilcoxon"):
        row = re.search(rf'<tr data-test="{test}">(.*?)</tr>', html, re.DOTALL)
        assert row and "not run: every shared file is in one group" in row[1], test


def test_two_groups_are_still_tested():
    assert sig.sign_test([10.0, 20.0], [12.0, 25.0]).detail.get("not_run") is None
    assert "not_run" in sig.wilcoxon_test([10.0], [12.0]).detail
