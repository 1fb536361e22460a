"""Discharge: from medically optimised to leaving the building.

P0 patients go home at the next discharge window. P1-P3 patients first wait for
assessment, then for a community place (a home-care package, a rehabilitation
bed, a care-home placement), keeping their hospital bed all the while: the
delayed discharges (no criteria to reside) that block the hospital upstream.
"""

from __future__ import annotations

import math
from collections.abc import Generator

from flowsim.model import community
from flowsim.model.calendar import next_time_in_window
from flowsim.model.movement import Held, leave
from flowsim.model.system import DEPART, QUEUE, RESERVE, START, Patient, System
from flowsim.scenario.schema import PATHWAYS


def leave_hospital(sys: System, p: Patient, holding: Held) -> Generator[object, None, None]:
    f = p.fate
    pathway = PATHWAYS[f.pathway]
    if pathway == "P0":
        if f.p0_delay_hours > 0:
            yield f.p0_delay_hours
        wait_hours = _hours_to_window(sys, p)
        if wait_hours > 0:
            yield wait_hours
        leave(sys, p, holding)
        sys.record(p.id, DEPART, sys.code["P0"])
        community.maybe_readmit(sys, p, "P0")
        return

    if f.referral_days > 0:
        yield f.referral_days * 24.0
    service = getattr(sys.units, pathway.lower())
    sys.record(p.id, QUEUE, service.code)
    reserved = service.request()
    if reserved is not None:
        yield reserved
    sys.record(p.id, RESERVE, service.code)
    wait_hours = _hours_to_window(sys, p)
    if wait_hours > 0:
        yield wait_hours
    sys.record(p.id, START, service.code)
    leave(sys, p, holding)
    community.maybe_readmit(sys, p, pathway)
    yield f.community_days * 24.0
    leave(sys, p, service)
    sys.record(p.id, DEPART, sys.code[pathway])


def _hours_to_window(sys: System, p: Patient) -> float:
    now = sys.env.now
    return discharge_time(sys, now, p.fate.weekend_u) - now


def discharge_time(sys: System, t: float, weekend_u: float) -> float:
    """Next time a patient ready at ``t`` can leave: in the daily window, fewer at weekends.

    A patient whose ``weekend_u`` is at or above the weekend factor waits for Monday.
    """
    cfg = sys.scenario.discharge
    target = next_time_in_window(t, cfg.window_start_hour, cfg.window_end_hour)
    while sys.calendar.is_weekend(target) and weekend_u >= cfg.weekend_discharge_factor:
        target = math.floor(target / 24.0) * 24.0 + 24.0 + cfg.window_start_hour
    return target
