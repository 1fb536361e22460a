"""A scenario as a base plus changes, and what differs between two scenarios.

`apply_changes` sets dotted key paths (``afu.beds``, ``population.places[0].people``) and
validates again; a mapping merges into a mapping setting as with ``extends`` (`deep_merge`).
`diff_scenarios` lists the settings that differ, in schema order; `diff_settings` leaves out
the labels (name, description), for reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from flowsim.errors import ScenarioError
from flowsim.scenario.problems import validate_scenario
from flowsim.scenario.schema import Scenario
from flowsim.scenario.yaml_io import PathPart, dotted_path, join_path, plain

__all__ = [
    "LABELS",
    "MISSING",
    "apply_changes",
    "deep_merge",
    "diff_scenarios",
    "diff_settings",
    "merges",
]


_DIST_KEY: Final = "dist"


class _Missing:
    """Marks a key that one scenario of a diff has and the other has not."""

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self) -> str:
        return "MISSING"  # unpickles as the same object


MISSING: Final = _Missing()


def diff_scenarios(a: Scenario, b: Scenario) -> list[tuple[str, Any, Any]]:
    """Settings that differ, as ``(dotted path, value in a, value in b)`` in schema order.

    Lists are compared as whole values; a key that only one side has is `MISSING` on the other.
    """
    return list(_diff(plain(a), plain(b), ""))


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
    data = plain(scenario)
    for dotted, value in changes.items():
        _set_path(data, _parse_path(dotted, source), plain(value), dotted, source)
    return validate_scenario(data, source, None)


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; lists, single values and whole distributions replace."""
    merged = dict(base)
    for key, value in over.items():
        old = merged.get(key)
        merged[key] = deep_merge(old, value) if merges(old, value) else value
    return merged


def merges(old: Any, new: Any) -> bool:
    """Whether ``new`` updates ``old`` key by key rather than replacing it.

    A distribution that names its ``dist:`` is a whole new distribution (``{dist: gamma, ...}``
    over a lognormal must not keep the lognormal's ``median``); ``{median: 30}`` alone updates.
    """
    return isinstance(old, Mapping) and isinstance(new, Mapping) and _DIST_KEY not in new


def _diff(a: Any, b: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            here = join_path(path, key)
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


def _parse_path(dotted: str, source: str) -> list[PathPart]:
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
    data: dict[str, Any], parts: list[PathPart], value: Any, dotted: str, source: str
) -> None:
    node: Any = data
    for depth, part in enumerate(parts):
        here = dotted_path(parts[:depth]) or "the top level"
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
            node[part] = deep_merge(old, value) if merges(old, value) else value
        else:
            if isinstance(node, dict) and node.get(part) is None:
                node[part] = {}  # a new ward group, or switching on an optional section
            node = node[part]
