"""The shareable HTML report: SQL queries (queries/*.sql) -> sections -> Jinja templates.

    from asrlens.report import render_report
    path = render_report(engine, run_ids=["sphinx"], out_dir="report")   # report/index.html
"""

from asrlens.report.context import ReportContext, run_query
from asrlens.report.render import render_report

__all__ = ["ReportContext", "render_report", "run_query"]
