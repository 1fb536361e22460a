"""Layers import only leftwards: scenario -> model -> experiment -> analysis -> report -> the
interfaces. Checked on the source (every import statement, function-level ones included), so a
lazy import cannot slip a dependency the wrong way."""

from __future__ import annotations

import ast
from pathlib import Path

import flowsim

SRC = Path(flowsim.__file__).resolve().parent
RANK = {
    "errors": 0,
    "_version": 0,
    "log": 1,  # the event-log contract: written by model, read by everything after it
    "scenario": 1,
    "random": 2,
    "model": 3,
    "experiment": 4,
    "analysis": 5,
    "report": 6,
    "api": 7,
    "cli": 8,  # the package flowsim.cli: common.py and one module per command group
    "app": 8,
    "__init__": 9,  # the package re-exports the API lazily
}


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1] if len(parts) > 2 else parts
    return ".".join(parts)


def flowsim_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found |= {n for n in names if n.startswith("flowsim.")}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("flowsim.")}
    return found


def test_every_source_layer_is_ranked() -> None:
    layers = {layer(module_name(p)) for p in SRC.rglob("*.py")}
    assert layers <= set(RANK), f"give {sorted(layers - set(RANK))} a rank in RANK"


def test_no_layer_imports_one_to_its_right() -> None:
    wrong = []
    for path in sorted(SRC.rglob("*.py")):
        here = module_name(path)
        for imported in flowsim_imports(path):
            there = layer(imported)
            if there in RANK and RANK[there] > RANK[layer(here)]:
                wrong.append(f"{here} imports {imported}")
    assert not wrong, "\n".join(wrong)
