"""A warm-start patient carries the stay they began before time 0: the log's
``meta["warm_start"]`` says how long each had already been in their unit and in hospital, and
the length of stay counts it (issue 16: one truth at any horizon)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from flowsim.analysis import compute_kpis
from flowsim.analysis.warmup import snapshot
from flowsim.model.build import simulate
from flowsim.model.warm_start import ELAPSED_FIELDS
from flowsim.scenario import apply_changes
from helpers.model_helpers import small_scenario

CENSUS_DAY = 120


@pytest.fixture(scope="module")
def runs() -> dict[str, object]:
    """A run from empty to day 120, its census, and a run warm-started from it on the census's
    date (7 days' settling, 21 measured), as the app runs one."""
    cold_scenario = small_scenario(horizon_days=CENSUS_DAY, warm_up_days=0)
    cold = simulate(cold_scenario, 0)
    shot = snapshot(cold)
    start = cold_scenario.run.start_date + dt.timedelta(days=CENSUS_DAY)
    warm_scenario = apply_changes(
        cold_scenario,
        {
            "warm_start": shot.warm_start,
            "run.start_date": start.isoformat(),
            "run.warm_up_days": 7,
            "run.horizon_days": 21,
        },
    )
    return {"cold": cold, "shot": shot, "warm": simulate(warm_scenario, 0)}


def test_every_placed_patient_is_recorded_with_the_time_already_spent(runs) -> None:  # type: ignore[no-untyped-def]
    shot, warm = runs["shot"], runs["warm"]
    placed = warm.meta["warm_start"]
    assert set(placed) == set(ELAPSED_FIELDS)
    assert len(placed["patient"]) == sum(shot.occupied.values())
    for unit, n in shot.occupied.items():
        hours = np.array(
            [h for u, h in zip(placed["unit"], placed["elapsed_hours"], strict=True) if u == unit]
        )
        assert len(hours) == n, unit
        # Drawn from the census's own elapsed days.
        census_hours = 24.0 * np.asarray(
            shot.warm_start["wards"][unit[5:]]["elapsed_days"]["values"]
            if unit.startswith("ward:")
            else shot.warm_start[unit]["elapsed_days"]["values"]
        )
        assert np.isin(np.round(hours, 6), np.round(census_hours, 6)).all(), unit
    spell = np.array(placed["spell_elapsed_hours"])
    unit_hours = np.array(placed["elapsed_hours"])
    in_hospital = np.array([u in ("amu", "afu") or u.startswith("ward:") for u in placed["unit"]])
    assert (spell[~in_hospital] == 0).all()
    assert (spell[in_hospital] >= unit_hours[in_hospital]).all()
    # Every placed patient arrives at time 0 and holds a place there.
    ids = set(placed["patient"])
    ev = warm.event_arrays()
    assert ids <= set(ev["patient"][ev["time"] == 0.0].tolist())


def test_los_of_a_warm_run_counts_stays_begun_before_it(runs) -> None:  # type: ignore[no-untyped-def]
    """The warm run's LOS is near the run from empty's LOS over its settled second half;
    counted from time 0 (the record dropped), the census patients' stays look short."""
    cold, warm = runs["cold"], runs["warm"]
    cold.warm_up_hours = 60 * 24.0  # measure the run from empty over days 60-120
    try:
        settled = compute_kpis(cold).set_index("kpi")["value"]["los_mean"]
    finally:
        cold.warm_up_hours = 0.0
    carried = compute_kpis(warm).set_index("kpi")["value"]["los_mean"]
    placed = warm.meta.pop("warm_start")
    try:
        from_zero = compute_kpis(warm).set_index("kpi")["value"]["los_mean"]
    finally:
        warm.meta["warm_start"] = placed
    assert from_zero < carried
    assert abs(carried - settled) < abs(from_zero - settled)
    assert carried == pytest.approx(settled, rel=0.15)


def test_a_census_may_hold_escalation_beds_but_no_more() -> None:
    from flowsim.errors import ScenarioError
    from flowsim.scenario.units import warm_start_limit

    s = small_scenario(horizon_days=2, warm_up_days=0)
    ward = next(iter(s.wards))
    limit = warm_start_limit(s, f"ward:{ward}")
    assert limit >= s.wards[ward].beds + s.wards[ward].escalation.beds
    apply_changes(s, {"warm_start": {"wards": {ward: {"occupied": limit}}}})
    with pytest.raises(ScenarioError, match="more than the"):
        apply_changes(s, {"warm_start": {"wards": {ward: {"occupied": limit + 1}}}})
