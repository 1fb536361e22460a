"""The fields of the "All settings" form: every key of a scenario, with what it takes.

Pure logic, testable without Streamlit (`flowsim.app.form` applies the edits,
`flowsim.app.form_view` draws them). The fields come from the same walk of the schema that
writes docs/scenario-reference.md (`flowsim.scenario.reference.reference_rows`), so the form,
the reference and the JSON Schema never disagree: each reference row is instantiated on the
scenario being edited (one field per ward, per frailty band, per pathway, per place), and each
field carries the row's unit, allowed range, default and description as its help; its type is
read with the resolver validation messages use (`flowsim.scenario.problems`).

A few keys are edited whole rather than widget by widget: lists of groups of single values
(crowding steps, a place's segments) as a table; lists of larger groups (``population.places``)
and mappings whose entries a user names (``wards``, ``discharge.referral_days``) also as a
YAML box for adding or removing an entry; optional groups as a switch, with a template of their
keys when switched on. Every key of the reference is reachable through some field
(`reachable`), which a test checks. `widget_value` and `parse` carry values between the
scenario and the widgets (a list of numbers as "1, 0.9, 1.2", a YAML box as text).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import inspect
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final, Literal, get_args, get_origin

import yaml
from pydantic import TypeAdapter, ValidationError

from flowsim.scenario.distributions import DIST_NAMES, Distribution
from flowsim.scenario.problems import _spot, bare_type
from flowsim.scenario.reference import ReferenceRow, reference_rows
from flowsim.scenario.schema import Scenario
from flowsim.scenario.yaml_io import plain

__all__ = [
    "DIST_NAMES",
    "MISSING",
    "REMOVE",
    "FieldSpec",
    "dist_mean",
    "dist_params",
    "field_specs",
    "parse",
    "reachable",
    "search",
    "section_about",
    "sections",
    "widget_value",
]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
"""A key the scenario does not set (an optional entry of a mapping)."""
REMOVE: Final = object()

Kind = Literal[
    "text", "long_text", "int", "float", "bool", "choice", "date", "numbers", "choices", "texts",
    "distribution", "yaml", "group", "table",
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
    columns: tuple[tuple[Any, ...], ...] = ()

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
        suffix = " (every entry, as YAML: add or remove one here)" if self.entries else ""
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
    pattern: list[str], node: Any, done: tuple[Any, ...] = (), seen: tuple[str, ...] = ()
) -> Iterator[tuple[list[Any], Any]]:
    """Concrete key paths of ``pattern`` in ``data``, with their values (`MISSING` if unset).

    A placeholder (``<ward>``) takes each key present, a list entry (``places[]``) each entry
    of the list, unless the list is a table (its entries are rows of one field); a path stops
    where its parent is not set.
    """
    part, rest = pattern[0], pattern[1:]
    if not isinstance(node, dict):
        return
    if part.endswith("[]"):
        name = part[:-2]
        items = node.get(name)
        if ".".join((*seen, name)) in _tables() or not isinstance(items, list) or not rest:
            return
        for index, item in enumerate(items):
            yield from _expand(rest, item, (*done, name, index), (*seen, part))
        return
    keys = list(node) if part.startswith("<") else [part]
    for key in keys:
        value = node.get(key, MISSING)
        if not rest:
            yield [*done, key], value
        elif isinstance(value, dict):
            yield from _expand(rest, value, (*done, key), (*seen, part))


_SCALARS: Final = ("number", "whole number", "text", "choice", "true/false")


@functools.cache
def _tables() -> frozenset[str]:
    """Lists of groups of single values (crowding steps, a place's segments): edited as a
    table, one row per entry."""
    out = set()
    for row in _rows():
        if row.type != "list":
            continue
        keys = [r for r in _rows() if r.path.startswith(row.path + "[].")]
        depth = row.path.count(".") + 1
        if keys and all(
            r.path.count(".") == depth and r.type.removesuffix(" or null") in _SCALARS for r in keys
        ):
            out.add(row.path)
    return frozenset(out)


def _columns(row: ReferenceRow, parts: tuple[Any, ...]) -> tuple[tuple[Any, ...], ...]:
    """A table's columns as ``(key, kind, options, help)`` from the rows of its entries."""
    out = []
    for r in _rows():
        if not r.path.startswith(row.path + "[]."):
            continue
        key = r.path.rsplit(".", 1)[1]
        tp = _spot_of((*parts, 0, key)).tp
        kind = r.type.removesuffix(" or null")
        options = get_args(tp) if get_origin(tp) is Literal else ()
        about = " ".join(x for x in (r.description, r.unit and f"Unit: {r.unit}.") if x)
        out.append((key, kind, options, _join_note(about, r.allowed and f"Allowed: {r.allowed}")))
    return tuple(out)


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
    if row.type == "list" and row.path in _tables():
        return FieldSpec(
            kind="table",
            covers=(row.path, *under),
            columns=_columns(row, parts),
            **common,
        )
    if row.type in ("group", "mapping", "list"):
        return FieldSpec(
            kind="yaml", nullable=nullable, covers=(row.path, *under), entries=True, **common
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


def section_about(section: str) -> str:
    """What a section is, as the reference introduces it: the field's description, else the
    first paragraph of its group's docstring."""
    info = Scenario.model_fields.get(section)
    if info is None or section == "name":  # "top level": the keys outside any section
        return "The scenario's name and description."
    if info.description:
        return info.description
    tp, _ = bare_type(info.annotation)
    doc = inspect.cleandoc(getattr(tp, "__doc__", None) or "").split("\n\n")[0]
    return " ".join(doc.split()).replace("``", "`") if isinstance(tp, type) else ""


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
    if spec.kind == "table":
        return [dict(row) for row in value or []]
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
            return REMOVE
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
    if spec.kind == "table":
        return _records(raw)
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


def _records(raw: Any) -> list[dict[str, Any]]:
    """A table's rows as plain records: a data editor's frame (numpy numbers, NaN for an empty
    cell) or a list of dicts; an empty cell is left out, so the key's default applies."""
    rows = raw.to_dict("records") if hasattr(raw, "to_dict") else list(raw)
    out = []
    for row in rows:
        clean = {}
        for key, value in dict(row).items():
            value = value.item() if hasattr(value, "item") else value
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            if isinstance(value, float) and value.is_integer() and _whole(raw, key):
                value = int(value)
            clean[str(key)] = value
        if clean:
            out.append(clean)
    return out


def _whole(raw: Any, key: str) -> bool:
    """Whether a data editor's column holds whole numbers (pandas makes a column with an empty
    cell float)."""
    dtype = getattr(getattr(raw, "dtypes", {}), "get", lambda _: None)(key)
    return dtype is not None and dtype.kind in "iu"


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
