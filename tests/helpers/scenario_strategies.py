"""Hypothesis strategies for small, valid scenarios, written as the plain data of a scenario file.

`scenario_data()` draws a whole scenario from scratch (not a scaled baseline), so every setting
varies: a population of one or two places with a few segments, demand profiles with quiet hours,
capacities from 0 (where the schema allows it) to a handful, every distribution type with small
means in the unit of its key, probability splits that add up to 1, opening hours and discharge
windows, and the optional levers (escalation beds, front-door frailty, ED crowding rules,
corridor boarding, the maximum handover time) on or off. Sizes are chosen so that a run of a
few days has tens to a few hundred patients and takes a fraction of a second.

The data go through `scenario_from_dict`, so a draw the schema refuses is a bug in the strategy
(or a schema stricter than it says) and fails loudly rather than being filtered away.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from hypothesis import strategies as st

from flowsim.scenario import Scenario, scenario_from_dict
from flowsim.scenario.distributions import DIST_NAMES
from flowsim.scenario.schema import AGE_BANDS, DISPOSITIONS, FRAILTY_BANDS, PATHWAYS, ROUTES

Data = dict[str, Any]
BANDS = list(FRAILTY_BANDS)
WARD_NAMES = ["general_medicine", "care_of_elderly", "surgery"]


@functools.cache
def _float(low: float, high: float) -> st.SearchStrategy[float]:
    """A number in [low, high], rounded to 3 decimals so a failing example reads like a file."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 3))


@functools.cache
def positive(low: float, high: float) -> st.SearchStrategy[float]:
    return _float(low, high).filter(lambda x: x > 0)


shares = _float(0.0, 1.0)
rate = positive(0.1, 4)
"""Arrivals per person-year."""


@functools.cache
def capacity(high: int) -> st.SearchStrategy[int]:
    """1 to ``high`` places, or now and then none (which the schema allows everywhere)."""
    return st.sampled_from([*range(1, high + 1), 0])


@functools.cache
def distribution(low: float, high: float) -> st.SearchStrategy[Data]:
    """Any distribution type with a mean of roughly ``low`` to ``high`` (in the key's unit)."""
    return _distribution(low, high)


@st.composite
def _distribution(draw: st.DrawFn, low: float, high: float) -> Data:
    m = draw(positive(low, high))
    kind = draw(st.sampled_from(DIST_NAMES))
    if kind == "fixed":
        return {"dist": "fixed", "value": m}
    if kind == "exponential":
        return {"dist": "exponential", "mean": m}
    if kind == "lognormal":
        if draw(st.booleans()):
            return {"dist": "lognormal", "median": m, "sigma": draw(positive(0.05, 1.2))}
        return {"dist": "lognormal", "mean": m, "sd": round(m * draw(positive(0.1, 1.5)), 4)}
    if kind == "gamma":
        return {"dist": "gamma", "mean": m, "cv": draw(positive(0.1, 2.0))}
    if kind == "triangular":
        lo, hi = sorted(draw(st.lists(_float(0, 2 * m), min_size=2, max_size=2)))
        hi = max(hi, lo + 0.01)
        mode = min(max(draw(_float(lo, hi)), lo), hi)
        return {"dist": "triangular", "low": lo, "mode": mode, "high": hi}
    if kind == "uniform":
        lo = draw(_float(0, m))
        return {"dist": "uniform", "low": lo, "high": round(lo + draw(positive(0.01, 2 * m)), 3)}
    values = draw(st.lists(_float(0, 2 * m), min_size=1, max_size=5))
    spec: Data = {"dist": "empirical", "values": values}
    if draw(st.booleans()):
        weights = draw(st.lists(_float(0, 1), min_size=len(values), max_size=len(values)))
        spec["weights"] = weights if sum(weights) > 0 else [1.0] * len(values)
    return spec


@functools.cache
def split(keys: tuple[str, ...]) -> st.SearchStrategy[dict[str, float]]:
    """Shares over some of ``keys`` that add up to 1 (within the schema's 1e-6)."""
    return _split(keys)


@st.composite
def _split(draw: st.DrawFn, keys: tuple[str, ...]) -> dict[str, float]:
    chosen = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=len(keys), unique=True))
    weights = draw(st.lists(_float(0, 1), min_size=len(chosen), max_size=len(chosen)))
    if sum(weights) <= 0:
        weights = [1.0] + [0.0] * (len(chosen) - 1)
    total = sum(weights)
    return {k: w / total for k, w in zip(chosen, weights, strict=True)}


@functools.cache
def by_frailty(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Data]:
    return st.fixed_dictionaries({band: strategy for band in BANDS})


@functools.cache
def bands() -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(BANDS), max_size=3, unique=True)


@st.composite
def hours_window(draw: st.DrawFn) -> tuple[float, float]:
    """Opening (or discharge) hours: start before end, both within the day."""
    start = draw(_float(0, 23))
    return start, round(draw(_float(start + 0.5, 24)), 3)


@st.composite
def escalation(draw: st.DrawFn) -> Data:
    if not draw(st.booleans()):
        return {"beds": 0}
    open_above = draw(_float(0.3, 1.0))
    return {
        "beds": draw(st.integers(1, 3)),
        "open_above_occupancy": open_above,
        "open_when_waiting": draw(st.integers(0, 3)),
        "open_after_hours": draw(_float(0, 6)),
        "close_below_occupancy": draw(_float(0, open_above)),
    }


@st.composite
def profile(draw: st.DrawFn) -> Data:
    def multipliers(n: int) -> st.SearchStrategy[list[float]]:
        flat = st.just([1.0] * n)
        varied = st.lists(_float(0, 3), min_size=n, max_size=n).filter(lambda v: sum(v) > 0)
        return st.one_of(flat, varied)

    return {
        "hourly": draw(multipliers(24)),
        "weekday": draw(multipliers(7)),
        "monthly": draw(multipliers(12)),
        "growth": draw(_float(0.5, 1.5)),
    }


@st.composite
def population(draw: st.DrawFn) -> Data:
    """One or two places of up to four segments: about 0-100 arrivals a day in all."""
    places = []
    for i in range(draw(st.integers(1, 2))):
        segments = []
        for _ in range(draw(st.integers(1, 4))):
            no_route = draw(st.sampled_from([None, *ROUTES]))  # a route nobody uses, at times
            segments.append(
                {
                    "age_band": draw(st.sampled_from(AGE_BANDS)),
                    "frailty": draw(st.sampled_from(BANDS)),
                    "people": draw(st.sampled_from([*range(100, 2001, 100), 0])),
                    **{
                        f"{route}_per_person_year": 0.0 if route == no_route else draw(rate)
                        for route in ROUTES
                    },
                }
            )
        places.append(
            {
                "name": f"place {i}",
                "segments": segments,
                "demand_multiplier": draw(_float(0.2, 1.5)),
            }
        )
    data: Data = {"places": places}
    if draw(st.booleans()):
        data["acuity_weights"] = {
            route: draw(st.lists(_float(0, 1), min_size=5, max_size=5).filter(lambda w: sum(w) > 0))
            for route in ROUTES
        }
    return data


@st.composite
def scenario_data(draw: st.DrawFn, *, max_horizon_days: float = 4.0) -> Data:
    """The plain data of a small valid scenario (what a YAML file would hold)."""
    wards = draw(st.lists(st.sampled_from(WARD_NAMES), min_size=1, max_size=3, unique=True))
    sdec_open, sdec_close = draw(hours_window())
    window_start, window_end = draw(hours_window())
    front_door = None
    if draw(st.booleans()):
        front_door = {
            "eligible_frailty": draw(bands()),
            "assessors": draw(capacity(2)),
            "assessment_hours": draw(distribution(0.1, 2)),
            "admission_avoided_share": draw(shares),
            "home_with_ucr_share": draw(shares),
        }
    crowding = None
    if draw(st.booleans()):
        crowding = {
            "boarding_threshold": draw(st.integers(0, 4)),
            "admission_avoided_share": draw(shares),
        }
    pathways = ["P1", "P2", "P3"]
    return {
        "name": "generated",
        "run": {
            "horizon_days": draw(positive(1, max_horizon_days)),
            "warm_up_days": draw(_float(0, 1)),
            "seed": draw(st.integers(0, 2**32 - 1)),
            "replications": 1,
            "start_date": draw(st.dates(dt.date(2024, 1, 1), dt.date(2026, 12, 31))),
        },
        "population": draw(population()),
        "demand_profile": draw(profile()),
        "ucr": {
            "teams": draw(capacity(3)),
            "eligible_frailty": draw(bands()),
            "eligible_min_acuity": draw(st.integers(1, 5)),
            "eligible_share": draw(shares),
            "response_hours": draw(distribution(0.2, 3)),
            "kept_at_home_share": draw(shares),
            "virtual_ward_step_up_share": draw(shares),
        },
        "ed": {
            "cubicles": draw(capacity(6)),
            "clinicians_by_hour": draw(
                st.lists(st.sampled_from([1, 2, 3, 0]), min_size=24, max_size=24)
            ),
            "handover_minutes": draw(distribution(1, 30)),
            "max_handover_minutes": draw(st.none() | _float(0, 60)),
            "corridor_boarding_after_hours": draw(st.none() | positive(0.1, 6)),
            "triage_minutes": draw(distribution(1, 20)),
            "assessment_minutes": draw(distribution(5, 40)),
            "treatment_hours": draw(distribution(0.2, 4)),
            "disposition": draw(by_frailty(split(DISPOSITIONS))),
            "front_door_frailty": front_door,
            "crowding": crowding,
        },
        "sdec": {
            "chairs": draw(capacity(4)),
            "open_hour": sdec_open,
            "close_hour": sdec_close,
            "open_weekends": draw(st.booleans()),
            "stay_hours": draw(distribution(0.5, 8)),
            "admit_share": draw(by_frailty(shares)),
            "gp_direct_share": draw(shares),
        },
        "amu": {
            "beds": draw(capacity(5)),
            "stay_hours": draw(distribution(1, 24)),
            "discharge_share": draw(by_frailty(shares)),
            "turnaround_hours": draw(_float(0, 1)),
            "escalation": draw(escalation()),
        },
        "afu": {
            "beds": draw(capacity(4)),
            "eligible_frailty": draw(bands()),
            "min_age_band": draw(st.sampled_from(AGE_BANDS)),
            "stay_hours": draw(distribution(1, 30)),
            "max_stay_hours": draw(positive(1, 72)),
            "discharge_share": draw(by_frailty(shares)),
            "divert_to_amu_when_full": draw(st.booleans()),
            "turnaround_hours": draw(_float(0, 1)),
            "escalation": draw(escalation()),
        },
        "wards": {
            name: {
                "beds": draw(capacity(8)),
                "los_days": draw(by_frailty(distribution(0.05, 3))),
                "death_probability": draw(by_frailty(_float(0, 0.3))),
                "turnaround_hours": draw(_float(0, 2)),
                "escalation": draw(escalation()),
            }
            for name in wards
        },
        "ward_routing": draw(by_frailty(split(tuple(wards)))),
        "discharge": {
            "pathway": draw(by_frailty(split(PATHWAYS))),
            "window_start_hour": window_start,
            "window_end_hour": window_end,
            "weekend_discharge_factor": draw(shares),
            "p0_delay_hours": draw(distribution(0.1, 6)),
            "referral_days": {
                p: draw(distribution(0.05, 2))
                for p in draw(st.lists(st.sampled_from(pathways), unique=True))
            },
        },
        "community": {
            **{
                p.lower(): {
                    "capacity": draw(capacity(4)),
                    "duration_days": draw(distribution(0.1, 4)),
                }
                for p in pathways
            },
            "virtual_ward": {
                "capacity": draw(capacity(3)),
                "duration_days": draw(distribution(0.1, 3)),
                "step_down_share": draw(by_frailty(shares)),
                "step_down_days_saved": draw(positive(0.1, 3)),
                "admission_share": draw(_float(0, 0.5)),
            },
            "readmission": {
                "within_days": draw(positive(0.5, 10)),
                "probability": {
                    key: draw(by_frailty(_float(0, 0.3)))
                    for key in draw(
                        st.lists(st.sampled_from([*PATHWAYS, "home_from_ed"]), unique=True)
                    )
                },
            },
        },
    }


def scenarios(**kwargs: Any) -> st.SearchStrategy[Scenario]:
    """`scenario_data` validated into a `Scenario`."""
    return scenario_data(**kwargs).map(scenario_from_dict)
