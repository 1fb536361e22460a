"""Variants of a scenario: the scenario plus a few changes, each named for people.

Two kinds are run against their base on common random numbers: a **capacity step** (``+k`` places
at one unit, for "what does one more buy?") and a **sensitivity variant** (one weak-evidence
input at its low or high value, `flowsim.scenario.weak_evidence`). Both are pure data: the
changes are dotted scenario keys applied by `apply_changes`, so the variant can be diffed,
written out and run like any scenario.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flowsim.scenario.load import apply_changes
from flowsim.scenario.schema import Scenario
from flowsim.scenario.units import catalogue, setting
from flowsim.scenario.weak_evidence import Variant, sensitivity_variants

__all__ = [
    "CapacityStep",
    "Variant",
    "capacity_steps",
    "sensitivity_variants",
    "step_name",
    "step_scenarios",
]

_STEP_LAST = ("ucr",)
"""Stepped after the hospital and community units, as the value table always listed it."""


@dataclass(frozen=True)
class CapacityStep:
    """One capacity to increase: ``name`` (the unit, as the resources table calls it), a label
    for people (one place: "AMU bed"), the current value, the step ``k`` and the scenario
    changes that add it."""

    name: str
    label: str
    current: float
    k: int
    changes: Mapping[str, Any]


def capacity_steps(
    scenario: Scenario, step: float = 0.05, only: Iterable[str] | None = None
) -> list[CapacityStep]:
    """+k places at every unit the scenario gives places (k = ``step`` of them, at least 1), each
    as the scenario changes that add them, in pathway order. A rota by hour (ED clinicians)
    steps every hour by k of its mean. ``only`` keeps the named units."""
    if not step > 0:
        raise ValueError(f"step must be a positive share of each capacity (e.g. 0.05), got {step}")

    def k_of(value: float) -> int:
        return max(1, round(step * value))

    units = [u for u in catalogue(scenario) if u.capacity_key is not None]
    units.sort(key=lambda u: u.name in _STEP_LAST)  # stable: pathway order otherwise
    out: list[CapacityStep] = []
    for unit in units:
        key = unit.capacity_key
        assert key is not None
        value = setting(scenario, key)
        if isinstance(value, list | tuple):
            if max(value, default=0) <= 0:
                continue
            mean = sum(value) / len(value)
            k = k_of(mean)
            out.append(
                CapacityStep(unit.name, unit.spec.place, mean, k, {key: [v + k for v in value]})
            )
        elif value is not None and value > 0:
            k = k_of(value)
            out.append(CapacityStep(unit.name, unit.spec.place, value, k, {key: value + k}))
    if only is not None:
        wanted = list(only)
        known = {c.name for c in out}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise ValueError(
                f"unknown capacity {unknown}: choose from {sorted(known)} "
                "(a capacity of 0 in the scenario cannot be stepped)"
            )
        out = [c for c in out if c.name in wanted]
    return out


def step_name(st: CapacityStep) -> str:
    """The variant's scenario name: ``+k <label>`` (``+6 AMU bed``)."""
    return f"+{st.k} {st.label}"


def step_scenarios(scenario: Scenario, steps: Sequence[CapacityStep]) -> list[Scenario]:
    """The scenario with each step applied in turn, named ``+k <label>``."""
    return [
        apply_changes(scenario, dict(st.changes)).model_copy(update={"name": step_name(st)})
        for st in steps
    ]
