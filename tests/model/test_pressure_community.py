"""Pressure responses around the beds: electives competing for them, discharge under pressure,
spot-purchased community capacity, and their KPIs. Each shown acting, on against off."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from flowsim.analysis.kpis import compute_kpis
from flowsim.analysis.pressure_kpis import elective_counts, opel_hours, spot_place_days
from flowsim.log import EventLog
from flowsim.model.build import simulate
from flowsim.model.readmission import with_odds_ratio
from flowsim.model.wards import speed_up
from flowsim.scenario import Scenario, apply_changes
from flowsim.scenario.pressure import DischargePush
from helpers.log_contract import assert_conserved
from helpers.model_helpers import DEPART, QUEUE, RESERVE, START, run, small_scenario

SURGERY_ELECTIVES = {
    "admissions_by_weekday": {"surgery": [6, 6, 6, 6, 6, 0, 0]},
    "los_days": {"dist": "lognormal", "median": 2.0, "sigma": 0.8},
    "admission_hour": 7.0,
}


def scenario(pressure: dict[str, Any] | None, **changes: Any) -> Scenario:
    # The baseline has its own seasons and pressure responses: start from none, so each test
    # shows one mechanism against a plain system.
    plain = small_scenario({"pressure": None, "seasons": None}, horizon_days=40, warm_up_days=15)
    return apply_changes(plain, {**changes, "pressure": pressure})


def rows(log: EventLog, signal: str) -> list[tuple[float, int]]:
    return [(t, v) for t, s, v in log.pressure if s == signal]


def value_at(series: list[tuple[float, int]], t: float) -> int:
    """A step series' value in force at ``t`` (after every change at ``t``)."""
    value = 0
    for when, v in series:
        if when > t:
            break
        value = v
    return value


# ---------------------------------------------------------------- electives


def test_electives_hold_beds_on_their_weekdays_only() -> None:
    log = run(scenario({"electives": {**SURGERY_ELECTIVES, "cancel_from_level": None}}), seed=2)
    admitted = rows(log, "electives_admitted:ward:surgery")
    assert admitted, "no elective was admitted"
    start_weekday = 0  # the baseline starts on a Monday
    for t, _ in admitted:
        assert (start_weekday + int(t // 24)) % 7 < 5
        assert t % 24 == pytest.approx(7.0)
    in_beds = [v for _, v in rows(log, "electives:ward:surgery")]
    surgery_beds = log.capacities["ward:surgery"]
    assert 0 < max(in_beds) <= surgery_beds
    assert_conserved(log, scenario({"electives": {**SURGERY_ELECTIVES, "cancel_from_level": None}}))


def test_no_free_bed_cancels_the_rest_of_the_list() -> None:
    crowded = {**SURGERY_ELECTIVES, "cancel_from_level": None}
    crowded["admissions_by_weekday"] = {"surgery": [60, 60, 60, 60, 60, 0, 0]}
    log = simulate(scenario({"electives": crowded}), seed=2)
    counts = elective_counts(log)
    assert counts["no_bed"] > 0 and counts["admitted"] > 0
    assert max(v for _, v in rows(log, "electives:ward:surgery")) <= log.capacities["ward:surgery"]


def test_cancelling_electives_frees_beds_on_the_days_it_happens() -> None:
    """Same seed, same lists: one hospital never cancels, the other cancels at OPEL 2."""
    opel = {"occupancy": [0.8, 0.9, 0.93], "step_down_after_hours": 2}
    lists = {**SURGERY_ELECTIVES, "admissions_by_weekday": {"surgery": [4, 4, 4, 4, 4, 0, 0]}}
    roomy = {"wards.surgery.beds": 50}

    def with_cancelling(level: int | None) -> EventLog:
        electives = {**lists, "cancel_from_level": level}
        return simulate(scenario({"opel": opel, "electives": electives}, **roomy), seed=2)

    keep, cancel = with_cancelling(None), with_cancelling(2)
    cancelled = rows(cancel, "electives_cancelled:ward:surgery")
    assert cancelled, "OPEL 2 never came at an admission hour: the test needs a fuller hospital"
    in_beds = rows(cancel, "electives:ward:surgery")
    admitted_on = {t for t, _ in rows(cancel, "electives_admitted:ward:surgery")}
    for t, _ in cancelled:  # nobody from that day's list took a bed
        assert t not in admitted_on
        assert value_at(in_beds, t) <= value_at(in_beds, t - 1e-6)
    # The first cancellation: the runs are the same until then; that morning the other hospital
    # filled beds with electives and this one kept them free for emergencies.
    first = cancelled[0][0]
    n_keep, n_cancel = _events_before(keep, first), _events_before(cancel, first)
    assert keep.events[:n_keep] == cancel.events[:n_cancel]
    assert first in {t for t, _ in rows(keep, "electives_admitted:ward:surgery")}
    beds_keep = value_at(rows(keep, "electives:ward:surgery"), first)
    assert value_at(in_beds, first) < beds_keep


def _events_before(log: EventLog, t: float) -> int:
    return int(np.searchsorted(np.asarray(log.events.times), t, side="left"))


def test_electives_cancelled_for_occupancy() -> None:
    electives = {**SURGERY_ELECTIVES, "cancel_from_level": None, "cancel_above_occupancy": 0.0}
    log = simulate(scenario({"electives": electives}), seed=2)
    counts = elective_counts(log)
    assert counts["cancelled"] > 0
    kpis = compute_kpis(log).set_index("kpi")["value"]
    assert kpis["electives_cancelled"] > 0
    assert kpis["electives_cancelled_share"] > 0


# ---------------------------------------------------------------- discharge under pressure


def test_speed_up_is_zero_below_the_threshold_then_linear_and_capped() -> None:
    push = DischargePush(above_occupancy=0.95, speed_up_per_point=0.01, max_speed_up=0.03)
    assert speed_up(push, 0.90) == 0.0
    assert speed_up(push, 0.95) == 0.0
    assert speed_up(push, 0.97) == pytest.approx(0.02)
    assert speed_up(push, 1.00) == pytest.approx(0.03)


def test_odds_ratio_raises_a_readmission_probability() -> None:
    assert with_odds_ratio(0.1, 1.0) == 0.1
    assert with_odds_ratio(0.1, 1.17) == pytest.approx(0.1 * 1.17 / (0.9 + 0.1 * 1.17))
    assert with_odds_ratio(1.0, 2.0) == 1.0


def _ward_hours_to_optimised(log: EventLog) -> np.ndarray:
    names = log.places
    start: dict[int, float] = {}
    out = []
    for t, p, k, place in log.events:
        if k == START and names[place].startswith("ward:"):
            start[p] = t
        elif k == 5 and p in start:  # OPTIMISED
            out.append(t - start.pop(p))
    return np.asarray(out)


def test_discharge_push_shortens_long_stays_at_high_occupancy() -> None:
    off = run(scenario(None), seed=2)
    push = {"above_occupancy": 0.5, "speed_up_per_point": 0.01, "max_speed_up": 0.3}
    on = simulate(scenario({"discharge_push": push}), seed=2)
    long_off = _ward_hours_to_optimised(off)
    long_on = _ward_hours_to_optimised(on)
    assert np.mean(long_on[long_on > 10 * 24]) < np.mean(long_off[long_off > 10 * 24])
    # short stays are untouched (min_elapsed_days 10): the same patients, the same hours
    assert np.quantile(long_on, 0.25) == pytest.approx(np.quantile(long_off, 0.25), rel=0.05)
    assert_conserved(on, scenario({"discharge_push": push}))


def test_discharge_push_on_bed_demand_responds_to_patients_waiting_for_beds() -> None:
    # Occupancy cannot pass 100%, so a push from 100% never acts on it; bed demand counts the
    # admitted patients waiting in ED too, and is above 100% on over-census days (pressure.md L8).
    crowded = {"demand_profile.growth": 1.5}
    push = {"above_occupancy": 1.0, "speed_up_per_point": 0.02, "max_speed_up": 0.5}
    off = simulate(scenario(None, **crowded), seed=2)
    on_occupancy = simulate(scenario({"discharge_push": push}, **crowded), seed=2)
    demand = {**push, "measure": "bed_demand", "min_elapsed_days": 0.0}
    on_demand = simulate(scenario({"discharge_push": demand}, **crowded), seed=2)
    hours_off, hours_on = _ward_hours_to_optimised(off), _ward_hours_to_optimised(on_demand)
    np.testing.assert_allclose(_ward_hours_to_optimised(on_occupancy), hours_off, rtol=1e-9)
    assert np.mean(hours_on) < 0.97 * np.mean(hours_off)
    assert_conserved(on_demand, scenario({"discharge_push": demand}, **crowded))


def _weekend_discharge_share(log: EventLog) -> float:
    p0 = log.places.index("P0")
    times = np.array([t for t, _, k, place in log.events if k == DEPART and place == p0])
    weekday = (int(log.meta.get("start_weekday", 0)) + (times // 24).astype(int)) % 7
    return float(np.mean(weekday >= 5))


def test_discharge_push_brings_weekend_and_earlier_discharges_with_readmissions() -> None:
    off = run(scenario(None), seed=2)
    push = {
        "above_occupancy": 0.0,
        "weekend_discharge_factor": 1.0,
        "window_start_hour": 8.0,
        "readmission_odds_ratio": 3.0,
    }
    on = simulate(scenario({"discharge_push": push}), seed=2)
    assert _weekend_discharge_share(on) > _weekend_discharge_share(off) + 0.03
    p0 = on.places.index("P0")
    hours_on = [t % 24 for t, _, k, place in on.events if k == DEPART and place == p0]
    assert min(hours_on) < 11.0  # the baseline's window opens at 11:00
    readmitted = sum(1 for row in on.patients if row[7] >= 0)
    readmitted_off = sum(1 for row in off.patients if row[7] >= 0)
    assert readmitted > readmitted_off


# ---------------------------------------------------------------- community surge


def _queue_length_series(log: EventLog, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """Patients waiting for a community place after each QUEUE/RESERVE event at ``unit``."""
    code = log.places.index(unit)
    times, deltas = [], []
    for t, _, k, place in log.events:
        if place != code:
            continue
        if k == QUEUE:
            times.append(t)
            deltas.append(1)
        elif k == RESERVE:
            times.append(t)
            deltas.append(-1)
    return np.asarray(times), np.cumsum(deltas)


SHORT_P1 = {"community.p1.capacity": 10}
"""P1 cut so a waiting list builds."""


def spot(lag_days: float) -> dict[str, Any]:
    return {
        "community_surge": {
            "p1": {
                "places": 10,
                "open_when_waiting": 8,
                "open_after_days": lag_days,
                "close_when_waiting": 2,
                "close_after_days": 1,
            }
        }
    }


def test_spot_purchase_opens_only_after_its_lag() -> None:
    now = simulate(scenario(spot(0.0), **SHORT_P1), seed=2)
    later = simulate(scenario(spot(5.0), **SHORT_P1), seed=2)
    opened_now = [t for t, v in rows(now, "spot:p1") if v > 0]
    opened_later = [t for t, v in rows(later, "spot:p1") if v > 0]
    assert opened_now and opened_later
    # the list first reached 8 no later than the lag-0 opening (checked on the hour)
    times, waiting = _queue_length_series(later, "p1")
    first_long = times[np.argmax(waiting >= 8)]
    assert first_long <= opened_now[0]
    assert opened_later[0] >= first_long + 5 * 24.0
    assert opened_later[0] >= opened_now[0] + 5 * 24.0 - 1.0
    # the capacity log carries the bought places
    p1 = later.places.index("p1")
    assert any(c == p1 and cap == 10 + 10 for _, c, cap in later.capacity)
    assert_conserved(later, scenario(spot(5.0), **SHORT_P1))


def test_spot_places_close_when_the_list_is_short_and_are_counted() -> None:
    log = simulate(scenario(spot(0.0), **SHORT_P1), seed=2)
    values = [v for _, v in rows(log, "spot:p1")]
    assert 10 in values
    days = spot_place_days(log)["p1"]
    measured = (log.end_hours - log.warm_up_hours) / 24.0
    assert 0 < days <= 10 * measured
    kpis = compute_kpis(log).set_index("kpi")["value"]
    assert kpis["spot_places_mean_p1"] == pytest.approx(days / measured)
    never = simulate(scenario(spot(0.0)), seed=2)  # P1 as in the baseline: no list to speak of
    assert [v for _, v in rows(never, "spot:p1")] == [0]


# ---------------------------------------------------------------- KPIs


def test_pressure_kpis_only_for_runs_with_a_pressure_section() -> None:
    plain = compute_kpis(run(scenario(None), seed=2))
    assert not plain["kpi"].str.startswith(("opel_", "outlier", "elective", "spot_")).any()
    log = simulate(scenario({"opel": {}, "outlying": {}}), seed=2)
    kpis = compute_kpis(log).set_index("kpi")["value"]
    shares = [kpis[f"opel_level_share_{n}"] for n in (1, 2, 3, 4)]
    assert sum(shares) == pytest.approx(100.0)
    assert sum(opel_hours(log).values()) == pytest.approx(log.end_hours - log.warm_up_hours)
    assert 0.0 <= kpis["outlier_share"] <= 100.0


def test_every_response_at_once_keeps_the_log_contract() -> None:
    pressure = {
        "opel": {
            "occupancy": [0.9, 0.94, 0.97],
            "ed_boarding": [3, 6, 10],
            "escalation_at_level": 3,
        },
        "outlying": {"after_hours": 2, "los_multiplier": 1.05, "ring_fenced_beds": {"surgery": 2}},
        "electives": {**SURGERY_ELECTIVES, "cancel_from_level": 4},
        "discharge_push": {"above_occupancy": 0.93, "weekend_discharge_factor": 0.8},
        "community_surge": spot(3.0)["community_surge"],
    }
    s = scenario(pressure, **SHORT_P1)
    log = simulate(s, seed=3)
    assert_conserved(log, s)
    kinds = {signal.split(":")[0] for _, signal, _ in log.pressure}
    assert {"opel", "outlier", "electives", "spot"} <= kinds
