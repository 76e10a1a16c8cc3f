"""The package's shape: layers that import only downwards, no import cycle, small modules.

The layers, from the ground up (LAYERS below names every module's):

1. ground floor: pure helpers with no database, among them the scoring core (asrlens.scoring:
   normalizers, alignment, per-file scores, the rate formulas, the bootstrap), errors,
   defaults, audio, embedded (parquet-embedded clips), vocabulary, owner (which process owns
   a run);
2. db: the database file (asrlens.db: connect, schema, migrations, named queries);
3. services on the database that several stages share: catalog, fingerprint, health,
   raw_scores, sql;
4. the stages, in pipeline order: ingest -> infer -> analysis -> compare -> explore -> report.
   A stage may import an earlier one, never a later one; the report reads what analysis wrote
   from the database and imports nothing of analysis/;
5. above: cli.py, commands/, settings.py and pipeline.py wire the stages together.

A module imports only its own layer or lower ones (a stage: itself or an earlier stage), and
reads only the queries of such a layer (named_query("db", ...) in asrlens.db, never
named_query("health", ...)). Imports are read from each module's syntax tree, wherever they
stand (a function-level import counts as much as a top-level one).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "asrlens"
STAGES = ("ingest", "infer", "analysis", "compare", "explore", "report")
"""In pipeline order: a stage imports none that comes after it."""
GROUND = ("asrlens", "asrlens.atomic", "asrlens.audio", "asrlens.defaults", "asrlens.embedded",
          "asrlens.errors", "asrlens.interrupt", "asrlens.owner", "asrlens.scoring",
          "asrlens.summaries", "asrlens.vocabulary")
DB = ("asrlens.db",)
SERVICES = ("asrlens.catalog", "asrlens.fingerprint", "asrlens.health", "asrlens.raw_scores",
            "asrlens.sql", "asrlens.sql_output")
ABOVE = ("asrlens.cli", "asrlens.commands", "asrlens.pipeline", "asrlens.settings",
         "asrlens.__main__")
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ground", GROUND), ("db", DB), ("services", SERVICES),
    *((stage, (f"asrlens.{stage}",)) for stage in STAGES),
    ("above", ABOVE),
)
"""Each layer and the modules in it (a name stands for itself and its submodules), lowest first;
`asrlens` alone is the package's __init__."""
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


def layer_of(module: str) -> int:
    """The index in LAYERS of the layer holding `module`; KeyError when none does."""
    for index, (_, members) in enumerate(LAYERS):
        for member in members:
            if module == member or (member != "asrlens" and module.startswith(member + ".")):
                return index
    raise KeyError(module)


def test_the_walk_sees_the_package():
    """The checks below are only as good as the graph: it holds known modules and edges."""
    assert {"asrlens.cli", "asrlens.infer.run", "asrlens.report.render"} <= set(MODULES)
    assert "asrlens.infer.runs" in GRAPH["asrlens.infer.run"]
    assert "asrlens.db" in GRAPH["asrlens.report.context"]
    assert "asrlens.scoring.rates" in GRAPH["asrlens.scoring.bootstrap"]


def test_every_module_has_a_layer():
    """A new top-level module or package is placed in LAYERS on purpose."""
    unplaced = []
    for module in MODULES:
        try:
            layer_of(module)
        except KeyError:
            unplaced.append(module)
    assert unplaced == []


def _wrong_imports(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, imported in graph.items():
        here = layer_of(module)
        for target in sorted(imported):
            there = layer_of(target)
            stages = (_stage(module), _stage(target))
            if there > here or (stages in FORBIDDEN):
                wrong.append(f"{module} ({LAYERS[here][0]}) imports {target} "
                             f"({LAYERS[there][0]})")
    return wrong


def test_every_module_imports_only_its_layer_or_lower_ones():
    """Stages in order, db below them, the scoring core below db: no back-edge anywhere."""
    assert _wrong_imports(GRAPH) == []


def test_the_layer_check_sees_a_back_edge():
    """The edges this test was written against: db reaching up into health, a stage reaching
    into a later one, the report into analysis."""
    assert _wrong_imports({"asrlens.db": {"asrlens.health.owner"}}) != []
    assert _wrong_imports({"asrlens.analysis.pipeline": {"asrlens.compare.groups"}}) != []
    assert _wrong_imports({"asrlens.report.render": {"asrlens.analysis.tags"}}) != []
    assert _wrong_imports({"asrlens.analysis.pipeline": {"asrlens.infer.runs"}}) == []


def test_the_scoring_core_touches_no_database_and_no_stage():
    """Normalizers, alignment, scores, rates and bootstrap: pure functions on texts and counts."""
    scoring = [m for m in MODULES if m.startswith("asrlens.scoring")]
    assert "asrlens.scoring.rates" in scoring
    for module in scoring:
        text = MODULES[module].read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import|from) (sqlalchemy|duckdb)\b", text, re.M), module
        assert all(layer_of(t) == 0 for t in GRAPH[module]), module


def test_no_stage_imports_another_for_scoring():
    """What several stages score with lives once, on the ground floor."""
    reaching = [(m, t) for m, ts in GRAPH.items() for t in ts
                if _stage(m) and _stage(t) and _stage(m) != _stage(t)
                and re.search(r"(score|normalize|align|bootstrap|raw|rate)", t.rsplit(".", 1)[1])]
    assert reaching == []


def _divides_by_reference_words(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):  # errors / words
            if (re.search(r"ref_words|ref_chars", ast.unparse(node.right))
                    and re.search(r"err|wrong|substitution|deletion|insertion|edit",
                                  ast.unparse(node.left))):
                return True
    return False


def test_corpus_rates_are_computed_only_in_the_scoring_core(tmp_path):
    """No Python module divides errors by reference words or characters (the WER and CER
    formulas) but through asrlens.scoring.rates, where the division is written once, by name
    (a length ratio such as hyp_words / ref_words is no error rate)."""
    formula = tmp_path / "formula.py"
    formula.write_text("wer = errors / f['ref_words'] if f['ref_words'] else None\n")
    assert _divides_by_reference_words(formula)
    found = [m for m, path in MODULES.items() if _divides_by_reference_words(path)]
    assert found == []


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


def _query_calls(path: Path) -> set[tuple[str, str]]:
    """(folder, name) of every named_query("folder", "name") call with literal arguments in a
    module, and of every run_query(engine, "name", ...) and run_columns(engine, "name", ...)
    call (the report's: folder 'report')."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        called = getattr(node.func, "id", getattr(node.func, "attr", None))
        literals = [a.value for a in node.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if called == "named_query" and len(literals) == 2:
            found.add((literals[0], literals[1]))
        elif called in ("run_query", "run_columns") and literals:
            found.add(("report", literals[0]))
        elif called == "_sql" and literals:  # the analysis stage's shorthand
            found.add(("analysis", literals[0]))
    return found


def test_every_module_reads_only_queries_of_its_layer_or_lower_ones():
    """asrlens/<folder>/queries/ belongs to the layer of asrlens.<folder>: db reads its own."""
    wrong = [f"{m} reads {folder}/queries/{name}.sql" for m, path in MODULES.items()
             for folder, name in sorted(_query_calls(path))
             if layer_of(f"asrlens.{folder}") > layer_of(m)]
    assert wrong == []


def _named_queries() -> set[tuple[str, str]]:
    """(folder, name) of every named query any module runs."""
    return {call for path in MODULES.values() for call in _query_calls(path)}


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
