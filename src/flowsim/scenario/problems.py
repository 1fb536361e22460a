"""Validation problems in words a clinician can act on.

Pydantic reports an error as a location in the schema and a type code; `validate_scenario` turns
each into a `Problem` naming the file and line where the value was written, the dotted key path
as the user wrote it (``wards.care_of_elderly.beds``), the rule (``must be a share between 0 and
1``) and the bad value, with a "did you mean" for misspelt keys and options. Sweep files reuse
the wording through `Spot`, `bare_type` and `error_message`.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from flowsim.errors import Problem, ScenarioError
from flowsim.scenario.distributions import DIST_NAMES
from flowsim.scenario.schema import Scenario
from flowsim.scenario.yaml_io import PathPart, Where, dotted_path, locate, show_value

__all__ = ["Spot", "bare_type", "error_message", "validate_scenario"]


def validate_scenario(data: dict[str, Any], source: str, where: Where | None) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        problems: list[Problem] = []
        for detail in error.errors(include_url=False):
            problem = _explain(detail, data, source, where)
            if problem not in problems:
                problems.append(problem)
        problems.sort(key=lambda p: (p.file != source, p.file, p.line or 0))
        raise ScenarioError.from_problems(problems) from None


@dataclass
class Spot:
    """A pydantic error location read against the schema: the path as the user wrote it."""

    path: list[PathPart]
    tp: Any = Any  # the bare type expected there (Any when unknown)
    constraints: list[Any] = field(default_factory=list)
    model_field: FieldInfo | None = None  # the model field at the end of the path, if any
    container: Any = None  # the bare type holding the last key (a model or a dict type)
    bad_key: bool = False  # the error is about a mapping key, not its value


def _spot(loc: Sequence[PathPart]) -> Spot:
    spot = Spot(path=[], tp=Scenario)
    for part in loc:
        tp, _ = bare_type(spot.tp)
        if part == "[key]":
            spot.bad_key = True
            continue
        if (single := one_or_list(tp)) is not None:  # a group, or a list of them
            if isinstance(part, int):
                spot.container, spot.model_field = list[single], None  # type: ignore[valid-type]
                spot.path.append(part)
                spot.tp, spot.constraints = single, []
                continue
            tp = single
        if _is_union(tp):
            member = _tagged_member(tp, part)
            if member is not None:  # pydantic's tag of a distribution: not in the file
                spot.tp, spot.constraints = member, []
                continue
            spot.tp = Any
            continue
        if isinstance(part, int) and get_origin(tp) not in (list, tuple):
            part = str(part)  # a number written as a key, e.g. '1: x'
        spot.container, spot.model_field = tp, None
        spot.path.append(part)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            name = _field_name(tp, str(part))
            if name is None:
                spot.tp, spot.constraints = Any, []
                continue
            info = tp.model_fields[name]
            spot.path[-1] = info.alias or name
            spot.model_field, spot.tp = info, info.annotation
            spot.constraints = list(info.metadata)
        elif get_origin(tp) in (list, tuple) and get_args(tp):
            spot.tp, spot.constraints = get_args(tp)[0], []
        elif get_origin(tp) is dict and get_args(tp):
            spot.tp, spot.constraints = get_args(tp)[1], []
        else:
            spot.tp, spot.constraints = Any, []
    tp, constraints = bare_type(spot.tp)
    spot.tp, spot.constraints = tp, spot.constraints + constraints
    return spot


def bare_type(tp: Any) -> tuple[Any, list[Any]]:
    """The type under ``Annotated[...]`` and ``X | None``, with the constraints met on the way."""
    constraints: list[Any] = []
    while True:
        if get_origin(tp) is Annotated:
            tp, *extra = get_args(tp)
            for item in extra:
                constraints.extend(item.metadata if isinstance(item, FieldInfo) else [item])
        elif _is_union(tp) and sum(a is not type(None) for a in get_args(tp)) == 1:
            tp = next(a for a in get_args(tp) if a is not type(None))
        else:
            return tp, constraints


def one_or_list(tp: Any) -> Any | None:
    """``M`` of a ``M | list[M]`` union (``warm_start``: one census or one per replication)."""
    if not _is_union(tp):
        return None
    args = [a for a in get_args(tp) if a is not type(None)]
    if len(args) == 2 and get_origin(args[1]) is list and get_args(args[1]) == (args[0],):
        return args[0]
    return None


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _tagged_member(union: Any, tag: PathPart) -> type[BaseModel] | None:
    for member in get_args(union):
        if isinstance(member, type) and issubclass(member, BaseModel):
            for info in member.model_fields.values():
                if get_origin(info.annotation) is Literal and tag in get_args(info.annotation):
                    return member
    return None


def _field_name(model: type[BaseModel], key: str) -> str | None:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return name
    return None


def _allowed_keys(container: Any) -> list[str]:
    if isinstance(container, type) and issubclass(container, BaseModel):
        return [info.alias or name for name, info in container.model_fields.items()]
    if get_origin(container) is dict and get_args(container):
        key_type, _ = bare_type(get_args(container)[0])
        if get_origin(key_type) is Literal:
            return [str(a) for a in get_args(key_type)]
    return []


def _explain(detail: Mapping[str, Any], data: Any, source: str, where: Where | None) -> Problem:
    spot = _spot(detail["loc"])
    path = spot.path
    message = error_message(detail, spot)
    if detail["type"] in ("value_error", "assertion_error"):
        path, message = _lift_path(path, message, data)
    if detail["type"] == "union_tag_invalid":
        path = [*path, _discriminator(detail)]
    node = locate(where, path)
    file = node.file if node is not None else source
    line = node.line if node is not None else None
    return Problem(file, dotted_path(path), message, line)


def error_message(detail: Mapping[str, Any], spot: Spot) -> str:
    kind: str = detail["type"]
    ctx: Mapping[str, Any] = detail.get("ctx") or {}
    value = detail.get("input")
    got = f", got {show_value(value)}"
    key = str(spot.path[-1]) if spot.path else ""

    if spot.bad_key or kind in ("extra_forbidden", "invalid_key"):
        return f"unknown key {key!r}; {_did_you_mean(key, _allowed_keys(spot.container))}"
    if kind == "missing":
        return "is missing; add it" + _about(spot)
    if kind in ("value_error", "assertion_error"):
        error = ctx.get("error")
        return str(error) if error is not None else re.sub(r"^\w+ error, ", "", detail["msg"])
    if kind == "union_tag_invalid":
        tag = ctx.get("tag")
        return (
            f"must be one of {', '.join(DIST_NAMES)}, got {show_value(tag)}{_hint(tag, DIST_NAMES)}"
        )
    if _is_union(spot.tp) and _tagged_member(spot.tp, DIST_NAMES[0]) is not None:
        return _distribution_message(value)
    if kind == "literal_error":
        options = [str(a) for a in get_args(spot.tp)] if get_origin(spot.tp) is Literal else []
        return f"must be one of {', '.join(options) or ctx.get('expected')}{got}" + _hint(
            value, options
        )
    if kind in _NUMBER_ERRORS:
        return _number_rule(spot) + got
    if kind in ("too_short", "too_long"):
        return _length_rule(spot, ctx) + f", got {ctx.get('actual_length', '?')}"
    if kind in ("bool_type", "bool_parsing"):
        return "must be true or false" + got
    if kind in ("string_type", "string_unicode"):
        return "must be text (put it in quotes if it looks like a number)" + got
    if kind == "string_too_short":
        return "must not be empty"
    if kind in ("list_type", "tuple_type", "iterable_type"):
        return "must be a list in square brackets, e.g. [frail, severe]" + got
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "must be a group of 'name: value' settings (a mapping)" + got
    if kind.startswith(("date_", "datetime_")):
        return "must be a date written YYYY-MM-DD, e.g. 2025-01-06" + got
    msg = str(detail.get("msg", "is not valid"))
    return msg[:1].lower() + msg[1:] + got


_NUMBER_ERRORS: Final = frozenset(
    {
        "int_type",
        "int_parsing",
        "int_from_float",
        "float_type",
        "float_parsing",
        "finite_number",
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "multiple_of",
    }
)


def _number_rule(spot: Spot) -> str:
    bounds = {
        name: getattr(c, name)
        for c in spot.constraints
        for name in ("ge", "gt", "le", "lt")
        if getattr(c, name, None) is not None
    }
    ge, gt, le, lt = (bounds.get(n) for n in ("ge", "gt", "le", "lt"))
    whole = spot.tp is int
    if not whole and (ge, le) == (0, 1):
        return "must be a share between 0 and 1 (e.g. 0.25 for 25%)"
    if not whole and (ge, le) == (0, 24):
        return "must be an hour of the day between 0 and 24"
    noun = "a whole number" if whole else "a number"
    low = f"{ge:g} or more" if ge is not None else f"more than {gt:g}" if gt is not None else None
    high = f"{le:g} or less" if le is not None else f"less than {lt:g}" if lt is not None else None
    if ge is not None and le is not None:
        return f"must be {noun} from {ge:g} to {le:g}"
    if low and high:
        return f"must be {noun}, {low} and {high}"
    if low or high:
        return f"must be {noun} of {low or high}"
    return f"must be {noun}"


def _length_rule(spot: Spot, ctx: Mapping[str, Any]) -> str:
    lengths = {
        name: getattr(c, name)
        for c in spot.constraints
        for name in ("min_length", "max_length")
        if getattr(c, name, None) is not None
    }
    low = lengths.get("min_length", ctx.get("min_length"))
    high = lengths.get("max_length", ctx.get("max_length"))
    items = "entries" if get_origin(spot.tp) is dict else "values"
    note = _about(spot)
    if low is not None and low == high:
        return f"must have exactly {low} {items}{note}"
    if low is not None and high is not None:
        return f"must have {low} to {high} {items}{note}"
    if low is not None:
        return f"must have at least {low} {items}{note}"
    return f"must have at most {high} {items}{note}"


def _distribution_message(value: Any) -> str:
    if isinstance(value, Mapping):
        return (
            f"needs 'dist:' to say which distribution it is ({', '.join(DIST_NAMES)}), "
            "e.g. {dist: lognormal, median: 5, sigma: 0.9}" + f", got {show_value(value)}"
        )
    example = f"{{dist: fixed, value: {value}}}" if isinstance(value, int | float) else None
    return (
        "must be a distribution, e.g. {dist: lognormal, median: 5, sigma: 0.9}"
        + (f" or {example} for always {value}" if example else "")
        + f", got {show_value(value)}"
    )


def _discriminator(detail: Mapping[str, Any]) -> str:
    return str((detail.get("ctx") or {}).get("discriminator", "dist")).strip("'\"")


def _lift_path(path: list[PathPart], message: str, data: Any) -> tuple[list[PathPart], str]:
    """Move a key path that a validator put at the start of its message into the path.

    ``ed.disposition`` + ``"fit: the shares must add up to 1 ..."`` becomes
    ``ed.disposition.fit`` + ``"the shares must add up to 1 ..."``, if ``fit`` is there.
    """
    match = re.match(r"([A-Za-z_][\w-]*(?:\.[\w-]+)*): (.+)", message, re.DOTALL)
    if match is None:
        return path, message
    longer = [*path, *match.group(1).split(".")]
    return (longer, match.group(2)) if _exists(data, longer) else (path, message)


def _exists(data: Any, path: Sequence[PathPart]) -> bool:
    node = data
    for part in path:
        in_mapping = isinstance(node, Mapping) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_mapping or in_list):
            return False
        node = node[part]
    return True


def _about(spot: Spot) -> str:
    """The field's description, as a reminder of what the setting means."""
    about = spot.model_field.description if spot.model_field else None
    return f" ({about.rstrip('.')})" if about else ""


def _hint(word: Any, options: Sequence[str]) -> str:
    close = _closest(word, options)
    return f"; did you mean {close!r}?" if close else ""


def _did_you_mean(key: str, allowed: Sequence[str]) -> str:
    close = _closest(key, allowed)
    if close:
        return f"did you mean {close!r}?"
    if allowed:
        return f"the keys allowed here are {', '.join(allowed)}"
    return "delete it or check its spelling"


def _closest(word: Any, options: Sequence[str]) -> str | None:
    if not isinstance(word, str) or not options:
        return None
    lowered = {o.lower(): o for o in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None
