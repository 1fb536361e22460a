"""Sweep files: scenarios × a grid of settings × replications, as pure data.

A sweep file names scenario files (relative to the sweep file) and, optionally, settings to try
in every combination::

    name: afu beds
    scenarios: [../baseline.yaml, ../afu_expansion.yaml]
    grid:
      afu.beds: [0, 8, 16, 24]            # dotted keys, as in apply_changes
      community.p1.capacity: [300, 330]   # 4 x 2 = 8 points for each scenario
    replications: 5
    seed: 20261128                        # optional: the same for every point, so they
    horizon_days: 90                      #   share common random numbers
    warm_up_days: 30
    keep_logs: false

`load_sweep` reads the file, loads every scenario and builds every point before anything runs,
so a typo in point 31 is found at once rather than an hour into the batch. Problems are
`ScenarioError`\\s naming the sweep file, the line, the key and the point, like the scenario
loader's. The run settings of the sweep (``replications``, ``seed``, ``horizon_days``,
``warm_up_days``) are written into each point's ``run:`` section, so a point's scenario is
exactly what is run; a grid key under ``run.`` overrides them for that point.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flowsim.errors import Problem, ScenarioError
from flowsim.scenario.changes import apply_changes
from flowsim.scenario.load import load_scenario
from flowsim.scenario.problems import Spot, bare_type, error_message
from flowsim.scenario.schema import Scenario
from flowsim.scenario.yaml_io import Where, locate, read_mapping

__all__ = ["Sweep", "SweepPlan", "SweepPoint", "load_sweep", "point_label"]

_MAX_PROBLEMS = 20
"""Problems listed at most: a bad key repeats at every point, and one line per point helps no
one."""


class Sweep(BaseModel):
    """The contents of a sweep file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(None, description="Name of the sweep (default: the file's name).")
    description: str | None = Field(None, description="What the sweep is for.")
    scenarios: Annotated[list[str], Field(min_length=1)] = Field(
        description="Scenario files, relative to the folder of the sweep file."
    )
    grid: dict[str, Annotated[list[Any], Field(min_length=1)]] = Field(
        default_factory=dict,
        description="Settings to try: a dotted key and a list of values for each.",
    )
    replications: Annotated[int, Field(ge=1)] | None = Field(
        None, description="Replications of each point (default: each scenario's)."
    )
    seed: Annotated[int, Field(ge=0)] | None = Field(
        None, description="Run seed of every point (default: each scenario's)."
    )
    horizon_days: Annotated[float, Field(gt=0)] | None = Field(
        None, description="Simulated days after warm-up (default: each scenario's)."
    )
    warm_up_days: Annotated[float, Field(ge=0)] | None = Field(
        None, description="Warm-up days (default: each scenario's)."
    )
    keep_logs: bool = Field(False, description="Store every replication's event log too.")


@dataclass(frozen=True)
class SweepPoint:
    """One scenario at one combination of the grid's values, ready to run."""

    scenario_index: int
    """Position of the scenario file in the sweep's ``scenarios`` list."""
    scenario_file: str
    point_index: int
    """Position of the combination in the grid (0 when there is no grid)."""
    parameters: dict[str, Any]
    """Grid key -> value at this point (empty when there is no grid)."""
    scenario: Scenario
    """The scenario as run: grid values and the sweep's run settings written in."""

    @property
    def label(self) -> str:
        """``afu.beds=8, community.p1.capacity=330`` (empty when there is no grid)."""
        return point_label(self.parameters)

    @property
    def replications(self) -> int:
        return self.scenario.run.replications


@dataclass(frozen=True)
class SweepPlan:
    """A checked sweep file: every point of every scenario, in order (scenario, then grid)."""

    file: str
    name: str
    sweep: Sweep
    points: list[SweepPoint]

    @property
    def keep_logs(self) -> bool:
        return self.sweep.keep_logs


def point_label(parameters: Mapping[str, Any]) -> str:
    """Grid values as ``key=value`` pairs, values written as in YAML."""
    return ", ".join(f"{key}={_flow(value)}" for key, value in parameters.items())


def load_sweep(path: str | os.PathLike[str]) -> SweepPlan:
    """Read and check a sweep file, its scenarios and every point of its grid."""
    shown = os.fspath(path)
    try:
        data, where = read_mapping(Path(path), shown)
    except ScenarioError as error:
        if not error.message.startswith("the file is empty"):
            raise
        raise ScenarioError(
            shown, "", "the file is empty; a sweep needs at least 'scenarios: [some.yaml]'"
        ) from None
    try:
        sweep = Sweep.model_validate(data)
    except ValidationError as error:
        problems = [_explain(detail, shown, where) for detail in error.errors(include_url=False)]
        raise ScenarioError.from_problems(list(dict.fromkeys(problems))) from None
    _check_lists(sweep, shown, where)
    scenarios = _load_scenarios(sweep, Path(path), shown, where)
    points = _points(sweep, scenarios, shown, where)
    name = sweep.name or Path(path).stem
    return SweepPlan(file=shown, name=name, sweep=sweep, points=points)


# ---------------------------------------------------------------- checks


def _check_lists(sweep: Sweep, shown: str, where: Where) -> None:
    problems = []
    for i, name in enumerate(sweep.scenarios):
        if name in sweep.scenarios[:i]:
            problems.append(
                _problem(shown, where, ["scenarios", i], f"lists {name!r} twice; delete one")
            )
    for key, values in sweep.grid.items():
        for i, value in enumerate(values):
            if value in values[:i]:
                problems.append(
                    _problem(
                        shown,
                        where,
                        ["grid", key, i],
                        f"lists {_flow(value)} twice, so that point would run twice; delete one",
                    )
                )
    if problems:
        raise ScenarioError.from_problems(problems)


def _load_scenarios(
    sweep: Sweep, path: Path, shown: str, where: Where
) -> list[tuple[str, Scenario]]:
    """(file as shown, scenario) for each scenario file; a missing file names the sweep's line."""
    found: list[tuple[int, str, Path]] = []
    problems = []
    for i, name in enumerate(sweep.scenarios):
        file = path.parent / name
        file_shown = os.path.normpath(os.path.join(os.path.dirname(shown), name))
        if file.is_file():
            found.append((i, file_shown, file))
        else:
            problems.append(
                _problem(
                    shown,
                    where,
                    ["scenarios", i],
                    f"cannot find the scenario file {name!r} (looked for {file_shown}); names "
                    "are relative to the folder of the sweep file",
                )
            )
    if problems:
        raise ScenarioError.from_problems(problems)
    return [(file_shown, load_scenario(file)) for _, file_shown, file in found]


def _points(
    sweep: Sweep, scenarios: Sequence[tuple[str, Scenario]], shown: str, where: Where
) -> list[SweepPoint]:
    """Every scenario at every combination of the grid, each validated; all problems at once.

    Each value is first tried alone, so that every bad key and value is listed together (a
    combination stops at its first bad key); then every combination, for rules across settings.
    """
    run = {
        f"run.{key}": value
        for key in ("replications", "seed", "horizon_days", "warm_up_days")
        if (value := getattr(sweep, key)) is not None
    }
    found = _Problems(sweep, shown, where)
    for file, scenario in scenarios:
        found.check(file, scenario, run, {})
        for key, values in sweep.grid.items():
            for value in values:
                found.check(file, scenario, run, {key: value})
    found.raise_if_any()
    keys = list(sweep.grid)
    points: list[SweepPoint] = []
    for s, (file, scenario) in enumerate(scenarios):
        for p, values in enumerate(itertools.product(*sweep.grid.values())):
            parameters = dict(zip(keys, values, strict=True))
            changed = found.check(file, scenario, run, parameters)
            if changed is not None:
                points.append(SweepPoint(s, file, p, parameters, changed))
    found.raise_if_any()
    return points


class _Problems:
    """Problems of `apply_changes` at sweep points, moved to the sweep's lines, without
    repeats (a bad key would otherwise be listed once per point)."""

    def __init__(self, sweep: Sweep, shown: str, where: Where) -> None:
        self.sweep, self.shown, self.where = sweep, shown, where
        self.found: dict[tuple[str, str, str, int | None], Problem] = {}

    def check(
        self, file: str, scenario: Scenario, run: dict[str, Any], parameters: dict[str, Any]
    ) -> Scenario | None:
        try:
            return apply_changes(scenario, {**run, **parameters})
        except ScenarioError as error:
            for problem in error.problems:
                moved = _point_problem(
                    problem, parameters, self.sweep, file, self.shown, self.where
                )
                kind = (moved.key_path, problem.key_path, problem.message, moved.line)
                self.found.setdefault(kind, moved)
            return None

    def raise_if_any(self) -> None:
        found = list(self.found.values())
        if not found:
            return
        if len(found) > _MAX_PROBLEMS:
            more = len(found) - _MAX_PROBLEMS
            found = [
                *found[:_MAX_PROBLEMS],
                Problem(self.shown, "", f"... and {more} more problem(s) like these"),
            ]
        raise ScenarioError.from_problems(found)


def _point_problem(
    problem: Problem,
    parameters: Mapping[str, Any],
    sweep: Sweep,
    file: str,
    shown: str,
    where: Where,
) -> Problem:
    """A problem of `apply_changes` at one point, moved to the sweep line that caused it."""
    context = f" (scenario {file}" + (f", {point_label(parameters)})" if parameters else ")")
    path = problem.key_path
    for key, value in parameters.items():
        if path == key or path.startswith((key + ".", key + "[")):
            inner = "" if path == key else f"{path}: "
            at: list[str | int] = ["grid", key]
            if not problem.message.startswith(("unknown key", "is not a key path")):
                at.append(sweep.grid[key].index(value))  # its line, in a list one value a line
            return _problem(shown, where, at, inner + problem.message + context)
    # Not one key's fault: a run setting of the sweep itself, or a rule across settings
    # (shares that must add up to 1, say).
    key = path.removeprefix("run.")
    if path.startswith("run.") and key in Sweep.model_fields:
        return _problem(shown, where, [key], problem.message + context)
    message = (f"{path}: " if path else "") + problem.message
    return _problem(shown, where, ["grid"] if parameters else [], message + context)


def _problem(shown: str, where: Where, path: list[str | int], message: str) -> Problem:
    node = locate(where, path)
    return Problem(shown, _dotted(path), message, node.line if node is not None else None)


def _dotted(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        text = f"{text}[{part}]" if isinstance(part, int) else f"{text}.{part}" if text else part
    return text


# ---------------------------------------------------------------- schema errors


def _explain(detail: Mapping[str, Any], shown: str, where: Where) -> Problem:
    spot = _spot(detail["loc"])
    kind = detail["type"]
    in_grid = len(spot.path) == 2 and spot.path[0] == "grid"
    if in_grid and spot.bad_key:
        message = (
            "each key of the grid must be a setting written as a dotted key, e.g. afu.beds, "
            f"got {_flow(spot.path[1])}"
        )
    elif in_grid and kind in ("list_type", "too_short"):
        message = (
            "must be a list of the values to try, in square brackets, e.g. [0, 8, 16]"
            f", got {_flow(detail.get('input'))}"
        )
    elif spot.path[:1] == ["grid"] and kind == "dict_type":
        message = (
            "must be settings to try, one per line, each with a list of values, "
            "e.g. 'afu.beds: [0, 8, 16]'"
        )
    elif spot.path[:1] == ["scenarios"] and kind in ("list_type", "too_short"):
        message = (
            "must be a list of scenario files in square brackets, e.g. [../baseline.yaml]"
            f", got {_flow(detail.get('input'))}"
        )
    else:
        message = error_message(detail, spot)
    node = locate(where, spot.path)
    return Problem(shown, _dotted(spot.path), message, node.line if node is not None else None)


def _spot(loc: Sequence[str | int]) -> Spot:
    """A pydantic error location read against `Sweep`, for the scenario loader's messages."""
    spot = Spot(path=[], tp=Sweep)
    for part in loc:
        tp, _ = bare_type(spot.tp)
        if part == "[key]":
            spot.bad_key = True
            continue
        spot.container, spot.model_field = tp, None
        spot.path.append(str(part) if get_origin(tp) is dict else part)
        if tp is Sweep:
            info = Sweep.model_fields.get(str(part))
            if info is None:
                spot.tp, spot.constraints = Any, []
                continue
            spot.model_field, spot.tp, spot.constraints = info, info.annotation, list(info.metadata)
        elif get_origin(tp) in (list, dict) and get_args(tp):
            spot.tp, spot.constraints = get_args(tp)[-1], []
        else:
            spot.tp, spot.constraints = Any, []
    tp, constraints = bare_type(spot.tp)
    spot.tp, spot.constraints = tp, spot.constraints + constraints
    return spot


def _flow(value: Any) -> str:
    """A value as written in a YAML flow list: ``8``, ``text``, ``{dist: fixed, value: 3}``."""
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1_000)
    return text.strip().removesuffix("...").strip()
