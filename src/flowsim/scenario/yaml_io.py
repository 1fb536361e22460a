"""Scenario YAML in and out: read one file safely, knowing where each value was written, and
write a scenario back in the style of baseline.yaml.

Reading composes the file with libyaml and builds it with a `yaml.SafeLoader`'s constructor
(plain values only, never code; one parse, not two) after a check that refuses
nesting deeper than `MAX_DEPTH` and aliases standing for more than `MAX_ALIASED_VALUES` values,
so no file can exhaust the stack or the memory. Every YAML problem becomes a `ScenarioError`
naming the file and line. `Where` records the file and line of every key, for the error messages
of validation (`flowsim.scenario.problems`) and of sweep files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, get_args

import yaml
from pydantic import BaseModel

from flowsim.errors import Problem, ScenarioError
from flowsim.scenario.distributions import Distribution
from flowsim.scenario.schema import Scenario

__all__ = [
    "MAX_ALIASED_VALUES",
    "MAX_DEPTH",
    "PathPart",
    "Where",
    "dotted_path",
    "join_path",
    "locate",
    "plain",
    "read_mapping",
    "scenario_to_yaml",
    "show_value",
]


_YAML_TAG_PREFIX: Final = "tag:yaml.org,2002:"


_MERGE_TAG: Final = _YAML_TAG_PREFIX + "merge"


_DIST_TYPES: Final = get_args(get_args(Distribution)[0])


PathPart = str | int


_NodeLoader: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available


MAX_DEPTH: Final = 50
"""Mappings and lists nested deeper than this are refused (a scenario needs about 7 levels; far
deeper nesting would exhaust Python's stack while the file is read)."""


MAX_ALIASED_VALUES: Final = 10_000
"""Values that aliases (``*name``) may add to a file. Reusing a distribution or a segment a few
hundred times fits; a "billion laughs" (aliases of aliases, growing tenfold each line) does not."""


@dataclass
class Where:
    """Where a value was written (file and 1-based line) and where its parts were."""

    file: str
    line: int | None
    children: dict[str, Where] | list[Where] | None = field(default=None)


def read_mapping(path: Path, shown: str) -> tuple[dict[str, Any], Where]:
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
        root = _compose(text)
        duplicates: list[Problem] = []
        where = None
        if isinstance(root, yaml.MappingNode):  # before building: merge keys rewrite the nodes
            where = _where_tree(root, shown, None, "", duplicates)
        data = None if root is None else _SafeLoader("").construct_document(root)
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
    assert where is not None  # a mapping's data is a dict
    if duplicates:
        raise ScenarioError.from_problems(duplicates)
    return data, where


def _compose(text: str) -> yaml.Node | None:
    """The file's nodes, composed by libyaml (fast; every key keeps its line). On a syntax
    error the pure-Python reader reads it again for its error, which names a line where
    libyaml's names only a character position."""
    try:
        return yaml.compose(text, Loader=_NodeLoader)
    except yaml.YAMLError:
        if _NodeLoader is yaml.SafeLoader:
            raise
        yaml.compose(text, Loader=_SafeLoader)
        raise


def locate(where: Where | None, path: Sequence[PathPart]) -> Where | None:
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
    """Refuse, before anything is built, nesting deeper than `MAX_DEPTH` and aliases that add
    more than `MAX_ALIASED_VALUES` values: a few lines of ``&a [*b, *b, ...]`` can stand for
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
                if aliased > MAX_ALIASED_VALUES:
                    raise ScenarioError(
                        shown,
                        "",
                        f"its aliases (*{event.anchor} and the others) stand for more than "
                        f"{MAX_ALIASED_VALUES:,} values; write the values out, or use fewer "
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
                if len(open_) > MAX_DEPTH:
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
        f"settings are nested more than {MAX_DEPTH} levels deep; a scenario needs fewer than "
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
) -> Where:
    if isinstance(node, yaml.MappingNode):
        children: dict[str, Where] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node, explicit in _mapping_pairs(node):
            key = str(key_node.value)
            key_line = key_node.start_mark.line + 1
            key_path = join_path(path, key)
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
        return Where(file, line, children)
    if isinstance(node, yaml.SequenceNode):
        items = [
            _where_tree(item, file, item.start_mark.line + 1, f"{path}[{i}]", duplicates)
            for i, item in enumerate(node.value)
        ]
        return Where(file, line, items)
    return Where(file, line)


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


def scenario_to_yaml(scenario: Scenario) -> str:
    """The whole scenario as YAML: schema order, keys as written in files (``mean``, not ``mean_``).

    Nothing is left to ``extends``; reading the text back gives an equal scenario.
    """
    return yaml.dump(
        _styled(plain(scenario)),
        Dumper=_ScenarioDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1_000,
    )


def plain(value: Any) -> Any:
    """Models as plain dicts (keys as written in files, schema order), lists and values as they are.

    A distribution leaves out parameters it does not use (lognormal given by median and sigma
    has no ``mean: null``); optional settings elsewhere stay, so ``null`` shows they are off.
    """
    if isinstance(value, BaseModel):
        is_distribution = isinstance(value, _DIST_TYPES)
        data: dict[str, Any] = {}
        for name, info in type(value).model_fields.items():
            item = getattr(value, name)
            if item is None and is_distribution:
                continue
            data[info.alias or name] = plain(item)
        return data
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
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
        flat = all(not isinstance(item, dict | list) for item in value.values())
        return _FlowMap(items) if flat and depth >= 2 else items
    if isinstance(value, list):
        items = [_styled(item, depth + 1) for item in value]
        flat = all(not isinstance(item, dict | list) for item in value)
        return _FlowList(items) if flat else items
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


def show_value(value: Any) -> str:
    """A value as the user would have written it in YAML, shortened if long."""
    if isinstance(value, str):
        text = repr(value)
    elif value is None:
        return "nothing (an empty value)"
    elif isinstance(value, bool):
        return "true" if value else "false"
    elif isinstance(value, Mapping | list | tuple):
        text = yaml.safe_dump(
            plain(value), default_flow_style=True, sort_keys=False, width=1_000
        ).strip()
    else:
        text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a single piece of text"
    return f"a single value ({show_value(value)})"


def join_path(path: str, key: PathPart) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def dotted_path(path: Sequence[PathPart]) -> str:
    dotted = ""
    for part in path:
        dotted = join_path(dotted, part)
    return dotted
