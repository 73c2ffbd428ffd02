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


# The modules that speak HTTP: the kit and the service apps built on it. Of the web
# interface, its app and routes, the CSRF and header middleware and the upload reader;
# what it computes (batch files, the agent client, accounts, throttle, registry view,
# settings) is domain code like the rest.
HTTP_MODULES = (
    "callcenterai.httpkit",
    "callcenterai.serving.app",
    "callcenterai.agent.app",
    "callcenterai.web.app",
    "callcenterai.web.pages",
    "callcenterai.web.review_pages",
    "callcenterai.web.security",
    "callcenterai.web.forms",
)
WEB_FRAMEWORKS = {"fastapi", "starlette"}


def speaks_http(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in HTTP_MODULES)


def frameworks_imported(path: Path) -> set[str]:
    """The web frameworks a file imports anywhere in it (lazy and type-checking imports count)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & WEB_FRAMEWORKS


def test_only_the_http_kit_and_the_service_apps_import_a_web_framework():
    """Domain code raises domain errors and the kit maps them: it never needs FastAPI or Starlette."""
    known, graph = package_modules(), import_graph()
    direct = {name: ", ".join(sorted(frameworks_imported(path))) for name, path in known.items()}
    leaks = []
    for name in sorted(n for n in known if not speaks_http(n)):
        for importer in sorted(m for m in closure({name}, graph) if direct[m]):
            through = "" if importer == name else f" through {importer}"
            leaks.append(f"{name} imports {direct[importer]}{through}")
    assert leaks == []


def test_every_module_allowed_to_speak_http_exists():
    known = package_modules()
    assert [name for name in HTTP_MODULES if name not in known] == []


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


def _outputs(stage: dict) -> set[str]:
    return {next(iter(out)) if isinstance(out, dict) else out for out in stage.get("outs", [])}


def loader_of(kind) -> str:
    """The module of a kind's predictor, which kinds.py names by import path."""
    return kind.predictor.partition(":")[0]


def modules_run(stage: dict, graph: dict[str, set[str]], known: dict[str, Path]) -> set[str]:
    """The package modules a stage runs: its script's imports, and the code loaded by name."""
    script = PROJECT_ROOT / stage["cmd"].split()[1]
    reached = closure(imports_of(script, known), graph)
    run = set(reached)
    if "callcenterai.models.loading" in reached:
        # It loads folders of any kind.
        run |= closure({loader_of(kind) for kind in KINDS.values()}, graph)
    if "callcenterai.stages.model_logging" in reached:
        # It logs models/pyfunc.py as code, and MLflow runs that wrapper on the folder the
        # stage writes (validating the input example): the loader of that folder's kind.
        written = [kind for kind in KINDS.values() if kind.folder in _outputs(stage)]
        assert written, f"{stage['cmd']}: logs a model but writes no kind's folder"
        run |= closure({"callcenterai.models.pyfunc", *map(loader_of, written)}, graph)
    return run


def stage_dependencies() -> list[tuple[str, set[str], set[str]]]:
    """Per stage: the package files its script reaches, and the deps dvc.yaml lists."""
    graph = import_graph()
    known = package_modules()
    stages = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]
    found = []
    for name, stage in stages.items():
        files = {known[m].relative_to(PROJECT_ROOT).as_posix() for m in modules_run(stage, graph, known)}
        found.append((name, files, set(stage["deps"])))
    return found


@pytest.mark.parametrize("stage", [s[0] for s in stage_dependencies()])
def test_each_stage_lists_every_module_it_runs(stage):
    name, reached, listed = next(s for s in stage_dependencies() if s[0] == stage)
    # Package __init__ files that hold nothing but a docstring need not be listed.
    needed = {f for f in reached if not (f.endswith("__init__.py") and _only_docstring(PROJECT_ROOT / f))}
    assert sorted(needed - listed) == []


@pytest.mark.parametrize("stage", [s[0] for s in stage_dependencies()])
def test_each_stage_lists_no_module_it_does_not_run(stage):
    """A listed module the stage never runs would re-run it (a retrain) for nothing."""
    name, reached, listed = next(s for s in stage_dependencies() if s[0] == stage)
    modules = {f for f in listed if f.startswith("callcenterai/") and f.endswith(".py")}
    assert sorted(modules - reached) == []


def test_no_training_stage_runs_registry_or_service_code():
    """An edit to the registry or a service must not retrain a model (tens of minutes)."""
    training = {"train_tfidf", "train_transformer", "export_transformer"}
    outside = ("callcenterai/registry/", "callcenterai/serving/", "callcenterai/httpkit/")
    found = [
        (name, f)
        for name, reached, listed in stage_dependencies()
        if name in training
        for f in sorted(reached | listed)
        if f.startswith(outside)
    ]
    assert {name for name, _, _ in stage_dependencies()} >= training
    assert found == []
