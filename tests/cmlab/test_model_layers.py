"""cmlab's model and topology are layered: no module imports (even for type checking, even inside a
function) a module that imports it back. The layers, bottom up, are written down in docs/cmlab.md
("Extending the model")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, package: str) -> set[str]:
    """Every module of `package` that `path` imports, wherever the import statement is."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path)
    base = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                module = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                module = node.module or ""
            names = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name == package or name.startswith(package + "."):
                found.add(name)
    return found


def _graph(package: str) -> dict[str, set[str]]:
    directory = ROOT.joinpath(*package.split("."))
    modules = {_module_name(p): p for p in directory.glob("*.py")}
    graph = {}
    for name, path in modules.items():
        if path.name == "__init__.py":
            continue  # the package's public face re-exports its modules
        graph[name] = {m for m in _imports(path, package) if m in modules and m != package and m != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


@pytest.mark.parametrize("package", ["cmlab.model", "cmlab.topology"])
def test_no_import_cycles(package):
    graph = _graph(package)
    assert graph, f"no modules found in {package}"
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_model_depends_on_nothing_above_it():
    """The model knows no wire format, engine, cmdlet or topology file."""
    for path in ROOT.joinpath("cmlab", "model").glob("*.py"):
        outside = {m for m in _imports(path, "cmlab") if not m.startswith("cmlab.model")}
        assert not outside, f"{path.name} imports {sorted(outside)}"


def test_site_component_manager_does_not_know_the_scp():
    """Site Component Manager publishes role events; the SCP's model subscribes (never the reverse)."""
    graph = _graph("cmlab.model")
    assert "cmlab.model.scp" not in graph["cmlab.model.installer"]
    assert "cmlab.model.installer" not in graph["cmlab.model.scp"]
    assert "cmlab.model.cmtrace" not in graph["cmlab.model.windows"]


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
