"""From a scenario to a finished replication: build the system, schedule arrivals, run."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import simpy

import flowsim
from flowsim.errors import ModelError
from flowsim.model import ed
from flowsim.model.arrivals import ArrivalStream, arrival_streams, arrival_times
from flowsim.model.fate import Fate, FateTable, draw_fate_table, draw_fates
from flowsim.model.patient import journey
from flowsim.model.record import EventLog
from flowsim.model.resources import Unit
from flowsim.model.system import Patient, System
from flowsim.scenario.schema import FRAILTY_BANDS, Escalation, Scenario

_READMISSION_BATCH = 512


def simulate(
    scenario: Scenario,
    replication: int = 0,
    *,
    seed: int | None = None,
    horizon_days: float | None = None,
    warm_up_days: float | None = None,
) -> EventLog:
    """Run one replication and return its event log.

    The same (scenario, replication, seed) always gives the same log, bit for bit.
    """
    seed = scenario.run.seed if seed is None else seed
    horizon = scenario.run.horizon_days if horizon_days is None else horizon_days
    warm_up = scenario.run.warm_up_days if warm_up_days is None else warm_up_days
    _check_runnable(scenario)
    warm_up_hours = warm_up * 24.0
    end_hours = (warm_up + horizon) * 24.0
    sys = System(scenario, warm_up_hours, end_hours)
    env = sys.env

    arrivals = _scheduled_arrivals(sys, seed, replication)
    sys.next_id = len(arrivals)

    def re_present(p: Patient, route: str) -> None:
        fate = _readmission_fate(sys, seed, replication, p.frailty, route)
        new = Patient(sys.next_id, p.place, p.age_band, p.frailty, route, fate, p.id)
        sys.next_id += 1
        sys.register(new, fate.cfs, fate.acuity)
        env.process(journey(sys, new))

    sys.re_present = re_present  # type: ignore[method-assign]
    env.process(_door(sys, arrivals))
    if len(set(scenario.ed.clinicians_by_hour)) > 1:
        env.process(ed.clinician_rota(sys))
    for unit, escalation in _escalating_units(sys):
        env.process(_escalation(sys, unit, escalation))

    env.run(until=end_hours)
    sys.log.meta.update(
        scenario=scenario.name,
        seed=seed,
        replication=replication,
        horizon_days=horizon,
        warm_up_days=warm_up,
        start_date=scenario.run.start_date.isoformat(),
        readmission_within_days=scenario.community.readmission.within_days,
        flowsim_version=flowsim.__version__,
    )
    return sys.log


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


def _scheduled_arrivals(sys: System, seed: int, replication: int) -> Arrivals:
    """Every arrival from the population over the run, in time order, with its fate table."""
    s = sys.scenario
    total_hours = int(np.ceil(sys.end_hours)) + 1
    profile = sys.calendar.hourly_profile(s.demand_profile, total_hours)
    streams = arrival_streams(s)
    times_per_stream = [
        arrival_times(st, profile, seed, replication, sys.end_hours) for st in streams
    ]
    tables = [
        draw_fate_table(
            s, seed, replication, st.name, FRAILTY_BANDS[st.frailty], st.route, len(times)
        )
        for st, times in zip(streams, times_per_stream, strict=True)
    ]
    if not streams:
        return Arrivals(streams, tables, np.zeros(0), np.zeros(0, int), np.zeros(0, int))
    all_times = np.concatenate(times_per_stream)
    stream_of = np.concatenate([np.full(len(t), i) for i, t in enumerate(times_per_stream)])
    index_in_stream = np.concatenate([np.arange(len(t)) for t in times_per_stream])
    order = np.lexsort((index_in_stream, stream_of, all_times))
    return Arrivals(streams, tables, all_times[order], stream_of[order], index_in_stream[order])


@dataclass
class Arrivals:
    streams: list[ArrivalStream]
    tables: list[FateTable]
    times: np.ndarray
    stream: np.ndarray
    index: np.ndarray

    def __len__(self) -> int:
        return len(self.times)


def _door(sys: System, arrivals: Arrivals) -> Generator[simpy.Event, object, None]:
    """Let each patient in at their arrival time; patient ids follow arrival order."""
    env, streams, tables = sys.env, arrivals.streams, arrivals.tables
    bands = FRAILTY_BANDS
    for pid, (t, k, i) in enumerate(
        zip(arrivals.times.tolist(), arrivals.stream.tolist(), arrivals.index.tolist(), strict=True)
    ):
        if t > env.now:
            yield env.timeout(t - env.now)
        st = streams[k]
        fate = tables[k].fate(i)
        p = Patient(pid, st.place_index, st.age_band, bands[st.frailty], st.route, fate)
        sys.register(p, fate.cfs, fate.acuity)
        env.process(journey(sys, p))


def _readmission_fate(sys: System, seed: int, replication: int, frailty: str, route: str) -> Fate:
    key = (frailty, route)
    queue = sys.readmission_fates.get(key)
    if not queue:
        drawn = sys.readmission_batches.get(key, 0)
        batch = draw_fates(
            sys.scenario,
            seed,
            replication,
            f"readmission/{frailty}/{route}/batch{drawn}",
            frailty,
            route,
            _READMISSION_BATCH,
        )
        sys.readmission_batches[key] = drawn + 1
        batch.reverse()
        queue = sys.readmission_fates[key] = batch
    return queue.pop()


def _escalating_units(sys: System) -> list[tuple[Unit, Escalation]]:
    s, u = sys.scenario, sys.units
    pairs = [(u.amu, s.amu.escalation), (u.afu, s.afu.escalation)]
    pairs += [
        (unit, s.wards[name].escalation) for unit, name in zip(u.wards, sys.ward_names, strict=True)
    ]
    return [(unit, esc) for unit, esc in pairs if esc.beds > 0 and unit.base_capacity > 0]


def _escalation(sys: System, unit: Unit, esc: Escalation) -> Generator[simpy.Event, object, None]:
    """Open escalation beds after the unit has been under pressure for a while; close when calm."""
    base = unit.base_capacity
    hours_over = 0.0
    is_open = False
    while True:
        yield sys.env.timeout(1.0)
        occupied = len(unit.users)
        waiting = len(unit.put_queue)
        if not is_open:
            pressed = (
                occupied >= esc.open_above_occupancy * base and waiting >= esc.open_when_waiting
            )
            hours_over = hours_over + 1.0 if pressed else 0.0
            if hours_over >= esc.open_after_hours:
                unit.set_capacity(base + esc.beds)
                is_open = True
        elif waiting == 0 and occupied < esc.close_below_occupancy * base:
            unit.set_capacity(base)
            is_open = False
            hours_over = 0.0
