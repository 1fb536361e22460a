"""Small scenarios for model tests: the baseline scaled down, and event-log helpers.

Model tests run the real model on the real baseline structure, only smaller: a tenth of the
population with capacities scaled to match, over a short horizon. A test states what it changes
on top (``small_scenario({"community.p1.capacity": 5})``), so each scenario reads as "the
baseline, but ...".
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from flowsim.log import EventLog, Kind
from flowsim.model.build import simulate
from flowsim.scenario import Scenario, apply_changes, load_scenario

BASELINE = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.yaml"

ARRIVE, QUEUE, START, END, HANDOVER, OPTIMISED, DEPART, RESERVE = (int(k) for k in Kind)

FLAT_PROFILE = {"hourly": [1.0] * 24, "weekday": [1.0] * 7, "monthly": [1.0] * 12, "growth": 1.0}
"""Demand that is the same every hour of every day: a stationary arrival process."""


@functools.cache
def baseline() -> Scenario:
    return load_scenario(BASELINE)


def scaled(n: int, scale: float) -> int:
    """A capacity scaled down, never rounded away to nothing if it was there."""
    return 0 if n == 0 else max(1, round(n * scale))


CAPACITY_SLACK = 1.15
"""Capacities of a small system are scaled by 1.15 x its population scale: a tenth of the beds
absorbs variation worse than the whole (small pools queue more at the same occupancy), and with
1.15 the tenth-size system has about the baseline's ED 4-hour %, 12-hour % and handover delay."""


def small_scenario(
    changes: Mapping[str, Any] | None = None,
    *,
    scale: float = 0.1,
    capacity_scale: float | None = None,
    horizon_days: float = 60,
    warm_up_days: float = 30,
) -> Scenario:
    """The baseline with ``scale`` of its population and capacities, then ``changes`` applied.

    Every resident count is multiplied by ``scale``; every capacity (ED cubicles and escalation
    spaces, clinicians at each hour, SDEC chairs, AMU/AFU/ward beds and their escalation beds, UCR
    teams, community places) by ``capacity_scale`` (default ``CAPACITY_SLACK * scale``), rounded,
    keeping at least one of anything the baseline has. Thresholds that count patients (crowding,
    escalation triggers) scale with the population. Rates, shares and durations are unchanged, so
    the small system has the baseline's per-patient behaviour.
    """
    s = baseline()
    population_scale = scale
    scale = CAPACITY_SLACK * scale if capacity_scale is None else capacity_scale
    places = [
        place.model_copy(
            update={
                "segments": [
                    seg.model_copy(update={"people": round(seg.people * population_scale)})
                    for seg in place.segments
                ]
            }
        )
        for place in s.population.places
    ]
    base: dict[str, Any] = {
        "run.horizon_days": horizon_days,
        "run.warm_up_days": warm_up_days,
        "population.places": places,
        "ucr.teams": scaled(s.ucr.teams, scale),
        "ed.cubicles": scaled(s.ed.cubicles, scale),
        "ed.clinicians_by_hour": [scaled(c, scale) for c in s.ed.clinicians_by_hour],
        "ed.escalation.beds": scaled(s.ed.escalation.beds, scale),
        "sdec.chairs": scaled(s.sdec.chairs, scale),
        "amu.beds": scaled(s.amu.beds, scale),
        "amu.escalation.beds": scaled(s.amu.escalation.beds, scale),
        "afu.beds": scaled(s.afu.beds, scale),
        "afu.escalation.beds": scaled(s.afu.escalation.beds, scale),
        "community.p1.capacity": scaled(s.community.p1.capacity, scale),
        "community.p2.capacity": scaled(s.community.p2.capacity, scale),
        "community.p3.capacity": scaled(s.community.p3.capacity, scale),
        "community.virtual_ward.capacity": scaled(s.community.virtual_ward.capacity, scale),
    }
    if s.ed.crowding is not None and s.ed.crowding.is_old_form:
        threshold = s.ed.crowding.boarding_threshold
        base["ed.crowding.boarding_threshold"] = scaled(threshold, population_scale)
    if s.ed.corridor_spaces is not None:
        base["ed.corridor_spaces"] = scaled(s.ed.corridor_spaces, scale)
    base.update(_scaled_pressure(s, scale, population_scale))
    base["ed.escalation.open_when_waiting"] = scaled(
        s.ed.escalation.open_when_waiting, population_scale
    )
    base["amu.escalation.open_when_waiting"] = scaled(
        s.amu.escalation.open_when_waiting, population_scale
    )
    base["afu.escalation.open_when_waiting"] = scaled(
        s.afu.escalation.open_when_waiting, population_scale
    )
    if s.ed.front_door_frailty is not None:
        assessors = s.ed.front_door_frailty.assessors
        base["ed.front_door_frailty.assessors"] = scaled(assessors, scale)
    for name, ward in s.wards.items():
        base[f"wards.{name}.beds"] = scaled(ward.beds, scale)
        base[f"wards.{name}.escalation.beds"] = scaled(ward.escalation.beds, scale)
        base[f"wards.{name}.escalation.open_when_waiting"] = scaled(
            ward.escalation.open_when_waiting, population_scale
        )
    return apply_changes(apply_changes(s, base), dict(changes or {}))


def _scaled_pressure(s: Scenario, scale: float, population_scale: float) -> dict[str, Any]:
    """The baseline's pressure responses at the small system's size: patient-count triggers
    scale with the population, places and ring-fenced beds with the capacities."""
    pr = s.pressure
    if pr is None:
        return {}
    out: dict[str, Any] = {}
    if pr.opel is not None:
        for key in ("ed_boarding", "ed_queue"):
            levels = getattr(pr.opel, key)
            if levels is not None:
                out[f"pressure.opel.{key}"] = [scaled(n, population_scale) for n in levels]
    if pr.outlying is not None and pr.outlying.ring_fenced_beds:
        fenced = {w: scaled(n, scale) for w, n in pr.outlying.ring_fenced_beds.items()}
        out["pressure.outlying.ring_fenced_beds"] = fenced
    if pr.community_surge is not None:
        for name, sp in pr.community_surge.services():
            key = f"pressure.community_surge.{name}"
            opening = scaled(sp.open_when_waiting, population_scale)
            out[f"{key}.places"] = scaled(sp.places, scale)
            out[f"{key}.open_when_waiting"] = opening
            out[f"{key}.close_when_waiting"] = min(
                round(sp.close_when_waiting * population_scale), opening - 1
            )
    return out


_RUNS: OrderedDict[tuple[str, int, int | None], EventLog] = OrderedDict()
_KEEP_RUNS = 6


def run(scenario: Scenario, replication: int = 0, seed: int | None = None) -> EventLog:
    """`simulate`, remembered for a while: several tests look at the same few runs.

    The log is shared between callers, so treat it as read-only. Tests about determinism call
    `simulate` themselves.
    """
    key = (scenario.model_dump_json(), replication, seed)
    if key in _RUNS:
        _RUNS.move_to_end(key)
    else:
        _RUNS[key] = simulate(scenario, replication, seed=seed)
        while len(_RUNS) > _KEEP_RUNS:
            _RUNS.popitem(last=False)
    return _RUNS[key]


def arrival_rate_per_hour(s: Scenario) -> float:
    """Mean arrivals per hour from the population (every route), as the model computes them."""
    per_year = sum(
        seg.people
        * place.demand_multiplier
        * (
            seg.ambulance_per_person_year
            + seg.walk_in_per_person_year
            + seg.gp_referral_per_person_year
        )
        for place in s.population.places
        for seg in place.segments
    )
    return per_year * s.demand_profile.growth / (24 * 365.25)


# ---------------------------------------------------------------- reading a log


def code(log: EventLog, name: str) -> int:
    return log.places.index(name)


def held_and_waiting(log: EventLog, unit: str, t: float) -> tuple[int, int]:
    """(places held, patients waiting) at ``unit`` just before ``t``, from its QUEUE, START and
    END events (for a unit nobody leaves from its queue, as an escalation check counts them)."""
    u = code(log, unit)
    held = waiting = 0
    for when, _, kind, place in log.events:
        if when >= t:
            break
        if place != u:
            continue
        if kind == QUEUE:
            waiting += 1
        elif kind == START:
            waiting -= 1
            held += 1
        elif kind == END:
            held -= 1
    return held, waiting


def holding_intervals(log: EventLog, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """``(start, end)`` of every stay at ``unit``, pairing each END with the patient's open START
    there; a stay still open at the end of the run ends at ``log.end_hours``."""
    u = code(log, unit)
    open_at: dict[int, list[float]] = {}
    starts, ends = [], []
    for t, p, k, place in log.events:
        if place != u:
            continue
        if k == START:
            open_at.setdefault(p, []).append(t)
        elif k == END:
            starts.append(open_at[p].pop())
            ends.append(t)
    for still in open_at.values():
        starts.extend(still)
        ends.extend([log.end_hours] * len(still))
    return np.asarray(starts, dtype=float), np.asarray(ends, dtype=float)


def time_average(times: np.ndarray, deltas: np.ndarray, a: float, b: float) -> float:
    """Time-weighted mean over ``[a, b]`` of a count that is 0 at first and steps by ``deltas`` at
    ``times`` (ties in the given order)."""
    order = np.argsort(times, kind="stable")
    t, level = times[order], np.cumsum(deltas[order])
    held = np.diff(np.clip(np.append(t, b), a, b))
    return float(np.sum(level * held)) / (b - a)


def mean_ci(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of independent replications."""
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    half = float(stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return mean, mean - half, mean + half
