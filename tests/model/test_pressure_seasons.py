"""Seasons (issue 14, pressure.md S): monthly demand by route, admission share, length of stay
and beds lost, each shown acting and each neutral when absent or all ones.

Fates are drawn at arrival, so most checks look at the fate tables directly: a seasonal profile
must change only what it says, for the months it says, and the same patients' other draws not at
all (common random numbers).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
import yaml

from flowsim.errors import ScenarioError
from flowsim.model.arrivals import arrival_streams, arrival_times, seasonal_profile
from flowsim.model.build import simulate
from flowsim.model.calendar import Calendar
from flowsim.model.fate import draw_fate_table, seasonal_disposition, seasonal_fate
from flowsim.random import Streams
from flowsim.scenario import Scenario, apply_changes
from flowsim.scenario.schema import DISPOSITIONS
from flowsim.scenario.seasons import EXAMPLE
from helpers.model_helpers import END, START, small_scenario

ADMITTING = [DISPOSITIONS.index(d) for d in ("amu", "afu", "ward")]
HOME = DISPOSITIONS.index("home")
N = 20_000


def scenario(seasons: dict[str, Any] | None, **changes: Any) -> Scenario:
    """The small baseline without its own seasons (if it has any), then ``seasons``."""
    s = small_scenario({**changes, "seasons": None}, horizon_days=40, warm_up_days=10)
    return s if seasons is None else apply_changes(s, {"seasons": seasons})


def fates(s: Scenario, months: np.ndarray | None, band: str = "frail", route: str = "walk_in"):
    return draw_fate_table(s, Streams(3, 0), f"City/85+/{band}/{route}", band, route, N, months)


def months_of(month: int) -> np.ndarray:
    return np.full(N, month)


def column(table, name: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    rows = [table.fate(i) for i in range(len(table))]
    return np.array([getattr(f, name) for f in rows])


# ---------------------------------------------------------------- off is off


def test_seasons_absent_empty_or_all_ones_give_the_same_log() -> None:
    ones = [1.0] * 12
    neutral = {
        "attendance_multiplier": {"walk_in": ones, "ambulance": ones},
        "frailty_attendance_multiplier": {"frail": ones},
        "admission_multiplier": {"all": ones},
        "ward_los_multiplier": {"all": ones},
        "beds_closed_share": {"all": [0.0] * 12},
    }
    off = simulate(scenario(None), 0, seed=5)
    for seasons in ({}, neutral):
        on = simulate(scenario(seasons), 0, seed=5)
        assert on.events == off.events
        assert on.patients == off.patients
        assert on.capacity == off.capacity


# ---------------------------------------------------------------- admission share


def test_admission_multiplier_above_one_turns_only_home_goers_into_admissions() -> None:
    base, s = scenario(None), scenario({"admission_multiplier": {"all": [1.2] * 12}})
    before = column(fates(base, months_of(0)), "disposition")
    after = column(fates(s, months_of(0)), "disposition")
    changed = before != after
    assert changed.any()
    assert np.all(before[changed] == HOME)
    assert np.all(np.isin(after[changed], ADMITTING))
    disp = base.ed.disposition.get("frail")
    admitted = sum(disp[d] for d in ("amu", "afu", "ward"))
    share_before = np.isin(before, ADMITTING).mean()
    share_after = np.isin(after, ADMITTING).mean()
    assert share_before == pytest.approx(admitted, abs=0.01)
    assert share_after == pytest.approx(1.2 * admitted, abs=0.01)
    # the newly admitted go to amu/afu/ward in the usual proportions
    for d in ("amu", "afu", "ward"):
        i = DISPOSITIONS.index(d)
        expected = disp[d] / admitted
        assert np.mean(after[changed] == i) == pytest.approx(expected, abs=0.03)


def test_admission_multiplier_below_one_sends_only_would_be_admissions_home() -> None:
    base, s = scenario(None), scenario({"admission_multiplier": {"frail": [0.8] * 12}})
    before = column(fates(base, months_of(5)), "disposition")
    after = column(fates(s, months_of(5)), "disposition")
    changed = before != after
    assert np.all(np.isin(before[changed], ADMITTING)) and np.all(after[changed] == HOME)
    assert np.isin(after, ADMITTING).mean() == pytest.approx(
        0.8 * np.isin(before, ADMITTING).mean(), abs=0.01
    )
    # a band without its own profile (and no 'all') is untouched
    fit_before = column(fates(base, months_of(5), band="fit"), "disposition")
    assert np.array_equal(fit_before, column(fates(s, months_of(5), band="fit"), "disposition"))


def test_admission_multiplier_follows_the_arrival_month_and_moves_no_other_draw() -> None:
    winter = [1.15, 1.1] + [1.0] * 9 + [1.1]
    s = scenario({"admission_multiplier": {"all": winter}})
    months = np.arange(N) % 12
    base_t, season_t = fates(scenario(None), months), fates(s, months)
    before, after = column(base_t, "disposition"), column(season_t, "disposition")
    assert np.all(before[np.isin(months, range(2, 11))] == after[np.isin(months, range(2, 11))])
    assert (before[months == 0] != after[months == 0]).any()
    assert np.array_equal(base_t.floats[:, :-3], season_t.floats[:, :-3])  # all but new columns
    assert np.array_equal(base_t.ints[:, 1], season_t.ints[:, 1])  # cfs


def test_more_admissions_in_a_run_with_a_winter_multiplier() -> None:
    s = scenario({"admission_multiplier": {"all": [1.25] * 12}})
    off, on = simulate(scenario(None), 0, seed=2), simulate(s, 0, seed=2)

    def admitted(log) -> int:  # type: ignore[no-untyped-def]
        names = np.asarray(log.places)
        ev = log.event_arrays()
        starts = ev["patient"][(ev["kind"] == 2) & np.isin(names[ev["place"]], ["amu", "afu"])]
        return len(np.unique(starts))

    assert admitted(on) > 1.05 * admitted(off)


def test_too_large_an_admission_multiplier_names_the_band_month_and_limit() -> None:
    with pytest.raises(ScenarioError, match=r"admission_multiplier \(severe, Jan\).*at most"):
        scenario({"admission_multiplier": {"severe": [3.0] + [1.0] * 11}})


def test_readmissions_get_the_profile_of_the_month_they_arrive_in() -> None:
    s = scenario(
        {"admission_multiplier": {"all": [1.3] * 12}, "ward_los_multiplier": {"all": [2.0] * 12}}
    )
    table = fates(s, None)  # readmission batches are drawn without months
    shares = np.array([s.ed.disposition.get("frail").get(d, 0.0) for d in DISPOSITIONS])
    raw = [table.fate(i) for i in range(500)]
    adjusted = [seasonal_fate(s, f, "frail", 0) for f in raw]
    expected = seasonal_disposition(
        np.array([f.disposition for f in raw]),
        np.array([f.season_admit_u for f in raw]),
        np.full(500, 1.3),
        shares,
    )
    assert [f.disposition for f in adjusted] == expected.tolist()
    assert [f.ward_los_days for f in adjusted] == [2.0 * f.ward_los_days for f in raw]
    assert seasonal_fate(scenario(None), raw[0], "frail", 0) is raw[0]


# ---------------------------------------------------------------- length of stay


def test_ward_los_multiplier_scales_stays_of_its_month_and_ward_only() -> None:
    base = scenario(None)
    ward = sorted(base.wards)[0]
    profile = [1.0] * 12
    profile[11] = 1.3
    s = scenario({"ward_los_multiplier": {ward: profile}})
    months = np.arange(N) % 12
    b, a = fates(base, months), fates(s, months)
    los_b, los_a = column(b, "ward_los_days"), column(a, "ward_los_days")
    on_ward = column(b, "ward") == 0
    december = months == 11
    assert np.allclose(los_a[on_ward & december], 1.3 * los_b[on_ward & december])
    assert np.array_equal(los_a[~(on_ward & december)], los_b[~(on_ward & december)])


# ---------------------------------------------------------------- demand by route


def test_walk_in_multiplier_adds_walk_ins_and_leaves_other_routes_alone() -> None:
    july = [1.0] * 12
    july[6] = 1.3
    base = scenario(None, **{"run.start_date": dt.date(2025, 7, 1)})
    s = apply_changes(base, {"seasons": {"attendance_multiplier": {"walk_in": july}}})
    cal = Calendar(s.run.start_date, 32)
    profile = np.ones(24 * 31)
    for st in arrival_streams(s):
        times_b = arrival_times(st, profile, Streams(1, 0), 24 * 31)
        times_s = arrival_times(st, seasonal_profile(st, profile, s, cal), Streams(1, 0), 24 * 31)
        if st.route == "walk_in":
            assert len(times_s) >= len(times_b)
        else:
            assert np.array_equal(times_b, times_s)
    walk = [st for st in arrival_streams(s) if st.route == "walk_in"]
    n_b = sum(len(arrival_times(st, profile, Streams(1, 0), 744)) for st in walk)
    n_s = sum(
        len(arrival_times(st, seasonal_profile(st, profile, s, cal), Streams(1, 0), 744))
        for st in walk
    )
    assert n_s / n_b == pytest.approx(1.3, abs=0.05)
    assert seasonal_profile(walk[0], profile, base, cal) is profile


# ---------------------------------------------------------------- beds lost


def test_beds_closed_at_each_month_boundary_and_reopened_after() -> None:
    closed = [0.2, 0.1] + [0.0] * 10
    s = scenario(
        {"beds_closed_share": {"all": closed}},
        **{"run.start_date": dt.date(2025, 1, 20), "run.warm_up_days": 0, "run.horizon_days": 45},
    )
    log = simulate(s, 0, seed=3)
    names = log.places
    for name, ward in s.wards.items():
        code = names.index(f"ward:{name}")
        changes = [(t, c) for t, p, c in log.capacity if p == code]
        base = ward.beds
        expected = [(0.0, base - round(0.2 * base))]
        feb = 24.0 * 12  # 1 February, 12 days after 20 January
        mar = feb + 24.0 * 28
        if round(0.1 * base) != round(0.2 * base):
            expected.append((feb, base - round(0.1 * base)))
        if round(0.1 * base) != 0:
            expected.append((mar, base))
        assert changes[: len(expected)] == expected, name
    assert_beds_held_within_capacity(log)


def assert_beds_held_within_capacity(log) -> None:  # type: ignore[no-untyped-def]
    """Replay the log: no START at a ward finds more patients in its beds than are open."""
    names = log.places
    capacity = {names.index(u): c for u, c in log.capacities.items()}
    changes = sorted(log.capacity, key=lambda c: c[0])
    held: dict[int, int] = {}
    i = 0
    for t, _p, k, c in log.events:
        while i < len(changes) and changes[i][0] <= t:
            capacity[changes[i][1]] = changes[i][2]
            i += 1
        if names[c].startswith("ward:"):
            if k == START:
                held[c] = held.get(c, 0) + 1
                assert held[c] <= capacity[c], f"{names[c]} at t={t}: {held[c]} > {capacity[c]}"
            elif k == END:
                held[c] -= 1


def test_bed_closure_month_starts_follow_the_calendar() -> None:
    cal = Calendar(dt.date(2025, 12, 30), 40)
    assert cal.month_starts() == [(0.0, 11), (48.0, 0), (48.0 + 24 * 31, 1)]
    assert cal.month(47.9) == 11 and cal.month(48.0) == 0


def test_fewer_beds_in_a_closed_month_lengthen_waits_for_a_ward() -> None:
    closed = {"beds_closed_share": {"all": [0.15] * 12}}
    off, on = simulate(scenario(None), 0, seed=8), simulate(scenario(closed), 0, seed=8)

    def mean_ward_wait(log) -> float:  # type: ignore[no-untyped-def]
        names = log.places
        queued: dict[tuple[int, int], float] = {}
        waits = []
        for t, p, k, c in log.events:
            if names[c].startswith("ward:"):
                if k == 1:
                    queued[(p, c)] = t
                elif k == 2 and (p, c) in queued:
                    waits.append(t - queued.pop((p, c)))
        return float(np.mean(waits))

    assert mean_ward_wait(on) > mean_ward_wait(off)


def test_unknown_ward_in_a_seasonal_profile_is_an_error_naming_the_key() -> None:
    with pytest.raises(ScenarioError, match=r"seasons\.beds_closed_share: no ward group called"):
        scenario({"beds_closed_share": {"cardiology": [0.1] * 12}})
    with pytest.raises(ScenarioError):
        scenario({"beds_closed_share": {"all": [1.0] * 12}})  # a whole ward cannot close
    with pytest.raises(ScenarioError):
        scenario({"admission_multiplier": {"all": [1.0] * 11}})


# ---------------------------------------------------------------- community places, the example


def test_community_places_follow_their_monthly_multiplier() -> None:
    p1 = [0.8, 1.0] + [1.0] * 10
    s = scenario(
        {"community_places_multiplier": {"p1": p1}},
        **{"run.start_date": dt.date(2025, 1, 20), "run.warm_up_days": 0, "run.horizon_days": 20},
    )
    log = simulate(s, 0, seed=3)
    code = log.places.index("p1")
    base = s.community.p1.capacity
    changes = [(t, c) for t, p, c in log.capacity if p == code]
    assert changes == [(0.0, round(0.8 * base)), (24.0 * 12, base)]


def test_the_documented_example_is_a_valid_seasons_section() -> None:
    section = yaml.safe_load(EXAMPLE)["seasons"]
    for profiles in section.values():
        for values in profiles.values():
            assert len(values) == 12
    for key in ("attendance_multiplier", "admission_multiplier", "ward_los_multiplier"):
        for values in section[key].values():
            assert np.mean(values) == pytest.approx(1.0, abs=0.01), key
    s = scenario(section, **{"run.start_date": dt.date(2025, 1, 1), "run.horizon_days": 20})
    log = simulate(s, 0, seed=1)
    assert log.capacity  # beds closed and p1 places lost in January
