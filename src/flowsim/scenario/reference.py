"""The scenario reference, generated from the schema so it never drifts from the code.

`reference_markdown` walks `flowsim.scenario.schema.Scenario` and writes one row per key a
scenario file can set: its dotted path, type, unit, default, allowed range and description.
`json_schema` gives the same schema as JSON Schema, so an editor can complete and check scenario
files as they are typed. Both are pure functions of the schema; ``flowsim schema`` writes them to
docs/, and a test fails when the committed files differ from what this module generates.

Units are read from the key (``_minutes``, ``_hours``, ``_days``, ``_share``, ``_per_person_year``
...) as the schema's conventions require, else from the range (0-1 is a share, 0-24 an hour of
the day); nothing here is written twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import json
import types
from collections.abc import Iterator
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from flowsim.scenario.distributions import DIST_NAMES, Distribution
from flowsim.scenario.problems import one_or_list
from flowsim.scenario.schema import ByFrailty, Scenario

__all__ = [
    "JSON_COMMAND",
    "JSON_SCHEMA_URL",
    "MARKDOWN_COMMAND",
    "ReferenceRow",
    "json_schema",
    "json_schema_text",
    "reference_markdown",
    "reference_rows",
]

MARKDOWN_COMMAND: Final = "flowsim schema --markdown"
JSON_COMMAND: Final = "flowsim schema --json"
JSON_SCHEMA_URL: Final = "https://json-schema.org/draft/2020-12/schema"
_DIST_TYPES: Final = get_args(get_args(Distribution)[0])

_PLACEHOLDERS: Final = {
    "wards": "<ward>",
    "ward_routing": "<ward>",
    "disposition": "<destination>",
    "pathway": "<pathway>",
    "referral_days": "<pathway>",
    "probability": "<pathway>",
}
"""How a mapping with free keys is shown in a dotted path, by the name of the mapping."""

_UNIT_BY_SUFFIX: Final = (
    ("_per_person_year", "per person per year"),
    ("_by_hour", "per hour of day, 00:00-01:00 first"),
    ("_minutes", "minutes"),
    ("_hours", "hours"),
    ("_days", "days"),
    ("_hour", "hour of day"),
    ("_share", "share (0-1)"),
    ("_probability", "probability (0-1)"),
    ("_occupancy", "share of base beds (0-1)"),
    ("_multiplier", "multiplier"),
    ("_factor", "probability (0-1)"),
)
_UNIT_BY_NAME: Final = {
    "beds": "beds",
    "capacity": "places",
    "chairs": "chairs",
    "cubicles": "cubicles",
    "teams": "teams",
    "assessors": "people",
    "people": "people",
    "growth": "multiplier",
    "open_when_waiting": "patients",
    "boarding_threshold": "patients",
    "occupied": "patients",
    "probability": "probability (0-1)",
    "acuity_weights": "relative weights",
    "hourly": "relative weights",
    "weekday": "relative weights",
    "monthly": "relative weights",
    "eligible_min_acuity": "triage category",
    "step_down_days_saved": "days",
    "seed": "",
}


_TOP_LEVEL: Final = "Top level"
_NOT_SHOWN: Final = object()
"""No default of its own (an entry of a mapping whose default is the whole mapping's)."""


@dataclasses.dataclass(frozen=True)
class ReferenceRow:
    """One key of a scenario file as the reference shows it."""

    section: str
    path: str
    type: str
    unit: str
    default: str
    allowed: str
    description: str


# ---------------------------------------------------------------- walking the schema


def reference_rows() -> list[ReferenceRow]:
    """Every key of `Scenario`, in schema order, with nested groups flattened to dotted paths."""
    rows: list[ReferenceRow] = []
    for name, info in Scenario.model_fields.items():
        tp = _optional(_unwrap(info.annotation)[0])[0]
        tp = one_or_list(tp) or tp
        nested = get_origin(tp) is dict or (isinstance(tp, type) and issubclass(tp, BaseModel))
        section = name if nested else _TOP_LEVEL
        rows.extend(_rows(section, name, info.annotation, info, _default(info), name))
    return rows


def _rows(
    section: str,
    path: str,
    tp: Any,
    info: FieldInfo | None,
    default: Any,
    key: str,
    about: str = "",
) -> Iterator[ReferenceRow]:
    tp, constraints = _unwrap(tp)
    if info is not None:
        constraints = [*constraints, *info.metadata]
    tp, nullable, more = _optional(tp)
    tp = one_or_list(tp) or tp  # the list is said in the field's description
    constraints = [*constraints, *more]
    description = about or (info.description if info is not None else None) or ""
    if _is_distribution(tp):
        yield _row(section, path, "distribution", key, default, "see Distributions", description)
        return
    if isinstance(tp, type) and issubclass(tp, ByFrailty):
        (inner,) = tp.__pydantic_generic_metadata__["args"]
        about = _join(description, "One value per frailty band (fit, frail, severe).")
        yield from _rows(section, f"{path}.<band>", inner, None, _inherited(default), key, about)
        return
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        doc = _first_paragraph(tp.__doc__)
        if path != section or nullable:
            kind = "group or null" if nullable else "group"
            yield _row(section, path, kind, "", default, "", _join(description, doc))
        defaults = default if isinstance(default, BaseModel) else None
        for name, field in tp.model_fields.items():
            sub = field.alias or name
            value = getattr(defaults, name) if defaults is not None else _default(field)
            yield from _rows(section, f"{path}.{sub}", field.annotation, field, value, sub)
        return
    origin, args = get_origin(tp), get_args(tp)
    if origin is dict:
        key_tp, value_tp = args
        key_tp, _ = _unwrap(key_tp)
        if get_origin(key_tp) is Literal:
            if description:
                yield _row(section, path, "mapping", key, default, "", description)
            for option in get_args(key_tp):
                value = default.get(option) if isinstance(default, dict) else _inherited(default)
                yield from _rows(section, f"{path}.{option}", value_tp, None, value, key)
            return
        placeholder = _PLACEHOLDERS.get(key, "<name>")
        yield _row(section, path, "mapping", "", default, _length(constraints), description)
        yield from _rows(section, f"{path}.{placeholder}", value_tp, None, _inherited(default), key)
        return
    if origin is list:
        (item_tp,) = args
        item_bare, item_constraints = _unwrap(item_tp)
        if isinstance(item_bare, type) and issubclass(item_bare, BaseModel):
            doc = _first_paragraph(item_bare.__doc__)
            allowed = _length(constraints)
            yield _row(section, path, "list", "", default, allowed, _join(description, doc))
            for name, field in item_bare.model_fields.items():
                sub = field.alias or name
                yield from _rows(
                    section, f"{path}[].{sub}", field.annotation, field, _default(field), sub
                )
            return
        kind = f"list of {_type_name(item_bare)}"
        allowed = _join(_length(constraints), _range(item_constraints, item_bare), sep="; ")
        yield _row(section, path, kind, key, default, allowed, description)
        return
    allowed = _range(constraints, tp)
    if get_origin(tp) is Literal:
        allowed = "one of " + ", ".join(str(a) for a in get_args(tp))
    kind = _type_name(tp) + (" or null" if nullable else "")
    unit = _unit(key, constraints, tp)
    yield ReferenceRow(section, path, kind, unit, _show(default), allowed, description)


def _inherited(default: Any) -> Any:
    """The default shown for an entry of a mapping: required if the mapping is, else none."""
    return PydanticUndefined if default is PydanticUndefined else _NOT_SHOWN


def _row(
    section: str, path: str, kind: str, key: str, default: Any, allowed: str, description: str
) -> ReferenceRow:
    unit = _unit(key, [], None) if key else ""
    return ReferenceRow(section, path, kind, unit, _show(default), allowed, description)


def _unwrap(tp: Any) -> tuple[Any, list[Any]]:
    """``Annotated[float, Field(ge=0)]`` -> ``(float, [Ge(0)])``; other types unchanged."""
    constraints: list[Any] = []
    while get_origin(tp) is Annotated:
        tp, *extra = get_args(tp)
        for item in extra:
            constraints.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return tp, constraints


def _optional(tp: Any) -> tuple[Any, bool, list[Any]]:
    """``X | None`` -> ``(X, True, X's constraints)``; other types -> ``(tp, False, [])``."""
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) < len(get_args(tp)):
            if len(args) == 1:
                inner, constraints = _unwrap(args[0])
                return inner, True, constraints
            return Union[tuple(args)], True, []  # noqa: UP007 - the remaining types, at runtime
    return tp, False, []


def _is_distribution(tp: Any) -> bool:
    tp, _ = _unwrap(tp)
    members = get_args(tp) if get_origin(tp) in (Union, types.UnionType) else (tp,)
    return bool(members) and all(m in _DIST_TYPES for m in members)


def _default(info: FieldInfo) -> Any:
    if info.default is not PydanticUndefined:
        return info.default
    if info.default_factory is not None:
        return info.default_factory()  # type: ignore[call-arg]
    return PydanticUndefined


def _type_name(tp: Any) -> str:
    if tp is bool:
        return "true/false"
    if tp is int:
        return "whole number"
    if tp is float:
        return "number"
    if tp is str:
        return "text"
    if tp is dt.date:
        return "date (YYYY-MM-DD)"
    if get_origin(tp) is Literal:
        return "choice"
    return getattr(tp, "__name__", str(tp))


def _bounds(constraints: list[Any]) -> dict[str, Any]:
    return {
        name: getattr(c, name)
        for c in constraints
        for name in ("ge", "gt", "le", "lt")
        if getattr(c, name, None) is not None
    }


def _range(constraints: list[Any], tp: Any) -> str:
    b = _bounds(constraints)
    low = f"{b['ge']:g}" if "ge" in b else None
    high = f"{b['le']:g}" if "le" in b else None
    if low is not None and high is not None:
        return f"{low} to {high}"
    parts = []
    if "ge" in b:
        parts.append(f"≥ {b['ge']:g}")
    if "gt" in b:
        parts.append(f"> {b['gt']:g}")
    if "le" in b:
        parts.append(f"≤ {b['le']:g}")
    if "lt" in b:
        parts.append(f"< {b['lt']:g}")
    return ", ".join(parts)


def _length(constraints: list[Any]) -> str:
    lengths = {
        name: getattr(c, name)
        for c in constraints
        for name in ("min_length", "max_length")
        if getattr(c, name, None) is not None
    }
    low, high = lengths.get("min_length"), lengths.get("max_length")
    if low is not None and low == high:
        return f"exactly {low} entries"
    if low is not None and high is not None:
        return f"{low} to {high} entries"
    if low is not None:
        return f"at least {low} {'entry' if low == 1 else 'entries'}"
    if high is not None:
        return f"at most {high} entries"
    return ""


def _unit(key: str, constraints: list[Any], tp: Any) -> str:
    if key in _UNIT_BY_NAME:
        return _UNIT_BY_NAME[key]
    for suffix, unit in _UNIT_BY_SUFFIX:
        if key.endswith(suffix):
            return unit
    b = _bounds(constraints)
    if tp is float and (b.get("ge"), b.get("le")) == (0, 1):
        return "share (0-1)"
    if tp is float and (b.get("ge"), b.get("le")) == (0, 24):
        return "hour of day"
    return ""


def _show(value: Any) -> str:
    """A default as it would be written in a scenario file."""
    if value is PydanticUndefined:
        return "required"
    if value is _NOT_SHOWN:
        return ""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return f'"{value}"' if value == "" else value
    if isinstance(value, BaseModel):
        if isinstance(value, _DIST_TYPES):
            fields = value.model_dump(by_alias=True, exclude_none=True)
            return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in fields.items()) + "}"
        return "(group defaults)"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def _first_paragraph(doc: str | None) -> str:
    """A class docstring's first paragraph on one line, ``rst`` literals as Markdown code."""
    if not doc:
        return ""
    return " ".join(inspect.cleandoc(doc).split("\n\n")[0].split()).replace("``", "`")


def _join(*parts: str, sep: str = " ") -> str:
    return sep.join(p for p in parts if p)


# ---------------------------------------------------------------- markdown


def reference_markdown() -> str:
    """docs/scenario-reference.md: conventions, one table per section, then the distributions."""
    out = [
        "# Scenario reference",
        "",
        f"<!-- Generated from src/flowsim/scenario/schema.py by `{MARKDOWN_COMMAND}`; "
        "do not edit by hand. -->",
        "",
        "Every key a scenario file can set, generated from the schema that checks it "
        f"(`{MARKDOWN_COMMAND}` rewrites this file). A file that starts with "
        "`extends: baseline.yaml` sets only the keys it changes; mappings merge key by key, "
        "lists and single values replace the base's.",
        "",
        "- **Paths**: keys joined by dots, as `flowsim show` prints them and `flowsim batch` "
        "grids name them. `<band>` is a frailty band: `fit` (CFS 1-4), `frail` (CFS 5-6) or "
        "`severe` (CFS 7-9); `<ward>` a ward group named under `wards`; `<pathway>` a discharge "
        "pathway P0-P3; `[]` any entry of a list.",
        "- **Units** come from the key: `_minutes`, `_hours`, `_days` are durations; `_hour` is an "
        "hour of the day (0-24); `_share` and `_probability` are proportions from 0 to 1 (0.25 "
        "is 25%).",
        "- **Default** `required`: the key must be given (the baseline gives it; a file that "
        "extends the baseline inherits it).",
        "- **Distributions** are written as data, e.g. `{dist: lognormal, median: 5, sigma: 0.9}`; "
        "see [Distributions](#distributions).",
        f"- An editor can complete and check scenario files with `docs/scenario.schema.json` "
        f"(`{JSON_COMMAND}`); see the README.",
        "",
    ]
    rows = reference_rows()
    for section in dict.fromkeys(r.section for r in rows):
        info = Scenario.model_fields.get(section)
        tp = _optional(_unwrap(info.annotation)[0])[0] if info is not None else None
        is_group = isinstance(tp, type) and issubclass(tp, BaseModel)
        doc = _first_paragraph(tp.__doc__) if is_group and not issubclass(tp, ByFrailty) else ""
        out += [f"## `{section}`" if info is not None else f"## {section}", ""]
        about = _join(info.description or "", doc) if info is not None else ""
        if about:
            out += [about, ""]
        out += [
            "| key | type | unit | default | allowed | description |",
            "|---|---|---|---|---|---|",
        ]
        for r in (r for r in rows if r.section == section):
            cells = [f"`{r.path}`", r.type, r.unit, _code(r.default), r.allowed, r.description]
            out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        out.append("")
    out += _distributions()
    return "\n".join(out).rstrip("\n") + "\n"


def _distributions() -> list[str]:
    out = [
        "## Distributions",
        "",
        "A duration is a distribution given as data; its unit is the unit of the key that holds "
        f"it (`los_days` in days). `dist` is one of {', '.join(DIST_NAMES)}. A file that extends "
        "another may change one parameter (`{median: 30}`) or replace the whole distribution by "
        "naming its `dist`.",
        "",
        "| dist | parameters | meaning |",
        "|---|---|---|",
    ]
    for cls in _DIST_TYPES:
        params = []
        for name, field in cls.model_fields.items():
            if name == "dist":
                continue
            tp, constraints = _unwrap(field.annotation)
            tp, nullable, more = _optional(tp)
            constraints = [*constraints, *more]
            text = f"`{field.alias or name}`"
            rng = _range([*constraints, *field.metadata], tp)
            details = _join(
                _type_name(tp) if get_origin(tp) is not list else "list of numbers", rng, sep=", "
            )
            params.append(f"{text} ({details}{', optional' if nullable else ''})")
        tag = get_args(cls.model_fields["dist"].annotation)[0]
        out.append(f"| `{tag}` | {'; '.join(params)} | {_cell(_first_paragraph(cls.__doc__))} |")
    out.append("")
    return out


def _code(text: str) -> str:
    return f"`{text}`" if text not in ("required", "") else text


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# ---------------------------------------------------------------- JSON Schema


def json_schema() -> dict[str, Any]:
    """docs/scenario.schema.json: `Scenario.model_json_schema()` made fit for editing files.

    Two changes make it check partial files as they are written: ``extends`` is allowed at the
    top level, and no key is marked required (a file that extends the baseline gives only what
    it changes; `flowsim validate` checks the resolved scenario for missing keys and for shares
    that must add up to 1). Distributions match ``anyOf`` instead of ``oneOf``, so a partial
    change such as ``{median: 30}`` is accepted.
    """
    schema = _relaxed(Scenario.model_json_schema(by_alias=True))
    schema["properties"] = {
        "extends": {
            "type": "string",
            "title": "Extends",
            "description": "Another scenario file (relative to this one) whose settings this "
            "file starts from; mappings merge key by key, lists and values replace.",
        },
        **schema["properties"],
    }
    body = {k: v for k, v in schema.items() if k not in ("title", "description")}
    return {
        "$schema": JSON_SCHEMA_URL,
        "title": "flowsim scenario",
        "description": f"A flowsim scenario file. Generated by `{JSON_COMMAND}`; see "
        "docs/scenario-reference.md for units and meanings.",
        **body,
    }


def json_schema_text() -> str:
    """`json_schema` as the text written to docs/ (stable key order, two-space indent)."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def _relaxed(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "required" and isinstance(value, list):
                continue
            if key == "discriminator":
                continue
            out["anyOf" if key == "oneOf" else key] = _relaxed(value)
        return out
    if isinstance(node, list):
        return [_relaxed(v) for v in node]
    return node
