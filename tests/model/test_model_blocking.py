"""The blocking chain: short community capacity fills wards with delayed discharges, which keeps
admitted patients boarding in ED, which keeps ambulances waiting to hand over.

Scenarios are compared on common random numbers (same seed): the same patients arrive with the
same needs, so the difference is the effect of the change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flowsim.analysis import EventFrame, compute_kpis
from flowsim.log import EventLog
from flowsim.scenario import Scenario, apply_changes
from helpers.model_helpers import END, OPTIMISED, baseline, run, scaled, small_scenario

HORIZON_DAYS, WARM_UP_DAYS = 90, 60
"""Long enough for community places (stays of weeks) to fill and their queues to form."""
HUGE = 10_000


def delayed_bed_days(log: EventLog) -> float:
    """Bed-days between medically optimised (OPTIMISED) and leaving the ward (END), in the
    measured period; delays still running at the end count up to the end."""
    a, b = log.warm_up_hours, log.end_hours
    since: dict[tuple[int, int], float] = {}
    hours = 0.0
    for t, pid, kind, place in log.events:
        if kind == OPTIMISED:
            since[pid, place] = t
        elif kind == END and (pid, place) in since:
            start = since.pop((pid, place))
            hours += max(min(t, b) - max(start, a), 0.0)
    hours += sum(max(b - max(start, a), 0.0) for start in since.values())
    return hours / 24.0


def outcomes(log: EventLog) -> pd.Series:
    kpis = compute_kpis(log).set_index("kpi")["value"]
    kpis["delayed_bed_days"] = delayed_bed_days(log)
    amu = EventFrame(log).occupancy_steps("amu")
    kpis["occupied_amu"] = amu.mean(log.warm_up_hours, log.end_hours)
    days = (log.end_hours - log.warm_up_hours) / 24.0
    # The KPI table's delayed patients (time-weighted) are the same bed-days, per day.
    assert kpis["delayed_patients_mean"] * days == pytest.approx(kpis["delayed_bed_days"])
    return kpis


def with_community(s: Scenario, p1: int, p2: int, p3: int) -> Scenario:
    return apply_changes(
        s, {"community.p1.capacity": p1, "community.p2.capacity": p2, "community.p3.capacity": p3}
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_cutting_p1_capacity_blocks_beds_ed_and_ambulances(seed: int) -> None:
    base = small_scenario(horizon_days=HORIZON_DAYS, warm_up_days=WARM_UP_DAYS)
    cut = apply_changes(base, {"community.p1.capacity": round(0.2 * base.community.p1.capacity)})
    before, after = outcomes(run(base, seed=seed)), outcomes(run(cut, seed=seed))

    # Upstream from the cut, link by link.
    assert after["community_wait_mean_p1"] > max(2.0 * before["community_wait_mean_p1"], 1.0)
    assert after["delayed_bed_days"] > 2.0 * before["delayed_bed_days"]
    # AMU fills with patients who cannot move on (some wards may even empty behind it: the AMU
    # queue is first come, first served, so patients for a free ward wait behind the blocked).
    assert after["occupied_amu"] > before["occupied_amu"]
    assert after["ed_boarding_mean"] > 2.0 * before["ed_boarding_mean"]
    # Damped, not stopped, by the crowding rule (fewer admissions while ED is full of boarders).
    assert after["handover_mean"] > before["handover_mean"]
    assert after["ed_within_4h"] < before["ed_within_4h"]
    # Fewer beds turning over: fewer admissions, not more.
    assert after["admissions"] < before["admissions"]


def test_huge_community_capacity_removes_delayed_discharge_waits() -> None:
    """Against a system short of community places (7% of the baseline's for 10% of its people),
    unlimited places leave only the waits for assessment and for the discharge window: delayed
    bed-days fall, and so does ED boarding."""
    s = baseline().community
    short = small_scenario(horizon_days=HORIZON_DAYS, warm_up_days=WARM_UP_DAYS)
    short = with_community(
        short, scaled(s.p1.capacity, 0.07), scaled(s.p2.capacity, 0.07), scaled(s.p3.capacity, 0.07)
    )
    unlimited = with_community(short, HUGE, HUGE, HUGE)
    tight, loose = [], []
    for seed in (1, 2, 3):
        before, after = outcomes(run(short, seed=seed)), outcomes(run(unlimited, seed=seed))
        for unit in ("p1", "p2", "p3"):
            assert after[f"community_wait_mean_{unit}"] == 0.0
        assert after["delayed_bed_days"] < before["delayed_bed_days"], f"seed {seed}"
        tight.append(before[["delayed_bed_days", "ed_boarding_mean"]].to_numpy())
        loose.append(after[["delayed_bed_days", "ed_boarding_mean"]].to_numpy())
    (tight_delay, tight_boarding), (loose_delay, loose_boarding) = (
        np.mean(tight, 0),
        np.mean(loose, 0),
    )
    assert loose_delay < 0.75 * tight_delay
    assert loose_boarding < tight_boarding
