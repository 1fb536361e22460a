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
    "seeds": 2,  # the seed words of named streams, for random
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


MODULES = {module_name(p) for p in SRC.rglob("*.py")}


def landing(name: str) -> str:
    """The module an imported dotted name lands in: itself if a module, else its parent
    (``flowsim.__version__`` lands in the package ``flowsim``, the top layer)."""
    while name not in MODULES and "." in name:
        name = name.rpartition(".")[0]
    return name


def flowsim_imports(path: Path, source: str | None = None) -> set[str]:
    """The flowsim modules ``path`` imports, ``import flowsim`` and relative imports included."""
    text = path.read_text(encoding="utf-8") if source is None else source
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, *([module] if module else [])])
            names = [f"{module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {landing(n) for n in names if n == "flowsim" or n.startswith("flowsim.")}
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


def test_the_package_itself_is_an_import_of_the_top_layer() -> None:
    """``import flowsim`` or ``from flowsim import x`` inside src runs the public API's package:
    only the interfaces may do that (it once hid a model -> package import for ``__version__``)."""
    path = SRC / "model" / "build.py"
    seen = flowsim_imports(path, "import flowsim\nfrom flowsim import __version__\n")
    assert seen == {"flowsim"} and layer("flowsim") == "__init__"
    seen = flowsim_imports(path, "def f():\n    from flowsim import scenario, log\n")
    assert seen == {"flowsim.scenario", "flowsim.log"}
    assert flowsim_imports(path, "from . import kernel\nfrom ..scenario import schema\n") == {
        "flowsim.model.kernel",
        "flowsim.scenario.schema",
    }


def test_analysis_reads_the_log_not_the_model() -> None:
    """analysis works on the event log (flowsim/log.py) alone, so it can read logs from any
    source; it never imports flowsim.model, though model ranks below it."""
    wrong = [
        f"{module_name(path)} imports {imported}"
        for path in sorted((SRC / "analysis").rglob("*.py"))
        for imported in sorted(flowsim_imports(path))
        if layer(imported) == "model"
    ]
    assert not wrong, "\n".join(wrong)
