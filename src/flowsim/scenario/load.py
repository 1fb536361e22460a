"""Scenario files: read YAML safely, resolve ``extends``, validate, and say what is wrong.

A scenario file is usually a few lines of change on another file::

    extends: baseline.yaml      # relative to this file; the base may extend another file
    name: afu expansion
    afu: {beds: 36}

Mappings merge key by key (so ``afu: {beds: 36}`` keeps every other AFU setting of the base);
lists and single values replace the base's value, and so does a distribution that names its
``dist:`` (``{dist: gamma, mean: 30, cv: 0.5}`` replaces a lognormal whole, while
``{median: 30}`` alone changes one parameter). Every problem becomes a `ScenarioError` that
names the file where the value was written, its line and its dotted key path
(``wards.care_of_elderly.beds``, ``population.places[0].segments[3].people``), the rule and the
bad value, in words a clinician can act on.
"""

from __future__ import annotations

import difflib
import os
import re
import types
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from flowsim.errors import Problem, ScenarioError
from flowsim.scenario.distributions import DIST_NAMES, Distribution
from flowsim.scenario.schema import Scenario

__all__ = [
    "MISSING",
    "apply_changes",
    "diff_scenarios",
    "load_scenario",
    "load_scenario_data",
    "scenario_from_dict",
    "scenario_to_yaml",
]

EXTENDS: Final = "extends"
_DIST_KEY: Final = "dist"
_DIST_TYPES: Final = get_args(get_args(Distribution)[0])
_YAML_TAG_PREFIX: Final = "tag:yaml.org,2002:"
_MERGE_TAG: Final = _YAML_TAG_PREFIX + "merge"
_PathPart = str | int
_NodeLoader: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available
_MAX_DEPTH: Final = 50
"""Mappings and lists nested deeper than this are refused (a scenario needs about 7 levels; far
deeper nesting would exhaust Python's stack while the file is read)."""
_MAX_ALIASED_VALUES: Final = 10_000
"""Values that aliases (``*name``) may add to a file. Reusing a distribution or a segment a few
hundred times fits; a "billion laughs" (aliases of aliases, growing tenfold each line) does not."""


class _Missing:
    """Marks a key that one scenario of a diff has and the other has not."""

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self) -> str:
        return "MISSING"  # unpickles as the same object


MISSING: Final = _Missing()


# ---------------------------------------------------------------- public API


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read, resolve (``extends``) and validate a scenario file."""
    shown = os.fspath(path)
    data, where = _resolve(Path(path), shown, ())
    return _validate(data, shown, where)


def load_scenario_data(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The raw mapping of a scenario file after ``extends`` is resolved, before validation."""
    data, _ = _resolve(Path(path), os.fspath(path), ())
    return data


def scenario_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> Scenario:
    """Validate a scenario given as plain data; problems name ``source`` and the dotted key path."""
    if not isinstance(data, Mapping):
        raise ScenarioError(
            source, "", f"a scenario must be a mapping of settings, got {_show(data)}"
        )
    if EXTENDS in data:
        raise ScenarioError(
            source,
            EXTENDS,
            "only works in a scenario file, where it names a file next to it; "
            "use load_scenario(path) instead",
        )
    return _validate(dict(data), source, None)


def scenario_to_yaml(scenario: Scenario) -> str:
    """The whole scenario as YAML: schema order, keys as written in files (``mean``, not ``mean_``).

    Nothing is left to ``extends``; reading the text back gives an equal scenario.
    """
    return yaml.dump(
        _styled(_plain(scenario)),
        Dumper=_ScenarioDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1_000,
    )


def diff_scenarios(a: Scenario, b: Scenario) -> list[tuple[str, Any, Any]]:
    """Settings that differ, as ``(dotted path, value in a, value in b)`` in schema order.

    Lists are compared as whole values; a key that only one side has is `MISSING` on the other.
    """
    return list(_diff(_plain(a), _plain(b), ""))


LABELS = frozenset({"name", "description"})
"""Keys that say what a scenario is called, not how the system behaves."""


def diff_settings(a: Scenario, b: Scenario) -> list[tuple[str, Any, Any]]:
    """`diff_scenarios` without `LABELS`: what a change does to the system, for reports."""
    return [row for row in diff_scenarios(a, b) if row[0] not in LABELS]


def apply_changes(scenario: Scenario, changes: Mapping[str, Any]) -> Scenario:
    """A new scenario: ``scenario`` with each dotted path set to its value, validated again.

    ``{"afu.beds": 36, "population.places[0].demand_multiplier": 0.9}``. A mapping given for a
    mapping setting is merged into it, as with ``extends``. Problems name the dotted path.
    """
    source = f"changes to scenario {scenario.name!r}"
    data = _plain(scenario)
    for dotted, value in changes.items():
        _set_path(data, _parse_path(dotted, source), _plain(value), dotted, source)
    return _validate(data, source, None)


# ---------------------------------------------------------------- reading files


@dataclass
class _Where:
    """Where a value was written (file and 1-based line) and where its parts were."""

    file: str
    line: int | None
    children: dict[str, _Where] | list[_Where] | None = field(default=None)


def _resolve(
    path: Path, shown: str, chain: tuple[tuple[Path, str], ...]
) -> tuple[dict[str, Any], _Where]:
    """The file's mapping with its ``extends`` chain merged in, and where each value came from."""
    data, where = _read(path, shown)
    chain = (*chain, (path.resolve(), shown))
    if EXTENDS not in data:
        return data, where
    base_name = data.pop(EXTENDS)
    extends_where = where.children.pop(EXTENDS, None) if isinstance(where.children, dict) else None
    line = extends_where.line if extends_where else None
    if not isinstance(base_name, str) or not base_name.strip():
        raise ScenarioError(
            shown,
            EXTENDS,
            "must name another scenario file, e.g. 'extends: baseline.yaml', "
            f"got {_show(base_name)}",
            line,
        )
    base_path = path.parent / base_name
    base_shown = os.path.normpath(os.path.join(os.path.dirname(shown), base_name))
    try:
        base_resolved, base_is_file = base_path.resolve(), base_path.is_file()
    except (OSError, ValueError) as error:  # a NUL character, a name too long for the system
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise ScenarioError(
            shown,
            EXTENDS,
            f"cannot be used as a file name ({reason}), got {_show(base_name)}",
            line,
        ) from None
    if any(base_resolved == seen for seen, _ in chain):
        circle = " -> ".join([*(name for _, name in chain), base_shown])
        raise ScenarioError(
            shown,
            EXTENDS,
            f"goes round in a circle: {circle}; one of these files must stop extending the others",
            line,
        )
    if not base_is_file:
        raise ScenarioError(
            shown,
            EXTENDS,
            f"cannot find the base scenario {base_name!r} (looked for {base_shown}); the name is "
            f"relative to the folder of this file{_suggest_file(base_path)}",
            line,
        )
    base_data, base_where = _resolve(base_path, base_shown, chain)
    return _deep_merge(base_data, data), _merge_where(base_where, where)


def _read(path: Path, shown: str) -> tuple[dict[str, Any], _Where]:
    """One file's top-level mapping (``yaml.safe_load``) and the lines of its keys."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(shown, "", "file not found; check the file name and folder") from None
    except IsADirectoryError:
        raise ScenarioError(shown, "", "is a folder, not a scenario file") from None
    except UnicodeDecodeError as error:
        raise ScenarioError(
            shown,
            "",
            f"is not a text file (byte 0x{error.object[error.start]:02x} is not UTF-8); "
            "a scenario is YAML text saved as UTF-8",
            error.object.count(b"\n", 0, error.start) + 1,
        ) from None
    except OSError as error:
        raise ScenarioError(shown, "", f"cannot be read: {error.strerror}") from None
    try:
        _check_size(text, shown)
        data = yaml.load(text, Loader=_SafeLoader)  # a SafeLoader: plain values only
        root = yaml.compose(text, Loader=_NodeLoader)  # nodes only, for lines: nothing is built
    except yaml.YAMLError as error:
        raise _yaml_error(error, shown, text) from None
    except RecursionError:  # not expected after _check_size; never a traceback all the same
        raise _too_deep(shown, None) from None
    if root is None or data is None:
        raise ScenarioError(
            shown,
            "",
            "the file is empty; a scenario needs settings, e.g. 'extends: baseline.yaml' "
            "followed by the lines you change",
        )
    if not isinstance(data, dict):
        raise ScenarioError(
            shown,
            "",
            f"the top level must be 'key: value' lines (like scenarios/baseline.yaml), "
            f"but it is {_kind(data)}",
            root.start_mark.line + 1,
        )
    duplicates: list[Problem] = []
    where = _where_tree(root, shown, None, "", duplicates)
    if duplicates:
        raise ScenarioError.from_problems(duplicates)
    return data, where


class _SafeLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` (plain values only, never code), except that a value YAML recognises
    but cannot build, such as the date ``2025-13-45`` or ``!!int abc``, is a YAML error with a
    line rather than a bare ValueError."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ArithmeticError, AttributeError, LookupError, TypeError, ValueError) as error:
            raise _UnreadableValue(node, error) from None


class _UnreadableValue(yaml.constructor.ConstructorError):
    def __init__(self, node: yaml.Node, error: Exception) -> None:
        value = node.value if isinstance(node, yaml.ScalarNode) else ""
        tag = str(node.tag).replace(_YAML_TAG_PREFIX, "")
        why = f" ({error})" if isinstance(error, ValueError) else ""
        if tag == "timestamp":
            problem = f"{value!r} looks like a date but is not one{why}; write YYYY-MM-DD"
        else:
            problem = f"{value!r} cannot be read as !!{tag}{why}"
        super().__init__(
            None, None, problem + ", or put it in quotes if it is text", node.start_mark
        )


def _check_size(text: str, shown: str) -> None:
    """Refuse, before anything is built, nesting deeper than `_MAX_DEPTH` and aliases that add
    more than `_MAX_ALIASED_VALUES` values: a few lines of ``&a [*b, *b, ...]`` can stand for
    billions of values, and reading them would take hours and all the memory.

    Reads the YAML events (no values are built) and counts the values each anchor stands for.
    A syntax error stops the count quietly; reading the file properly then reports it.
    """
    values = aliased = 0
    size: dict[str, int] = {}  # anchor -> values under it, aliases expanded
    open_: list[tuple[str | None, int]] = []  # open mappings and lists: anchor, values before
    try:
        for event in yaml.parse(text, Loader=_NodeLoader):
            if isinstance(event, yaml.AliasEvent):
                if any(anchor == event.anchor for anchor, _ in open_):
                    raise ScenarioError(
                        shown,
                        "",
                        f"*{event.anchor} is used inside the value it stands for (&{event.anchor}"
                        "), so that value would never end; write it out instead",
                        event.start_mark.line + 1,
                    )
                added = size.get(event.anchor, 1)
                values, aliased = values + added, aliased + added
                if aliased > _MAX_ALIASED_VALUES:
                    raise ScenarioError(
                        shown,
                        "",
                        f"its aliases (*{event.anchor} and the others) stand for more than "
                        f"{_MAX_ALIASED_VALUES:,} values; write the values out, or use fewer "
                        "aliases of aliases",
                        event.start_mark.line + 1,
                    )
            elif isinstance(event, yaml.ScalarEvent):
                values += 1
                if event.anchor is not None:
                    size[event.anchor] = 1
            elif isinstance(event, yaml.CollectionStartEvent):
                open_.append((event.anchor, values))
                values += 1
                if len(open_) > _MAX_DEPTH:
                    raise _too_deep(shown, event.start_mark.line + 1)
            elif isinstance(event, yaml.CollectionEndEvent) and open_:
                anchor, before = open_.pop()
                if anchor is not None:
                    size[anchor] = values - before
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        if "nesting depth" in str(getattr(error, "problem", "")) and mark is not None:
            raise _too_deep(shown, mark.line + 1) from None  # libyaml's own limit, hit first


def _too_deep(shown: str, line: int | None) -> ScenarioError:
    return ScenarioError(
        shown,
        "",
        f"settings are nested more than {_MAX_DEPTH} levels deep; a scenario needs fewer than "
        "10: check the brackets and the indentation",
        line,
    )


def _yaml_error(error: yaml.YAMLError, shown: str, text: str = "") -> ScenarioError:
    if isinstance(error, yaml.reader.ReaderError) and error.encoding == "unicode":
        code = error.character if isinstance(error.character, int) else ord(error.character)
        line = text.count("\n", 0, error.position) + 1
        column = error.position - text.rfind("\n", 0, error.position)
        return ScenarioError(
            shown,
            "",
            f"contains a character that YAML does not allow (#x{code:04x} at column {column}, a "
            "control or other non-printing character); delete it",
            line,
        )
    if not isinstance(error, yaml.MarkedYAMLError) or error.problem_mark is None:
        return ScenarioError(shown, "", f"is not valid YAML: {error}")
    if isinstance(error, _UnreadableValue):
        return ScenarioError(shown, "", str(error.problem), error.problem_mark.line + 1)
    mark = error.problem_mark
    problem = error.problem or "not valid YAML"
    tag = re.search(r"constructor for the tag '([^']*)'", problem)
    if tag:
        name = tag.group(1).replace(_YAML_TAG_PREFIX, "!!")
        return ScenarioError(
            shown,
            "",
            f"the YAML tag {name} is not allowed: a scenario holds plain values only "
            "(numbers, text, true/false, lists and mappings); delete the tag",
            mark.line + 1,
        )
    start = error.context_mark  # where the broken construct began, if YAML knows
    line = (start or mark).line + 1
    noticed = f" (noticed at line {mark.line + 1}, column {mark.column + 1})" if start else ""
    return ScenarioError(
        shown, "", f"YAML syntax error: {problem}{noticed}; {_syntax_hint(problem)}", line
    )


def _syntax_hint(problem: str) -> str:
    if "\\t" in problem or "\t" in problem:
        return "indent with spaces, not tabs"
    if "mapping values are not allowed" in problem:
        return "check the indentation of this line, and put text containing ': ' in quotes"
    if "expected ':'" in problem:
        return "each setting needs a colon after its name, e.g. 'beds: 36'"
    if "end of stream" in problem:
        return "a quote (' or \") is opened but never closed"
    if "expected ','" in problem or "flow" in problem:
        return "check that every [ has its ] and every { has its }, with commas between items"
    return "check the indentation (spaces, not tabs) and that each line reads 'name: value'"


def _where_tree(
    node: yaml.Node, file: str, line: int | None, path: str, duplicates: list[Problem]
) -> _Where:
    if isinstance(node, yaml.MappingNode):
        children: dict[str, _Where] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node, explicit in _mapping_pairs(node):
            key = str(key_node.value)
            key_line = key_node.start_mark.line + 1
            key_path = _join(path, key)
            if explicit and key in first_line:
                duplicates.append(
                    Problem(
                        file,
                        key_path,
                        f"is set twice (lines {first_line[key]} and {key_line}); "
                        "delete one of them",
                        key_line,
                    )
                )
            if explicit:
                first_line[key] = key_line
            children[key] = _where_tree(value_node, file, key_line, key_path, duplicates)
        return _Where(file, line, children)
    if isinstance(node, yaml.SequenceNode):
        items = [
            _where_tree(item, file, item.start_mark.line + 1, f"{path}[{i}]", duplicates)
            for i, item in enumerate(node.value)
        ]
        return _Where(file, line, items)
    return _Where(file, line)


def _mapping_pairs(node: yaml.MappingNode) -> Iterator[tuple[yaml.Node, yaml.Node, bool]]:
    """Key and value nodes, with YAML merge keys (``<<: *defaults``) expanded first."""
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE_TAG:
            merged = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in merged:
                if isinstance(source, yaml.MappingNode):
                    for key, value, _ in _mapping_pairs(source):
                        yield key, value, False
    for key_node, value_node in node.value:
        if key_node.tag != _MERGE_TAG:
            yield key_node, value_node, True


def _deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; lists, single values and whole distributions replace."""
    merged = dict(base)
    for key, value in over.items():
        old = merged.get(key)
        merged[key] = _deep_merge(old, value) if _merges(old, value) else value
    return merged


def _merges(old: Any, new: Any) -> bool:
    """Whether ``new`` updates ``old`` key by key rather than replacing it.

    A distribution that names its ``dist:`` is a whole new distribution (``{dist: gamma, ...}``
    over a lognormal must not keep the lognormal's ``median``); ``{median: 30}`` alone updates.
    """
    return isinstance(old, Mapping) and isinstance(new, Mapping) and _DIST_KEY not in new


def _merge_where(base: _Where, over: _Where) -> _Where:
    """Where each value of a `_deep_merge` came from (same rule, on the location trees)."""
    if _merges(base.children, over.children):
        assert isinstance(base.children, dict) and isinstance(over.children, dict)
        children = dict(base.children)
        for key, where in over.children.items():
            children[key] = _merge_where(children[key], where) if key in children else where
        return _Where(over.file, over.line, children)
    return over


def _locate(where: _Where | None, path: Sequence[_PathPart]) -> _Where | None:
    """The deepest written value along ``path`` (its parent, if the key itself is missing)."""
    node = where
    for part in path:
        if node is None:
            break
        children = node.children
        if isinstance(children, dict) and str(part) in children:
            node = children[str(part)]
        elif isinstance(children, list) and isinstance(part, int) and 0 <= part < len(children):
            node = children[part]
        else:
            break
    return node


def _suggest_file(missing: Path) -> str:
    try:
        names = [p.name for p in missing.parent.iterdir() if p.suffix in (".yaml", ".yml")]
    except OSError:
        return ""
    stems = {Path(name).stem: name for name in names}
    close = difflib.get_close_matches(missing.stem, list(stems), n=1, cutoff=0.7)
    return f"; did you mean {stems[close[0]]!r}?" if close else ""


# ---------------------------------------------------------------- validation and messages


def _validate(data: dict[str, Any], source: str, where: _Where | None) -> Scenario:
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
class _Spot:
    """A pydantic error location read against the schema: the path as the user wrote it."""

    path: list[_PathPart]
    tp: Any = Any  # the bare type expected there (Any when unknown)
    constraints: list[Any] = field(default_factory=list)
    model_field: FieldInfo | None = None  # the model field at the end of the path, if any
    container: Any = None  # the bare type holding the last key (a model or a dict type)
    bad_key: bool = False  # the error is about a mapping key, not its value


def _spot(loc: Sequence[_PathPart]) -> _Spot:
    spot = _Spot(path=[], tp=Scenario)
    for part in loc:
        tp, _ = _bare(spot.tp)
        if part == "[key]":
            spot.bad_key = True
            continue
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
    tp, constraints = _bare(spot.tp)
    spot.tp, spot.constraints = tp, spot.constraints + constraints
    return spot


def _bare(tp: Any) -> tuple[Any, list[Any]]:
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


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _tagged_member(union: Any, tag: _PathPart) -> type[BaseModel] | None:
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
        key_type, _ = _bare(get_args(container)[0])
        if get_origin(key_type) is Literal:
            return [str(a) for a in get_args(key_type)]
    return []


def _explain(detail: Mapping[str, Any], data: Any, source: str, where: _Where | None) -> Problem:
    spot = _spot(detail["loc"])
    path = spot.path
    message = _message(detail, spot)
    if detail["type"] in ("value_error", "assertion_error"):
        path, message = _lift_path(path, message, data)
    if detail["type"] == "union_tag_invalid":
        path = [*path, _discriminator(detail)]
    node = _locate(where, path)
    file = node.file if node is not None else source
    line = node.line if node is not None else None
    return Problem(file, _dotted(path), message, line)


def _message(detail: Mapping[str, Any], spot: _Spot) -> str:
    kind: str = detail["type"]
    ctx: Mapping[str, Any] = detail.get("ctx") or {}
    value = detail.get("input")
    got = f", got {_show(value)}"
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
        return f"must be one of {', '.join(DIST_NAMES)}, got {_show(tag)}{_hint(tag, DIST_NAMES)}"
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


def _number_rule(spot: _Spot) -> str:
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


def _length_rule(spot: _Spot, ctx: Mapping[str, Any]) -> str:
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
            "e.g. {dist: lognormal, median: 5, sigma: 0.9}" + f", got {_show(value)}"
        )
    example = f"{{dist: fixed, value: {value}}}" if isinstance(value, int | float) else None
    return (
        "must be a distribution, e.g. {dist: lognormal, median: 5, sigma: 0.9}"
        + (f" or {example} for always {value}" if example else "")
        + f", got {_show(value)}"
    )


def _discriminator(detail: Mapping[str, Any]) -> str:
    return str((detail.get("ctx") or {}).get("discriminator", "dist")).strip("'\"")


def _lift_path(path: list[_PathPart], message: str, data: Any) -> tuple[list[_PathPart], str]:
    """Move a key path that a validator put at the start of its message into the path.

    ``ed.disposition`` + ``"fit: the shares must add up to 1 ..."`` becomes
    ``ed.disposition.fit`` + ``"the shares must add up to 1 ..."``, if ``fit`` is there.
    """
    match = re.match(r"([A-Za-z_][\w-]*(?:\.[\w-]+)*): (.+)", message, re.DOTALL)
    if match is None:
        return path, message
    longer = [*path, *match.group(1).split(".")]
    return (longer, match.group(2)) if _exists(data, longer) else (path, message)


def _exists(data: Any, path: Sequence[_PathPart]) -> bool:
    node = data
    for part in path:
        in_mapping = isinstance(node, Mapping) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_mapping or in_list):
            return False
        node = node[part]
    return True


def _about(spot: _Spot) -> str:
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


def _show(value: Any) -> str:
    """A value as the user would have written it in YAML, shortened if long."""
    if isinstance(value, str):
        text = repr(value)
    elif value is None:
        return "nothing (an empty value)"
    elif isinstance(value, bool):
        return "true" if value else "false"
    elif isinstance(value, Mapping | list | tuple):
        text = yaml.safe_dump(
            _plain(value), default_flow_style=True, sort_keys=False, width=1_000
        ).strip()
    else:
        text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a single piece of text"
    return f"a single value ({_show(value)})"


def _join(path: str, key: _PathPart) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _dotted(path: Sequence[_PathPart]) -> str:
    dotted = ""
    for part in path:
        dotted = _join(dotted, part)
    return dotted


# ---------------------------------------------------------------- writing, diff and changes


def _plain(value: Any) -> Any:
    """Models as plain dicts (keys as written in files, schema order), lists and values as they are.

    A distribution leaves out parameters it does not use (lognormal given by median and sigma
    has no ``mean: null``); optional settings elsewhere stay, so ``null`` shows they are off.
    """
    if isinstance(value, BaseModel):
        is_distribution = isinstance(value, _DIST_TYPES)
        plain: dict[str, Any] = {}
        for name, info in type(value).model_fields.items():
            item = getattr(value, name)
            if item is None and is_distribution:
                continue
            plain[info.alias or name] = _plain(item)
        return plain
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


class _ScenarioDumper(yaml.SafeDumper):
    """Writes scenarios in the style of baseline.yaml."""


class _FlowMap(dict[str, Any]):
    """A short group of plain values, written on one line: ``{dist: lognormal, median: 5}``."""


class _FlowList(list[Any]):
    """A list of plain values, written on one line: ``[frail, severe]``."""


def _styled(value: Any, depth: int = 0) -> Any:
    """Sections in block style; groups of plain values below the top level in flow style."""
    if isinstance(value, dict):
        items = {key: _styled(item, depth + 1) for key, item in value.items()}
        plain = all(not isinstance(item, dict | list) for item in value.values())
        return _FlowMap(items) if plain and depth >= 2 else items
    if isinstance(value, list):
        items = [_styled(item, depth + 1) for item in value]
        plain = all(not isinstance(item, dict | list) for item in value)
        return _FlowList(items) if plain else items
    return value


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    style = "|" if "\n" in text else None  # descriptions as readable text blocks
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_ScenarioDumper.add_representer(
    _FlowMap, lambda d, m: d.represent_mapping("tag:yaml.org,2002:map", m, flow_style=True)
)
_ScenarioDumper.add_representer(
    _FlowList, lambda d, s: d.represent_sequence("tag:yaml.org,2002:seq", s, flow_style=True)
)
_ScenarioDumper.add_representer(str, _represent_str)


def _diff(a: Any, b: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            here = _join(path, key)
            if key not in b:
                yield here, a[key], MISSING
            elif key not in a:
                yield here, MISSING, b[key]
            else:
                yield from _diff(a[key], b[key], here)
    elif a != b:
        yield path, a, b


_KEY_PATH: Final = re.compile(r"[^.\[\]]+(\[\d+\])*(\.[^.\[\]]+(\[\d+\])*)*")
_KEY_PATH_PART: Final = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _parse_path(dotted: str, source: str) -> list[_PathPart]:
    """``"population.places[0].people"`` -> ``["population", "places", 0, "people"]``."""
    if not isinstance(dotted, str) or not _KEY_PATH.fullmatch(dotted):
        raise ScenarioError(
            source,
            str(dotted),
            "is not a key path; write the keys joined by dots, with list positions in "
            "brackets, e.g. population.places[0].segments[3].people",
        )
    return [int(index) if index else key for key, index in _KEY_PATH_PART.findall(dotted)]


def _set_path(
    data: dict[str, Any], parts: list[_PathPart], value: Any, dotted: str, source: str
) -> None:
    node: Any = data
    for depth, part in enumerate(parts):
        here = _dotted(parts[:depth]) or "the top level"
        if isinstance(part, int):
            if not isinstance(node, list):
                raise ScenarioError(source, dotted, f"{here} is not a list, so it has no [{part}]")
            if part >= len(node):
                raise ScenarioError(
                    source,
                    dotted,
                    f"{here} has {len(node)} items, numbered from 0, so there is no [{part}]",
                )
        elif not isinstance(node, dict):
            raise ScenarioError(
                source, dotted, f"{here} is a single value, not a group of settings"
            )
        if depth == len(parts) - 1:
            old = node[part] if isinstance(part, int) else node.get(part)
            node[part] = _deep_merge(old, value) if _merges(old, value) else value
        else:
            if isinstance(node, dict) and node.get(part) is None:
                node[part] = {}  # a new ward group, or switching on an optional section
            node = node[part]
