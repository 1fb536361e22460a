"""No import cycle anywhere in src/: every module can be read, and imported, after the modules
it uses.

The graph is built from the source (every import statement, function-level ones included, so a
lazy import cannot hide a cycle), one node per module, with an edge to the module an import
names: ``from flowsim.scenario import load`` is an edge to ``flowsim.scenario.load`` when that
is a module, else to the package ``flowsim.scenario`` whose name it reads. Cycles are the
strongly connected components of more than one module (or a module importing itself).

Imports under ``if TYPE_CHECKING:`` are left out: they never run, and naming a type for the
type checker is how two modules that refer to each other's types avoid a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import flowsim

SRC = Path(flowsim.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def run_time_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, except the bodies of ``if TYPE_CHECKING:`` (imports that never run)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if is_type_checking(node):
            assert isinstance(node, ast.If)
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def imported_names(path: Path, here: str) -> Iterator[str]:
    """Every dotted name an import in ``path`` reads at run time, relative imports resolved."""
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in run_time_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                yield f"{module}.{alias.name}"


def target(name: str, known: Iterable[str]) -> str | None:
    """The module an imported name lands in: itself if it is a module, else its parent."""
    known = set(known)
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    found = modules()
    graph: dict[str, set[str]] = {name: set() for name in found}
    for here, path in found.items():
        for name in imported_names(path, here):
            if name == "flowsim" or name.startswith("flowsim."):
                there = target(name, found)
                if there is not None:
                    graph[here].add(there)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components that are cycles (Tarjan, iterative), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.append(sorted(component))
    return sorted(found)


def describe(graph: dict[str, set[str]], component: list[str]) -> str:
    members = set(component)
    edges = [f"  {a} -> {b}" for a in component for b in sorted(graph[a] & members)]
    return f"cycle of {len(component)} modules:\n" + "\n".join(edges)


def test_no_import_cycle_in_src() -> None:
    graph = import_graph()
    found = cycles(graph)
    assert not found, "\n".join(describe(graph, c) for c in found)


def test_cycles_are_found() -> None:
    graph = {
        "a": {"b"},
        "b": {"c"},
        "c": {"a", "d"},
        "d": set(),
        "e": {"e"},
        "f": {"d"},
    }
    assert cycles(graph) == [["a", "b", "c"], ["e"]]
    assert cycles({"x": {"y"}, "y": set()}) == []


def test_imports_are_read_as_modules() -> None:
    graph = import_graph()
    assert "flowsim.scenario.schema" in graph["flowsim.scenario.load"]
    assert "flowsim.model.kernel" in graph["flowsim.model.system"]
    names = set(graph)
    assert target("flowsim.scenario.load_scenario", names) == "flowsim.scenario"
    assert target("flowsim.scenario.load", names) == "flowsim.scenario.load"
    assert target("flowsim", names) == "flowsim"


def test_type_checking_imports_are_left_out() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "import flowsim.log\n"
        "if TYPE_CHECKING:\n"
        "    import flowsim.model\n"
        "else:\n"
        "    import flowsim.errors\n"
        "def f():\n"
        "    from flowsim.scenario import schema\n"
    )
    nodes = run_time_nodes(ast.parse(source))
    imported = [
        alias.name if isinstance(node, ast.Import) else f"{node.module}.{alias.name}"
        for node in nodes
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert sorted(imported) == [
        "flowsim.errors",
        "flowsim.log",
        "flowsim.scenario.schema",
        "typing.TYPE_CHECKING",
    ]
