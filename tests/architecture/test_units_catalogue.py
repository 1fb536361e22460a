"""Units are described once, in `flowsim.scenario.units`: no other module spells a list of unit
log names, a list of unit labels, or builds and parses ``ward:<name>`` by hand.

A grep over the source's syntax tree (docstrings and type annotations are skipped): it flags

- a tuple, list, set or dict keys holding two or more unit log names (``("p1", "p2", "p3")``,
  ``{"amu": ..., "afu": ...}``), unless the collection also holds a disposition that is no
  unit (``"ward"``, ``"home"``): those are ED decisions (`schema.DISPOSITIONS`), not units;
- a collection (or dict values) holding two or more of the catalogue's labels for people;
- a string or f-string that starts with ``ward:`` (building or parsing a ward group's name).

A single unit named where a module genuinely handles that unit (the model's ED code using the
cubicles) is fine, and so is a module in `ALLOWED` with its reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

import flowsim
from flowsim.scenario import units

SRC = Path(flowsim.__file__).resolve().parent
CATALOGUE = SRC / "scenario" / "units.py"

ALLOWED: dict[str, str] = {
    "model/warm_start.py": "model code (another owner): places warm-start patients unit by unit; "
    "to read units.ward_name / DISCHARGE_PATHWAY_UNITS when next edited",
    "model/patient.py": "admit() handles AMU and AFU specifically (a decision, not a list)",
    "scenario/pressure.py": "schema fields named after the community services they extend",
}
"""Modules allowed to spell units, with why. Keep it short."""

_UNIT_NAMES = {s.name for s in units._SPECS if not s.name.startswith(units.WARD_PREFIX)}
_NOT_UNITS = {"ward", "home"}  # dispositions that are no unit
_LABELS = {
    text
    for s in units._SPECS
    for text in (s.label, s.place, s.lever)
    if text and "{" not in text and len(text) > 3
} | {text for text in units._PLACE_LABELS.values() if len(text) > 3}


def _skipped(tree: ast.AST) -> set[int]:
    """ids of string nodes that are docstrings or inside type annotations."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            out.add(id(node.value))
        annotations = []
        if isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        if isinstance(node, ast.arg) and node.annotation is not None:
            annotations.append(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            annotations.append(node.returns)
        for ann in annotations:
            out.update(id(n) for n in ast.walk(ann))
    return out


def _strings(nodes: list[ast.expr | None], skipped: set[int]) -> list[str]:
    return [
        n.value
        for n in nodes
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skipped
    ]


def problems(source: str, where: str) -> list[str]:
    """What in ``source`` (a module's text, ``where`` its path for the message) spells units."""
    tree = ast.parse(source)
    skipped = _skipped(tree)
    out = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith(units.WARD_PREFIX)
        ):
            out.append(f"{where}:{node.lineno}: {node.value!r} builds or parses a ward name")
        if isinstance(node, ast.JoinedStr) and node.values:
            head = node.values[0]
            if isinstance(head, ast.Constant) and str(head.value).startswith(units.WARD_PREFIX):
                out.append(f"{where}:{node.lineno}: an f-string builds a ward name")
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            items, values = node.elts, []
        elif isinstance(node, ast.Dict):
            items, values = list(node.keys), list(node.values)
        else:
            continue
        texts = _strings(items, skipped)
        named = [t for t in texts if t in _UNIT_NAMES]
        if len(named) >= 2 and not set(texts) & _NOT_UNITS:
            out.append(f"{where}:{node.lineno}: lists units {named}; use flowsim.scenario.units")
        labels = [t for t in [*texts, *_strings(values, skipped)] if t in _LABELS]
        if len(labels) >= 2:
            out.append(f"{where}:{node.lineno}: lists unit labels {labels}; use unit_label")
    return out


def test_only_the_catalogue_spells_units() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        where = path.relative_to(SRC).as_posix()
        if path == CATALOGUE or where in ALLOWED:
            continue
        found += problems(path.read_text(encoding="utf-8"), where)
    assert not found, "units spelled outside flowsim/scenario/units.py:\n" + "\n".join(found)


def test_the_check_catches_what_it_is_for() -> None:
    """Each rule fires on a small module that breaks it (so the test above can fail), and a
    docstring, an annotation or a disposition list does not."""
    bad = (
        "COMMUNITY = ('p1', 'p2', 'p3')\n"
        "NAMES = {'amu': 'AMU', 'p1': 'P1 (home with support)'}\n"
        "def unit(w):\n    return f'ward:{w}'\n"
        "def name(u):\n    return u.removeprefix('ward:')\n"
    )
    assert len(problems(bad, "probe.py")) == 5  # tuple, dict keys, dict labels, f-string, 'ward:'
    fine = (
        '"""Units such as ``ward:x`` or ("p1", "p2")."""\n'
        "ADMITTING = ('amu', 'afu', 'ward')\n"
        "def f(u: Literal['p1', 'p2']) -> None:\n    return u == 'amu'\n"
    )
    assert problems(fine, "probe.py") == []


def test_allowed_modules_exist() -> None:
    for where in ALLOWED:
        assert (SRC / where).is_file(), f"ALLOWED names {where}, which is gone: drop it"
