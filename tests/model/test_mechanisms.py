"""One direct test per pathway mechanism, on the value of its setting, not only on its firing.

Each test starts from `validation.helpers.isolated_system` (one segment, flat demand, an ED that
takes no time, one ward ``ward:erlang``, everything else off), switches on the one mechanism it
is about with a value chosen to be visible in the log, and checks that value from the event log
(times, places, who went first). The runs are a few simulated weeks of a small system, well under
a second each. ``scripts/mutate.py`` breaks each mechanism in turn to show these tests notice.

The run starts on Monday 6 January 2025 at midnight: hour ``t`` is weekday ``(t // 24) % 7``
(0 = Monday) at hour of day ``t % 24``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pytest
from scipy import stats

from flowsim.log import EventLog
from flowsim.model.build import simulate
from flowsim.model.warm_start import remaining_stays
from flowsim.random import stream
from flowsim.scenario import scenario_from_dict
from flowsim.scenario.distributions import Uniform
from helpers.model_helpers import (
    ARRIVE,
    DEPART,
    END,
    HANDOVER,
    OPTIMISED,
    QUEUE,
    START,
    held_and_waiting,
)
from validation.helpers import WARD, isolated_system, per_band

EPS = 1e-9


def fixed(value: float) -> dict[str, object]:
    return {"dist": "fixed", "value": value}


def exponential(mean: float) -> dict[str, object]:
    return {"dist": "exponential", "mean": mean}


@dataclass
class Journeys:
    """The log as each patient's events by place: ``at[pid][(kind, place)]`` -> times."""

    log: EventLog
    at: dict[int, dict[tuple[int, str], list[float]]] = field(default_factory=dict)
    order: list[tuple[float, int, int, str]] = field(default_factory=list)

    @classmethod
    def of(cls, log: EventLog) -> Journeys:
        j = cls(log)
        names = log.places
        for t, pid, kind, code in log.events:
            j.at.setdefault(pid, defaultdict(list))[(kind, names[code])].append(t)
            j.order.append((t, pid, kind, names[code]))
        return j

    def first(self, pid: int, kind: int, place: str) -> float | None:
        times = self.at[pid].get((kind, place))
        return times[0] if times else None

    def times(self, kind: int, place: str) -> list[float]:
        return [t for t, _, k, w in self.order if k == kind and w == place]

    def acuity(self) -> dict[int, int]:
        return {row[0]: row[5] for row in self.log.patients}


def run(data: dict, seed: int = 1) -> Journeys:
    return Journeys.of(simulate(scenario_from_dict(data, "mechanism test"), 0, seed=seed))


def hour_of_day(t: float) -> float:
    return t % 24.0


def weekday(t: float) -> int:
    return int(t // 24.0) % 7


def binomial_ok(successes: int, n: int, p: float, z: float = 4.0) -> bool:
    """``successes`` of ``n`` is within ``z`` binomial standard errors of share ``p``."""
    return abs(successes - n * p) <= z * math.sqrt(n * p * (1 - p)) + 1


# ---------------------------------------------------------------- SDEC


def sdec_system(open_weekends: bool) -> dict:
    data = isolated_system("sdec hours", 3.0, route="gp_referral", horizon_days=14, warm_up_days=0)
    data["sdec"].update(
        chairs=1000,
        gp_direct_share=1.0,
        open_hour=9.0,
        close_hour=17.0,
        open_weekends=open_weekends,
        stay_hours=fixed(1.0),
        admit_share=per_band(0.0),
    )
    return data


@pytest.mark.parametrize("open_weekends", [False, True])
def test_sdec_takes_gp_referrals_only_in_its_hours(open_weekends: bool) -> None:
    j = run(sdec_system(open_weekends))
    starts = j.times(START, "sdec")
    assert len(starts) > 200
    assert all(9.0 <= hour_of_day(t) < 17.0 for t in starts)
    # Open for the whole window: some start in its first and in its last hour.
    assert min(hour_of_day(t) for t in starts) < 10.0
    assert max(hour_of_day(t) for t in starts) >= 16.0
    weekend_starts = [t for t in starts if weekday(t) >= 5]
    assert bool(weekend_starts) is open_weekends
    # Everyone referred while it is open goes there at once; the others go through ED.
    for pid, events in j.at.items():
        arrived = events[(ARRIVE, "gp_referral")][0]
        opened = 9.0 <= hour_of_day(arrived) < 17.0 and (open_weekends or weekday(arrived) < 5)
        assert bool(events.get((START, "sdec"))) is opened, (pid, arrived)
        assert bool(events.get((QUEUE, "ed_cubicle"))) is not opened, (pid, arrived)
        if opened and arrived < j.log.end_hours - 1:
            # admit_share 0: home from SDEC after exactly its stay of an hour, never admitted.
            assert events[(END, "sdec")][0] - arrived == pytest.approx(1.0)
            assert not events.get((QUEUE, WARD)) and events.get((DEPART, "home"))


# ---------------------------------------------------------------- discharge window


def discharge_system(weekend_factor: float, *, horizon_days: float = 28) -> dict:
    data = isolated_system("window", 4.0, horizon_days=horizon_days, warm_up_days=0)
    data["wards"]["erlang"]["los_days"] = per_band(exponential(0.7))
    data["discharge"].update(
        window_start_hour=10, window_end_hour=16, weekend_discharge_factor=weekend_factor
    )
    return data


def ready_and_left(j: Journeys) -> list[tuple[float, float]]:
    """(medically optimised, left for home) of everyone who left."""
    out = []
    for events in j.at.values():
        ready, left = events.get((OPTIMISED, WARD)), events.get((DEPART, "P0"))
        if ready and left:
            out.append((ready[0], left[0]))
    return out


def test_discharges_leave_in_the_window_at_its_first_chance() -> None:
    pairs = ready_and_left(run(discharge_system(1.0)))
    assert len(pairs) > 1000
    for ready, left in pairs:
        h = hour_of_day(ready)
        if 10 <= h < 16:
            expected = ready
        elif h < 10:
            expected = ready - h + 10
        else:
            expected = ready - h + 24 + 10
        assert left == pytest.approx(expected, abs=EPS), (ready, left)
    hours = [hour_of_day(left) for _, left in pairs]
    assert max(hours) > 15.5  # the window really is open until 16:00 ...
    assert sum(abs(h - 10.0) < EPS for h in hours) > 100  # ... and opens at 10:00


def test_weekend_factor_is_the_share_who_still_leave_at_weekends() -> None:
    """Of patients whose first chance falls at a weekend, the factor's share leave then; the rest
    wait for Monday's window."""
    for factor in (0.0, 0.3):
        pairs = ready_and_left(run(discharge_system(factor, horizon_days=56)))
        first_chance_at_weekend = [
            (r, x) for r, x in pairs if weekday(r) == 5 or (weekday(r) == 6 and hour_of_day(r) < 16)
        ]
        # Not the last weekend: its patients who wait for Monday leave after the run ends.
        weekend_ready = [(r, x) for r, x in first_chance_at_weekend if r < 52 * 24]
        at_weekend = sum(weekday(x) >= 5 for _, x in weekend_ready)
        on_monday = sum(
            weekday(x) == 0 and x - r < 72 and hour_of_day(x) == pytest.approx(10)
            for r, x in weekend_ready
        )
        assert at_weekend + on_monday == len(weekend_ready) > 200
        assert binomial_ok(at_weekend, len(weekend_ready), factor), (factor, at_weekend)
        weekday_ready = [x for r, x in pairs if weekday(r) in (1, 2, 3)]
        assert all(weekday(x) in (1, 2, 3, 4) for x in weekday_ready)


# ---------------------------------------------------------------- escalation beds


def escalation_system() -> dict:
    data = isolated_system("escalation", 1.0, horizon_days=40, warm_up_days=0)
    # Busy afternoons, quiet nights: the ward fills each day and empties each night.
    data["demand_profile"]["hourly"] = [0.1] * 8 + [3.0] * 8 + [0.1] * 8
    data["wards"]["erlang"].update(
        beds=8,
        los_days=per_band(exponential(0.25)),
        escalation={
            "beds": 4,
            "open_above_occupancy": 1.0,
            "open_when_waiting": 2,
            "open_after_hours": 3.0,
            "close_below_occupancy": 0.5,
        },
    )
    return data


def ward_state(j: Journeys, t: float) -> tuple[int, int]:
    """(beds occupied, patients waiting) at ``WARD`` just before ``t``."""
    return held_and_waiting(j.log, WARD, t)


def test_escalation_beds_open_under_pressure_and_close_when_calm() -> None:
    j = run(escalation_system())
    ward = j.log.places.index(WARD)
    changes = [(t, c) for t, p, c in j.log.capacity if p == ward]
    opened = [t for t, c in changes if c == 12]
    closed = [t for t, c in changes if c == 8]
    assert {c for _, c in changes} <= {8, 12}
    assert len(opened) >= 10 and len(closed) >= 10
    for t in opened:  # 3 hourly checks in a row found it full with 2 or more waiting
        for k in range(3):
            occupied, waiting = ward_state(j, t - k)
            assert occupied >= 8 and waiting >= 2, (t, k, occupied, waiting)
    for t in closed:  # nobody waiting and under half full
        occupied, waiting = ward_state(j, t)
        assert waiting == 0 and occupied < 4, (t, occupied, waiting)
    # ... and it did close at the first hourly check that was calm.
    for t_open, t_close in zip(opened, closed, strict=False):
        for h in np.arange(t_open + 1, t_close):
            occupied, waiting = ward_state(j, h)
            assert waiting > 0 or occupied >= 4, (t_open, h)
    # The extra beds were used: more than 8 in the ward at some time.
    assert max(ward_state(j, t + 0.5)[0] for t in opened) > 8


# ---------------------------------------------------------------- readmission


def test_readmissions_come_back_within_the_window_at_the_given_rate() -> None:
    data = isolated_system("readmission", 1.0, horizon_days=60, warm_up_days=0)
    data["community"]["readmission"] = {"within_days": 10.0, "probability": {"P0": per_band(0.4)}}
    j = run(data)
    origin = {row[0]: row[7] for row in j.log.patients}
    back = {pid: was for pid, was in origin.items() if was >= 0}
    left = {pid: j.first(pid, DEPART, "P0") for pid in j.at}
    eligible = [pid for pid, t in left.items() if t is not None and t < j.log.end_hours - 240]
    returned = [pid for pid in eligible if pid in back.values()]
    assert binomial_ok(len(returned), len(eligible), 0.4), (len(returned), len(eligible))
    delays = []
    for pid, was in back.items():
        arrived = j.first(pid, ARRIVE, "walk_in")
        assert arrived is not None, "a readmission comes back by the same route"
        delays.append(arrived - left[was])
    assert min(delays) >= 0 and max(delays) <= 240
    # Uniform over the 10-day window: mean 5 days (sd 2.9 days).
    assert np.mean(delays) == pytest.approx(120, abs=4 * 69 / math.sqrt(len(delays)))


# ---------------------------------------------------------------- virtual ward step-down


@pytest.mark.parametrize("vw_places", [1000, 0])
def test_step_down_shortens_the_ward_stay_by_the_days_saved(vw_places: int) -> None:
    data = isolated_system("step-down", 0.5, horizon_days=20, warm_up_days=0)
    data["wards"]["erlang"]["los_days"] = per_band(fixed(5.0))
    data["community"]["virtual_ward"].update(
        capacity=vw_places,
        step_down_share=per_band(1.0),
        step_down_days_saved=2.0,
        duration_days=fixed(1.0),
    )
    j = run(data)
    stays = []
    for pid in j.at:
        began, ended = j.first(pid, START, WARD), j.first(pid, END, WARD)
        if began is not None and ended is not None:
            stays.append(ended - began)
            assert (j.first(pid, START, "virtual_ward") == ended) is (vw_places > 0)
    assert len(stays) > 100
    expected = 3 * 24.0 if vw_places else 5 * 24.0  # no place on the virtual ward: full stay
    assert stays == pytest.approx([expected] * len(stays))


def test_a_share_of_virtual_ward_patients_come_back_by_ambulance() -> None:
    data = isolated_system("virtual ward", 0.5, disposition="virtual_ward", horizon_days=40,
                           warm_up_days=0)  # fmt: skip
    data["community"]["virtual_ward"].update(
        capacity=1000, duration_days=fixed(2.0), admission_share=0.25
    )
    j = run(data)
    origin = {row[0]: row[7] for row in j.log.patients}
    went_home = [p for p, e in j.at.items() if e.get((DEPART, "virtual_ward_home"))]
    early = [p for p in went_home if j.first(p, DEPART, "virtual_ward_home") < j.log.end_hours - 1]
    back = [p for p, was in origin.items() if was in set(early)]
    assert all(j.first(p, ARRIVE, "ambulance") is not None for p in back)
    assert binomial_ok(len(back), len(early), 0.25), (len(back), len(early))


# ---------------------------------------------------------------- warm start with a census


@pytest.mark.parametrize(
    ("elapsed", "left_days"),
    [(fixed(2.0), 3.0), (fixed(6.0), 0.0)],
    ids=["two_of_five_days_gone", "past_every_stay"],
)
def test_warm_start_elapsed_days_set_what_is_left_of_a_fixed_stay(
    elapsed: dict, left_days: float
) -> None:
    data = isolated_system("census", 0.0001, horizon_days=10, warm_up_days=0)
    data["wards"]["erlang"]["los_days"] = per_band(fixed(5.0))
    data["amu"].update(beds=20, stay_hours=fixed(16.0), discharge_share=per_band(1.0))
    data["warm_start"] = {
        "wards": {"erlang": {"occupied": 30, "elapsed_days": elapsed}},
        "amu": {"occupied": 10, "elapsed_days": fixed(0.25)},
    }
    j = run(data)
    ready = j.times(OPTIMISED, WARD)
    assert len(ready) == 30
    assert ready == pytest.approx([left_days * 24.0] * 30)
    amu_done = j.times(END, "amu")
    assert amu_done == pytest.approx([16.0 - 6.0] * 10)


def test_remaining_stays_are_conditional_on_the_elapsed_time() -> None:
    """Uniform stays of 4-6 days, 5 days gone: what is left is uniform on 0-1 day."""
    spec = Uniform(dist="uniform", low=4.0, high=6.0)
    rng = stream(1, 0, "test/remaining")
    left = remaining_stays(spec, rng, 4000, np.full(4000, 5.0))
    assert left.min() > 0 and left.max() <= 1.0
    assert stats.kstest(left, "uniform").pvalue > 0.001
    # Without a census: half of a length-biased stay, E[X^2] / E[X] / 2 = (1/3 + 25) / 5 / 2.
    without = remaining_stays(spec, rng, 4000, None)
    assert without.mean() == pytest.approx((1 / 3 + 25) / 5 / 2, rel=0.05)


# ---------------------------------------------------------------- ED: triage, handover, corridor


def busy_ed(route: str, cubicles: int, arrivals_per_hour: float, **ed: object) -> dict:
    data = isolated_system("busy ED", arrivals_per_hour, route=route, horizon_days=4,
                           warm_up_days=0)  # fmt: skip
    data["ed"].update(cubicles=cubicles, treatment_hours=exponential(1.0), **ed)
    data["ed"]["crowding"] = None
    return data


def test_triage_categories_1_and_2_take_the_next_cubicle_first() -> None:
    j = run(busy_ed("walk_in", 2, 2.4))
    acuity = j.acuity()
    waiting: dict[int, float] = {}
    urgent_first = 0
    for t, pid, kind, where in j.order:
        if where != "ed_cubicle":
            continue
        if kind == QUEUE:
            waiting[pid] = t
        elif kind == START:
            queued = waiting.pop(pid)
            others = [(q, p) for p, q in waiting.items() if q < queued or acuity[p] <= 2]
            urgent_waiting = [(q, p) for q, p in others if acuity[p] <= 2]
            if acuity[pid] > 2:
                assert not urgent_waiting, (
                    f"category {acuity[pid]} started at {t} before {urgent_waiting}"
                )
            else:
                urgent_first += any(acuity[p] > 2 and q < queued for q, p in others)
            same_class = [q for q, p in others if (acuity[p] <= 2) == (acuity[pid] <= 2)]
            assert all(q >= queued for q in same_class), "first come, first served within a class"
    assert urgent_first > 20  # the priority was exercised: urgent patients overtook others


def test_clinicians_assess_only_in_the_hours_of_their_rota() -> None:
    """Hour h of the rota covers h:00 to h:59 of every day: a rota read an hour late would leave
    the waiting room an hour past the start of the shift."""
    data = busy_ed("walk_in", 1000, 3.0)
    rota = [0] * 24
    rota[10] = 40
    data["ed"]["clinicians_by_hour"] = rota
    starts = run(data).times(START, "ed_clinician")
    assert {int(t // 24.0) for t in starts} == {0, 1, 2, 3}, "assessed on every day"
    assert all(10.0 <= hour_of_day(t) < 11.0 for t in starts)
    first = min(t for t in starts if t >= 24.0)
    assert first == pytest.approx(34.0), "the night's queue is seen as the shift begins"


def test_ambulances_hand_over_to_the_corridor_at_exactly_the_limit() -> None:
    j = run(busy_ed("ambulance", 2, 2.4, max_handover_minutes=45))
    corridor = cubicle_first = 0
    for events in j.at.values():
        queued = events[(QUEUE, "ed_cubicle")][0]
        if queued > j.log.end_hours - 1:
            continue
        started = events.get((START, "ed_cubicle"), [math.inf])[0]
        handed = events.get((HANDOVER, "corridor"))
        if started - queued > 0.75 + EPS:
            assert handed == pytest.approx([queued + 0.75]), (queued, started, handed)
            corridor += 1
        else:
            assert not handed
            cubicle_first += 1
    assert corridor > 20 and cubicle_first > 20


def test_boarders_move_to_the_corridor_at_exactly_the_threshold() -> None:
    data = isolated_system("corridor", 1.1, horizon_days=10, warm_up_days=0)
    data["ed"]["corridor_boarding_after_hours"] = 2.5
    data["ed"]["crowding"] = None
    data["wards"]["erlang"].update(beds=6, los_days=per_band(exponential(0.2)))
    j = run(data)
    moved = stayed = 0
    for events in j.at.values():
        asked = events.get((QUEUE, WARD))
        if not asked or asked[0] > j.log.end_hours - 3:
            continue
        got = events.get((START, WARD), [math.inf])[0]
        in_corridor = events.get((START, "corridor"))
        if got - asked[0] > 2.5 + EPS:
            assert in_corridor == pytest.approx([asked[0] + 2.5])
            assert events[(END, "ed_cubicle")] == pytest.approx([asked[0] + 2.5])
            moved += 1
        else:
            assert not in_corridor
            stayed += 1
    assert moved > 20 and stayed > 20


# ---------------------------------------------------------------- crowding


def test_crowding_sends_the_share_home_only_at_the_threshold() -> None:
    """The old boarding rule: from ``boarding_threshold`` boarders on, a share go home."""
    data = isolated_system("crowding", 1.5, horizon_days=30, warm_up_days=0)
    data["ed"]["crowding"] = {"boarding_threshold": 4, "admission_avoided_share": 0.4}
    data["wards"]["erlang"].update(beds=6, los_days=per_band(exponential(0.2)))
    j = run(data)
    board_start = {p: e[(QUEUE, WARD)][0] for p, e in j.at.items() if e.get((QUEUE, WARD))}
    board_end = {p: j.first(p, START, WARD) or math.inf for p in board_start}
    boarders = sorted((board_start[p], board_end[p]) for p in board_start
                      if board_end[p] > board_start[p])  # fmt: skip

    def boarding_at(t: float) -> int:
        return sum(a < t < b for a, b in boarders)

    sent_home = admitted_when_crowded = 0
    for events in j.at.values():
        decided = events.get((END, "ed_clinician"))
        if not decided or decided[0] > j.log.end_hours - 1:
            continue
        home = bool(events.get((DEPART, "home")))
        level = boarding_at(decided[0])
        if level < 4:
            assert not home, f"sent home at {decided[0]} with {level} boarding"
        else:
            sent_home += home
            admitted_when_crowded += not home
    n = sent_home + admitted_when_crowded
    assert n > 150
    assert binomial_ok(sent_home, n, 0.4), (sent_home, n)
