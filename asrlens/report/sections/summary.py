"""Section 1, Summary: the answer first (asrlens.report.summary computes it; the same
figures as `asrlens summary` and `asrlens report --format markdown`)."""

from __future__ import annotations

import sqlalchemy as sa

from asrlens.report.context import ReportContext
from asrlens.report.summary import build_summary

TITLE = "Summary"
TEMPLATE = "_summary.html"


def build(engine: sa.Engine, ctx: ReportContext) -> dict | None:
    """The Summary of the report's runs; None for a dataset-only report."""
    if ctx.run_id is None:
        return None
    return {"summary": build_summary(engine, run_ids=ctx.run_ids, dataset=ctx.dataset,
                                     seed=ctx.seed, group_by=ctx.group_by,
                                     comparisons=ctx.comparisons)}
