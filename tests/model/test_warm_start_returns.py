"""A census carries the returns its run owes and a comparison samples several censuses (issue
16, item 1: the app's default baseline had two points fewer 12-hour waits than the year,
because a warm start lost the readmissions of everyone sent home in the month before it, and
its intervals came from one November)."""

from __future__ import annotations

import numpy as np
import pytest

from flowsim.analysis import EventFrame
from flowsim.analysis.warmup import returns_after, snapshot
from flowsim.app.census import Census, with_warm_start
from flowsim.errors import ScenarioError
from flowsim.log import Kind
from flowsim.model.build import simulate
from flowsim.scenario import apply_changes
from helpers.model_helpers import small_scenario

DAY = 24.0


@pytest.fixture(scope="module")
def cold_log():  # type: ignore[no-untyped-def]
    return simulate(small_scenario(horizon_days=90, warm_up_days=0), 0)


def _arrivals(log) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.array([t for t, _p, k, _c in log.events if k == Kind.ARRIVE])


def test_a_census_lists_who_left_before_it_and_came_back_after(cold_log) -> None:  # type: ignore[no-untyped-def]
    at = 50 * DAY
    ef = EventFrame(cold_log)
    pts = ef.patients.set_index("patient")
    owed = returns_after(ef, at)
    assert owed, "a run of 50 days owes some returns"
    listed = sorted(h for g in owed for h in g["after_hours"])
    back = pts[(pts["readmission_of"] >= 0) & (pts["arrival"] > at)]
    left = back["readmission_of"].map(pts["depart"])
    expected = sorted(np.round(back.loc[left <= at, "arrival"] - at, 4))
    assert listed == pytest.approx(expected)
    # every one within the readmission window of the census, by their own stream
    assert max(listed) <= 30 * DAY + 1e-6
    for g in owed:
        assert {g["place"], g["age_band"], g["frailty"], g["route"]} <= set(
            map(str, ef.patients[["place", "age_band", "frailty", "route"]].stack().unique())
        )
    assert snapshot(cold_log, at, escalation=True).warm_start["returns"] == owed


def test_a_warm_run_brings_the_returns_back_at_their_times(cold_log) -> None:  # type: ignore[no-untyped-def]
    cold = small_scenario(horizon_days=10, warm_up_days=0)
    shot = snapshot(cold_log, 50 * DAY, escalation=True).warm_start
    owed = sorted(h for g in shot["returns"] for h in g["after_hours"] if h < 10 * DAY)
    with_returns = simulate(apply_changes(cold, {"warm_start": shot}), 0)
    without = simulate(apply_changes(cold, {"warm_start": {**shot, "returns": []}}), 0)
    extra = _arrivals(with_returns)
    plain = _arrivals(without)
    # the same arrivals and census, and the census's returns on top at their own times
    # (and the readmissions those returns bring in turn)
    assert len(extra) >= len(plain) + len(owed)
    times = np.sort(extra[extra > 0.0])
    for h in owed:
        assert np.isclose(times, h, atol=1e-6).any(), f"no arrival at {h} h"
    ef = EventFrame(with_returns)
    ids = ef.patients[
        np.isclose(ef.patients["arrival"].to_numpy()[:, None], owed, atol=1e-6).any(1)
    ]
    assert (ids["readmission_of"] == -1).all()  # their stay before is not in this run


def test_returns_leave_every_other_stream_alone(cold_log) -> None:  # type: ignore[no-untyped-def]
    cold = small_scenario(horizon_days=3, warm_up_days=0)
    shot = snapshot(cold_log, 50 * DAY, escalation=True).warm_start
    late = [{**g, "after_hours": [h + 3 * DAY for h in g["after_hours"]]} for g in shot["returns"]]
    a = simulate(apply_changes(cold, {"warm_start": {**shot, "returns": late}}), 0)
    b = simulate(apply_changes(cold, {"warm_start": {**shot, "returns": []}}), 0)
    assert a.events == b.events  # returns after the end change nothing before it


def test_each_replication_starts_from_its_own_census() -> None:
    cold = small_scenario(horizon_days=2, warm_up_days=0)
    censuses = [{"amu": {"occupied": n}} for n in (3, 7)]
    warm = apply_changes(cold, {"warm_start": censuses})
    for replication, n in [(0, 3), (1, 7), (2, 3)]:
        log = simulate(warm, replication)
        at_zero = [p for t, p, k, _c in log.events if t == 0.0 and k == Kind.ARRIVE]
        alone = simulate(
            apply_changes(cold, {"warm_start": censuses[replication % 2]}), replication
        )
        assert len(at_zero) == n
        assert log.events == alone.events


def test_with_warm_start_keeps_one_census_per_replication() -> None:
    cold = small_scenario(horizon_days=2, warm_up_days=0)
    two = Census([{"amu": {"occupied": 3}}, {"amu": {"occupied": 7}}], 14.0, "2025-02-17")
    warmed = with_warm_start(cold, two)
    assert isinstance(warmed.warm_start, list)
    assert [w.amu.occupied for w in warmed.warm_start] == [3, 7]  # type: ignore[union-attr]
    one = with_warm_start(cold, Census([{"amu": {"occupied": 3}}], 14.0, "2025-02-17"))
    assert one.warm_start is not None and not isinstance(one.warm_start, list)


def test_census_errors_say_which_census_and_how_to_fix() -> None:
    cold = small_scenario(horizon_days=2, warm_up_days=0)
    with pytest.raises(ScenarioError, match=r"warm_start: an empty list"):
        apply_changes(cold, {"warm_start": []})
    back = {
        "place": "Atlantis",
        "age_band": "85+",
        "frailty": "frail",
        "route": "walk_in",
        "after_hours": [1.0],
    }
    with pytest.raises(ScenarioError, match=r"warm_start\[1\]\.returns\[0\]\.place: no place"):
        apply_changes(cold, {"warm_start": [{}, {"returns": [back]}]})
    with pytest.raises(ScenarioError, match=r"route: 'by_sea' is not a route"):
        apply_changes(cold, {"warm_start": {"returns": [{**back, "route": "by_sea"}]}})
