"""The report's results-by-group section and the significance table of its comparison: the
numbers on the page are asrlens.compare's, the rule given is the one used, and one run shows
groups without significance.
"""

from __future__ import annotations

import re

import pytest
from htmlcheck import assert_well_formed
from synthetic import make_synthetic_db

from asrlens.compare import compare_runs, group_results, parse_rule
from asrlens.db import connect
from asrlens.errors import AsrlensError
from asrlens.report import render
from asrlens.report.sections import compare, groups


@pytest.fixture(scope="module")
def synth_db(tmp_path_factory):
    return make_synthetic_db(tmp_path_factory.mktemp("groups") / "synth.duckdb", n_utts=300,
                             n_runs=2, seed=1)


@pytest.fixture
def synth(synth_db):
    engine = connect(synth_db, read_only=True)
    yield engine
    engine.dispose()


def ctx_for(engine, tmp_path, *runs, group_by=None):
    return render.resolve_context(engine, run_ids=list(runs), dataset=None, out_dir=tmp_path,
                                  audio="none", top_n=10, seed=0, group_by=group_by)


def page(engine, ctx, *modules) -> str:
    html = render.render_page(ctx, render.build_sections(engine, ctx, modules))
    assert_well_formed(html)
    return html


def test_groups_section_shows_the_runs_groups_as_computed(synth, tmp_path):
    ctx = ctx_for(synth, tmp_path, "run0")
    data = groups.build(synth, ctx)
    with synth.connect() as conn:
        expected = group_results(conn, run_id="run0", dataset="synthetic",
                                 rule=parse_rule(None), seed=0)
    assert [r["group_name"] for r in data["rows"]] == ["LJ001", "LJ002"]
    assert [r["wer"] for r in data["rows"]] == [r["wer"] for r in expected.rows]
    html = page(synth, ctx, groups)
    rows = re.findall(r'<tr data-group="([^"]+)">', html)
    assert rows == ["LJ001", "LJ002"]
    assert 'id="groups-outliers"' in html and "regex:^[^-]+" in html
    assert "<svg" in html


def test_groups_section_follows_the_rule_given(synth, tmp_path):
    ctx = ctx_for(synth, tmp_path, "run0", group_by="sql:right(utt_id, 1)")
    data = groups.build(synth, ctx)
    assert [r["group_name"] for r in data["rows"]] == [str(d) for d in range(10)]
    assert sum(r["files"] for r in data["rows"]) == data["corpus"]["files"]
    bad = ctx_for(synth, tmp_path, "run0", group_by="label:speaker")
    with pytest.raises(AsrlensError, match="no label column 'speaker'"):
        groups.build(synth, bad)


def test_two_runs_add_each_runs_wer_per_group_and_the_significance_table(synth, tmp_path):
    ctx = ctx_for(synth, tmp_path, "run0", "run1")
    data = groups.build(synth, ctx)
    assert data["others"] == ["run1"]
    with synth.connect() as conn:
        run1 = group_results(conn, run_id="run1", dataset="synthetic", rule=parse_rule(None),
                             seed=0)
        expected = compare_runs(conn, run_a="run0", run_b="run1", rule=parse_rule(None),
                                seed=0)
    assert [r["others"][0] for r in data["rows"]] == [r["wer"] for r in run1.rows]
    html = page(synth, ctx, compare)
    table = html[html.index('id="compare-1-significance"'):]
    table = table[:table.index("</table>")]
    assert re.findall(r'data-test="(\w+)"', table) == ["mapsswe", "sign", "wilcoxon", "mcnemar"]
    for name, test in expected.tests.items():
        row = table[table.index(f'data-test="{name}"'):]
        row = row[:row.index("</tr>")]
        assert f'data-value="{test.p_value}"' in row
        assert (expected.better_run(test) or "no difference") in row
    assert (f"Paired over the {expected.files_shared} files both runs scored; "
            f"{expected.files_left_out} files scored in one run only are left out") in html
    assert f'data-value="{expected.bootstrap.p_b_better}"' in html


def test_one_run_has_groups_but_no_comparison(synth, tmp_path):
    ctx = ctx_for(synth, tmp_path, "run0")
    assert groups.build(synth, ctx) is not None
    assert compare.build(synth, ctx) is None
