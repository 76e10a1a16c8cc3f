"""The package's shape: stages import only earlier stages, no import cycle, small modules.

The data flows one way: ingest -> infer -> analysis -> compare -> explore -> report, through
the database. A stage may import an earlier one, never a later one; the report reads what
analysis wrote from the database and imports nothing of analysis/. Modules outside the stages
(db, errors, audio, vocabulary, catalog, health, ...) are below all of them and import none;
cli.py, commands/, settings.py and pipeline.py sit above and may import every stage. Imports
are read from each module's syntax tree, wherever they stand (a function-level import counts
as much as a top-level one).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "asrlens"
STAGES = ("ingest", "infer", "analysis", "compare", "explore", "report")
"""In pipeline order: a stage imports none that comes after it."""
ABOVE = {"asrlens.cli", "asrlens.commands", "asrlens.pipeline", "asrlens.settings",
         "asrlens.__main__"}
"""Modules that wire the stages together (and their submodules): they may import any of them."""
FORBIDDEN = {("report", "analysis")}
"""Earlier stages a stage still must not import: the report knows analysis only by its tables."""
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of the package (a package is its __init__.py)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The asrlens modules `name` imports: `from a.b import c` is a.b.c when c is a module."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target not in MODULES and "." in target:  # a name inside a module
                target = target.rsplit(".", 1)[0]
            if target in MODULES and target != name:
                found.add(target)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


def test_the_walk_sees_the_package():
    """The checks below are only as good as the graph: it holds known modules and edges."""
    assert {"asrlens.cli", "asrlens.infer.run", "asrlens.report.render"} <= set(MODULES)
    assert "asrlens.infer.runs" in GRAPH["asrlens.infer.run"]
    assert "asrlens.db" in GRAPH["asrlens.report.context"]


def test_no_stage_imports_a_later_stage_or_one_it_must_not():
    wrong = []
    for module, imported in GRAPH.items():
        if module in ABOVE or module.rsplit(".", 1)[0] in ABOVE:
            continue
        here = _stage(module)
        for target in sorted(imported):
            there = _stage(target)
            if there is None or there == here:
                continue
            if here is None:
                wrong.append(f"{module} (below the stages) imports {target}")
            elif STAGES.index(there) > STAGES.index(here) or (here, there) in FORBIDDEN:
                wrong.append(f"{module} ({here}) imports {target} ({there})")
    assert wrong == []


def test_nothing_in_analysis_imports_the_report_and_the_report_nothing_of_analysis():
    pairs = [(m, t) for m, ts in GRAPH.items() for t in ts
             if (_stage(m), _stage(t)) in {("analysis", "report"), ("report", "analysis")}]
    assert pairs == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_asrlens_modules():
    assert _cycles(GRAPH) == []


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")),
                         ids=lambda p: p.relative_to(PACKAGE.parent).as_posix())
def test_no_module_is_over_400_lines(path):
    relative = path.relative_to(PACKAGE.parent).as_posix()
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{relative} has {lines} lines"


def _named_queries() -> set[tuple[str, str]]:
    """(stage, name) of every named_query("stage", "name") call with literal arguments, and of
    every run_query(engine, "name", ...) call (the report's: stage 'report')."""
    found = set()
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            called = getattr(node.func, "id", getattr(node.func, "attr", None))
            literals = [a.value for a in node.args
                        if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if called == "named_query" and len(literals) == 2:
                found.add((literals[0], literals[1]))
            elif called == "run_query" and literals:
                found.add(("report", literals[0]))
            elif called == "_sql" and literals:  # the analysis stage's shorthand
                found.add(("analysis", literals[0]))
    return found


def test_every_named_query_has_its_file_and_every_query_file_is_used():
    """One way to find a query: asrlens/<stage>/queries/<name>.sql, by named_query."""
    used = _named_queries()
    files = {(p.parents[1].name, p.stem) for p in PACKAGE.glob("*/queries/*.sql")}
    assert ("infer", "files_to_transcribe") in used and ("report", "worst_files") in used
    assert sorted(used - files) == []   # called, but no such file
    assert sorted(files - used) == []   # a file nothing runs


def test_no_sql_file_outside_the_queries_folders_but_the_schema():
    stray = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.sql")
             if p.parent.name != "queries" and p.name != "schema.sql"]
    assert stray == []
