"""model/kernel.py against plain SimPy: the same small models, written once, give the same log.

The kernel re-implements SimPy's scheduling of requests, releases, delays and process starts on
SimPy's private attributes, for speed. Its claim is that a run is SimPy's own, event for event.
Each model below is written once against `Sim` and run twice: on the kernel (its `Unit`,
`PriorityUnit`, `start`, `call_later`, float delays) and on plain SimPy as flowsim used it before
the kernel (``simpy.Resource`` / ``PriorityResource`` with an adjustable capacity,
``env.process``, ``env.timeout``). The logs of (time, entity, event) must be identical, including
the order of everything that happens at one instant, which is what the many ties test.

The models keep the kernel's contracts, as the model code does: a request is yielded at once, a
process is started (`start`) only as the last thing a callback does, and `release(last=True)`
only from a callback of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import simpy

from flowsim.model import kernel

Log = list[tuple[float, str, str]]


class KernelSim:
    """The models' interface on flowsim's kernel."""

    def __init__(self) -> None:
        self.env = kernel.Environment()
        self.log: Log = []
        self._codes: dict[int, str] = {}

    def now(self) -> float:
        return self.env.now

    def record(self, who: str, what: str) -> None:
        self.log.append((self.env.now, who, what))

    def unit(self, name: str, capacity: int, priority: bool = False, turnaround: float = 0.0):
        code = len(self._codes)
        self._codes[code] = name

        def record_capacity(t: float, place: int, value: int) -> None:
            self.log.append((t, self._codes[place], f"capacity {value}"))

        kind = kernel.PriorityUnit if priority else kernel.Unit
        return kind(self.env, name, code, capacity, record_capacity, turnaround)

    def request(self, unit: Any, priority: int = 0) -> Any:
        return unit.request(priority)

    def granted(self, ticket: Any) -> bool:
        return ticket is None or ticket.triggered

    def wait(self, ticket: Any) -> Generator[Any, None, None]:
        if ticket is not None:
            yield ticket

    def wait_at_most(self, ticket: Any, hours: float) -> Generator[Any, None, None]:
        """Wait for an ungranted ticket, or ``hours``, whichever comes first (as the model does:
        `kernel.first_of`, SimPy's ``a | b`` without its objects)."""
        yield kernel.first_of(self.env, ticket, hours)

    def delay(self, hours: float) -> Generator[Any, None, None]:
        yield hours

    def release(self, unit: Any, ticket: Any) -> None:
        unit.release()

    def leave(self, unit: Any, ticket: Any) -> None:
        unit.leave()

    def set_capacity(self, unit: Any, capacity: int) -> None:
        unit.set_capacity(capacity)

    def in_use(self, unit: Any) -> int:
        return unit.in_use

    def waiting(self, unit: Any) -> int:
        return len(unit.queue)

    def call_later(self, delay: float, callback: Callable[[], None], urgent: bool = False):
        priority = kernel.URGENT if urgent else kernel.NORMAL
        kernel.call_later(self.env, delay, [lambda _event: callback()], priority)

    def start(self, generator: Generator[Any, None, None]) -> None:
        """Start a process as the last thing this callback or step does."""
        kernel.start(self.env, generator)

    def spawn(self, generator: Generator[Any, None, None]) -> None:
        """Start a process as SimPy does: at an urgent event of this instant."""
        env = self.env
        kernel.call_later(env, 0.0, [lambda _e: kernel.start(env, generator)], kernel.URGENT)

    def run(self, until: float) -> None:
        self.env.run(until=until)


class _Adjustable:
    """flowsim's units before the kernel: SimPy resources whose capacity can change."""

    _capacity: int
    _env: simpy.Environment

    def _setup(self, name: str, capacity: int, record_capacity, turnaround: float) -> None:
        self._capacity = capacity
        self.name = name
        self.turnaround = turnaround
        self._record_capacity = record_capacity

    def set_capacity(self, capacity: int) -> None:
        if capacity == self._capacity:
            return
        self._capacity = capacity
        self._record_capacity(self._env.now, self.name, capacity)
        while self.put_queue and len(self.users) < capacity:
            self._trigger_put(None)

    def leave(self, request: Any) -> None:
        if self.turnaround > 0:
            self._env.timeout(self.turnaround).callbacks.append(
                lambda _event: self.release(request)
            )
        else:
            self.release(request)


class _Resource(_Adjustable, simpy.Resource):
    def __init__(self, env, name, capacity, record_capacity, turnaround) -> None:
        simpy.Resource.__init__(self, env, capacity=max(capacity, 1))
        self._setup(name, capacity, record_capacity, turnaround)


class _PriorityResource(_Adjustable, simpy.PriorityResource):
    def __init__(self, env, name, capacity, record_capacity, turnaround) -> None:
        simpy.PriorityResource.__init__(self, env, capacity=max(capacity, 1))
        self._setup(name, capacity, record_capacity, turnaround)


class SimpySim:
    """The models' interface on plain SimPy."""

    def __init__(self) -> None:
        self.env = simpy.Environment()
        self.log: Log = []

    def now(self) -> float:
        return self.env.now

    def record(self, who: str, what: str) -> None:
        self.log.append((self.env.now, who, what))

    def unit(self, name: str, capacity: int, priority: bool = False, turnaround: float = 0.0):
        def record_capacity(t: float, place: str, value: int) -> None:
            self.log.append((t, place, f"capacity {value}"))

        kind = _PriorityResource if priority else _Resource
        return kind(self.env, name, capacity, record_capacity, turnaround)

    def request(self, unit: Any, priority: int = 0) -> Any:
        if isinstance(unit, simpy.PriorityResource):
            return unit.request(priority=priority)
        return unit.request()

    def granted(self, ticket: Any) -> bool:
        return ticket.triggered

    def wait(self, ticket: Any) -> Generator[Any, None, None]:
        yield ticket

    def wait_at_most(self, ticket: Any, hours: float) -> Generator[Any, None, None]:
        yield ticket | self.env.timeout(hours)

    def delay(self, hours: float) -> Generator[Any, None, None]:
        yield self.env.timeout(hours)

    def release(self, unit: Any, ticket: Any) -> None:
        unit.release(ticket)

    def leave(self, unit: Any, ticket: Any) -> None:
        unit.leave(ticket)

    def set_capacity(self, unit: Any, capacity: int) -> None:
        unit.set_capacity(capacity)

    def in_use(self, unit: Any) -> int:
        return len(unit.users)

    def waiting(self, unit: Any) -> int:
        return len(unit.queue)

    def call_later(self, delay: float, callback: Callable[[], None], urgent: bool = False):
        if not urgent:
            self.env.timeout(delay).callbacks.append(lambda _event: callback())
            return
        event = self.env.event()
        event.callbacks.append(lambda _event: callback())
        event._ok, event._value = True, None  # a timeout at SimPy's urgent priority
        self.env.schedule(event, simpy.events.URGENT, delay)

    def start(self, generator: Generator[Any, None, None]) -> None:
        self.env.process(generator)

    def spawn(self, generator: Generator[Any, None, None]) -> None:
        self.env.process(generator)

    def run(self, until: float) -> None:
        self.env.run(until=until)


Sim = KernelSim | SimpySim


def both(model: Callable[[Sim], None], until: float) -> tuple[Log, Log]:
    logs = []
    for sim in (KernelSim(), SimpySim()):
        model(sim)
        sim.run(until)
        sim.record("env", "end")
        logs.append(sim.log)
    return logs[0], logs[1]


def assert_same(model: Callable[[Sim], None], until: float, min_events: int = 10) -> Log:
    ours, simpys = both(model, until)
    assert len(ours) >= min_events, "the model did too little to prove anything"
    for i, (a, b) in enumerate(zip(ours, simpys, strict=False)):
        assert a == b, f"first difference at entry {i}: kernel {a}, SimPy {b}"
    assert len(ours) == len(simpys)
    return ours


def door(sim: Sim, times: list[float], journey: Callable[[int], Generator]) -> None:
    """Let patients in at ``times`` as build.py's door does: one callback per arrival instant,
    several patients at one instant each started at an urgent event."""
    following = 0

    def let_in() -> None:
        nonlocal following
        now = sim.now()
        first = following
        while following < len(times) and not times[following] > now:
            following += 1
        if following < len(times):
            sim.call_later(times[following] - now, let_in)
        if following - first == 1:
            sim.start(journey(first))
            return
        for pid in range(first, following):
            sim.spawn(journey(pid))

    if times:
        sim.call_later(times[0], let_in, urgent=times[0] == 0)


def every_hour(sim: Sim, check: Callable[[], None]) -> None:
    """An hourly callback (rotas, escalation), as the model schedules them."""

    def tick() -> None:
        check()
        sim.call_later(1.0, tick)

    sim.call_later(1.0, tick)


# Hand-written models: one mechanism each, with ties everywhere.


def fifo_tandem(sim: Sim) -> None:
    """Blocking after service: a place is held until the next one is granted."""
    a, b, c = sim.unit("a", 2), sim.unit("b", 1), sim.unit("c", 2)
    stays = [1.0, 0.5, 2.0, 1.0, 0.0, 1.5]

    def journey(pid: int) -> Generator:
        who = f"p{pid}"
        held, held_ticket = None, None
        for k, unit in enumerate((a, b, c)):
            sim.record(who, f"queue {unit.name}")
            ticket = sim.request(unit)
            yield from sim.wait(ticket)
            sim.record(who, f"start {unit.name}")
            if held is not None:
                sim.leave(held, held_ticket)
                sim.record(who, f"end {held.name}")
            held, held_ticket = unit, ticket
            yield from sim.delay(stays[(pid + k) % len(stays)])
        sim.leave(held, held_ticket)
        sim.record(who, f"end {held.name}")

    door(sim, [0.0, 0.0, 0.0, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0, 2.0, 2.5, 2.5, 4.0], journey)


def priority_with_rota(sim: Sim) -> None:
    """Priority service (lower first, then in turn) with an hourly capacity rota."""
    clinicians = sim.unit("clinicians", 1, priority=True)
    rota = [1, 2, 0, 3, 1, 1]

    def on_the_hour() -> None:
        sim.set_capacity(clinicians, rota[int(sim.now()) % len(rota)])

    def journey(pid: int) -> Generator:
        who = f"p{pid}"
        sim.record(who, "queue")
        ticket = sim.request(clinicians, priority=[3, 1, 2, 1, 5, 1][pid % 6])
        yield from sim.wait(ticket)
        sim.record(who, "start")
        yield from sim.delay([0.5, 1.0, 0.25][pid % 3])
        sim.release(clinicians, ticket)  # mid-step: the patient carries on at this instant
        sim.record(who, "end")
        yield from sim.delay(1.0)
        sim.record(who, "treated")

    every_hour(sim, on_the_hour)
    door(sim, [0.0] * 5 + [1.0] * 4 + [2.0, 2.5, 3.0, 3.0, 3.0, 6.0], journey)


def handover_limit(sim: Sim) -> None:
    """An ambulance waits for a cubicle at most so long (``a | b``), then hands over anyway."""
    cubicles = sim.unit("cubicles", 1, priority=True)

    def journey(pid: int) -> Generator:
        who = f"p{pid}"
        sim.record(who, "queue")
        ticket = sim.request(cubicles, priority=pid % 2)
        if not sim.granted(ticket):
            yield from sim.wait_at_most(ticket, 1.0)
            if not sim.granted(ticket):
                sim.record(who, "handed over in corridor")
        yield from sim.wait(ticket)
        sim.record(who, "cubicle")
        yield from sim.delay([1.0, 2.0, 0.5][pid % 3])
        sim.leave(cubicles, ticket)
        sim.record(who, "left")

    door(sim, [0.0, 0.0, 0.0, 0.5, 1.0, 1.0, 2.0, 3.0], journey)


def corridor_boarding(sim: Sim) -> None:
    """A boarder gives the cubicle up for a corridor space while still waiting for a bed."""
    cubicles, corridor, beds = sim.unit("cubicles", 2), sim.unit("corridor", 1), sim.unit("beds", 1)

    def journey(pid: int) -> Generator:
        who = f"p{pid}"
        cubicle = sim.request(cubicles)
        yield from sim.wait(cubicle)
        sim.record(who, "cubicle")
        yield from sim.delay(0.5)
        bed = sim.request(beds)
        holding, held = cubicles, cubicle
        if not sim.granted(bed):
            yield from sim.wait_at_most(bed, 1.0)
            if not sim.granted(bed):
                space = sim.request(corridor)
                yield from sim.wait(space)
                sim.record(who, "corridor")
                sim.leave(cubicles, cubicle)
                holding, held = corridor, space
        yield from sim.wait(bed)
        sim.record(who, "bed")
        sim.leave(holding, held)
        sim.record(who, f"left {holding.name}")
        yield from sim.delay(2.0)
        sim.leave(beds, bed)
        sim.record(who, "home")

    door(sim, [0.0, 0.0, 0.0, 0.5, 0.5, 1.0, 1.5, 1.5, 2.0, 3.0], journey)


def turnaround_and_escalation(sim: Sim) -> None:
    """Beds cleaned after each stay (``release(last=True)`` from a callback), escalation beds
    opened and closed on occupancy, capacity falling below the beds in use."""
    ward = sim.unit("ward", 2, turnaround=0.5)

    def check() -> None:
        if sim.waiting(ward) >= 2 and sim.in_use(ward) >= 2:
            sim.set_capacity(ward, 4)
        elif sim.waiting(ward) == 0 and sim.in_use(ward) < 3:
            sim.set_capacity(ward, 1)

    def journey(pid: int) -> Generator:
        who = f"p{pid}"
        sim.record(who, "queue")
        bed = sim.request(ward)
        yield from sim.wait(bed)
        sim.record(who, "bed")
        yield from sim.delay([1.0, 1.5, 0.5, 2.0][pid % 4])
        sim.leave(ward, bed)
        sim.record(who, "left")

    every_hour(sim, check)
    door(sim, [0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 1.0, 1.5, 2.0, 2.0, 2.0, 3.5, 5.0], journey)


def callbacks_at_one_instant(sim: Sim) -> None:
    """Urgent and normal callbacks and process starts at one instant; readmissions started at
    once from a callback (`start`) and as SimPy starts a process (`spawn`)."""
    desk = sim.unit("desk", 1)

    def visit(name: str, hours: float) -> Generator:
        sim.record(name, "queue")
        ticket = sim.request(desk)
        yield from sim.wait(ticket)
        sim.record(name, "desk")
        yield from sim.delay(hours)
        sim.release(desk, ticket)
        sim.record(name, "done")

    # The door first: its urgent callback at 0 starts a patient at once, which is SimPy's order
    # only while no other urgent event is due at 0 (`kernel.start`'s contract).
    door(sim, [0.0, 1.0, 1.0, 2.0, 3.0], lambda pid: visit(f"p{pid}", 1.0))
    for t in (1.0, 2.0):
        sim.call_later(t, lambda t=t: sim.record("cb", f"normal {t}"))
        sim.call_later(t, lambda t=t: sim.record("cb", f"urgent {t}"), urgent=True)
        sim.call_later(t, lambda t=t: sim.start(visit(f"started {t}", 1.0)))
        sim.call_later(t, lambda t=t: sim.spawn(visit(f"spawned {t}", 0.0)))
    sim.call_later(0.0, lambda: sim.spawn(visit("urgent at 0", 1.0)), urgent=True)
    sim.call_later(0.0, lambda: sim.start(visit("normal at 0", 1.0)))


def release_not_yet_processed(sim: Sim) -> None:
    """A place given back with nobody waiting, then asked for at the same instant before SimPy
    would process that release: the release still serves the newcomer, at its own turn."""
    desk = sim.unit("desk", 2)
    sim.call_later(1.0, lambda: sim.set_capacity(desk, 1))

    def probe() -> None:
        sim.record("probe", f"in use {sim.in_use(desk)}, waiting {sim.waiting(desk)}")

    def holder(name: str, split: bool) -> Generator:
        ticket = sim.request(desk)
        yield from sim.wait(ticket)
        sim.record(name, "desk")
        yield from sim.delay(0.5 if split else 1.0)
        if split:
            yield from sim.delay(0.5)
            sim.call_later(0.0, probe)
        sim.release(desk, ticket)
        sim.record(name, "released")

    def newcomer(name: str) -> Generator:
        yield from sim.delay(0.5)
        yield from sim.delay(0.5)
        ticket = sim.request(desk)
        yield from sim.wait(ticket)
        sim.record(name, "desk")
        yield from sim.delay(1.0)
        sim.release(desk, ticket)
        sim.record(name, "released")

    sim.spawn(holder("a", split=False))
    sim.spawn(newcomer("c"))
    sim.spawn(holder("h", split=True))


def release_before_an_urgent_start(sim: Sim) -> None:
    """A process started at an urgent event asks for a place given back earlier at the same
    instant: SimPy has not processed that release yet (normal events come after urgent ones)."""
    desk = sim.unit("desk", 2)
    tickets: dict[str, Any] = {}

    def probe() -> None:
        sim.record("probe", f"in use {sim.in_use(desk)}, waiting {sim.waiting(desk)}")

    def late(name: str) -> Generator:
        sim.call_later(0.0, lambda: sim.release(desk, tickets["h"]), urgent=True)
        ticket = sim.request(desk)
        yield from sim.wait(ticket)
        sim.record(name, "desk")

    def holder(name: str) -> Generator:
        ticket = tickets[name] = sim.request(desk)
        yield from sim.wait(ticket)
        sim.record(name, "desk")
        yield from sim.delay(1.0)
        if name == "h":
            return
        sim.release(desk, ticket)
        sim.call_later(0.0, probe)
        sim.spawn(late("b"))
        ticket = sim.request(desk)
        yield from sim.wait(ticket)
        sim.record(name, "desk again")

    sim.spawn(holder("h"))
    sim.spawn(holder("a"))


@pytest.mark.parametrize(
    "model",
    [
        release_not_yet_processed,
        release_before_an_urgent_start,
        fifo_tandem,
        priority_with_rota,
        handover_limit,
        corridor_boarding,
        turnaround_and_escalation,
        callbacks_at_one_instant,
    ],
)
def test_kernel_logs_what_simpy_logs(model: Callable[[Sim], None]) -> None:
    assert_same(model, until=30.0, min_events=6)


def test_the_run_stops_where_simpy_stops() -> None:
    """A run ending at an instant where patients are due stops where SimPy's does."""
    log = assert_same(fifo_tandem, until=4.0, min_events=5)
    assert log[-1] == (4.0, "env", "end")


def test_a_difference_would_be_seen() -> None:
    """The comparison is not blind: swapping two same-instant starts changes the log."""

    def model(sim: Sim, swap: bool = False) -> None:
        desk = sim.unit("desk", 1)

        def visit(name: str) -> Generator:
            ticket = sim.request(desk)
            yield from sim.wait(ticket)
            sim.record(name, "desk")
            yield from sim.delay(1.0)
            sim.release(desk, ticket)

        names = ["b", "a"] if swap else ["a", "b"]
        for name in names:
            sim.spawn(visit(name))

    ours, _ = both(model, 5.0)
    sim = SimpySim()
    model(sim, swap=True)
    sim.run(5.0)
    sim.record("env", "end")
    assert ours != sim.log


# Random models: a pathway like flowsim's, durations on a half-hour grid so that ties abound.


@dataclass
class Plan:
    """Everything random about one patient, drawn before the run so both kernels share it."""

    ambulance: bool
    acuity: int
    triage: float
    assessment: float
    treatment: float
    admit: bool
    amu_stay: float
    to_ward: bool
    ward_stay: float
    community: bool
    window_wait: float
    community_stay: float
    readmit_after: float | None
    readmit_at_once: bool


@dataclass
class Network:
    cubicles: int
    clinician_rota: list[int]
    amu: int
    amu_turnaround: float
    ward: int
    ward_escalation: int
    corridor: int
    community: int
    handover_limit: float | None
    corridor_after: float | None
    arrivals: list[float]
    plans: list[Plan] = field(default_factory=list)


def half_hours(rng: np.random.Generator, most: int) -> float:
    return float(rng.integers(0, most + 1)) / 2


def draw_network(seed: int) -> Network:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(15, 40))
    arrivals = sorted(half_hours(rng, 24) for _ in range(n))
    net = Network(
        cubicles=int(rng.integers(1, 4)),
        clinician_rota=[int(c) for c in rng.integers(0, 3, size=6)],
        amu=int(rng.integers(1, 3)),
        amu_turnaround=float(rng.choice([0.0, 0.5])),
        ward=int(rng.integers(0, 3)),
        ward_escalation=int(rng.integers(0, 3)),
        corridor=int(rng.integers(0, 2)),
        community=int(rng.integers(0, 3)),
        handover_limit=[None, 0.5, 1.0][int(rng.integers(0, 3))],
        corridor_after=[None, 0.5, 1.0][int(rng.integers(0, 3))],
        arrivals=arrivals,
    )
    for _ in range(2 * n):  # enough for readmissions as well
        exact = rng.random() < 0.2  # some durations off the grid
        net.plans.append(
            Plan(
                ambulance=bool(rng.random() < 0.5),
                acuity=int(rng.integers(1, 6)),
                triage=half_hours(rng, 1),
                assessment=float(rng.exponential(0.5)) if exact else half_hours(rng, 2),
                treatment=half_hours(rng, 2),
                admit=bool(rng.random() < 0.6),
                amu_stay=float(rng.exponential(2.0)) if exact else half_hours(rng, 6),
                to_ward=bool(rng.random() < 0.6),
                ward_stay=half_hours(rng, 10),
                community=bool(rng.random() < 0.5),
                window_wait=half_hours(rng, 2),
                community_stay=half_hours(rng, 8),
                readmit_after=half_hours(rng, 10) if rng.random() < 0.2 else None,
                readmit_at_once=bool(rng.random() < 0.5),
            )
        )
    return net


def pathway(net: Network) -> Callable[[Sim], None]:
    """ED (handover limit, triage, priority cubicles and clinicians on a rota), AMU with
    turnaround, a ward with escalation beds, corridor boarding, a community place reserved
    before leaving the ward, and readmissions."""

    def model(sim: Sim) -> None:
        cubicles = sim.unit("cubicles", net.cubicles, priority=True)
        clinicians = sim.unit("clinicians", net.clinician_rota[0], priority=True)
        amu = sim.unit("amu", net.amu, turnaround=net.amu_turnaround)
        ward = sim.unit("ward", net.ward)
        corridor = sim.unit("corridor", net.corridor)
        community = sim.unit("community", net.community)
        next_id = len(net.arrivals)

        def on_the_hour() -> None:
            sim.set_capacity(clinicians, net.clinician_rota[int(sim.now()) % 6])
            if net.ward_escalation:
                if sim.waiting(ward) >= 1:
                    sim.set_capacity(ward, net.ward + net.ward_escalation)
                elif sim.in_use(ward) <= net.ward:
                    sim.set_capacity(ward, net.ward)

        def move(who: str, unit: Any, holding: Any, held: Any, boarding: bool):
            sim.record(who, f"queue {unit.name}")
            ticket = sim.request(unit)
            if boarding and not sim.granted(ticket) and net.corridor_after is not None:
                yield from sim.wait_at_most(ticket, net.corridor_after)
                if not sim.granted(ticket):
                    sim.record(who, "queue corridor")
                    space = sim.request(corridor)
                    yield from sim.wait(space)
                    sim.record(who, "start corridor")
                    sim.leave(holding, held)
                    sim.record(who, f"end {holding.name}")
                    holding, held = corridor, space
            yield from sim.wait(ticket)
            sim.record(who, f"start {unit.name}")
            sim.leave(holding, held)
            sim.record(who, f"end {holding.name}")
            return ticket

        def journey(pid: int) -> Generator:
            nonlocal next_id
            p, who = net.plans[pid], f"p{pid}"
            sim.record(who, "arrive")
            priority = 0 if p.acuity <= 2 else 1
            if not p.ambulance and p.triage > 0:
                yield from sim.delay(p.triage)
            cubicle = sim.request(cubicles, priority)
            if p.ambulance and not sim.granted(cubicle) and net.handover_limit is not None:
                yield from sim.wait_at_most(cubicle, net.handover_limit)
                if not sim.granted(cubicle):
                    sim.record(who, "handover in corridor")
            yield from sim.wait(cubicle)
            sim.record(who, "start cubicles")
            clinician = sim.request(clinicians, p.acuity)
            yield from sim.wait(clinician)
            sim.record(who, "start clinicians")
            if p.assessment > 0:
                yield from sim.delay(p.assessment)
            sim.release(clinicians, clinician)
            sim.record(who, "end clinicians")
            yield from sim.delay(p.treatment)
            holding, held = cubicles, cubicle
            if p.admit:
                held = yield from move(who, amu, holding, held, boarding=True)
                holding = amu
                yield from sim.delay(p.amu_stay)
                if p.to_ward:
                    held = yield from move(who, ward, holding, held, boarding=False)
                    holding = ward
                    yield from sim.delay(p.ward_stay)
            if p.community and holding is not cubicles:
                sim.record(who, "queue community")
                place = sim.request(community)
                yield from sim.wait(place)
                sim.record(who, "reserve community")
                if p.window_wait > 0:
                    yield from sim.delay(p.window_wait)
                sim.leave(holding, held)
                sim.record(who, f"end {holding.name}")
                readmit(p)
                yield from sim.delay(p.community_stay)
                sim.leave(community, place)
                sim.record(who, "depart community")
                return
            sim.leave(holding, held)
            sim.record(who, f"depart {holding.name}")
            readmit(p)

        def readmit(p: Plan) -> None:
            nonlocal next_id
            if p.readmit_after is None or next_id >= len(net.plans):
                return
            pid, next_id = next_id, next_id + 1
            if p.readmit_at_once:
                sim.call_later(p.readmit_after, lambda: sim.start(journey(pid)))
            else:
                sim.call_later(p.readmit_after, lambda: sim.spawn(journey(pid)))

        every_hour(sim, on_the_hour)
        door(sim, net.arrivals, journey)

    return model


@pytest.mark.parametrize("seed", range(40))
def test_kernel_logs_what_simpy_logs_on_random_pathways(seed: int) -> None:
    net = draw_network(seed)
    assert_same(pathway(net), until=48.0, min_events=len(net.arrivals))


def test_random_pathways_exercise_every_mechanism() -> None:
    """The random models reach the corners they are there for: hand-overs in the corridor,
    corridor boarding, capacity changes, community places reserved, readmissions, and many
    entries at one instant."""
    seen: set[str] = set()
    readmitted = ties = 0
    for seed in range(40):
        net = draw_network(seed)
        ours, _ = both(pathway(net), 48.0)
        seen |= {" ".join(what.split()[:2]) for _, _, what in ours}
        readmitted += len(
            {w for _, w, _ in ours if w[0] == "p" and int(w[1:]) >= len(net.arrivals)}
        )
        ties += len(ours) - len({t for t, _, _ in ours})
    wanted = {"handover in", "start corridor", "capacity 0", "capacity 2", "reserve community"}
    assert wanted <= seen, f"never reached: {sorted(wanted - seen)}"
    assert readmitted >= 40
    assert ties >= 2000
