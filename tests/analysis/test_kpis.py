"""KPIs from hand-made event logs whose right answers can be worked out by hand."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from flowsim.analysis import (
    GENERAL_ACUTE,
    PRIMARY_KPIS,
    EventFrame,
    compute_kpis,
    kpi_unit,
    occupancy_series,
    summarise,
)
from flowsim.log import OUTCOMES, ROUTES, EventLog, Kind

UNITS = (
    "ed_cubicle",
    "ed_clinician",
    "corridor",
    "frailty_team",
    "ucr",
    "sdec",
    "amu",
    "afu",
    "ward:general",
    "ward:care_of_elderly",
    "p1",
    "p2",
    "p3",
    "virtual_ward",
)
# As a model would build it: units, routes, outcomes.
PLACES = [*UNITS, *ROUTES, *OUTCOMES]
CAPACITIES = {u: 10 for u in UNITS}


def make_log(
    journeys: dict[int, str],
    *,
    warm_up: float = 0.0,
    end: float = 48.0,
    capacities: dict[str, int] | None = None,
    capacity: list[tuple[float, str, int]] | None = None,
    patients: dict[int, dict[str, int]] | None = None,
    meta: dict | None = None,
) -> EventLog:
    """An EventLog from readable journeys: ``{patient: "0 ARRIVE walk_in; 0 QUEUE amu; ..."}``.

    Each journey lists ``time KIND place`` steps in the patient's order; the log interleaves
    patients by time (stable), as the model appends them. Patients are fit, CFS 3, acuity 3, with
    the route of their ARRIVE; ``patients`` overrides fields.
    """
    events = []
    for pid, text in journeys.items():
        for step in filter(None, (s.strip() for s in text.split(";"))):
            t, kind, place = step.split()
            events.append((float(t), pid, int(Kind[kind]), PLACES.index(place)))
    events.sort(key=lambda e: e[0])
    rows = []
    for pid, text in journeys.items():
        route = next(
            (r for r in ROUTES if f"ARRIVE {r}" in text),
            "walk_in",
        )
        fields = {
            "place": 0,
            "age_band": 3,
            "frailty": 0,
            "cfs": 3,
            "acuity": 3,
            "route": ROUTES.index(route),
            "readmission_of": -1,
        }
        fields.update((patients or {}).get(pid, {}))
        rows.append((pid, *fields.values()))
    return EventLog(
        places=list(PLACES),
        population_places=["Nottingham City", "South Notts"],
        warm_up_hours=warm_up,
        end_hours=end,
        capacities=dict(CAPACITIES if capacities is None else capacities),
        events=events,
        patients=rows,
        capacity=[(t, PLACES.index(u), c) for t, u, c in capacity or []],
        meta=dict(meta or {}),
    )


def ed(t0: float, hours: float, route: str = "walk_in", outcome: str = "home") -> str:
    """An ED attendance: in a cubicle at once, leaving after ``hours``."""
    t1 = t0 + hours
    hand = f"{t0} HANDOVER ed_cubicle;" if route == "ambulance" else ""
    return (
        f"{t0} ARRIVE {route}; {t0} QUEUE ed_cubicle; {hand} {t0} START ed_cubicle;"
        f"{t1} END ed_cubicle; {t1} DEPART {outcome}"
    )


def ed_after_wait(t0: float, wait: float, hours: float, route: str = "walk_in") -> str:
    """An ED attendance that waits ``wait`` hours for a cubicle, then stays ``hours`` in it (an
    ambulance crew hands over a quarter of an hour after the cubicle is free)."""
    t1, t2 = t0 + wait, t0 + wait + hours
    hand = f"{t1 + 0.25} HANDOVER ed_cubicle;" if route == "ambulance" else ""
    return (
        f"{t0} ARRIVE {route}; {t0} QUEUE ed_cubicle; {t1} START ed_cubicle; {hand}"
        f"{t2} END ed_cubicle; {t2} DEPART home"
    )


def kpis(log: EventLog) -> dict[str, float]:
    df = compute_kpis(log)
    assert list(df.columns) == ["kpi", "unit", "value"]
    assert df["kpi"].is_unique
    return dict(zip(df["kpi"], df["value"], strict=True))


# ---------------------------------------------------------------- ED


def test_four_hour_and_time_in_ed():
    k = kpis(make_log({1: ed(1, 3), 2: ed(2, 5)}, end=48))
    assert k["ed_attendances"] == pytest.approx(1.0)  # 2 in 2 days
    assert k["ed_within_4h"] == pytest.approx(50.0)
    assert k["ed_time_mean"] == pytest.approx(4.0)
    assert k["ed_time_median"] == pytest.approx(4.0)
    assert k["ed_time_p95"] == pytest.approx(3 + 0.95 * 2)
    assert k["ed_over_12h"] == 0
    assert k["ed_conversion"] == 0


def test_ed_times_count_from_arrival_not_from_the_cubicle():
    """The 4-hour standard runs from arrival: waiting for a cubicle counts. Here the time from
    the cubicle alone would meet it for every patient, and no 12-hour wait would show."""
    journeys = {
        1: ed_after_wait(0, 3, 2),  # 5 h in ED, 2 h of it in a cubicle
        2: ed_after_wait(1, 0.5, 3),  # 3.5 h
        3: ed_after_wait(2, 5, 0.5, route="ambulance"),  # 5.5 h; crew released after 5.25 h
        4: ed_after_wait(3, 0, 1),  # 1 h
        5: ed_after_wait(4, 10, 3),  # 13 h
    }
    k = kpis(make_log(journeys, end=48))
    assert k["ed_within_4h"] == pytest.approx(40.0)
    assert k["ed_time_mean"] == pytest.approx((5 + 3.5 + 5.5 + 1 + 13) / 5)
    assert k["ed_over_12h_share"] == pytest.approx(20.0)
    assert k["handover_mean"] == pytest.approx(5.25 * 60)


def test_exactly_four_hours_meets_the_standard_and_twelve_hour_waits():
    k = kpis(make_log({1: ed(0, 4), 2: ed(1, 13), 3: ed(2, 12), 4: ed(3, 1)}, end=96))
    assert k["ed_within_4h"] == pytest.approx(50.0)
    assert k["ed_over_12h"] == pytest.approx(1 / 4)  # one in 4 days
    assert k["ed_over_12h_share"] == pytest.approx(25.0)


def test_warm_up_excludes_earlier_arrivals():
    log = make_log({1: ed(1, 10), 2: ed(30, 2), 3: ed(40, 3)}, warm_up=24, end=72)
    k = kpis(log)
    assert k["ed_attendances"] == pytest.approx(1.0)  # 2 in the 2 measured days
    assert k["ed_within_4h"] == pytest.approx(100.0)
    assert k["ed_time_mean"] == pytest.approx(2.5)


def test_patient_still_in_ed_at_the_end_counts_with_time_so_far():
    still = "40 ARRIVE walk_in; 40 QUEUE ed_cubicle; 40 START ed_cubicle"
    waiting = "46 ARRIVE walk_in; 46 QUEUE ed_cubicle"
    log = make_log({1: ed(0, 2), 2: still, 3: waiting}, end=48)
    visits = EventFrame(log).ed_visits.set_index("patient")
    assert visits.loc[2, "censored"] and visits.loc[3, "censored"]
    assert visits.loc[2, "time_in_ed"] == pytest.approx(8.0)
    k = kpis(log)
    assert k["ed_time_mean"] == pytest.approx((2 + 8 + 2) / 3)
    assert k["ed_within_4h"] == pytest.approx(200 / 3)


def test_handover_delays_and_hours_lost():
    slow = (
        "0 ARRIVE ambulance; 0 QUEUE ed_cubicle; 0.75 HANDOVER ed_cubicle; 0.75 START ed_cubicle;"
        "3 END ed_cubicle; 3 DEPART home"
    )
    very_slow = (
        "1 ARRIVE ambulance; 1 QUEUE ed_cubicle; 2.5 HANDOVER ed_cubicle; 2.5 START ed_cubicle;"
        "4 END ed_cubicle; 4 DEPART home"
    )
    quick = (
        "2 ARRIVE ambulance; 2 QUEUE ed_cubicle; 2.1 HANDOVER ed_cubicle; 2.1 START ed_cubicle;"
        "4 END ed_cubicle; 4 DEPART home"
    )
    log = make_log({1: slow, 2: very_slow, 3: quick, 4: ed(0, 1)}, end=48)
    k = kpis(log)
    assert k["handover_mean"] == pytest.approx((45 + 90 + 6) / 3)
    assert k["handover_over_30min_share"] == pytest.approx(200 / 3)
    assert k["handover_over_60min_share"] == pytest.approx(100 / 3)
    # (45-15) + (90-15) minutes lost, over 2 days
    assert k["ambulance_hours_lost"] == pytest.approx((30 + 75) / 60 / 2)


def test_corridor_handover_and_ambulance_still_waiting_at_end():
    corridor = (
        "0 ARRIVE ambulance; 0 QUEUE ed_cubicle; 0.75 HANDOVER corridor; 0.75 QUEUE corridor;"
        "0.75 START corridor; 5 START ed_cubicle; 5 END corridor; 7 END ed_cubicle; 7 DEPART home"
    )
    stuck = "47 ARRIVE ambulance; 47 QUEUE ed_cubicle"
    # In a cubicle, the crew still handing over when the run ends.
    handing_over = "46 ARRIVE ambulance; 46 QUEUE ed_cubicle; 46 START ed_cubicle"
    log = make_log({1: corridor, 2: stuck, 3: handing_over}, end=48)
    v = EventFrame(log).ed_visits.set_index("patient")
    assert v.loc[1, "handover_place"] == "corridor"
    assert v.loc[1, "time_in_ed"] == pytest.approx(7.0)
    assert v.loc[2, "ambulance"] and v.loc[2, "handover_wait"] == pytest.approx(1.0)
    assert v.loc[3, "handover_wait"] == pytest.approx(2.0)
    k = kpis(log)
    assert k["handover_mean"] == pytest.approx((45 + 60 + 120) / 3)
    assert k["ed_time_mean"] == pytest.approx((7 + 1 + 2) / 3)
    # The cubicle queue lasts from arrival to the cubicle, through the corridor spell.
    q = EventFrame(log).queue_steps("ed_cubicle")
    assert q.area(0, 48) == pytest.approx(5 + 1)


def test_boarding_from_decision_to_admit_to_leaving_ed():
    long_board = (
        "0 ARRIVE walk_in; 0 QUEUE ed_cubicle; 0 START ed_cubicle; 3 QUEUE amu; 17 START amu;"
        "17 END ed_cubicle; 30 END amu; 30 DEPART home"
    )
    no_board = (
        "1 ARRIVE walk_in; 1 QUEUE ed_cubicle; 1 START ed_cubicle; 3 QUEUE ward:general;"
        "3 START ward:general; 3 END ed_cubicle; 40 END ward:general; 40 DEPART home"
    )
    log = make_log({1: long_board, 2: no_board, 3: ed(5, 2)}, end=96)
    v = EventFrame(log).ed_visits.set_index("patient")
    assert v.loc[1, "decision"] == 3 and v.loc[1, "next_unit"] == "amu"
    assert v.loc[3, "decision"] == 7 and pd.isna(v.loc[3, "next_unit"])
    assert math.isnan(v.loc[3, "boarding"])
    k = kpis(log)
    assert k["ed_boarding_mean"] == pytest.approx((14 + 0) / 2)
    assert k["ed_boarding_over_12h_share"] == pytest.approx(50.0)
    assert k["ed_boarding_over_12h"] == pytest.approx(1 / 4)
    assert k["ed_conversion"] == pytest.approx(200 / 3)
    assert k["admissions"] == pytest.approx(2 / 4)


# ---------------------------------------------------------------- spells and LOS


def test_boarding_moved_to_a_corridor_space_leaves_ed_at_the_corridor_end():
    # Full-capacity protocol: the boarder gives the cubicle up for a corridor space.
    journey = (
        "0 ARRIVE walk_in; 0 QUEUE ed_cubicle; 0 START ed_cubicle; 2 QUEUE amu; 8 QUEUE corridor;"
        "8 START corridor; 8 END ed_cubicle; 20 START amu; 20 END corridor; 30 END amu;"
        "30 DEPART home"
    )
    log = make_log({1: journey, 2: ed(9, 1)}, end=48)
    v = EventFrame(log).ed_visits.set_index("patient")
    assert v.loc[1, "exit"] == 20 and v.loc[1, "boarding"] == 18
    assert v.loc[1, "next_unit"] == "amu"
    # The cubicle was free from 8 for the next patient; the corridor held the boarder 8-20.
    ef = EventFrame(log)
    assert ef.occupancy_steps("ed_cubicle").area(0, 48) == pytest.approx(8 + 1)
    assert ef.occupancy_steps("corridor").area(0, 48) == pytest.approx(12)
    k = kpis(log)
    assert k["ed_time_mean"] == pytest.approx((20 + 1) / 2)
    assert k["ed_boarding_over_12h_share"] == pytest.approx(100.0)


def test_spell_through_amu_to_ward_and_los_by_unit_and_frailty():
    via_amu = (
        "0 ARRIVE walk_in; 0 QUEUE ed_cubicle; 0 START ed_cubicle; 2 QUEUE amu; 2 START amu;"
        "2 END ed_cubicle; 26 QUEUE ward:general; 26 START ward:general; 26 END amu;"
        "98 END ward:general; 98 DEPART P0"
    )
    # A move logged END-then-START at the same time is still one spell.
    ward_only = (
        "10 ARRIVE gp_referral; 10 QUEUE ward:care_of_elderly; 10 START ward:care_of_elderly;"
        "58 QUEUE ward:general; 58 END ward:care_of_elderly; 58 START ward:general;"
        "82 END ward:general; 82 DEPART home"
    )
    log = make_log({1: via_amu, 2: ward_only}, end=200, patients={2: {"frailty": 1}})
    sp = EventFrame(log).spells.set_index("patient")
    assert len(sp) == 2
    assert sp.loc[1, "start"] == 2 and sp.loc[1, "end"] == 98
    assert sp.loc[1, "first_unit"] == "amu" and sp.loc[1, "last_unit"] == "ward:general"
    assert sp.loc[1, "from_ed"] and not sp.loc[2, "from_ed"]
    k = kpis(log)
    assert k["los_mean"] == pytest.approx((96 / 24 + 72 / 24) / 2)
    assert k["los_median"] == pytest.approx(3.5)
    assert k["los_mean_frailty_fit"] == pytest.approx(4.0)
    assert k["los_mean_frailty_frail"] == pytest.approx(3.0)
    assert math.isnan(k["los_mean_frailty_severe"])
    assert k["los_mean_amu"] == pytest.approx(1.0)
    assert k["los_mean_ward_general"] == pytest.approx((72 / 24 + 1) / 2)
    assert k["los_mean_ward_care_of_elderly"] == pytest.approx(2.0)
    assert math.isnan(k["los_mean_afu"])


def test_los_counts_discharges_with_their_whole_stay_and_leaves_running_stays_out():
    before = "0 ARRIVE gp_referral; 0 QUEUE amu; 0 START amu; 60 END amu; 60 DEPART home"
    inside = "30 ARRIVE gp_referral; 30 QUEUE amu; 30 START amu; 54 END amu; 54 DEPART home"
    running = "50 ARRIVE gp_referral; 50 QUEUE amu; 50 START amu"
    gone = "0 ARRIVE gp_referral; 0 QUEUE amu; 0 START amu; 12 END amu; 12 DEPART home"
    log = make_log({1: before, 2: inside, 3: running, 4: gone}, warm_up=24, end=96)
    k = kpis(log)
    # Patient 1, admitted in the warm-up, counts with the whole 60 h; 4 left in the warm-up.
    assert k["los_mean"] == pytest.approx((60 / 24 + 1.0) / 2)
    assert k["los_mean_amu"] == pytest.approx((60 / 24 + 1.0) / 2)
    assert k["admissions"] == pytest.approx(2 / 3)  # patients 2 and 3 in 3 days
    assert EventFrame(log).spells["censored"].sum() == 1


def test_a_warm_start_patient_counts_the_stay_begun_before_time_0():
    ward = "0 ARRIVE gp_referral; 0 QUEUE ward:general; 0 START ward:general; 48 END ward:general;"
    ward += " 48 DEPART home"
    amu = "0 ARRIVE gp_referral; 0 QUEUE amu; 0 START amu; 30 END amu; 30 DEPART home"
    new = "30 ARRIVE gp_referral; 30 QUEUE amu; 30 START amu; 54 END amu; 54 DEPART home"
    placed = {
        "patient": [1, 2],
        "unit": ["ward:general", "amu"],
        "elapsed_hours": [72.0, 6.0],
        "spell_elapsed_hours": [96.0, 6.0],  # patient 1 spent a day in AMU before the ward
    }
    log = make_log({1: ward, 2: amu, 3: new}, warm_up=24, end=96, meta={"warm_start": placed})
    k = kpis(log)
    assert k["los_mean"] == pytest.approx(((48 + 96) / 24 + 36 / 24 + 1.0) / 3)
    assert k["los_mean_ward_general"] == pytest.approx((48 + 72) / 24)
    assert k["los_mean_amu"] == pytest.approx((36 / 24 + 1.0) / 2)
    # Without the record (a run from empty), the same events count from time 0.
    assert kpis(make_log({1: ward, 2: amu, 3: new}, warm_up=24, end=96))[
        "los_mean"
    ] == pytest.approx((2.0 + 30 / 24 + 1.0) / 3)


# ---------------------------------------------------------------- occupancy


def stay(t0: float, t1: float, unit: str = "amu") -> str:
    return (
        f"{t0} ARRIVE gp_referral; {t0} QUEUE {unit}; {t0} START {unit};"
        f"{t1} END {unit}; {t1} DEPART home"
    )


def test_time_weighted_occupancy_mean_and_p95():
    log = make_log(
        {1: stay(10, 30), 2: stay(20, 60)},
        warm_up=20,
        end=100,
        capacities={**CAPACITIES, "amu": 2},
    )
    k = kpis(log)
    # [20,30): 2 of 2, [30,60): 1 of 2, [60,100): 0 -> (10*2 + 30*1) / (80*2)
    assert k["occupancy_mean_amu"] == pytest.approx(100 * 50 / 160)
    assert k["occupancy_p95_amu"] == pytest.approx(100.0)  # full for 12.5% of the time
    assert k["occupancy_mean_afu"] == 0
    # G&A: amu (2) + afu + two wards (10 each)
    assert k["occupancy_mean_general_acute"] == pytest.approx(100 * 50 / (80 * 32))


def test_occupancy_p95_is_the_time_weighted_percentile():
    log = make_log({1: stay(0, 100), 2: stay(0, 4)}, end=100, capacities={**CAPACITIES, "amu": 2})
    k = kpis(log)
    assert k["occupancy_p95_amu"] == pytest.approx(50.0)  # 2 of 2 only 4% of the time
    assert k["occupancy_mean_amu"] == pytest.approx(100 * 104 / 200)


def test_occupancy_is_relative_to_capacity_in_force():
    # 4 beds, 2 escalation beds open at t=50; 3 patients all the time.
    log = make_log(
        {i: stay(0, 100) for i in range(3)},
        end=100,
        capacities={**CAPACITIES, "amu": 4},
        capacity=[(50.0, "amu", 6)],
    )
    k = kpis(log)
    assert k["occupancy_mean_amu"] == pytest.approx(100 * 300 / (4 * 50 + 6 * 50))
    assert k["occupancy_p95_amu"] == pytest.approx(75.0)
    series = occupancy_series(log, units=["amu"], bin_hours=50)
    assert series["capacity"].tolist() == [4, 6]
    assert series["occupancy_pct"].tolist() == pytest.approx([75.0, 50.0])


def test_occupancy_series_bins_and_dates():
    log = make_log(
        {1: stay(6, 18), 2: stay(30, 42)},
        end=48,
        capacities={**CAPACITIES, "amu": 2},
        meta={"start_date": "2025-01-06"},
    )
    s = occupancy_series(log, bin_hours=24)
    amu = s[s["unit"] == "amu"]
    assert amu["occupied"].tolist() == pytest.approx([0.5, 0.5])
    assert amu["occupancy_pct"].tolist() == pytest.approx([25.0, 25.0])
    assert amu["start_time"].iloc[1] == pd.Timestamp("2025-01-07")
    assert GENERAL_ACUTE in set(s["unit"])


# ---------------------------------------------------------------- discharge and community


def test_delayed_discharge_and_community_wait():
    journey = (
        "0 ARRIVE gp_referral; 0 QUEUE ward:general; 0 START ward:general;"
        "24 OPTIMISED ward:general; 30 QUEUE p1; 48 START p1; 48 END ward:general;"
        "120 END p1; 120 DEPART P1"
    )
    log = make_log(
        {1: journey},
        end=96,
        capacities={**CAPACITIES, "ward:general": 6, "ward:care_of_elderly": 4},
    )
    d = EventFrame(log).delays
    assert d[["start", "end"]].values.tolist() == [[24, 48]]
    k = kpis(log)
    assert k["delayed_patients_mean"] == pytest.approx(24 / 96)
    assert k["delayed_share_of_ward_beds"] == pytest.approx(100 * (24 / 96) / 10)
    assert k["delayed_days_mean"] == pytest.approx(1.0)
    assert k["community_wait_mean_p1"] == pytest.approx(18 / 24)
    assert k["occupancy_mean_p1"] == pytest.approx(100 * 48 / 96 / 10)


def test_delay_still_running_at_end_counts_up_to_the_end():
    journey = "0 ARRIVE gp_referral; 0 QUEUE ward:general; 0 START ward:general;" + (
        "72 OPTIMISED ward:general; 72 QUEUE p3"
    )
    k = kpis(make_log({1: journey}, end=96))
    assert k["delayed_patients_mean"] == pytest.approx(24 / 96)
    assert math.isnan(k["delayed_days_mean"])
    assert k["community_wait_mean_p3"] == pytest.approx(1.0)


def test_readmission_rate():
    day = 24.0
    stays = {
        1: stay(0, 2 * day, "ward:general"),  # readmitted 10 days later
        2: stay(0, 3 * day, "ward:general"),  # not readmitted
        3: stay(0, 4 * day, "ward:general"),  # readmitted 40 days later: outside the window
        4: stay(1 * day, 5 * day, "ward:general").replace("DEPART home", "DEPART died"),
        5: stay(12 * day, 13 * day, "amu"),
        6: stay(44 * day, 45 * day, "amu"),
        7: stay(61 * day, 62 * day, "amu"),  # discharged too late to observe its 30 days
        8: stay(65 * day, 66 * day, "amu"),
    }
    log = make_log(
        stays,
        end=90 * day,
        patients={5: {"readmission_of": 1}, 6: {"readmission_of": 3}, 8: {"readmission_of": 7}},
    )
    k = kpis(log)
    # index discharges alive in [0, 60 days): 1, 2, 3, 5, 6; readmitted within 30 days: 1
    assert k["readmission_rate"] == pytest.approx(100 / 5)
    assert k["deaths_in_hospital"] == pytest.approx(1 / 90)


def test_admissions_avoided():
    ucr_home = "0 ARRIVE ambulance; 0 QUEUE ucr; 0 START ucr; 2 END ucr; 2 DEPART ucr_home"
    ucr_vw = (
        "1 ARRIVE ambulance; 1 QUEUE ucr; 1 START ucr; 3 QUEUE virtual_ward; 3 START virtual_ward;"
        "3 END ucr; 40 END virtual_ward; 40 DEPART virtual_ward_home"
    )
    vw_then_admitted = (
        "2 ARRIVE ambulance; 2 QUEUE ucr; 2 START ucr; 4 QUEUE virtual_ward;"
        "4 START virtual_ward; 4 END ucr; 10 QUEUE amu; 10 START amu; 10 END virtual_ward;"
        "30 END amu; 30 DEPART home"
    )
    sdec_home = "5 ARRIVE gp_referral; 5 QUEUE sdec; 5 START sdec; 9 END sdec; 9 DEPART home"
    sdec_admitted = (
        "6 ARRIVE walk_in; 6 QUEUE ed_cubicle; 6 START ed_cubicle; 7 QUEUE sdec; 7 START sdec;"
        "7 END ed_cubicle; 9 QUEUE amu; 9 START amu; 9 END sdec; 33 END amu; 33 DEPART home"
    )
    ed_home_with_ucr = (
        "8 ARRIVE walk_in; 8 QUEUE ed_cubicle; 8 START ed_cubicle; 10 QUEUE ucr; 10 START ucr;"
        "10 END ed_cubicle; 12 END ucr; 12 DEPART ucr_home"
    )
    log = make_log(
        {
            1: ucr_home,
            2: ucr_vw,
            3: vw_then_admitted,
            4: sdec_home,
            5: sdec_admitted,
            6: ed_home_with_ucr,
        },
        end=48,
    )
    k = kpis(log)
    assert k["admissions_avoided_ucr"] == pytest.approx(2 / 2)
    assert k["admissions_avoided_sdec"] == pytest.approx(1 / 2)
    assert k["admissions_avoided_virtual_ward"] == pytest.approx(1 / 2)
    assert k["admissions"] == pytest.approx(2 / 2)
    # Patient 5 was admitted from ED via SDEC: counted as an ED conversion, not a boarder.
    assert k["ed_conversion"] == pytest.approx(50.0)
    assert math.isnan(k["ed_boarding_mean"])


def test_virtual_ward_patient_admitted_after_all_was_not_avoided():
    # As the model does it: the step-up patient leaves the virtual ward and re-presents as a
    # new arrival naming them in readmission_of; one is admitted, one goes home from ED.
    def vw(t0: float) -> str:
        return (
            f"{t0} ARRIVE ambulance; {t0} QUEUE ucr; {t0} START ucr; {t0 + 1} QUEUE virtual_ward;"
            f"{t0 + 1} START virtual_ward; {t0 + 1} END ucr; {t0 + 20} END virtual_ward;"
            f"{t0 + 20} DEPART virtual_ward_home"
        )

    admitted = (
        "21 ARRIVE ambulance; 21 QUEUE ed_cubicle; 21 START ed_cubicle; 21 HANDOVER ed_cubicle;"
        "23 QUEUE amu; 23 START amu; 23 END ed_cubicle; 40 END amu; 40 DEPART home"
    )
    log = make_log(
        {1: vw(1), 2: vw(2), 3: admitted, 4: ed(22, 2, route="ambulance")},
        end=48,
        patients={3: {"readmission_of": 1}, 4: {"readmission_of": 2}},
    )
    k = kpis(log)
    assert k["admissions_avoided_virtual_ward"] == pytest.approx(1 / 2)
    assert k["admissions_avoided_ucr"] == pytest.approx(1 / 2)


def test_abandoned_queue_ends_when_the_patient_queues_elsewhere():
    divert = (
        "0 ARRIVE gp_referral; 0 QUEUE afu; 2 QUEUE amu; 3 START amu; 10 END amu; 10 DEPART home"
    )
    ef = EventFrame(make_log({1: divert}, end=24))
    q = ef.queues.set_index("unit")
    assert q.loc["afu", "left"] == 2 and math.isnan(q.loc["afu", "start"])
    assert ef.queue_steps("afu").area(0, 24) == pytest.approx(2.0)
    assert ef.queue_steps("amu").area(0, 24) == pytest.approx(1.0)


# ---------------------------------------------------------------- shape of the output


def test_empty_log_gives_every_kpi_without_error():
    df = compute_kpis(make_log({}, end=24))
    assert set(PRIMARY_KPIS) <= set(df["kpi"])
    assert df.loc[df["kpi"] == "ed_attendances", "value"].item() == 0
    assert math.isnan(df.loc[df["kpi"] == "ed_within_4h", "value"].item())


def test_a_log_with_no_measured_period_is_refused_clearly():
    with pytest.raises(ValueError, match="end_hours"):
        compute_kpis(make_log({1: ed(0, 3)}, warm_up=24, end=24))


def test_kpi_order_and_units_are_stable():
    a = compute_kpis(make_log({1: ed(0, 3)}, end=24))
    b = compute_kpis(make_log({1: stay(0, 30, "ward:general"), 2: ed(3, 9)}, end=96))
    assert a["kpi"].tolist() == b["kpi"].tolist()
    assert a["unit"].tolist() == [kpi_unit(k) for k in a["kpi"]]
    assert a.set_index("kpi").loc["ed_within_4h", "unit"] == "%"
    assert a.set_index("kpi").loc["handover_mean", "unit"] == "minutes"


def test_events_and_patients_are_decoded():
    ef = EventFrame(make_log({1: ed(0, 3, route="ambulance", outcome="virtual_ward")}, end=24))
    assert ef.events["kind"].tolist()[:2] == ["ARRIVE", "QUEUE"]
    assert ef.events["place"].tolist()[:2] == ["ambulance", "ed_cubicle"]
    p = ef.patients.iloc[0]
    assert (p["route"], p["age_band"], p["frailty"]) == ("ambulance", "85+", "fit")
    assert (p["arrival"], p["depart"], p["outcome"]) == (0, 3, "virtual_ward")


# ---------------------------------------------------------------- synthetic logs


def synthetic_log(
    n: int, rate_per_hour: float, seed: int = 1, warm_up: float = 24 * 60
) -> tuple[EventLog, dict[str, float]]:
    """A random log of ED attendances, some admitted via AMU to a ward and out via P1 (no
    capacity limits), built with numpy; returns the log and the parameters used."""
    rng = np.random.default_rng(seed)
    arrive = np.cumsum(rng.exponential(1 / rate_per_hour, n))
    pid = np.arange(n)
    amb = rng.random(n) < 0.25
    handover = np.where(amb, rng.exponential(0.5, n), 0.0)
    cubicle = arrive + handover
    assess = cubicle + rng.exponential(0.5, n)
    assessed = assess + rng.exponential(0.3, n)
    admit = rng.random(n) < 0.3
    decide = assessed + rng.exponential(1.0, n)
    leave_ed = decide + np.where(admit, rng.exponential(4.0, n), 0.0)
    amu_stay = 24 * rng.exponential(1.0, n)
    to_ward = rng.random(n) < 0.6
    ward_start = leave_ed + amu_stay
    ward_stay = 24 * rng.exponential(6.0, n)
    optimised = ward_start + ward_stay
    p1_start = optimised + 24 * rng.exponential(1.5, n)
    p1_end = p1_start + 24 * rng.exponential(10.0, n)
    code = PLACES.index
    rows = []  # (time, patient, kind, place, mask)

    def add(t, kind, place, mask=True):
        m = np.broadcast_to(mask, (n,))
        rows.append((t[m], pid[m], np.full(m.sum(), int(kind)), np.full(m.sum(), code(place))))

    add(arrive, Kind.ARRIVE, "ambulance", amb)
    add(arrive, Kind.ARRIVE, "walk_in", ~amb)
    add(arrive, Kind.QUEUE, "ed_cubicle")
    add(cubicle, Kind.HANDOVER, "ed_cubicle", amb)
    add(cubicle, Kind.START, "ed_cubicle")
    add(cubicle, Kind.QUEUE, "ed_clinician")
    add(assess, Kind.START, "ed_clinician")
    add(assessed, Kind.END, "ed_clinician")
    add(decide, Kind.QUEUE, "amu", admit)
    add(leave_ed, Kind.START, "amu", admit)
    add(leave_ed, Kind.END, "ed_cubicle")
    add(leave_ed, Kind.DEPART, "home", ~admit)
    home_from_amu = admit & ~to_ward
    add(ward_start, Kind.END, "amu", home_from_amu)
    add(ward_start, Kind.DEPART, "home", home_from_amu)
    ward = admit & to_ward
    add(ward_start, Kind.QUEUE, "ward:general", ward)
    add(ward_start, Kind.START, "ward:general", ward)
    add(ward_start, Kind.END, "amu", ward)
    add(optimised, Kind.OPTIMISED, "ward:general", ward)
    add(optimised, Kind.QUEUE, "p1", ward)
    add(p1_start, Kind.START, "p1", ward)
    add(p1_start, Kind.END, "ward:general", ward)
    add(p1_end, Kind.END, "p1", ward)
    add(p1_end, Kind.DEPART, "P1", ward)

    t, p, k, u = (np.concatenate(c) for c in zip(*rows, strict=True))
    seq = np.arange(len(t))  # within a patient, the order of `add` calls is the causal order
    order = np.lexsort((seq, p, t))
    end = float(arrive[-1])
    keep = t[order] <= end
    order = order[keep]
    events = list(
        zip(t[order].tolist(), p[order].tolist(), k[order].tolist(), u[order].tolist(), strict=True)
    )
    patients = [
        (i, 0, 3, 1, 5, 3, ROUTES.index("ambulance" if a else "walk_in"), -1)
        for i, a in enumerate(amb.tolist())
    ]
    log = EventLog(
        places=list(PLACES),
        population_places=["Nottingham City"],
        warm_up_hours=warm_up,
        end_hours=end,
        capacities={**CAPACITIES, "amu": 1000, "ward:general": 10000, "p1": 10000},
        events=events,
        patients=patients,
    )
    params = {"rate": rate_per_hour, "admit": 0.3, "amu_hours": 24.0, "ward_share": 0.6}
    return log, params


def test_littles_law_on_a_random_log():
    log, par = synthetic_log(60_000, rate_per_hour=8.0, seed=7)
    ef = EventFrame(log)
    w, e = ef.warm_up, ef.end
    k = dict(zip(*compute_kpis(ef)[["kpi", "value"]].to_numpy().T, strict=True))
    # Exact: time-weighted occupancy is the sum of stay overlaps with the window.
    st = ef.stays[ef.stays["unit"] == "amu"]
    held = np.clip(st["end"].fillna(e), w, e) - np.clip(st["start"], w, e)
    occupancy = k["occupancy_mean_amu"] / 100 * 1000
    assert occupancy == pytest.approx(held.sum() / (e - w), rel=1e-9)
    # Little: L = lambda * W, with lambda and W estimated from the same log...
    done = st[(st["start"] >= w) & ~st["censored"]]
    lam = ((st["start"] >= w) & (st["start"] < e)).sum() / (e - w)
    assert occupancy == pytest.approx(lam * (done["end"] - done["start"]).mean(), rel=0.05)
    # ... and with the known parameters.
    assert occupancy == pytest.approx(par["rate"] * par["admit"] * par["amu_hours"], rel=0.08)
    assert k["ed_attendances"] == pytest.approx(24 * par["rate"], rel=0.05)
    assert k["admissions"] == pytest.approx(24 * par["rate"] * par["admit"], rel=0.05)
    assert k["ed_conversion"] == pytest.approx(100 * par["admit"], abs=2)
    assert k["handover_mean"] == pytest.approx(30, rel=0.08)
    assert k["ed_boarding_mean"] == pytest.approx(4.0, rel=0.08)
    assert k["ed_time_mean"] == pytest.approx(0.25 * 0.5 + 0.5 + 0.3 + 1.0 + 0.3 * 4, rel=0.05)
    # Ward: every ward patient is delayed from OPTIMISED until P1 starts (mean 1.5 days).
    assert k["delayed_days_mean"] == pytest.approx(1.5, rel=0.1)
    assert k["community_wait_mean_p1"] == pytest.approx(1.5, rel=0.1)
    assert k["los_mean_amu"] == pytest.approx(1.0, rel=0.05)


def test_a_large_log_is_processed_quickly():
    log, _ = synthetic_log(40_000, rate_per_hour=25.0, seed=3, warm_up=24.0)
    started = time.perf_counter()
    compute_kpis(log)
    elapsed = time.perf_counter() - started
    assert len(log.events) > 400_000
    assert elapsed < 5.0, f"{len(log.events)} events took {elapsed:.1f} s"


# ---------------------------------------------------------------- across replications


def test_summarise_matches_student_t():
    values = [52.0, 55.5, 49.0, 58.25, 50.5]
    df = pd.DataFrame(
        {
            "kpi": ["ed_within_4h"] * 5 + ["admissions"] * 5,
            "unit": ["%"] * 5 + ["per day"] * 5,
            "replication": list(range(5)) * 2,
            "value": values + [100.0] * 5,
        }
    )
    s = summarise(df).set_index("kpi")
    assert list(s.columns) == ["unit", "mean", "ci_low", "ci_high", "n"]
    low, high = stats.t.interval(
        0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values)
    )
    assert s.loc["ed_within_4h", "mean"] == pytest.approx(np.mean(values))
    assert s.loc["ed_within_4h", "ci_low"] == pytest.approx(low)
    assert s.loc["ed_within_4h", "ci_high"] == pytest.approx(high)
    assert s.loc["ed_within_4h", "n"] == 5
    assert s.loc["admissions", "ci_low"] == s.loc["admissions", "ci_high"] == 100.0
    assert s.index.tolist() == ["ed_within_4h", "admissions"]


def test_summarise_single_replication_and_missing_values():
    df = pd.DataFrame(
        {
            "kpi": ["los_mean", "readmission_rate", "readmission_rate"],
            "unit": ["days", "%", "%"],
            "value": [9.0, math.nan, 12.0],
        }
    )
    s = summarise(df).set_index("kpi")
    assert s.loc["los_mean", "mean"] == 9.0 and s.loc["los_mean", "n"] == 1
    assert math.isnan(s.loc["los_mean", "ci_low"]) and math.isnan(s.loc["los_mean", "ci_high"])
    assert s.loc["readmission_rate", "n"] == 1


def test_a_real_model_log():
    """The contract with the model: its log decodes, and tables agree with occupancy."""
    from pathlib import Path

    import yaml

    from flowsim.model.build import simulate
    from flowsim.scenario.schema import Scenario

    path = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.yaml"
    scenario = Scenario.model_validate(yaml.safe_load(path.read_text()))
    log = simulate(scenario, 0, horizon_days=6, warm_up_days=4)
    ef = EventFrame(log)
    k = dict(zip(*compute_kpis(ef)[["kpi", "value"]].to_numpy().T, strict=True))
    for name in PRIMARY_KPIS:
        assert np.isfinite(k[name]), name
    w, e = ef.warm_up, ef.end
    for unit in ef.units:
        if unit not in log.capacities or log.capacities[unit] == 0:
            continue
        st = ef.stays[ef.stays["unit"] == unit]
        held = (np.clip(st["end"].fillna(e), w, e) - np.clip(st["start"], w, e)).sum()
        assert ef.occupancy_steps(unit).area(w, e) == pytest.approx(held, rel=1e-9, abs=1e-6)
        assert (ef.occupancy_steps(unit).levels >= 0).all()
    visits = ef.ed_visits
    assert (visits["time_in_ed"] >= 0).all() and (visits["handover_wait"].dropna() >= 0).all()
    assert (ef.spells["los_days"].dropna() >= 0).all()
