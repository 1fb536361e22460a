"""Scenario files: read, resolve ``extends``, validate.

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

The jobs live apart: safe YAML reading and writing in `flowsim.scenario.yaml_io`, the wording
of problems in `flowsim.scenario.problems`, changes and diffs in `flowsim.scenario.changes`.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from flowsim.errors import ScenarioError
from flowsim.scenario.changes import (  # re-exported: they were first importable from here
    MISSING,
    apply_changes,
    deep_merge,
    diff_scenarios,
    diff_settings,
    merges,
)
from flowsim.scenario.problems import validate_scenario
from flowsim.scenario.schema import Scenario
from flowsim.scenario.yaml_io import Where, read_mapping, scenario_to_yaml, show_value

__all__ = [
    "EXTENDS",
    "MISSING",
    "apply_changes",
    "diff_scenarios",
    "diff_settings",
    "load_scenario",
    "load_scenario_data",
    "scenario_from_dict",
    "scenario_to_yaml",
]


EXTENDS: Final = "extends"


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read, resolve (``extends``) and validate a scenario file."""
    shown = os.fspath(path)
    data, where = _resolve(Path(path), shown, ())
    return validate_scenario(data, shown, where)


def load_scenario_data(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The raw mapping of a scenario file after ``extends`` is resolved, before validation."""
    data, _ = _resolve(Path(path), os.fspath(path), ())
    return data


def scenario_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> Scenario:
    """Validate a scenario given as plain data; problems name ``source`` and the dotted key path."""
    if not isinstance(data, Mapping):
        raise ScenarioError(
            source, "", f"a scenario must be a mapping of settings, got {show_value(data)}"
        )
    if EXTENDS in data:
        raise ScenarioError(
            source,
            EXTENDS,
            "only works in a scenario file, where it names a file next to it; "
            "use load_scenario(path) instead",
        )
    return validate_scenario(dict(data), source, None)


def _resolve(
    path: Path, shown: str, chain: tuple[tuple[Path, str], ...]
) -> tuple[dict[str, Any], Where]:
    """The file's mapping with its ``extends`` chain merged in, and where each value came from."""
    data, where = read_mapping(path, shown)
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
            f"got {show_value(base_name)}",
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
            f"cannot be used as a file name ({reason}), got {show_value(base_name)}",
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
    return deep_merge(base_data, data), _merge_where(base_where, where)


def _merge_where(base: Where, over: Where) -> Where:
    """Where each value of a `deep_merge` came from (same rule, on the location trees)."""
    if merges(base.children, over.children):
        assert isinstance(base.children, dict) and isinstance(over.children, dict)
        children = dict(base.children)
        for key, where in over.children.items():
            children[key] = _merge_where(children[key], where) if key in children else where
        return Where(over.file, over.line, children)
    return over


def _suggest_file(missing: Path) -> str:
    try:
        names = [p.name for p in missing.parent.iterdir() if p.suffix in (".yaml", ".yml")]
    except OSError:
        return ""
    stems = {Path(name).stem: name for name in names}
    close = difflib.get_close_matches(missing.stem, list(stems), n=1, cutoff=0.7)
    return f"; did you mean {stems[close[0]]!r}?" if close else ""
