"""Elective inpatients competing with emergencies for ward beds (pressure.md E1-E9).

Each day at the admission hour, the day's electives of each ward group come in: into free beds
(a bed with nobody waiting for it), else cancelled for lack of a bed; or, while the hospital is
under pressure, the whole day's list is cancelled, which leaves those beds to emergencies. An
elective holds its bed for its elective length of stay, then the bed is cleaned and freed like
any other. Electives are not patients of the event log; their beds and cancellations are
recorded in ``EventLog.pressure``.

Lengths of stay come from a stream of their own per ward group, drawn by (day, place on the
day's list), so cancelling one day's list leaves every other elective's stay unchanged (common
random numbers between a scenario that cancels and one that does not).
"""

from __future__ import annotations

import math

import numpy as np

from flowsim.model.kernel import Unit, call_later
from flowsim.model.opel import PressureState
from flowsim.model.system import System
from flowsim.random import Streams, sample
from flowsim.scenario.pressure import Electives


def schedule(system: System, streams: Streams) -> None:
    """Start the daily elective admissions, if the scenario has any."""
    state: PressureState = system.pressure
    cfg = state.config.electives
    if cfg is None:
        return
    days = math.ceil(system.end_hours / 24.0) + 1
    for name, counts in cfg.admissions_by_weekday.items():
        if max(counts) == 0:
            continue
        ward = system.units.wards[system.ward_names.index(name)]
        rng = streams.generator(f"electives/{name}/los_days")
        los_hours = sample(cfg.los_days, rng, days * max(counts)).reshape(days, max(counts)) * 24
        _daily_list(system, state, cfg, ward, counts, los_hours)


def _daily_list(
    system: System,
    state: PressureState,
    cfg: Electives,
    ward: Unit,
    counts: list[int],
    los_hours: np.ndarray,
) -> None:
    env = system.env
    in_beds = 0
    admitted = cancelled = no_bed = 0
    in_beds_signal, admitted_signal, cancelled_signal, no_bed_signal = (
        f"{k}:{ward.name}"
        for k in ("electives", "electives_admitted", "electives_cancelled", "electives_no_bed")
    )

    def go_home(_event: object) -> None:
        nonlocal in_beds
        in_beds -= 1
        ward.leave()
        state.record(in_beds_signal, in_beds)

    home_callbacks = [go_home]
    day_callbacks: list = []

    def admit_list(_event: object) -> None:
        nonlocal in_beds, admitted, cancelled, no_bed
        day = int(env.now // 24)
        n = counts[system.calendar.weekday(env.now)]
        if n and _cancelled_for_pressure(system, state, cfg, ward):
            cancelled += n
            state.record(cancelled_signal, cancelled)
        elif n:
            taken = 0
            for slot in range(n):
                if ward.queue or ward.in_use >= ward.capacity:
                    no_bed += n - slot
                    state.record(no_bed_signal, no_bed)
                    break
                ward.in_use += 1  # an elective holds the bed like a patient
                taken += 1
                call_later(env, float(los_hours[day, slot]), home_callbacks)
            if taken:
                in_beds += taken
                admitted += taken
                state.record(in_beds_signal, in_beds)
                state.record(admitted_signal, admitted)
        call_later(env, 24.0, day_callbacks)

    day_callbacks.append(admit_list)
    if cfg.admission_hour < 24.0:
        call_later(env, cfg.admission_hour, day_callbacks)


def _cancelled_for_pressure(
    system: System, state: PressureState, cfg: Electives, ward: Unit
) -> bool:
    if cfg.cancel_from_level is not None and state.level >= cfg.cancel_from_level:
        return True
    limit = cfg.cancel_above_occupancy
    return limit is not None and ward.capacity > 0 and ward.in_use / ward.capacity > limit
