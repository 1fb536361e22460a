"""From a scenario to a finished replication: build the system, schedule arrivals, run."""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import simpy

import flowsim
from flowsim.errors import ModelError
from flowsim.model import ed
from flowsim.model.arrivals import arrival_streams, arrival_times
from flowsim.model.fate import Fate, draw_fates
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

    patients = _scheduled_patients(sys, seed, replication)
    sys.next_id = len(patients)

    def re_present(p: Patient, route: str) -> None:
        fate = _readmission_fate(sys, seed, replication, p.frailty, route)
        new = Patient(sys.next_id, p.place, p.age_band, p.frailty, route, fate, p.id)
        sys.next_id += 1
        sys.register(new, fate.cfs, fate.acuity)
        env.process(journey(sys, new))

    sys.re_present = re_present  # type: ignore[method-assign]
    env.process(_door(sys, patients))
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


def _scheduled_patients(sys: System, seed: int, replication: int) -> list[tuple[float, Patient]]:
    """Every arrival from the population over the run, in time order, with its fate."""
    s = sys.scenario
    total_hours = int(np.ceil(sys.end_hours)) + 1
    profile = sys.calendar.hourly_profile(s.demand_profile, total_hours)
    times_per_stream = []
    fates_per_stream: list[list[Fate]] = []
    streams = arrival_streams(s)
    for st in streams:
        times = arrival_times(st, profile, seed, replication, sys.end_hours)
        times_per_stream.append(times)
        fates_per_stream.append(
            draw_fates(
                s, seed, replication, st.name, FRAILTY_BANDS[st.frailty], st.route, len(times)
            )
        )
    if not streams:
        return []
    all_times = np.concatenate(times_per_stream)
    stream_of = np.concatenate([np.full(len(t), i) for i, t in enumerate(times_per_stream)])
    index_in_stream = np.concatenate([np.arange(len(t)) for t in times_per_stream])
    order = np.lexsort((index_in_stream, stream_of, all_times))

    patients = []
    for pid, k in enumerate(order.tolist()):
        st = streams[stream_of[k]]
        fate = fates_per_stream[stream_of[k]][index_in_stream[k]]
        p = Patient(pid, st.place_index, st.age_band, FRAILTY_BANDS[st.frailty], st.route, fate)
        patients.append((float(all_times[k]), p))
    return patients


def _door(
    sys: System, patients: list[tuple[float, Patient]]
) -> Generator[simpy.Event, object, None]:
    env = sys.env
    for t, p in patients:
        if t > env.now:
            yield env.timeout(t - env.now)
        sys.register(p, p.fate.cfs, p.fate.acuity)
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
    """Open escalation beds after the unit has been over threshold for a while; close when calm."""
    base = unit.base_capacity
    hours_over = 0.0
    is_open = False
    while True:
        yield sys.env.timeout(1.0)
        occupied = len(unit.users)
        if not is_open:
            hours_over = hours_over + 1.0 if occupied >= esc.open_above_occupancy * base else 0.0
            if hours_over >= esc.open_after_hours:
                unit.set_capacity(base + esc.beds)
                is_open = True
        elif occupied < esc.close_below_occupancy * base:
            unit.set_capacity(base)
            is_open = False
            hours_over = 0.0
