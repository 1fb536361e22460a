"""The "All settings" form: every key of a scenario as a field a learning set can edit.

Pure logic, testable without Streamlit (`flowsim.app.form_view` draws it). The fields come
from the same walk of the schema that writes docs/scenario-reference.md
(`flowsim.scenario.reference.reference_rows`), so the form, the reference and the JSON Schema
never disagree: each reference row is instantiated on the scenario being edited (one field per
ward, per frailty band, per pathway), and each field carries the row's unit, allowed range,
default and description as its help.

Some keys are edited as a whole in a small YAML box rather than widget by widget: lists of
groups (``population.places``, ``ed.crowding.steps``), mappings whose entries a user may add or
remove (``wards``, ``discharge.referral_days``) and optional groups that are switched off
(``ed.front_door_frailty: null``; switching one on shows a template of its keys). Every key of
the reference is reachable through some field (`FieldSpec.covers`), which a test checks.

`apply_form` sets the edited values on the base scenario and validates the result with the
schema's own checks; each problem is shown next to the field it is about, in the words
`flowsim.scenario.problems` gives the command line. `form_yaml` writes the whole resolved
scenario (no ``extends:``: the loader reads ``extends`` relative to the file's folder, so a
downloaded file that extended ``baseline.yaml`` would not load from the Downloads folder).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal, get_args, get_origin

import yaml
from pydantic import TypeAdapter, ValidationError

from flowsim.errors import Problem, ScenarioError
from flowsim.scenario.changes import diff_settings
from flowsim.scenario.distributions import DIST_NAMES, Distribution
from flowsim.scenario.problems import _spot, bare_type, validate_scenario
from flowsim.scenario.reference import ReferenceRow, reference_rows
from flowsim.scenario.schema import Scenario
from flowsim.scenario.yaml_io import plain, scenario_to_yaml, show_value

__all__ = [
    "FORM_SOURCE",
    "MISSING",
    "FieldSpec",
    "FormResult",
    "apply_form",
    "changed_fields",
    "describe_change",
    "dist_mean",
    "dist_params",
    "field_specs",
    "form_yaml",
    "reachable",
    "search",
    "sections",
    "widget_value",
]

FORM_SOURCE: Final = "the settings form"
"""How problems name where the value came from (no file: the form)."""
EDITED_SUFFIX: Final = ", edited"
"""Added to the base's name when the user gives no name of their own."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
"""A key the scenario does not set (an optional entry of a mapping)."""
_REMOVE: Final = object()

Kind = Literal[
    "text", "long_text", "int", "float", "bool", "choice", "date", "numbers", "choices", "texts",
    "distribution", "yaml", "group",
]  # fmt: skip


@dataclasses.dataclass(frozen=True, eq=False)
class FieldSpec:
    """One editable key of the scenario, as the form shows it.

    ``path`` is the key's concrete dotted path (``wards.surgery.beds``), ``parts`` the same as
    keys (an int key stays an int: ``ed.leave_before_seen.patience_hours.3``), ``pattern`` the
    reference row it instantiates (``wards.<ward>.beds``). ``value`` is the key's value in the
    scenario the fields were made from, as in a file (`MISSING` when not set). ``in_mapping``:
    the key is an entry of a mapping, so leaving it empty removes it. ``covers``: every
    reference path reachable through this field (its own, or all under a YAML box).
    """

    path: str
    parts: tuple[Any, ...]
    pattern: str
    section: str
    kind: Kind
    unit: str
    allowed: str
    default: str
    description: str
    value: Any
    nullable: bool = False
    in_mapping: bool = False
    integer: bool = False
    options: tuple[Any, ...] = ()
    covers: tuple[str, ...] = ()
    template: str = ""
    entries: bool = False

    @property
    def label(self) -> str:
        """The path within its section, with its unit: ``escalation.beds (beds)``."""
        prefix = f"{self.section}."
        short = self.path[len(prefix) :] if self.path.startswith(prefix) else self.path
        return self._with_unit(short)

    @property
    def short_label(self) -> str:
        """The last key alone, with its unit: ``beds``, under a heading naming its group."""
        return self._with_unit(str(self.parts[-1]))

    def _with_unit(self, text: str) -> str:
        plain_unit = self.unit and self.unit != str(self.parts[-1])
        suffix = " (every entry, as YAML: add, remove or rename one here)" if self.entries else ""
        return (f"{text} ({self.unit})" if plain_unit else text) + suffix

    @property
    def help(self) -> str:
        """The reference row in words: description, allowed range, default, how to write it."""
        parts = [self.description.rstrip(".") + "." if self.description else ""]
        if self.allowed and self.allowed != "see Distributions":
            parts.append(f"Allowed: {self.allowed}.")
        if self.unit:
            parts.append(f"Unit: {self.unit}.")
        if self.default and self.default != "(group defaults)":
            parts.append(f"Default: {self.default}.")
        parts.append(_HOW.get(self.kind, ""))
        if self.nullable or self.in_mapping:
            parts.append("Leave empty for none." if self.nullable else "Leave empty to remove.")
        return " ".join(p for p in parts if p)


_HOW: Final = {
    "numbers": "Numbers separated by commas.",
    "texts": "Names separated by commas.",
    "yaml": "Written as YAML, as in a scenario file.",
    "group": "Switch it on to write its settings (a template of its keys is filled in).",
}


@dataclasses.dataclass
class FormResult:
    """The base scenario with the form's edits: validated scenario (None when a problem
    remains), the problems by field path (``""``: not about one field), the data as edited
    (to draw the fields from, valid or not) and the settings that differ from the base."""

    scenario: Scenario | None
    problems: dict[str, list[str]]
    data: dict[str, Any]
    changes: list[tuple[str, Any, Any]]

    @property
    def ok(self) -> bool:
        return self.scenario is not None and not self.problems


# ---------------------------------------------------------------- the fields


@functools.cache
def _rows() -> tuple[ReferenceRow, ...]:
    return tuple(reference_rows())


def field_specs(scenario: Scenario | Mapping[str, Any]) -> list[FieldSpec]:
    """Every editable key of ``scenario`` (a Scenario, or its data as edited), in schema order.

    Reference rows with placeholders become one field per entry the scenario has (`<ward>` per
    ward group, `<band>` per frailty band), each entry's keys together (all of one ward, then
    the next); a YAML box for adding or removing entries comes after the entries. Rows under a
    YAML box or a switched-off group are reached through that field, never drawn twice.
    """
    data = plain(scenario) if isinstance(scenario, Scenario) else dict(scenario)
    specs: list[FieldSpec] = []
    for row in _rows():
        for parts, value in _expand(row.path.split("."), data):
            spec = _spec(row, tuple(parts), value)
            if spec is not None:
                specs.append(spec)
    rank: dict[tuple[Any, ...], int] = {}
    for spec in specs:
        for depth in range(1, len(spec.parts) + 1):
            rank.setdefault(spec.parts[:depth], len(rank))

    def order(spec: FieldSpec) -> tuple[float, ...]:
        ranks = tuple(float(rank[spec.parts[:d]]) for d in range(1, len(spec.parts) + 1))
        return (*ranks, math.inf) if spec.kind == "yaml" and spec.entries else ranks

    return sorted(specs, key=order)


def _expand(
    pattern: list[str], node: Any, done: tuple[Any, ...] = ()
) -> Iterator[tuple[list[Any], Any]]:
    """Concrete key paths of ``pattern`` in ``data``, with their values (`MISSING` if unset).

    A placeholder (``<ward>``) takes each key present; a list entry (``places[]``) is not
    expanded (its list is one YAML box); a path stops where its parent is not set.
    """
    part, rest = pattern[0], pattern[1:]
    if part.endswith("[]") or not isinstance(node, dict):
        return
    keys = list(node) if part.startswith("<") else [part]
    for key in keys:
        value = node.get(key, MISSING)
        if not rest:
            yield [*done, key], value
        elif isinstance(value, dict):
            yield from _expand(rest, value, (*done, key))


def _spec(row: ReferenceRow, parts: tuple[Any, ...], value: Any) -> FieldSpec | None:
    under = _under(row.path)
    spot = _spot_of(parts)
    in_mapping = get_origin(spot.container) is dict
    common = {
        "path": ".".join(str(p) for p in parts),
        "parts": parts,
        "pattern": row.path,
        "section": row.section if row.section != "Top level" else "top level",
        "unit": row.unit,
        "allowed": row.allowed,
        "default": row.default,
        "description": row.description,
        "value": value,
        "in_mapping": in_mapping,
    }
    kind: Kind
    nullable = "or null" in row.type or row.default == "null"
    options: tuple[Any, ...] = ()
    if row.type == "group or null":
        return FieldSpec(
            kind="group",
            nullable=True,
            covers=(row.path, *under),
            template=_template(row.path),
            **common,
        )
    if row.type in ("group", "mapping") and not any(p.startswith(row.path + ".<") for p in under):
        return None  # a group of fixed keys: its keys are fields of their own
    if row.type in ("group", "mapping", "list"):
        entries = row.type != "list"  # a mapping whose entries the user names
        return FieldSpec(
            kind="yaml", nullable=nullable, covers=(row.path, *under), entries=entries, **common
        )
    if row.type == "distribution":
        kind, options = "distribution", DIST_NAMES
    elif row.type.startswith("list of"):
        item, _ = bare_type(get_args(spot.tp)[0]) if get_args(spot.tp) else (float, [])
        if get_origin(item) is Literal:
            kind, options = "choices", get_args(item)
        elif item is str:
            kind = "texts"
        else:
            kind = "numbers"
        common["integer"] = item is int
    elif row.type.startswith("whole number"):
        kind = "int"
    elif row.type.startswith("number"):
        kind = "float"
    elif row.type == "true/false":
        kind = "bool"
    elif row.type.startswith("choice"):
        kind, options = "choice", get_args(spot.tp)
    elif row.type.startswith("date"):
        kind = "date"
    else:
        kind = "long_text" if parts == ("description",) else "text"
    return FieldSpec(kind=kind, nullable=nullable, options=options, covers=(row.path,), **common)


@functools.cache
def _under(path: str) -> tuple[str, ...]:
    """The reference paths under ``path`` (a group's keys, a list's entries)."""
    return tuple(r.path for r in _rows() if _is_under(r.path, path))


@functools.lru_cache(maxsize=4096)
def _spot_of(parts: tuple[Any, ...]) -> Any:
    """The schema's type at a concrete key path (the resolver validation messages use)."""
    return _spot(list(parts))


def _is_under(path: str, parent: str) -> bool:
    return path.startswith(parent + ".") or path.startswith(parent + "[]")


@functools.cache
def _template(path: str) -> str:
    """The keys of an optional group as YAML to fill in: its defaults, and its required keys
    left empty with a comment saying what they take."""
    depth = path.count(".") + 1
    lines = []
    for r in _rows():
        if not _is_under(r.path, path) or r.path.count(".") != depth or "[]" in r.path:
            continue
        key = r.path.rsplit(".", 1)[1]
        if key.startswith("<"):
            continue
        note = ", ".join(x for x in (r.unit, r.allowed) if x and x != "see Distributions")
        if r.type == "distribution":
            note = _join_note(note, "a distribution, e.g. {dist: lognormal, median: 5, sigma: 0.9}")
        if r.default == "required":
            lines.append(f"{key}:   # required{': ' + note if note else ''}")
        elif r.default not in ("", "(group defaults)") and not r.default.startswith("[(group"):
            lines.append(f"{key}: {r.default}{'   # ' + note if note else ''}")
    return "\n".join(lines) + "\n"


def _join_note(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def reachable(specs: Sequence[FieldSpec]) -> set[str]:
    """The reference paths a user can set through ``specs``: what each field covers, and a
    group of fixed keys (``ed.escalation``) once every key of it is covered."""
    found = {c for s in specs for c in s.covers}
    for row in reversed(_rows()):
        under = _under(row.path)
        if under and all(p in found for p in under):
            found.add(row.path)
    return found


def sections(specs: Sequence[FieldSpec]) -> list[str]:
    """The sections of ``specs`` in schema order."""
    return list(dict.fromkeys(s.section for s in specs))


def search(specs: Sequence[FieldSpec], query: str) -> list[FieldSpec]:
    """Fields whose path, unit or description holds every word of ``query`` (any case)."""
    words = query.lower().split()
    return [
        s
        for s in specs
        if all(w in f"{s.path} {s.pattern} {s.unit} {s.description}".lower() for w in words)
    ]


def dist_params(dist: str) -> list[tuple[str, bool, bool]]:
    """A distribution's parameters as ``(key, is a list, optional)``, in schema order."""
    cls = next(c for c in get_args(get_args(Distribution)[0]) if dist in _tags(c))
    out = []
    for name, info in cls.model_fields.items():
        if name == "dist":
            continue
        tp, _ = bare_type(info.annotation)
        out.append((info.alias or name, get_origin(tp) is list, not info.is_required()))
    return out


_DIST_ADAPTER: Final = TypeAdapter(Distribution)


def dist_mean(value: Any) -> float | None:
    """The mean of a distribution given as data, or None if it is not a valid one (to
    suggest a starting value when the user switches to another type)."""
    try:
        return float(_DIST_ADAPTER.validate_python(value).mean())
    except (ValidationError, TypeError, ValueError):
        return None


def _tags(cls: Any) -> tuple[Any, ...]:
    return get_args(cls.model_fields["dist"].annotation)


# ---------------------------------------------------------------- values in widgets


def widget_value(spec: FieldSpec) -> Any:
    """``spec.value`` as its widget holds it: lists of numbers and YAML boxes as text, unset
    as None; a distribution as a dict of its parameters."""
    value = None if spec.value is MISSING else spec.value
    if spec.kind in ("numbers", "texts"):
        return "" if value is None else ", ".join(_number_text(v) for v in value)
    if spec.kind == "yaml":
        return "" if value is None else _yaml_text(value)
    if spec.kind == "group":
        return None if value is None else _yaml_text(value)
    if spec.kind == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


def _number_text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _yaml_text(value: Any) -> str:
    return yaml.safe_dump(plain(value), sort_keys=False, default_flow_style=None, width=100)


_SEPARATORS: Final = re.compile(r"[,;\s]+")


def parse(spec: FieldSpec, raw: Any) -> Any:
    """A widget's value as the scenario holds it; a `ValueError` in plain words if it cannot
    be read. Empty means null for an optional key and removes an entry of a mapping."""
    empty = raw is None or (isinstance(raw, str) and not raw.strip())
    if empty and spec.kind not in ("text", "long_text", "bool"):
        if spec.in_mapping:
            return _REMOVE
        return None
    if spec.kind in ("numbers", "texts") and isinstance(raw, str):
        items = [x for x in _SEPARATORS.split(raw.strip().strip("[]")) if x]
        if spec.kind == "texts":
            return items
        return [_number(x, spec.integer) for x in items]
    if spec.kind in ("yaml", "group") and isinstance(raw, str):
        try:
            return yaml.safe_load(raw)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            problem = getattr(error, "problem", None) or "it is not written as YAML"
            raise ValueError(
                f"cannot be read{where}: {problem}; write it as in a scenario file"
            ) from None
    if spec.kind == "distribution" and isinstance(raw, Mapping):
        out = {}
        for key, value in raw.items():
            if isinstance(value, str) and key != "dist":
                value = [_number(x, False) for x in _SEPARATORS.split(value.strip()) if x] or None
            if value is not None:
                out[key] = value
        return out
    if spec.kind == "int" and isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if spec.kind == "date" and isinstance(raw, dt.date):
        return raw.isoformat()
    return raw


def _number(text: str, integer: bool) -> float | int:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a number; write numbers separated by commas, e.g. 1, 0.9, 1.2"
        ) from None
    if integer:
        if not value.is_integer():
            raise ValueError(f"{text} is not a whole number; write whole numbers, e.g. 3, 4, 5")
        return int(value)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value


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
    return FormResult(scenario, problems, data, changes)


def _set(data: dict[str, Any], parts: Sequence[Any], value: Any) -> None:
    node = data
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    if value is _REMOVE:
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
    parameters together), as ``(field path, base value, edited value)``; `MISSING` if unset."""
    if result.scenario is None:
        return []
    parts_of = {s.path: s.parts for s in field_specs(result.data)}
    paths = list(parts_of)
    before, after = plain(base), plain(result.scenario)
    rows: dict[str, tuple[str, Any, Any]] = {}
    for change, _, _ in result.changes:
        key = change.replace("[", ".").replace("]", "")
        holding = [p for p in paths if key == p or key.startswith(p + ".")]
        path = max(holding, key=len) if holding else change
        if path not in rows:
            parts = parts_of.get(path) or tuple(path.split("."))
            rows[path] = (path, _get(before, parts), _get(after, parts))
    return list(rows.values())


def _get(data: Any, parts: Sequence[Any]) -> Any:
    for part in parts:
        if not isinstance(data, dict) or part not in data:
            return MISSING
        data = data[part]
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
        *(f"#   {describe_change(p, a, b)}" for p, a, b in changed_fields(base, result)),
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
