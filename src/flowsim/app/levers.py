"""The app's levers: the settings a room changes with a slider or a toggle, with ranges around
the scenario's own values, and the dotted changes they make (`flowsim.scenario.apply_changes`).

Kept apart from the comparison engine (`flowsim.app.engine`, which re-exports these names) so
each module stays small; worded by the unit catalogue (`flowsim.scenario.units`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flowsim.scenario import Scenario
from flowsim.scenario.units import DISCHARGE_PATHWAY_UNITS, capacity_of, spec_of, ward_unit

__all__ = ["Lever", "lever_changes", "lever_values", "levers"]


@dataclass(frozen=True)
class Lever:
    """A setting the room can change with a slider or a toggle.

    ``key`` is the dotted scenario path, except ``afu.open`` (a toggle: 0 beds when off, and
    patients meant for the AFU go to AMU) and ``sdec.hours`` (opening and closing hour).
    """

    key: str
    label: str
    help: str
    low: float = 0
    high: float = 0
    step: float = 1
    kind: str = "int"  # int, float, bool, hours


def levers(scenario: Scenario) -> list[Lever]:
    """The main levers of ``scenario``, with ranges around its own values (0 to twice)."""

    def beds(unit: str) -> Lever:
        """A slider for the unit's places, worded by the unit catalogue."""
        spec = spec_of(unit)
        assert spec is not None and spec.capacity_key and spec.lever
        value = capacity_of(scenario, unit)
        return Lever(spec.capacity_key, spec.lever, spec.lever_help, 0, max(10, 2 * value))

    out = [
        beds("ed_cubicle"),
        beds("amu"),
        Lever(
            "afu.open",
            "AFU open",
            "Acute frailty unit; off sends its patients to AMU.",
            0,
            1,
            kind="bool",
        ),
        beds("afu"),
        *(beds(ward_unit(name)) for name in scenario.wards),
    ]
    out += [
        Lever(
            "sdec.hours",
            "SDEC open (hours of the day)",
            "Opening and closing hour.",
            0,
            24,
            kind="hours",
        ),
        beds("ucr"),
        beds("virtual_ward"),
        *(beds(unit) for unit in DISCHARGE_PATHWAY_UNITS),
        Lever(
            "demand_profile.growth",
            "Demand (1.00 = as now)",
            "Scales all demand: 1.05 is 5% more.",
            0.8,
            1.3,
            0.01,
            kind="float",
        ),
    ]
    return out


def lever_values(scenario: Scenario) -> dict[str, Any]:
    """The scenario's current value of every lever."""
    data = scenario.model_dump(mode="json", by_alias=True)
    out: dict[str, Any] = {}
    for lever in levers(scenario):
        if lever.key == "afu.open":
            out[lever.key] = scenario.afu.beds > 0
        elif lever.key == "sdec.hours":
            out[lever.key] = (int(scenario.sdec.open_hour), int(scenario.sdec.close_hour))
        else:
            node: Any = data
            for part in lever.key.split("."):
                node = node[part]
            out[lever.key] = node
    return out


def lever_changes(scenario: Scenario, values: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted changes for `apply_changes`: only the levers whose value differs."""
    now = lever_values(scenario)
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in now or key == "afu.open" or value == now[key]:
            continue
        if key == "sdec.hours":
            out["sdec.open_hour"], out["sdec.close_hour"] = int(value[0]), int(value[1])
        elif isinstance(now[key], int) and not isinstance(now[key], bool):
            out[key] = int(value)
        else:
            out[key] = float(value)
    if values.get("afu.open") is False and now["afu.open"]:
        out["afu.beds"] = 0
        out["afu.divert_to_amu_when_full"] = True
    return out
