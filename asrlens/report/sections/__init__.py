"""The report's sections, in page order.

To add a section: write a module here with
    TITLE = "Worst files"                 # heading and table-of-contents entry
    TEMPLATE = "_worst.html"              # partial in asrlens/templates/, sees `data`
    def build(engine, ctx: ReportContext) -> dict | None: ...   # None: not applicable, skipped
(ReportContext and run_query come from asrlens.report.context), then add it to SECTIONS below
with a one-line edit. Its HTML id is the module name.
"""

from asrlens.report.sections import (
    compare,
    dataset,
    distribution,
    explore,
    failures,
    files,
    groups,
    history,
    patterns,
    run,
    speakers,
    summary,
    why,
    worst,
)

SECTIONS = [summary, history, dataset, explore, run, distribution, groups, speakers, worst, files,
            patterns, why, failures, compare]
