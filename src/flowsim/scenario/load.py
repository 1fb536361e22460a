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

from flowsim.errors import Problem, ScenarioError
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


LIBRARY_ONLY_MESSAGE: Final = (
    "an uploaded file can only extend a library scenario such as baseline.yaml"
)


def load_scenario(
    path: str | os.PathLike[str],
    *,
    library_only: str | os.PathLike[str] | None = None,
    shown: str | None = None,
) -> Scenario:
    """Read, resolve (``extends``) and validate a scenario file.

    ``library_only`` is for files from people who do not own the machine (the hosted app): then
    ``extends`` may name only a file of that library folder (no absolute path, no ``..``, no
    symlink leading out of it), and no error shows a key or value of a file other than this one,
    so an upload can neither read nor probe the server's files. ``shown`` names the file in errors.
    """
    shown = os.fspath(path) if shown is None else shown
    library = _library(library_only)
    data, where = _resolve(Path(path), shown, (), library)
    if library is None:
        return validate_scenario(data, shown, where)
    try:
        return validate_scenario(data, shown, where)
    except ScenarioError as error:
        raise _only_about(error, shown) from None


def load_scenario_data(
    path: str | os.PathLike[str], *, library_only: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """The raw mapping of a scenario file after ``extends`` is resolved, before validation."""
    data, _ = _resolve(Path(path), os.fspath(path), (), _library(library_only))
    return data


def _library(folder: str | os.PathLike[str] | None) -> Path | None:
    return None if folder is None else Path(folder).resolve()


def _only_about(error: ScenarioError, shown: str) -> ScenarioError:
    """The problems of the uploaded file as they are; any other file's (a library scenario
    that does not load) reduced to its name, with nothing of its content."""
    problems = [
        p
        if p.file == shown
        else Problem(
            os.path.basename(p.file),
            "",
            "this library scenario cannot be loaded here; tell the person hosting the app",
        )
        for p in error.problems
    ]
    return ScenarioError.from_problems(list(dict.fromkeys(problems)))


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
    path: Path, shown: str, chain: tuple[tuple[Path, str], ...], library: Path | None = None
) -> tuple[dict[str, Any], Where]:
    """The file's mapping with its ``extends`` chain merged in, and where each value came from.

    With a ``library``, every base must be a file of that folder, and a base that fails to read
    is named but not quoted (its problems could show what it holds).
    """
    if library is not None and chain:
        try:
            data, where = read_mapping(path, shown)
        except ScenarioError as error:
            raise _only_about(error, "") from None
    else:
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
    if library is not None:
        base_path = _library_file(base_name, library, shown, line)
        base_shown = base_name
    else:
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
            (
                f"cannot find the library scenario {base_name!r}{_suggest_file(base_path)}"
                if library is not None
                else f"cannot find the base scenario {base_name!r} (looked for {base_shown}); "
                f"the name is relative to the folder of this file{_suggest_file(base_path)}"
            ),
            line,
        )
    base_data, base_where = _resolve(base_path, base_shown, chain, library)
    return deep_merge(base_data, data), _merge_where(base_where, where)


def _library_file(base_name: str, library: Path, shown: str, line: int | None) -> Path:
    """The library file ``base_name`` names, refusing any name that could reach past the folder:
    a path with a folder in it (absolute, ``..``, ``sub/x.yaml``) or a symlink leading out."""
    refused = ScenarioError(shown, EXTENDS, LIBRARY_ONLY_MESSAGE, line)
    if "\0" in base_name or os.path.basename(base_name) != base_name or base_name in (".", ".."):
        raise refused
    if "\\" in base_name or "/" in base_name:
        raise refused
    candidate = library / base_name
    try:
        resolved = candidate.resolve()
    except (OSError, ValueError, RuntimeError):
        raise refused from None
    if not resolved.is_relative_to(library):
        raise refused
    return candidate


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
