"""Conservation: every patient is accounted for, in one place at a time, and no unit is over-full.

One pass over each event log replays it patient by patient and unit by unit and checks the
contract of `flowsim.model.record` (see `check_log`). It runs on the small baseline for several
seeds and on congested variants that exercise every lever: the 45-minute handover rule, corridor
boarding, escalation beds, front-door frailty assessment, and community capacity cut so that
blocking reaches the ambulances.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field

import pytest

from flowsim.model.record import OUTCOMES, ROUTES, EventLog
from flowsim.scenario import Scenario
from model_helpers import (
    ARRIVE,
    DEPART,
    END,
    HANDOVER,
    OPTIMISED,
    QUEUE,
    RESERVE,
    START,
    run,
    small_scenario,
)

COMMUNITY_PLACES = frozenset({"p1", "p2", "p3"})
STAFF = frozenset({"ed_clinician", "frailty_team"})
"""Units that attend a patient who is somewhere else (a clinician, a frailty practitioner)."""


@dataclass
class _Patient:
    arrived: float
    last_time: float
    departed: bool = False
    held: Counter[str] = field(default_factory=Counter)
    queued: Counter[str] = field(default_factory=Counter)
    handovers_this_visit: int = 0
    reserved: dict[str, float] = field(default_factory=dict)

    def places(self) -> list[str]:
        return [u for u, n in self.held.items() for _ in range(n) if u not in STAFF]


@dataclass
class Report:
    """What one replayed log contained, for assertions beyond the invariants."""

    arrived: int = 0
    departed: int = 0
    in_system: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    starts: Counter[str] = field(default_factory=Counter)
    full_at_start: Counter[str] = field(default_factory=Counter)
    corridor_handovers: int = 0
    corridor_boarders: int = 0
    capacity_changes: int = 0


def turnaround_hours(s: Scenario) -> dict[str, float]:
    out = {"amu": s.amu.turnaround_hours, "afu": s.afu.turnaround_hours}
    out.update({f"ward:{name}": w.turnaround_hours for name, w in s.wards.items()})
    return out


def check_log(log: EventLog, turnaround: dict[str, float]) -> Report:
    """Replay ``log`` and assert the event-log contract; return what was seen.

    Per patient: ARRIVE first and once, DEPART last and at most once; every START follows a QUEUE
    at the same unit and every END a START; time never goes back; between two instants the
    patient holds at most one place (staff who attend them aside): a move is START of the new
    place and END of the old at the same time, and a boarder leaves the cubicle for a corridor
    space at the instant they take it; an arrived patient is always somewhere (holding a place or
    queueing for one) until DEPART, and holds and waits for nothing after it. Per unit: at every
    START, places held plus beds still being cleaned never exceed the capacity in force.
    """
    name = log.places
    rep = Report()
    patients: dict[int, _Patient] = {}
    capacity = dict(log.capacities)
    changes = deque(sorted(log.capacity, key=lambda c: c[0]))
    rep.capacity_changes = len(changes)
    held_in: Counter[str] = Counter()
    cleaning: dict[str, deque[float]] = defaultdict(deque)
    now = 0.0

    def settle(pid: int, p: _Patient) -> None:
        """The patient's state after all their events at one instant."""
        where = f"patient {pid} at t={p.last_time:.4f}"
        if p.departed:
            assert not +p.held, f"{where}: departed still holding {dict(+p.held)}"
            assert not +p.queued, f"{where}: departed still queueing for {dict(+p.queued)}"
            return
        places = p.places()
        assert len(places) <= 1, f"{where}: holds {p.places()} at once"
        assert +p.held or +p.queued, f"{where}: arrived, not departed, but nowhere"

    for t, pid, kind, code in log.events:
        assert t >= now, f"time went back from {now} to {t} (patient {pid})"
        assert 0.0 <= t <= log.end_hours
        now = t
        place = name[code]
        p = patients.get(pid)
        if kind == ARRIVE:
            assert p is None, f"patient {pid}: a second ARRIVE at t={t}"
            assert place in ROUTES, f"patient {pid}: ARRIVE at {place!r}, not a route"
            patients[pid] = _Patient(arrived=t, last_time=t)
            rep.arrived += 1
            continue
        assert p is not None, f"patient {pid}: {kind=} at {place} before ARRIVE"
        assert not p.departed, f"patient {pid}: event {kind} at {place} after DEPART"
        if t > p.last_time:
            settle(pid, p)
            p.last_time = t

        if kind == QUEUE:
            assert p.queued[place] == 0, f"patient {pid}: queues twice for {place}"
            p.queued[place] += 1
            if place == "ed_cubicle":
                p.handovers_this_visit = 0
        elif kind == START:
            assert p.queued[place] == 1, f"patient {pid}: START {place} at t={t} without QUEUE"
            p.queued[place] -= 1
            p.held[place] += 1
            if place == "corridor":
                assert p.held["ed_cubicle"] == 1, f"patient {pid}: corridor space not from ED"
                rep.corridor_boarders += 1
            held_in[place] += 1
            rep.starts[place] += 1
            if place in capacity:
                while changes and changes[0][0] < t:
                    _, c, value = changes.popleft()
                    capacity[name[c]] = value
                allowed = capacity[place]
                for ct, c, value in changes:
                    if ct > t:
                        break
                    if name[c] == place:  # a change at this very instant: either order is fair
                        allowed = max(allowed, value)
                q = cleaning[place]
                while q and q[0] <= t:
                    q.popleft()
                in_use = held_in[place] + len(q)
                assert in_use <= allowed, (
                    f"{place} at t={t}: {held_in[place]} held + {len(q)} being cleaned "
                    f"> capacity {allowed}"
                )
                rep.full_at_start[place] += in_use == allowed
        elif kind == END:
            assert p.held[place] >= 1, f"patient {pid}: END {place} at t={t} without START"
            p.held[place] -= 1
            held_in[place] -= 1
            if turnaround.get(place, 0.0) > 0:
                cleaning[place].append(t + turnaround[place])
        elif kind == HANDOVER:
            p.handovers_this_visit += 1
            assert p.handovers_this_visit == 1, f"patient {pid}: two handovers at one visit"
            if place == "corridor":
                assert p.queued["ed_cubicle"] == 1 and not p.held["ed_cubicle"], (
                    f"patient {pid}: corridor handover while not waiting for a cubicle"
                )
                rep.corridor_handovers += 1
            else:
                assert place == "ed_cubicle" and p.held["ed_cubicle"] == 1, (
                    f"patient {pid}: HANDOVER at {place} without a cubicle"
                )
        elif kind == RESERVE:
            assert place in COMMUNITY_PLACES and p.queued[place] == 1, (
                f"patient {pid}: RESERVE {place} without queueing for it"
            )
            assert p.reserved.get(place) is None, f"patient {pid}: reserves {place} twice"
            p.reserved[place] = t
        elif kind == OPTIMISED:
            assert place.startswith("ward:") and p.held[place] == 1, (
                f"patient {pid}: OPTIMISED at {place} without a bed there"
            )
        elif kind == DEPART:
            assert place in OUTCOMES, f"patient {pid}: DEPART to {place!r}, not an outcome"
            p.departed = True
            rep.departed += 1
            rep.outcomes[place] += 1
        else:  # pragma: no cover
            raise AssertionError(f"unknown event kind {kind}")

    for pid, p in patients.items():
        settle(pid, p)
        rep.in_system += not p.departed
    by_patient = sum((p.held for p in patients.values()), Counter())
    assert +held_in == +by_patient, "unit and patient views of who holds what disagree"

    described = [row[0] for row in log.patients]
    assert len(described) == len(set(described)), "a patient is described twice"
    assert set(described) == set(patients), "described patients and arrivals differ"
    return rep


def assert_conserved(log: EventLog, s: Scenario) -> Report:
    rep = check_log(log, turnaround_hours(s))
    assert rep.arrived > 0
    assert rep.arrived == rep.departed + rep.in_system
    assert rep.departed == sum(rep.outcomes.values())
    return rep


# ---------------------------------------------------------------- scenarios


def congested() -> Scenario:
    """A tenth of the population on a tenth of the capacity, with community capacity cut: beds
    block, ED boards in corridors, ambulances hit the 45-minute rule, escalation beds open."""
    return small_scenario(
        {
            "ed.max_handover_minutes": 45,
            "community.p1.capacity": 10,
            "community.p3.capacity": 6,
            "ed.front_door_frailty": {"assessors": 1, "admission_avoided_share": 0.2},
        },
        capacity_scale=0.1,
        horizon_days=60,
        warm_up_days=20,
    )


def boarding_in_cubicles() -> Scenario:
    """No full-capacity protocol: boarders keep their cubicle, so a full hospital fills ED."""
    return small_scenario(
        {"ed.corridor_boarding_after_hours": None, "community.p1.capacity": 12},
        capacity_scale=0.1,
        horizon_days=45,
        warm_up_days=15,
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_small_baseline_conserves_patients(seed: int) -> None:
    s = small_scenario(horizon_days=45, warm_up_days=15)
    rep = assert_conserved(run(s, seed=seed), s)
    assert rep.outcomes["home"] > 0 and rep.outcomes["P0"] > 0
    assert rep.outcomes["died"] > 0
    assert rep.starts["ward:general_medicine"] > 0


@pytest.mark.parametrize("seed", [11, 12])
def test_congested_system_conserves_patients_and_respects_capacity(seed: int) -> None:
    s = congested()
    rep = assert_conserved(run(s, seed=seed), s)
    # The levers the checks are about were really pulled.
    assert rep.corridor_handovers > 0, "no ambulance reached the maximum handover time"
    assert rep.corridor_boarders > 0, "no patient boarded in a corridor"
    assert rep.capacity_changes > 0
    for unit in ("ed_cubicle", "amu", "ward:general_medicine", "p1"):
        assert rep.full_at_start[unit] > 0, f"{unit} never filled up"
    assert rep.starts["frailty_team"] > 0


def test_boarding_in_cubicles_conserves_patients() -> None:
    s = boarding_in_cubicles()
    rep = assert_conserved(run(s, seed=5), s)
    assert rep.corridor_boarders == 0
    assert rep.full_at_start["ed_cubicle"] > 0


def test_checker_catches_a_patient_in_two_beds() -> None:
    """The checker itself: a log with a patient holding two wards at once fails."""
    s = small_scenario(horizon_days=3, warm_up_days=0)
    log = run(s, seed=1)
    ward = log.places.index("ward:general_medicine")
    amu = log.places.index("amu")
    bad = EventLog(
        places=log.places,
        population_places=log.population_places,
        warm_up_hours=0.0,
        end_hours=10.0,
        capacities=log.capacities,
        events=[
            (0.0, 0, ARRIVE, log.places.index("walk_in")),
            (0.0, 0, QUEUE, amu),
            (0.0, 0, START, amu),
            (1.0, 0, QUEUE, ward),
            (1.0, 0, START, ward),
        ],
        patients=[(0, 0, 0, 0, 3, 3, 1, -1)],
    )
    with pytest.raises(AssertionError, match="holds"):
        check_log(bad, {})


def test_community_place_starts_as_the_ward_bed_ends() -> None:
    """A move to a community service is a move like any other: START of the new place and END of
    the old at the same instant (the place is reserved earlier, off the log)."""
    s = small_scenario(horizon_days=45, warm_up_days=15)
    log = run(s, seed=1)
    started: dict[int, float] = {}
    gaps = []
    for t, pid, kind, code in log.events:
        place = log.places[code]
        if kind == START and place in COMMUNITY_PLACES:
            started[pid] = t
        elif kind == END and place.startswith("ward:") and pid in started:
            gaps.append(t - started.pop(pid))
    assert gaps, "no one went home with community support"
    overlapping = [g for g in gaps if g > 0]
    assert not overlapping, (
        f"{len(overlapping)} of {len(gaps)} patients held a community place and a ward bed at "
        f"once, for {max(overlapping):.1f} h at most"
    )
