"""Urgent community response: a team sees a 999 caller at home instead of conveying them.

UCR is a loss system: if no team is free when the call comes, the ambulance
conveys the patient as usual. Nobody queues for UCR.
"""

from __future__ import annotations

from collections.abc import Generator

from flowsim.model import community
from flowsim.model.system import DEPART, END, QUEUE, START, Patient, System


def can_respond(system: System, p: Patient) -> bool:
    cfg = system.scenario.ucr
    return (
        p.frailty in cfg.eligible_frailty
        and p.fate.acuity >= cfg.eligible_min_acuity
        and p.fate.ucr_u < cfg.eligible_share
        and system.units.ucr.free > 0
    )


def respond(system: System, p: Patient) -> Generator[object, None, bool]:
    """See the patient at home. True if they stay at home (perhaps on the virtual ward)."""
    cfg, f, team = system.scenario.ucr, p.fate, system.units.ucr
    system.record(p.id, QUEUE, team.code)
    visit = team.request()
    if visit is not None:
        yield visit
    system.record(p.id, START, team.code)
    yield f.ucr_hours
    team.release()
    system.record(p.id, END, team.code)
    if f.ucr_home_u >= cfg.kept_at_home_share:
        return False
    if f.ucr_vw_u < cfg.virtual_ward_step_up_share and system.units.virtual_ward.free > 0:
        yield from community.virtual_ward_stay(system, p, holding=None)
    else:
        system.record(p.id, DEPART, system.code["ucr_home"])
    return True


def follow_up(system: System, p: Patient) -> Generator[object, None, None]:
    """UCR visit after front-door frailty assessment sends someone home; skipped if no team free."""
    team = system.units.ucr
    if team.free == 0:
        return
    system.record(p.id, QUEUE, team.code)
    visit = team.request()
    if visit is not None:
        yield visit
    system.record(p.id, START, team.code)
    yield p.fate.ucr_hours
    team.release()
    system.record(p.id, END, team.code)
