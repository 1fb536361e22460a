"""M/G/c/c (Erlang B): the model's loss systems, where whoever finds every place taken goes
elsewhere instead of queueing.

- **UCR** (the case the model was built around): a 999 call that finds no free urgent community
  response team is conveyed to ED (`flowsim.model.ucr`). Only eligible calls arrive (frail, triage
  category 3, ``eligible_share`` 1), every caller seen is kept at home with no virtual-ward step-up,
  so the teams are a pure loss system with exponential response times.
- **AFU** with ``divert_to_amu_when_full``: a frail older patient who finds no free acute-frailty
  bed goes to AMU instead (AMU has no beds here, so on to the ward). Lognormal stays.
- **SDEC** open around the clock: a patient who finds no free chair goes to AMU instead (and so to
  the ward). Fixed (deterministic) stays.

Erlang B depends on the stay only through its mean (insensitivity), so the three distributions
must all give ``B(c, a)`` with ``a = λ·E[S]``. A blocked patient is one who ``QUEUE``s where the
diverted go (ED for UCR, the ward otherwise). Every patient the model turns away must have found
all ``c`` places taken, and every patient it takes must have found one free: checked arrival by
arrival, so this is a loss system and not merely one with the right average. The carried load
(mean places in use) is ``a·(1 - B)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from flowsim.model.build import simulate
from flowsim.scenario import Scenario, scenario_from_dict
from helpers.model_helpers import time_average
from validation.helpers import (
    ARRIVE,
    END,
    QUEUE,
    SEED,
    START,
    WARD,
    Check,
    assert_checks,
    ci_check,
    erlang_b,
    isolated_system,
    level_at,
    per_band,
)

REPLICATIONS = 10
HORIZON_DAYS, WARM_UP_DAYS = 120, 2


@dataclass(frozen=True)
class LossCase:
    unit: str  # the unit whose places are lost
    diverted_to: str  # where a blocked patient queues instead
    places: int
    mean_stay_hours: float
    arrivals_per_hour: float
    stay: dict[str, Any]  # the stay distribution, in hours

    @property
    def offered(self) -> float:
        return self.arrivals_per_hour * self.mean_stay_hours


CASES = {
    "ucr": LossCase("ucr", "ed_cubicle", 4, 1.0, 3.0, {"dist": "exponential", "mean": 1.0}),
    "afu": LossCase("afu", WARD, 3, 2.0, 1.0, {"dist": "lognormal", "mean": 2.0, "sd": 1.5}),
    "sdec": LossCase("sdec", WARD, 2, 1.0, 1.5, {"dist": "fixed", "value": 1.0}),
}


def loss_scenario(case: LossCase) -> Scenario:
    lam = case.arrivals_per_hour
    common = {"horizon_days": HORIZON_DAYS, "warm_up_days": WARM_UP_DAYS}
    if case.unit == "ucr":
        data = isolated_system(
            "Erlang B: UCR", lam, route="ambulance", frailty="frail", disposition="home", **common
        )
        data["population"]["acuity_weights"]["ambulance"] = [0, 0, 1, 0, 0]
        data["ucr"] = {
            "teams": case.places,
            "eligible_frailty": ["frail"],
            "eligible_min_acuity": 3,
            "eligible_share": 1.0,
            "response_hours": case.stay,
            "kept_at_home_share": 1.0,
            "virtual_ward_step_up_share": 0.0,
        }
    elif case.unit == "afu":
        data = isolated_system(
            "Erlang B: AFU", lam, frailty="frail", age_band="85+", disposition="afu", **common
        )
        data["afu"].update(
            beds=case.places,
            eligible_frailty=["frail"],
            min_age_band="65-74",
            stay_hours=case.stay,
            max_stay_hours=1e6,
            discharge_share=per_band(1.0),
            divert_to_amu_when_full=True,
        )
    else:
        data = isolated_system("Erlang B: SDEC", lam, disposition="sdec", **common)
        data["sdec"].update(
            chairs=case.places,
            open_hour=0,
            close_hour=24,
            open_weekends=True,
            stay_hours=case.stay,
            admit_share=per_band(0.0),
        )
    return scenario_from_dict(data, f"Erlang B special case ({case.unit})")


def checks(name: str, seed: int = SEED, replications: int = REPLICATIONS) -> list[Check]:
    case = CASES[name]
    s = loss_scenario(case)
    blocked_share, carried = [], []
    for r in range(replications):
        log = simulate(s, r, seed=seed)
        ev = log.event_arrays()
        t, pid, kind, place = ev["time"], ev["patient"], ev["kind"], ev["place"]
        a, b = log.warm_up_hours, log.end_hours
        unit, diverted = log.places.index(case.unit), log.places.index(case.diverted_to)

        arrived = (kind == ARRIVE) & (t >= a)
        blocked = np.isin(pid[arrived], pid[(kind == QUEUE) & (place == diverted)])
        held = ((kind == START) | (kind == END)) & (place == unit)
        steps = np.where(kind[held] == START, 1.0, -1.0)
        # Places in use just before each arrival (no other event shares an arrival's time).
        busy = level_at(t[held], steps, np.nextafter(t[arrived], -np.inf))
        assert np.array_equal(blocked, busy == case.places), "not a loss system"
        assert busy.max() == case.places

        blocked_share.append(float(blocked.mean()))
        carried.append(time_average(t[held], steps, a, b))
    b_theory = erlang_b(case.places, case.offered)
    label = f"{case.unit} M/G/{case.places}/{case.places} a={case.offered:g}"
    return [
        ci_check(f"{label}: blocking probability (Erlang B)", blocked_share, b_theory),
        ci_check(f"{label}: carried load a(1-B)", carried, case.offered * (1 - b_theory)),
    ]


def test_erlang_b_formula() -> None:
    assert erlang_b(1, 1.0) == pytest.approx(0.5)  # M/M/1/1: a / (1 + a)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)  # (1/2) / (1 + 1 + 1/2)
    assert erlang_b(10, 5.0) == pytest.approx(0.018385, abs=1e-6)  # published tables


@pytest.mark.parametrize("name", list(CASES))
def test_loss_system_matches_erlang_b(name: str) -> None:
    assert_checks(checks(name))
