"""The shape of the package: no import cycles, small files and functions, DVC deps that cannot go stale.

The import graph is read from the source (every ``import``, at module level or
inside a function), so a lazy import that would close a cycle counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from callcenterai.config import PROJECT_ROOT
from callcenterai.kinds import KINDS

PACKAGE = PROJECT_ROOT / "callcenterai"
MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 60


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def _run_time_nodes(tree: ast.AST):
    """Every node except those under ``if TYPE_CHECKING:`` (never run)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            yield from (n for child in node.orelse for n in [child, *_run_time_nodes(child)])
            continue
        yield node
        yield from _run_time_nodes(node)


def imports_of(path: Path, known: dict[str, Path]) -> set[str]:
    """The package modules ``path`` imports (``from pkg import submodule`` counts as the submodule)."""
    found = set()
    for node in _run_time_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in known else node.module)
    return {name for name in found if name in known and known[name] != path}


def import_graph() -> dict[str, set[str]]:
    known = package_modules()
    return {name: imports_of(path, known) for name, path in known.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return stack[stack.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def closure(start: set[str], graph: dict[str, set[str]]) -> set[str]:
    """Every module run by importing ``start``: what they import, and the packages above them."""
    seen, todo = set(), list(start)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph.get(name, ()))
            parent = name.rpartition(".")[0]
            if parent in graph:
                todo.append(parent)
    return seen


def test_the_package_has_no_import_cycle():
    assert find_cycle(import_graph()) is None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_files_and_functions_stay_small():
    too_long = []
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        if source.count("\n") > MAX_FILE_LINES:
            too_long.append(f"{path.name}: {source.count(chr(10))} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.name}:{node.name}: {length} lines")
    assert too_long == []


def _only_docstring(path: Path) -> bool:
    body = ast.parse(path.read_text(encoding="utf-8")).body
    return all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body)


def stage_dependencies() -> list[tuple[str, set[str], set[str]]]:
    """Per stage: the package files its script reaches, and the deps dvc.yaml lists."""
    graph = import_graph()
    known = package_modules()
    loaders = {kind.predictor.partition(":")[0] for kind in KINDS.values()}
    stages = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]
    found = []
    for name, stage in stages.items():
        script = PROJECT_ROOT / stage["cmd"].split()[1]
        reached = closure(imports_of(script, known), graph)
        if "callcenterai.models.loading" in reached:  # kinds.py names each predictor by import path
            reached = closure(reached | loaders, graph)
        if "callcenterai.stages.model_logging" in reached:  # logs models/pyfunc.py as code
            reached = closure(reached | {"callcenterai.models.pyfunc"}, graph)
        files = {known[m].relative_to(PROJECT_ROOT).as_posix() for m in reached}
        # Package __init__ files that hold nothing but a docstring need not be listed.
        files = {f for f in files if not (f.endswith("__init__.py") and _only_docstring(PROJECT_ROOT / f))}
        found.append((name, files, set(stage["deps"])))
    return found


@pytest.mark.parametrize("stage", [s[0] for s in stage_dependencies()])
def test_each_stage_lists_every_module_it_runs(stage):
    name, reached, listed = next(s for s in stage_dependencies() if s[0] == stage)
    assert sorted(reached - listed) == []
