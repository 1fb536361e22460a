"""The weak-evidence parameters: baseline values with low confidence, and the range to test.

parameters.md rates every default H, M or L; "every L row is a scenario input to vary in
sensitivity analysis, not a fact". `WEAK_EVIDENCE` lists those inputs of the baseline (confidence
L: estimates, derived or calibrated values) with a low and high value to try, each citing its
parameters.md row. `sensitivity_variants` turns the list into scenarios, one setting changed at a
time, for `flowsim.api.sensitivity`. Pure data: nothing here runs the model.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any, Final, Literal

from flowsim.errors import ScenarioError
from flowsim.scenario.load import apply_changes
from flowsim.scenario.schema import Scenario

__all__ = ["WEAK_EVIDENCE", "Variant", "WeakParameter", "sensitivity_variants"]


@dataclasses.dataclass(frozen=True)
class WeakParameter:
    """A setting whose value is an estimate, and the range to test it over.

    Give ``low`` and ``high`` as values, or ``relative`` (0.2 tries the scenario's value x0.8 and
    x1.2; whole numbers are rounded, lists are scaled entry by entry).
    """

    key: str
    source: str
    note: str
    low: float | None = None
    high: float | None = None
    relative: float | None = None

    def values(self, current: Any) -> tuple[Any, Any]:
        """The low and high value to try, given the scenario's ``current`` value."""
        if self.relative is None:
            assert self.low is not None and self.high is not None
            return self.low, self.high
        return _scaled(current, 1.0 - self.relative), _scaled(current, 1.0 + self.relative)


def _scaled(value: Any, factor: float) -> Any:
    if isinstance(value, list):
        return [_scaled(v, factor) for v in value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"cannot scale {value!r}")
    if isinstance(value, int):
        return max(0, round(value * factor))
    return value * factor


WEAK_EVIDENCE: Final[tuple[WeakParameter, ...]] = (
    WeakParameter(
        "population.places[1].demand_multiplier",
        "A1",
        "South Notts residents' use of this ED (share 0.85 of rates; estimate, L)",
        relative=0.15,
    ),
    WeakParameter(
        "ucr.eligible_share", "U2", "999 calls suitable for UCR (estimate, L)", 0.15, 0.45
    ),
    WeakParameter(
        "ucr.kept_at_home_share", "U2", "UCR patients not conveyed (one interview, L)", 0.5, 0.9
    ),
    WeakParameter("ed.triage_minutes.median", "E6", "triage time (no distribution found)", 5, 15),
    WeakParameter("ed.assessment_minutes.median", "E6", "clinician time per patient", 15, 30),
    WeakParameter("ed.treatment_hours.median", "E4", "assessment to decision", 1.8, 2.8),
    WeakParameter(
        "ed.clinicians_by_hour", "E6", "ED clinicians on duty each hour (estimate)", relative=0.1
    ),
    WeakParameter(
        "pressure.outlying.los_multiplier",
        "O1",
        "outliers' stay against their own ward's (sign unsettled: pressure.md O1, O3, O6)",
        0.9,
        1.2,
    ),
    WeakParameter("sdec.chairs", "S1", "SDEC chairs (estimate)", 20, 40),
    WeakParameter("afu.stay_hours.median", "S5", "AFU stay (one audit abstract)", 20, 34),
    WeakParameter("afu.discharge_share.frail", "S5", "frail patients home from AFU", 0.35, 0.55),
    WeakParameter(
        "wards.care_of_elderly.los_days.frail.median",
        "L3",
        "care-of-elderly stay, frail (n=75 study)",
        relative=0.15,
    ),
    WeakParameter(
        "wards.general_medicine.los_days.frail.median",
        "L3",
        "general medicine stay, frail (n=75 study)",
        relative=0.15,
    ),
    WeakParameter(
        "discharge.weekend_discharge_factor", "D6", "weekend discharges on the day", 0.3, 0.7
    ),
    WeakParameter(
        "community.p1.capacity", "D7", "P1 places (calibrated to NCTR, not counted)", 250, 330
    ),
    WeakParameter(
        "community.virtual_ward.duration_days.median", "U3", "virtual-ward stay (estimate)", 3, 7
    ),
    WeakParameter(
        "community.virtual_ward.step_down_days_saved", "U6", "ward days saved by step-down", 1, 3
    ),
)
"""One-at-a-time sensitivity inputs: the baseline's L-confidence values (parameters.md ids)."""


@dataclasses.dataclass(frozen=True)
class Variant:
    """A scenario with one weak-evidence setting at its low or high value."""

    parameter: WeakParameter
    side: Literal["low", "high"]
    value: Any
    scenario: Scenario

    @property
    def label(self) -> str:
        return f"{self.parameter.key} {self.side}"


def sensitivity_variants(scenario: Scenario, keys: Sequence[str] | None = None) -> list[Variant]:
    """Two variants (low, high) per parameter of ``keys`` (default: all of `WEAK_EVIDENCE`).

    A key that is not in `WEAK_EVIDENCE`, or that the scenario does not have (a scenario with no
    ``ed.crowding``), is an error that names the key and the keys that can be used.
    """
    known = {p.key: p for p in WEAK_EVIDENCE}
    chosen = list(known) if keys is None else list(keys)
    unknown = [k for k in chosen if k not in known]
    if unknown:
        raise ScenarioError(
            "--params",
            ", ".join(unknown),
            "not in the weak-evidence list; use one or more of " + ", ".join(known),
        )
    source = f"scenario {scenario.name!r}"
    variants = []
    for key in chosen:
        parameter = known[key]
        current = _value_at(scenario, key, source)
        for side, value in zip(("low", "high"), parameter.values(current), strict=True):
            changed = apply_changes(scenario, {key: value})
            name = f"{key} = {_show(value, parameter, side)}"
            changed = changed.model_copy(update={"name": name})
            variants.append(Variant(parameter, side, value, changed))  # type: ignore[arg-type]
    return variants


_PART: Final = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _value_at(scenario: Scenario, key: str, source: str) -> Any:
    """The value at a dotted key path (``population.places[1].demand_multiplier``)."""
    node: Any = scenario.model_dump(by_alias=True)
    for name, index in _PART.findall(key):
        try:
            node = node[int(index)] if index else node[name]
        except (KeyError, IndexError, TypeError):
            node = None
        if node is None:
            raise ScenarioError(
                source, key, "is not set in this scenario, so it cannot be varied; leave it out"
            )
    return node


def _show(value: Any, parameter: WeakParameter, side: str) -> str:
    if parameter.relative is not None:
        factor = 1.0 - parameter.relative if side == "low" else 1.0 + parameter.relative
        if isinstance(value, list):
            return f"x{factor:g}"
        return f"{value:.4g} (x{factor:g})"
    return f"{value:g}"
