"""Render the HTML report: resolve runs, build each section's context, fill the templates.

    engine = connect("asrlens.duckdb", read_only=True)
    path = render_report(engine, run_ids=["sphinx"], out_dir="report", audio="embed")

Compute (sections' `build`), decide what to show (the section dicts) and render (Jinja
templates in asrlens/templates/) are kept apart. The page is one self-contained file: CSS
and JS inlined, plots inline as SVG or PNG data URIs, no network.

A section is a module in asrlens/report/sections/ with `TITLE`, `TEMPLATE` (a partial in
asrlens/templates/) and `build(engine, ctx: ReportContext) -> dict | None`; None means the
section does not apply (e.g. no run) and is left out. The dict is available to the partial
as `data`. ReportContext and run_query live in asrlens.report.context, below the sections.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2
import sqlalchemy as sa
from markupsafe import Markup

from asrlens import __version__, catalog, defaults
from asrlens.atomic import atomic_write_text
from asrlens.errors import AsrlensError
from asrlens.report import plots
from asrlens.report.context import (
    DEFAULT_OUT_DIR,
    DEFAULT_SEED,
    DEFAULT_TOP_N,
    ReportContext,
    run_query,
)
from asrlens.report.sections import SECTIONS

AUDIO_MODES = defaults.AUDIO_MODES
INDEX_NAME = "index.html"
SCRIPTS = ("sort.js", "files.js", "play.js")
"""JavaScript files of asrlens/templates inlined at the end of the page, in this order."""
DUCKDB_MEMORY_LIMIT = "512MB"
"""What DuckDB may hold while the report reads: its cache of table blocks, its sorts and
joins (which spill to disk beyond it). Unlimited, DuckDB keeps up to 80% of the RAM, and a
million-file report kept 300 MB more of blocks it had read (peak 1.55 GB, 1.24 GB with it)."""


@dataclass(frozen=True)
class RenderedSection:
    """One section as the base template sees it."""

    id: str        # the HTML id and the module name, e.g. 'dataset'
    title: str
    template: str  # partial in asrlens/templates/
    data: dict


def render_report(
    engine: sa.Engine,
    *,
    run_ids: list[str] | tuple[str, ...] | None = None,
    dataset: str | None = None,
    out_dir: str | Path = DEFAULT_OUT_DIR,
    audio: str = "embed",
    top_n: int = DEFAULT_TOP_N,
    seed: int = DEFAULT_SEED,
    group_by: str | None = None,
    all_runs: bool = False,
) -> Path:
    """Write `out_dir/index.html` and return its path.

    No run_ids: the default run of the dataset (asrlens.catalog: the most recent finished
    run, else the most recent one); no run at all: a dataset-only report. Raises
    AsrlensError for an unknown run or dataset, an empty database, or a bad option.
    """
    if audio not in AUDIO_MODES:
        raise AsrlensError(f"--audio must be one of {', '.join(AUDIO_MODES)}, not {audio!r}")
    if top_n < 1:
        raise AsrlensError(f"--top must be at least 1, not {top_n}")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise AsrlensError(f"--out {out_dir} is a file: give a folder for index.html")
    ctx = resolve_context(
        engine, run_ids=run_ids, dataset=dataset, out_dir=out_dir, audio=audio, top_n=top_n,
        seed=seed, group_by=group_by, all_runs=all_runs,
    )
    limit_database_memory(engine)
    plots.new_page()
    sections = build_sections(engine, ctx, SECTIONS)
    html = render_page(ctx, sections)
    path = out_dir / INDEX_NAME
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, html)  # a failure leaves the previous report whole
    except OSError as exc:
        raise AsrlensError(f"cannot write the report to {path}: {exc.strerror or exc}") from exc
    return path


def limit_database_memory(engine: sa.Engine) -> None:
    """Cap DuckDB's memory for this process's use of the database (DUCKDB_MEMORY_LIMIT)."""
    with engine.connect() as conn:
        conn.exec_driver_sql(f"set memory_limit = '{DUCKDB_MEMORY_LIMIT}'")


def resolve_context(
    engine: sa.Engine,
    *,
    run_ids: list[str] | tuple[str, ...] | None,
    dataset: str | None,
    out_dir: Path,
    audio: str,
    top_n: int,
    seed: int,
    group_by: str | None = None,
    all_runs: bool = False,
) -> ReportContext:
    """Pick the runs and the dataset to report on (asrlens.catalog.resolve_report)."""
    chosen_rows, dataset = catalog.resolve_report(engine, run_ids or (), dataset=dataset)
    chosen = [r["run_id"] for r in chosen_rows]
    rows = {r["run_id"]: r for r in run_query(engine, "run_list")}
    datasets = {d["name"]: d for d in run_query(engine, "dataset_list")}
    root = datasets.get(dataset, {}).get("root")
    return ReportContext(
        run_ids=tuple(chosen),
        dataset=dataset,
        dataset_root=Path(root) if root else None,
        audio=audio,
        top_n=top_n,
        seed=seed,
        out_dir=out_dir,
        runs={r: rows[r] for r in chosen},
        group_by=group_by,
        all_runs=all_runs,
    )


def build_sections(engine: sa.Engine, ctx: ReportContext, modules) -> list[RenderedSection]:
    """Call each section's build in order; keep those that apply."""
    sections = []
    for module in modules:
        data = module.build(engine, ctx)
        if data is None:
            continue
        sections.append(
            RenderedSection(
                id=module.__name__.rsplit(".", 1)[-1],
                title=module.TITLE,
                template=module.TEMPLATE,
                data=data,
            )
        )
    return sections


def render_page(ctx: ReportContext, sections: list[RenderedSection]) -> str:
    """The whole HTML page as a string."""
    env = make_environment()
    template = env.get_template("base.html")
    return template.render(
        ctx=ctx,
        sections=sections,
        css=template_text("style.css"),
        js="\n".join(template_text(name) for name in SCRIPTS),
        generated_at=fmt_when(dt.datetime.now(dt.UTC)),
        version=__version__,
    )


def make_environment() -> jinja2.Environment:
    """The Jinja environment: templates from asrlens/templates, autoescape on, our filters."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("asrlens", "templates"),
        autoescape=True,  # transcripts are untrusted text: everything is escaped by default
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=visible_controls,  # every {{ value }}, whatever filters it went through
    )
    register_filters(env)
    return env


BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
"""Unicode bidirectional controls: in a transcript they could reorder what the page shows
(U+202E turns `gnirts` into `string`), so the report shows them as visible escapes."""


BIDI_JSON_ESCAPES = re.compile(r"\\u(202[a-eA-E]|206[6-9]|200[eEfF]|061[cC])")
"""The same controls as JSON escapes (`tojson` writes U+202E as \\u202e), which a script
of the page would turn back into the character."""


def visible_controls(value):
    """`value` with each bidirectional control written as a visible `[U+202E]`; other
    values as they are. Markup stays Markup (the escape holds no HTML character), and in
    Markup (JSON for the page's scripts) the controls' \\uXXXX escapes are replaced too."""
    if not isinstance(value, str):
        return value
    shown = BIDI_CONTROLS.sub(lambda m: f"[U+{ord(m[0]):04X}]", value)
    if isinstance(value, Markup):
        shown = BIDI_JSON_ESCAPES.sub(lambda m: f"[U+{m[1].upper()}]", shown)
        return Markup(shown) if shown != value else value
    return shown


def register_filters(env: jinja2.Environment) -> None:
    """All template filters, in one place."""
    env.filters["pct"] = fmt_pct
    env.filters["num"] = fmt_num
    env.filters["int"] = fmt_int
    env.filters["duration"] = fmt_duration
    env.filters["dbfs"] = fmt_dbfs
    env.filters["when"] = fmt_when
    env.filters["visible_controls"] = visible_controls


def template_text(name: str) -> str:
    """A static file from asrlens/templates (CSS, JS) to inline into the page."""
    return resources.files("asrlens").joinpath("templates", name).read_text(encoding="utf-8")


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_pct(value, digits: int = 1) -> str:
    """A fraction as a percentage: 0.2612 -> '26.1%'; missing -> '–'."""
    return "–" if _missing(value) else f"{100 * value:.{digits}f}%"


def fmt_num(value, digits: int = 2) -> str:
    """A number with fixed decimals: 1.2345 -> '1.23'; missing -> '–'."""
    return "–" if _missing(value) else f"{value:,.{digits}f}"


def fmt_int(value) -> str:
    """An integer with thousands separators: 13100 -> '13,100'; missing -> '–'."""
    return "–" if _missing(value) else f"{int(value):,}"


def fmt_duration(seconds) -> str:
    """Seconds as a readable duration: 5.3 -> '5.3 s', 754 -> '12 min 34 s', 9000 -> '2.50 h'."""
    if _missing(seconds):
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{seconds / 3600:.2f} h"


def fmt_dbfs(value) -> str:
    """A level in dB relative to full scale: -23.456 -> '-23.5 dBFS'; missing -> '–'."""
    return "–" if _missing(value) else f"{value:.1f} dBFS"


def fmt_when(value) -> str:
    """A timestamp to the second, in UTC (asrlens stores UTC): '2026-01-01 12:00:05 UTC';
    missing -> '–'."""
    if value is None:
        return "–"
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")
