"""From a scenario to a finished replication: build the system, schedule arrivals, run."""

from __future__ import annotations

import gc
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from flowsim.errors import ModelError
from flowsim.log import EventLog
from flowsim.model import community_only, ed, electives, opel, surge, warm_start
from flowsim.model.arrivals import ArrivalStream, arrival_streams, arrival_times, seasonal_profile
from flowsim.model.fate import FateTable, draw_fate_table
from flowsim.model.kernel import NORMAL, URGENT, Unit, call_later, start
from flowsim.model.patient import journey
from flowsim.model.readmission import Readmissions
from flowsim.model.seasons import schedule_bed_closures
from flowsim.model.system import Patient, System, run_meta
from flowsim.random import Streams
from flowsim.scenario.schema import FRAILTY_BANDS, Escalation, Scenario


def simulate(
    scenario: Scenario,
    replication: int = 0,
    *,
    seed: int | None = None,
    horizon_days: float | None = None,
    warm_up_days: float | None = None,
) -> EventLog:
    """Run one replication and return its event log.

    The same (scenario, replication, seed) always gives the same log, bit for bit. A scenario
    with a ``community_only`` section runs only its P1-P3 pathways (`community_only.simulate`).
    """
    if isinstance(scenario.warm_start, list):  # one census per replication
        censuses = scenario.warm_start
        scenario = scenario.model_copy(update={"warm_start": censuses[replication % len(censuses)]})
    if scenario.community_only is not None:
        return community_only.simulate(
            scenario, replication, seed=seed, horizon_days=horizon_days, warm_up_days=warm_up_days
        )
    seed = scenario.run.seed if seed is None else seed
    horizon = scenario.run.horizon_days if horizon_days is None else horizon_days
    warm_up = scenario.run.warm_up_days if warm_up_days is None else warm_up_days
    _check_runnable(scenario)
    warm_up_hours = warm_up * 24.0
    end_hours = (warm_up + horizon) * 24.0
    streams = Streams(seed, replication)
    system = System(scenario, warm_up_hours, end_hours, Readmissions(scenario, streams, journey))
    env = system.env
    opel.install(system)

    arrivals = _scheduled_arrivals(system, streams)
    system.next_id = len(arrivals)
    warm_start.place_patients(system, streams)
    _open_door(system, arrivals)
    if len(set(scenario.ed.clinicians_by_hour)) > 1:
        ed.clinician_rota(system)
    open_at_start = warm_start.opened(scenario)
    for unit, escalation in _escalating_units(system):
        _escalation(system, unit, escalation, open_at_start=open_at_start)
    _full_capacity_protocol(system, open_at_start)
    schedule_bed_closures(system)
    electives.schedule(system, streams)
    surge.schedule(system)

    with _no_cyclic_gc():
        env.run(until=end_hours)
    system.log.meta.update(run_meta(scenario, seed, replication, horizon, warm_up))
    return system.log


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause Python's cycle collector while the model runs.

    The run makes millions of short-lived container objects (scheduler entries, events) and
    no garbage cycles (a patient's process holds no reference back to itself once its journey
    ends), so reference counting frees everything and the collector would only spend time
    looking (about a tenth of the run). It is switched back on, if it was on, however the run
    ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_runnable(s: Scenario) -> None:
    """Refuse a system that could never discharge anyone, with the key to change."""
    if s.ed.cubicles == 0:
        raise ModelError("ed.cubicles is 0: no one could be seen in ED; give it at least 1")
    if max(s.ed.clinicians_by_hour) == 0:
        raise ModelError("ed.clinicians_by_hour is 0 at every hour: no one could be assessed")
    for band, routing in s.ward_routing.items():
        for ward, share in routing.items():
            if share > 0 and s.wards[ward].beds == 0:
                raise ModelError(
                    f"ward_routing.{band} sends {share:.0%} of admissions to {ward}, "
                    f"but wards.{ward}.beds is 0; give it beds or route no one there"
                )


def _scheduled_arrivals(system: System, streams: Streams) -> Arrivals:
    """Every arrival from the population over the run, in time order, with its fate table."""
    s = system.scenario
    total_hours = int(np.ceil(system.end_hours)) + 1
    profile = system.calendar.hourly_profile(s.demand_profile, total_hours)
    sources = arrival_streams(s)
    times_per_stream = [
        arrival_times(
            st, seasonal_profile(st, profile, s, system.calendar), streams, system.end_hours
        )
        for st in sources
    ]
    tables = [
        draw_fate_table(
            s,
            streams,
            st.name,
            FRAILTY_BANDS[st.frailty],
            st.route,
            len(times),
            None if s.seasons is None else system.calendar.months_at(times),
        )
        for st, times in zip(sources, times_per_stream, strict=True)
    ]
    if not sources:
        return Arrivals(sources, tables, np.zeros(0), np.zeros(0, int), np.zeros(0, int))
    all_times = np.concatenate(times_per_stream)
    stream_of = np.concatenate([np.full(len(t), i) for i, t in enumerate(times_per_stream)])
    index_in_stream = np.concatenate([np.arange(len(t)) for t in times_per_stream])
    order = np.lexsort((index_in_stream, stream_of, all_times))
    return Arrivals(sources, tables, all_times[order], stream_of[order], index_in_stream[order])


@dataclass
class Arrivals:
    streams: list[ArrivalStream]
    tables: list[FateTable]
    times: np.ndarray
    stream: np.ndarray
    index: np.ndarray

    def __len__(self) -> int:
        return len(self.times)


def _open_door(system: System, arrivals: Arrivals) -> None:
    """Let each patient in at their arrival time; patient ids follow arrival order.

    A callback where a door process would wake, scheduled with the same delays in the same
    order. A patient arriving alone starts their journey at once (SimPy would start it with the
    next event); patients arriving at one instant start in turn from urgent events, as SimPy's.
    """
    env, streams, tables = system.env, arrivals.streams, arrivals.tables
    times = arrivals.times.tolist()
    stream_of = arrivals.stream.tolist()
    index_in_stream = arrivals.index.tolist()
    n = len(times)
    bands = FRAILTY_BANDS
    register = system.register
    following = 0
    callbacks: list = []

    def patient(pid: int) -> Generator[object, None, None]:
        k = stream_of[pid]
        st = streams[k]
        fate = tables[k].fate(index_in_stream[pid])
        p = Patient(pid, st.place_index, st.age_band, bands[st.frailty], st.route, fate)
        register(p, fate.cfs, fate.acuity)
        return journey(system, p)

    def let_in(_event: object) -> None:
        nonlocal following
        now = env.now
        first = following
        while following < n and not times[following] > now:
            following += 1
        if following < n:
            call_later(env, times[following] - now, callbacks)
        if following - first == 1:
            start(env, patient(first))
            return
        for pid in range(first, following):
            journey_ = patient(pid)
            call_later(env, 0.0, [lambda _event, j=journey_: start(env, j)], URGENT)

    callbacks.append(let_in)
    if n:  # the door opens at time 0, as a process would start: urgently
        call_later(env, times[0], callbacks, NORMAL if times[0] > 0 else URGENT)


def _escalating_units(system: System) -> list[tuple[Unit, Escalation]]:
    s, u = system.scenario, system.units
    pairs = [(u.cubicles, s.ed.escalation), (u.amu, s.amu.escalation), (u.afu, s.afu.escalation)]
    reachable = _routed_wards(s, system.ward_names)
    pairs += [
        (unit, s.wards[name].escalation)
        for unit, name in zip(u.wards, system.ward_names, strict=True)
        if name in reachable or _opens_when_empty(s.wards[name].escalation, unit.base_capacity)
    ]
    return [(unit, esc) for unit, esc in pairs if esc.beds > 0 and unit.base_capacity > 0]


def _routed_wards(s: Scenario, ward_names: list[str]) -> set[str]:
    """Wards some admission can be routed to (as `fate.draw_fate_table` draws the ward).

    The others stay empty all run, so their escalation check, which needs a full ward, would
    never do anything: it is not scheduled at all.
    """
    reachable = set()
    for band in FRAILTY_BANDS:
        routing = s.ward_routing.get(band)
        weights = [routing.get(w, 0.0) for w in ward_names]
        if sum(weights) <= 0:
            reachable.add(ward_names[0])
        reachable.update(w for w, share in zip(ward_names, weights, strict=True) if share > 0)
    return reachable


def _opens_when_empty(esc: Escalation, base: int) -> bool:
    return esc.open_above_occupancy * base <= 0 and esc.open_when_waiting <= 0


def _full_capacity_protocol(system: System, open_at_start: set[tuple[str, str]]) -> None:
    """Extra places on every ward group at the top OPEL level (`FullCapacityProtocol`): the
    escalation rule with the level as its trigger and a share of the group's beds as places."""
    fcp = system.pressure.config.full_capacity_protocol
    if fcp is None:
        return
    reachable = _routed_wards(system.scenario, system.ward_names)
    for unit, name in zip(system.units.wards, system.ward_names, strict=True):
        places = round(fcp.extra_share_of_beds * unit.base_capacity)
        if name in reachable and places > 0:
            esc = Escalation(  # opens on the level alone, so no occupancy threshold to open
                beds=places,
                open_above_occupancy=1.0,
                open_after_hours=fcp.after_hours,
                close_below_occupancy=fcp.close_below_occupancy,
            )
            _escalation(
                system,
                unit,
                esc,
                at_level=fcp.from_level,
                open_at_start=open_at_start,
                kind="full_capacity_protocol",
            )


def _escalation(
    system: System,
    unit: Unit,
    esc: Escalation,
    at_level: int | None = None,
    open_at_start: set[tuple[str, str]] | None = None,
    kind: str = "escalation",
) -> None:
    """Open escalation beds after the unit has been under pressure for a while; close when calm.

    Checked on the hour by a callback (where an hourly timeout would end), not a process. With
    ``pressure.opel.escalation_at_level`` the hospital's OPEL level is the trigger instead of the
    unit's own (pressure.md P5, X1-X4). Places a warm start's census had open (``open_at_start``:
    (unit, ``kind``) pairs) are open from time 0: they stay open for weeks under pressure, so a
    census that closed them would start a calmer hospital. Each opening and closing is written
    to ``EventLog.meta["escalation"]`` as ``(time_hours, unit, kind, open)``, for a census.
    """
    env = system.env
    base = unit.base_capacity
    full = esc.open_above_occupancy * base
    calm = esc.close_below_occupancy * base
    queue_to_open = esc.open_when_waiting
    state = system.pressure
    if at_level is None and state.config.opel is not None:
        at_level = state.config.opel.escalation_at_level
    hours_over = 0.0
    is_open = False
    changes = system.log.meta.setdefault("escalation", [])
    if open_at_start and (unit.name, kind) in open_at_start:
        unit.set_capacity(unit.capacity + esc.beds)
        is_open = True
        changes.append((0.0, unit.name, kind, True))
    callbacks: list = []

    def check(_event: object) -> None:
        nonlocal hours_over, is_open
        occupied = unit.in_use
        waiting = len(unit.queue)
        if not is_open:
            if at_level is None:
                pressed = occupied >= full and waiting >= queue_to_open
            else:
                pressed = state.level >= at_level
            hours_over = hours_over + 1.0 if pressed else 0.0
            if hours_over >= esc.open_after_hours:
                unit.set_capacity(unit.capacity + esc.beds)
                is_open = True
                changes.append((env.now, unit.name, kind, True))
        elif waiting == 0 and occupied < calm and (at_level is None or state.level < at_level):
            unit.set_capacity(unit.capacity - esc.beds)
            is_open = False
            hours_over = 0.0
            changes.append((env.now, unit.name, kind, False))
        call_later(env, 1.0, callbacks)

    callbacks.append(check)
    call_later(env, 1.0, callbacks)
