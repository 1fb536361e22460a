"""The event-log contract of `flowsim.log`, as one replay that checks it all.

`check_log` replays a log patient by patient and unit by unit: conservation, one place at a
time, capacity in force, time order. The conservation tests run it on the small baseline and its
congested variants, the property tests on generated scenarios.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field

from flowsim.log import OUTCOMES, ROUTES, EventLog
from flowsim.scenario import Scenario
from helpers.model_helpers import ARRIVE, DEPART, END, HANDOVER, OPTIMISED, QUEUE, RESERVE, START

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


def scenario_capacities(s: Scenario) -> dict[str, int]:
    """Each unit's capacity at time 0, read from the scenario here and not from the model (or
    the unit catalogue it uses), so a model that gives a unit another unit's beds is caught."""
    fdf = s.ed.front_door_frailty
    out = {
        "ucr": s.ucr.teams,
        "ed_cubicle": s.ed.cubicles,
        "ed_clinician": s.ed.clinicians_by_hour[0],
        "frailty_team": fdf.assessors if fdf else 0,
        "sdec": s.sdec.chairs,
        "amu": s.amu.beds,
        "afu": s.afu.beds,
        "p1": s.community.p1.capacity,
        "p2": s.community.p2.capacity,
        "p3": s.community.p3.capacity,
        "virtual_ward": s.community.virtual_ward.capacity,
    }
    out.update({f"ward:{name}": w.beds for name, w in s.wards.items()})
    return out


def escalation_beds(s: Scenario) -> dict[str, set[int]]:
    """Extra places each unit may have open at once: its escalation beds (ED: its escalation
    spaces), and on a ward group also the full-capacity protocol's share, each open or not."""
    fcp = s.pressure.full_capacity_protocol if s.pressure is not None else None
    out = {
        "ed_cubicle": {0, s.ed.escalation.beds},
        "amu": {0, s.amu.escalation.beds},
        "afu": {0, s.afu.escalation.beds},
    }
    for name, w in s.wards.items():
        protocol = round(fcp.extra_share_of_beds * w.beds) if fcp is not None else 0
        out[f"ward:{name}"] = {e + p for e in (0, w.escalation.beds) for p in (0, protocol)}
    return out


def assert_capacities_allowed(log: EventLog, s: Scenario) -> None:
    """The model's capacities are the scenario's: at time 0 every unit's, and every change is the
    clinician rota of that hour, or a unit's base beds with or without its escalation beds, less
    the beds `seasons.beds_closed_share` closes in some month."""
    base = scenario_capacities(s)
    for unit, capacity in base.items():
        if unit in log.capacities:
            assert log.capacities[unit] == capacity, (
                f"{unit}: the model gave it {log.capacities[unit]}, the scenario {capacity}"
            )
    escalation = escalation_beds(s)
    closed = seasonal_closures(s)
    for t, code, capacity in log.capacity:
        unit = log.places[code]
        if unit == "ed_clinician":
            assert capacity == s.ed.clinicians_by_hour[int(t % 24)], f"rota wrong at t={t}"
        elif unit in escalation:
            allowed = {base[unit] - c + e for c in closed.get(unit, {0}) for e in escalation[unit]}
            assert capacity in allowed, f"{unit} at t={t}: capacity {capacity}, base {base[unit]}"


def seasonal_closures(s: Scenario) -> dict[str, set[int]]:
    """Beds each ward group may have closed in some month (`seasons.beds_closed_share`)."""
    if s.seasons is None:
        return {}
    out = {}
    for name, ward in s.wards.items():
        profile = s.seasons.beds_closed_share.get(name, s.seasons.beds_closed_share.get("all"))
        if profile is not None:
            out[f"ward:{name}"] = {round(share * ward.beds) for share in profile}
    return out


def check_log(log: EventLog, s: Scenario | None) -> Report:
    """Replay ``log`` and assert the event-log contract; return what was seen.

    With the scenario ``s``, capacities come from it (`assert_capacities_allowed`); without it
    (a hand-made log), from the log.

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
    turnaround: dict[str, float] = {}
    if s is not None:
        assert_capacities_allowed(log, s)
        capacity.update(scenario_capacities(s))
        turnaround = turnaround_hours(s)
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
            if place.startswith("ward:"):  # an outlier stops waiting for their own ward group
                for other in [u for u, n in p.queued.items() if n and u.startswith("ward:")]:
                    p.queued[other] = 0
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
            if place == "left_before_seen":  # stops waiting for a cubicle or a clinician
                p.queued["ed_cubicle"] = p.queued["ed_clinician"] = 0
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
    rep = check_log(log, s)
    assert rep.arrived > 0
    assert rep.arrived == rep.departed + rep.in_system
    assert rep.departed == sum(rep.outcomes.values())
    return rep
