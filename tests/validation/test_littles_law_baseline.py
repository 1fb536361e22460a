"""Little's law, statistically, on every unit of the (small, short-horizon) baseline.

``tests/model/test_model_littles_law.py`` checks the identity (over any window, occupancy equals the
stays overlapping it, clipped) and a tolerance on one long flat-demand run. This is the law as a
statement about expectations: in a (periodically) stationary system, the mean number present
``L`` equals the arrival rate ``λ`` times the mean stay ``W``. Per replication and per unit:

- ``L_r``: time-weighted occupancy over a window of whole weeks;
- ``λ_r·W_r``: stays begun in the window, per hour, times their mean length, each followed after
  the window to its end (the run goes on for 90 days; the few still open then count to there).

The two differ only by what straddles the window's edges (stays begun before it and still going,
minus stays begun in it and going on after it), which averages zero in a stationary system. So
the CI over replications of ``(λ_r·W_r - L_r) / mean L`` must hold 0, for every unit.

The system is the baseline at a tenth of its size (`model_helpers.small_scenario`) with its hourly
and weekday demand profile, but the monthly profile flattened and no seasons (monthly multipliers
of admissions and stays): with them, demand repeats every week,
and a window of whole weeks after a long warm-up (120 days: the wards and community services fill
in about three months) is a whole number of periods. The intervals are Bonferroni-adjusted over the
units, so they hold together with 95% confidence.
"""

from __future__ import annotations

import numpy as np

from flowsim.analysis import EventFrame
from flowsim.model.build import simulate
from flowsim.scenario import Scenario
from helpers.model_helpers import baseline, small_scenario
from validation.helpers import SEED, Check, assert_checks, ci_check

REPLICATIONS = 30
"""Not 10 (as first written): the per-replication statistic is skewed for the short-stay units
(AMU: mostly about -0.5%, with rare congestion episodes giving +4% on one replication of seed 2),
and with 10 replications the t-interval undercovers: seed 1 failed the AMU check at 99.9% with
every replication between -1.2% and -0.1%. With 30 it passes (-0.18%, 99.9% -1.0% to +0.6%)."""
WARM_UP_DAYS, WINDOW_DAYS, FOLLOW_DAYS = 120, 56, 90
EVERY_UNIT = {
    "ucr",
    "ed_cubicle",
    "ed_clinician",
    "corridor",
    "sdec",
    "amu",
    "afu",
    "ward:general_medicine",
    "ward:care_of_elderly",
    "ward:surgery",
    "p1",
    "p2",
    "p3",
    "virtual_ward",
}
"""Every unit the baseline uses (its front-door frailty team is off)."""


def weekly_baseline() -> Scenario:
    profile = baseline().demand_profile.model_dump()
    profile["monthly"] = [1.0] * 12
    return small_scenario(
        {"demand_profile": profile, "seasons": None},
        horizon_days=WINDOW_DAYS + FOLLOW_DAYS,
        warm_up_days=WARM_UP_DAYS,
    )


def checks(seed: int = SEED, replications: int = REPLICATIONS) -> list[Check]:
    s = weekly_baseline()
    occupancy: dict[str, list[float]] = {}
    lam_w: dict[str, list[float]] = {}
    for r in range(replications):
        log = simulate(s, r, seed=seed)
        stays = EventFrame(log).stays
        a = log.warm_up_hours
        b = a + WINDOW_DAYS * 24.0
        assert set(stays["unit"].astype(str)) == EVERY_UNIT
        for unit, group in stays.groupby("unit", observed=True):
            start = group["start"].to_numpy()
            end = group["end"].fillna(log.end_hours).to_numpy()
            held = np.clip(end, a, b) - np.clip(start, a, b)
            begun = (start >= a) & (start < b)
            occupancy.setdefault(str(unit), []).append(float(held.sum()) / (b - a))
            lam_w.setdefault(str(unit), []).append(
                float(np.sum(end[begun] - start[begun])) / (b - a)
            )

    confidence = 1 - 0.05 / len(EVERY_UNIT)
    found = []
    for unit in sorted(EVERY_UNIT):
        L, lw = np.asarray(occupancy[unit]), np.asarray(lam_w[unit])
        found.append(
            ci_check(
                f"Little's law, {unit}: (λW - L) / L",
                (lw - L) / L.mean(),
                0.0,
                confidence,
            )
        )
    return found


def test_littles_law_on_every_unit_of_the_baseline() -> None:
    assert_checks(checks())
