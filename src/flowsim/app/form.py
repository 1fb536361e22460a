"""The "All settings" form: the edits applied, checked, listed and written as a file.

Pure logic, testable without Streamlit (`flowsim.app.form_view` draws it; the fields and their
values are `flowsim.app.form_fields`, re-exported here). `apply_form` sets the edited values on
the base scenario and validates the result with the schema's own checks; each problem is shown
next to the field it is about, in the words `flowsim.scenario.problems` gives the command line.
`changed_fields` lists what differs from the base, one row per field. `form_yaml` writes the
whole resolved scenario (no ``extends:``: the loader reads ``extends`` relative to the file's
own folder, so a downloaded file that extended ``baseline.yaml`` would not load from the
Downloads folder), and `load_form_file` reads it back exactly as the app reads an upload.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from flowsim.app.form_fields import (
    DIST_NAMES,
    MISSING,
    REMOVE,
    FieldSpec,
    dist_mean,
    dist_params,
    field_specs,
    parse,
    reachable,
    search,
    section_about,
    sections,
    widget_value,
)
from flowsim.errors import Problem, ScenarioError
from flowsim.scenario.changes import diff_settings
from flowsim.scenario.problems import validate_scenario
from flowsim.scenario.schema import Scenario
from flowsim.scenario.yaml_io import plain, scenario_to_yaml, show_value

__all__ = [
    "DIST_NAMES",
    "FORM_SOURCE",
    "MISSING",
    "FieldSpec",
    "FormResult",
    "apply_form",
    "changed_fields",
    "describe_change",
    "dist_mean",
    "dist_params",
    "edits_for",
    "field_specs",
    "file_name",
    "form_yaml",
    "is_changed",
    "load_form_file",
    "parse",
    "reachable",
    "search",
    "section_about",
    "sections",
    "show_value",
    "widget_value",
]

FORM_SOURCE: Final = "the settings form"
"""How problems name where the value came from (no file: the form)."""
EDITED_SUFFIX: Final = ", edited"
"""Added to the base's name when the user gives no name of their own."""


@dataclasses.dataclass
class FormResult:
    """The base scenario with the form's edits: validated scenario (None when a problem
    remains), the problems by field path (``""``: not about one field), the data as edited
    (to draw the fields from, valid or not) and the settings that differ from the base."""

    scenario: Scenario | None
    problems: dict[str, list[str]]
    data: dict[str, Any]
    changes: list[tuple[str, Any, Any]]
    fields: list[tuple[str, Any, Any]] = dataclasses.field(default_factory=list)
    """`changed_fields`: the changes one row per field of the form."""

    @property
    def ok(self) -> bool:
        return self.scenario is not None and not self.problems


# ---------------------------------------------------------------- applying edits


def apply_form(base: Scenario, edits: Mapping[str, Any]) -> FormResult:
    """``base`` with each field path of ``edits`` set to its widget value, validated.

    Shorter paths first, so a group switched on or a YAML box is set before a key inside it.
    Without a name of its own the result is called after the base (``baseline, edited``).
    """
    data = plain(base)
    data["name"] = f"{base.name}{EDITED_SUFFIX}"
    problems: dict[str, list[str]] = {}
    index = {s.path: s for s in field_specs(data)}
    for path in sorted(edits, key=lambda p: (p.count("."), p)):
        spec = index.get(path) or {s.path: s for s in field_specs(data)}.get(path)
        if spec is None:
            continue  # a key of a group switched off again: nothing to set
        try:
            value = parse(spec, edits[path])
        except ValueError as error:
            problems.setdefault(path, []).append(str(error))
            continue
        _set(data, spec.parts, value)
    if not str(data.get("name") or "").strip():
        data["name"] = f"{base.name}{EDITED_SUFFIX}"  # a scenario needs a name to be shown by
    scenario = None
    if not problems:
        try:
            scenario = validate_scenario(data, FORM_SOURCE, None)
        except ScenarioError as error:
            _attach(error.problems, field_specs(data), problems)
    changes = [] if scenario is None else diff_settings(base, scenario)
    result = FormResult(scenario, problems, data, changes)
    result.fields = changed_fields(base, result)
    return result


def _set(data: dict[str, Any], parts: Sequence[Any], value: Any) -> None:
    node: Any = data
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[part]
            continue
        if not isinstance(node.get(part), dict | list):
            node[part] = {}
        node = node[part]
    if isinstance(node, list):
        node[parts[-1]] = value
    elif value is REMOVE:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value


def _attach(
    found: Sequence[Problem], specs: Sequence[FieldSpec], out: dict[str, list[str]]
) -> None:
    """Each problem next to the field it is about: the deepest field holding its key path,
    else the first field inside it (a group's rule, e.g. shares adding up to 1), else none."""
    paths = [s.path for s in specs]
    for problem in found:
        key = problem.key_path.replace("[", ".").replace("]", "")
        holding = [p for p in paths if key == p or key.startswith(p + ".")]
        inside = [p for p in paths if p.startswith(key + ".")] if key else []
        target = max(holding, key=len) if holding else (inside[0] if inside else "")
        text = f"{problem.key_path}: {problem.message}" if problem.key_path else problem.message
        if text not in out.get(target, []):
            out.setdefault(target, []).append(text)


def is_changed(spec: FieldSpec, changes: Sequence[tuple[str, Any, Any]]) -> bool:
    """Whether a setting at or under the field differs from the base."""
    return any(_related(spec.path, path) for path, _, _ in changes)


def _related(a: str, b: str) -> bool:
    b = b.replace("[", ".").replace("]", "")
    return a == b or b.startswith(a + ".") or a.startswith(b + ".")


def edits_for(change_path: str, edits: Mapping[str, Any]) -> list[str]:
    """The edited field paths behind one changed setting (to reset it)."""
    return [p for p in edits if _related(p, change_path)]


def changed_fields(base: Scenario, result: FormResult) -> list[tuple[str, Any, Any]]:
    """The settings that differ from the base, one row per field (a distribution's type and
    parameters together, a changed list as the fields inside it that changed), as
    ``(field path, base value, edited value)``; `MISSING` if unset."""
    if result.scenario is None:
        return []
    parts_of = {s.path: s.parts for s in field_specs(result.data)}
    before, after = plain(base), plain(result.scenario)
    rows: dict[str, tuple[str, Any, Any]] = {}
    for change, old, new in result.changes:
        key = change.replace("[", ".").replace("]", "")
        holding = [p for p in parts_of if key == p or key.startswith(p + ".")]
        lists = isinstance(old, list) and isinstance(new, list)
        inside = [  # a list is compared whole: name the fields in it that changed
            p
            for p in parts_of
            if lists
            and p.startswith(key + ".")
            and _get(before, parts_of[p]) != _get(after, parts_of[p])
            and not any(q.startswith(p + ".") for q in parts_of)
        ]
        for path in inside or [max(holding, key=len) if holding else change]:
            if path not in rows:
                parts = parts_of.get(path) or tuple(path.split("."))
                rows[path] = (path, _get(before, parts), _get(after, parts))
    return [cell for row in rows.values() for cell in _cells(*row)]


def _cells(path: str, old: Any, new: Any) -> list[tuple[str, Any, Any]]:
    """A table that kept its rows, as the cells that changed (``...segments.0.people``)."""
    rows_alike = isinstance(old, list) and isinstance(new, list) and len(old) == len(new)
    if not rows_alike or not all(isinstance(r, dict) for r in [*old, *new]):
        return [(path, old, new)]
    return [
        (f"{path}.{i}.{key}", a.get(key, MISSING), b.get(key, MISSING))
        for i, (a, b) in enumerate(zip(old, new, strict=True))
        for key in dict.fromkeys([*a, *b])
        if a.get(key, MISSING) != b.get(key, MISSING)
    ]


def _get(data: Any, parts: Sequence[Any]) -> Any:
    for part in parts:
        if (isinstance(data, list) and isinstance(part, int) and part < len(data)) or (
            isinstance(data, dict) and part in data
        ):
            data = data[part]
        else:
            return MISSING
    return data


def describe_change(path: str, old: Any, new: Any) -> str:
    """``ed.cubicles: 30 → 34`` in the words of a scenario file."""
    return f"{path}: {_shown(old)} → {_shown(new)}"


def _shown(value: Any) -> str:
    return "not set" if value is MISSING else "off (null)" if value is None else show_value(value)


# ---------------------------------------------------------------- the file


def form_yaml(base: Scenario, result: FormResult, made: dt.date | None = None) -> str:
    """The edited scenario as a complete file that loads from any folder: a header saying
    what changed from the base, then every setting (nothing left to ``extends:``)."""
    assert result.scenario is not None, "only a valid edited scenario is written"
    made = made or dt.date.today()
    header = [
        f"# {result.scenario.name}: made with 'All settings' in the flowsim workshop app, "
        f"{made:%Y-%m-%d}.",
        f"# Every setting is written out (no extends:), so this file loads from any folder. "
        f"Changed from {base.name!r}:",
        *(f"#   {describe_change(p, a, b)}" for p, a, b in result.fields),
        "# Check it with: flowsim validate FILE; compare it with: "
        "flowsim compare scenarios/baseline.yaml FILE",
    ]
    return "\n".join(header) + "\n" + scenario_to_yaml(result.scenario)


def file_name(scenario: Scenario) -> str:
    """A safe file name for the download: ``baseline_edited.yaml``."""
    stem = re.sub(r"[^a-z0-9]+", "_", scenario.name.lower()).strip("_") or "scenario"
    return f"{stem[:60]}.yaml"


def load_form_file(text: str, folder: Path) -> Scenario:
    """The downloaded file read back exactly as an upload of it would be (`engine.load_upload`:
    the same size limit and library-only rules), so what runs is what the user saves."""
    from flowsim.app.engine import load_upload

    return load_upload("all_settings.yaml", text.encode("utf-8"), folder)
