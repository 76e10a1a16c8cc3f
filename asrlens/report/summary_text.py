"""The summary as Markdown (`asrlens report --format markdown`, `asrlens gate`) or plain text
(`asrlens summary`), from the same Summary the report's first section shows.

    print(render_summary(build_summary(engine, run_ids=["a", "b"]), "markdown"))
"""

from __future__ import annotations

import jinja2

from asrlens.errors import AsrlensError
from asrlens.report.render import register_filters
from asrlens.report.summary import Summary

FORMATS = {"markdown": "summary.md", "text": "summary.txt"}
"""Output format -> template in asrlens/templates/."""
MARKDOWN_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>|#"})


def text_environment() -> jinja2.Environment:
    """Jinja for text outputs: no HTML escaping (Markdown escapes its own with `md`)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("asrlens", "templates"), autoescape=False,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    register_filters(env)
    env.filters["md"] = md_escape
    env.filters["points"] = points
    return env


def md_escape(value) -> str:
    """Text safe inside Markdown (a run or group name cannot open a table cell or a link)."""
    return str(value).translate(MARKDOWN_SPECIAL).replace("\n", " ")


def points(value, digits: int = 2) -> str:
    """A WER difference (fraction) in signed points: 0.0123 -> '+1.23'; missing -> '–'."""
    return "–" if value is None else f"{100 * value:+.{digits}f}"


def render_summary(summary: Summary, fmt: str, **extra) -> str:
    """The summary in `fmt` ('markdown' or 'text'); `extra` reaches the template (the
    gate's checks)."""
    if fmt not in FORMATS:
        raise AsrlensError(f"summary format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return text_environment().get_template(FORMATS[fmt]).render(s=summary, **extra)
