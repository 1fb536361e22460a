"""Discharge: from medically optimised to leaving the building.

P0 patients go home at the next discharge window. P1-P3 patients first wait for
assessment, then for a community place (a home-care package, a rehabilitation
bed, a care-home placement), keeping their hospital bed all the while: the
delayed discharges (no criteria to reside) that block the hospital upstream.
"""

from __future__ import annotations

import math
from collections.abc import Generator

import simpy

from flowsim.model import community
from flowsim.model.calendar import next_time_in_window
from flowsim.model.movement import Held, leave
from flowsim.model.system import DEPART, QUEUE, RESERVE, START, Patient, System
from flowsim.scenario.schema import PATHWAYS


def leave_hospital(sys: System, p: Patient, holding: Held) -> Generator[simpy.Event, object, None]:
    env, f = sys.env, p.fate
    pathway = PATHWAYS[f.pathway]
    if pathway == "P0":
        if f.p0_delay_hours > 0:
            yield env.timeout(f.p0_delay_hours)
        yield from _wait_for_window(sys, p)
        leave(sys, p, holding)
        sys.record(p.id, DEPART, sys.code["P0"])
        community.maybe_readmit(sys, p, "P0")
        return

    if f.referral_days > 0:
        yield env.timeout(f.referral_days * 24.0)
    service = getattr(sys.units, pathway.lower())
    sys.record(p.id, QUEUE, service.code)
    sys_place = service.request()
    yield sys_place
    sys.record(p.id, RESERVE, service.code)
    yield from _wait_for_window(sys, p)
    sys.record(p.id, START, service.code)
    leave(sys, p, holding)
    community.maybe_readmit(sys, p, pathway)
    yield env.timeout(f.community_days * 24.0)
    leave(sys, p, (service, sys_place))
    sys.record(p.id, DEPART, sys.code[pathway])


def _wait_for_window(sys: System, p: Patient) -> Generator[simpy.Event, object, None]:
    wait_hours = discharge_time(sys, sys.env.now, p.fate.weekend_u) - sys.env.now
    if wait_hours > 0:
        yield sys.env.timeout(wait_hours)


def discharge_time(sys: System, t: float, weekend_u: float) -> float:
    """Next time a patient ready at ``t`` can leave: in the daily window, fewer at weekends.

    A patient whose ``weekend_u`` is at or above the weekend factor waits for Monday.
    """
    cfg = sys.scenario.discharge
    target = next_time_in_window(t, cfg.window_start_hour, cfg.window_end_hour)
    while sys.calendar.is_weekend(target) and weekend_u >= cfg.weekend_discharge_factor:
        target = math.floor(target / 24.0) * 24.0 + 24.0 + cfg.window_start_hour
    return target
