"""Discharge: from medically optimised to leaving the building.

P0 patients go home at the next discharge window. P1-P3 patients first wait for
assessment, then for a community place (a home-care package, a rehabilitation
bed, a care-home placement), keeping their hospital bed all the while: the
delayed discharges (no criteria to reside) that block the hospital upstream.
"""

from __future__ import annotations

import math
from collections.abc import Generator

from flowsim.model import readmission
from flowsim.model.calendar import next_time_in_window
from flowsim.model.movement import Held, leave
from flowsim.model.opel import bed_pressure, ga_occupancy
from flowsim.model.system import DEPART, QUEUE, RESERVE, START, Patient, System
from flowsim.scenario.pressure import DischargePush
from flowsim.scenario.schema import PATHWAYS


def leave_hospital(system: System, p: Patient, holding: Held) -> Generator[object, None, None]:
    f = p.fate
    pathway = PATHWAYS[f.pathway]
    if pathway == "P0":
        if f.p0_delay_hours > 0:
            yield f.p0_delay_hours
        wait_hours = _hours_to_window(system, p)
        if wait_hours > 0:
            yield wait_hours
        system.pressure.delayed -= 1
        leave(system, p, holding)
        system.record(p.id, DEPART, system.code["P0"])
        readmission.maybe_readmit(system, p, "P0")
        return

    if f.referral_days > 0:
        yield f.referral_days * 24.0
    service = getattr(system.units, pathway.lower())
    system.record(p.id, QUEUE, service.code)
    reserved = service.request()
    if reserved is not None:
        yield reserved
    system.record(p.id, RESERVE, service.code)
    wait_hours = _hours_to_window(system, p)
    if wait_hours > 0:
        yield wait_hours
    system.record(p.id, START, service.code)
    system.pressure.delayed -= 1
    leave(system, p, holding)
    readmission.maybe_readmit(system, p, pathway)
    yield f.community_days * 24.0
    leave(system, p, service)
    system.record(p.id, DEPART, system.code[pathway])


def _hours_to_window(system: System, p: Patient) -> float:
    now = system.env.now
    push = system.pressure.config.discharge_push
    if push is None:
        return discharge_time(system, now, p.fate.weekend_u) - now
    return _pushed_discharge_time(system, p, push) - now


def discharge_time(
    system: System,
    t: float,
    weekend_u: float,
    start_hour: float | None = None,
    weekend_factor: float | None = None,
) -> float:
    """Next time a patient ready at ``t`` can leave: in the daily window, fewer at weekends.

    A patient whose ``weekend_u`` is at or above the weekend factor waits for Monday. The
    window's start and the weekend factor are the scenario's unless given (discharge push).
    """
    cfg = system.scenario.discharge
    start = cfg.window_start_hour if start_hour is None else start_hour
    factor = cfg.weekend_discharge_factor if weekend_factor is None else weekend_factor
    target = next_time_in_window(t, start, cfg.window_end_hour)
    while system.calendar.is_weekend(target) and weekend_u >= factor:
        target = math.floor(target / 24.0) * 24.0 + 24.0 + start
    return target


def _pushed_discharge_time(system: System, p: Patient, push: DischargePush) -> float:
    """Under pressure (G&A occupancy above the push threshold when the patient is ready), the
    window opens earlier and more leave at weekends (pressure.md L5, L9); a patient who leaves
    sooner than they would have carries the readmission cost (L5, L6)."""
    now = system.env.now
    usual = discharge_time(system, now, p.fate.weekend_u)
    level = ga_occupancy if push.measure == "occupancy" else bed_pressure
    if level(system) <= push.above_occupancy:
        return usual
    if push.window_start_hour is None and push.weekend_discharge_factor is None:
        return usual
    start = push.window_start_hour
    if start is not None and start >= system.scenario.discharge.window_end_hour:
        start = None
    pushed = discharge_time(system, now, p.fate.weekend_u, start, push.weekend_discharge_factor)
    if pushed < usual:
        system.pressure.pushed.add(p.id)
        return pushed
    return usual
