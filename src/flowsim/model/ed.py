"""The emergency department: handover or waiting room, a cubicle, a clinician, a decision.

A patient holds their cubicle from handover until they leave ED, including
boarding while they wait for a bed elsewhere; that is how a full hospital
fills the ED and leaves ambulances queuing outside.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy

from flowsim.model.movement import Held
from flowsim.model.system import END, HANDOVER, QUEUE, START, Patient, System
from flowsim.scenario.schema import DISPOSITIONS

ADMITTING = frozenset({"amu", "afu", "ward"})


def arrive(sys: System, p: Patient) -> Generator[simpy.Event, object, Held]:
    """From the ambulance or the waiting room into a cubicle."""
    env, f, cubicles = sys.env, p.fate, sys.units.cubicles
    sys.record(p.id, QUEUE, cubicles.code)
    if p.route != "ambulance":
        if f.triage_minutes > 0:
            yield env.timeout(f.triage_minutes / 60.0)
        cubicle = cubicles.request(priority=cubicle_priority(p))
        yield cubicle
        sys.record(p.id, START, cubicles.code)
        return cubicles, cubicle

    cubicle = cubicles.request(priority=cubicle_priority(p))
    max_wait = sys.scenario.ed.max_handover_minutes
    if max_wait is not None and not cubicle.triggered:
        yield cubicle | env.timeout(max_wait / 60.0)
        if not cubicle.triggered:
            sys.record(p.id, HANDOVER, sys.code["corridor"])
            yield cubicle
            sys.record(p.id, START, cubicles.code)
            return cubicles, cubicle
    yield cubicle
    sys.record(p.id, START, cubicles.code)
    if f.handover_minutes > 0:
        yield env.timeout(f.handover_minutes / 60.0)
    sys.record(p.id, HANDOVER, cubicles.code)
    return cubicles, cubicle


def cubicle_priority(p: Patient) -> int:
    """Triage categories 1-2 jump the cubicle queue; the rest wait in turn.

    Strict priority for all five categories would starve category 4-5 walk-ins for days when the
    department is full, which real departments avoid by streaming them to minors.
    """
    return 0 if p.fate.acuity <= 2 else 1


def assess(sys: System, p: Patient) -> Generator[simpy.Event, object, str]:
    """Clinician assessment, then tests and treatment; returns where the patient should go."""
    env, f, clinicians = sys.env, p.fate, sys.units.clinicians
    sys.record(p.id, QUEUE, clinicians.code)
    clinician = clinicians.request(priority=f.acuity)
    yield clinician
    sys.record(p.id, START, clinicians.code)
    if f.assessment_minutes > 0:
        yield env.timeout(f.assessment_minutes / 60.0)
    clinicians.release(clinician)
    sys.record(p.id, END, clinicians.code)
    yield env.timeout(f.treatment_hours)
    return DISPOSITIONS[f.disposition]


def front_door_frailty(
    sys: System, p: Patient, destination: str
) -> Generator[simpy.Event, object, str]:
    """Comprehensive geriatric assessment in ED may turn an admission into going home."""
    cfg = sys.scenario.ed.front_door_frailty
    if cfg is None or destination not in ADMITTING or p.frailty not in cfg.eligible_frailty:
        return destination
    team = sys.units.frailty_team
    if team.base_capacity == 0:
        return destination
    sys.record(p.id, QUEUE, team.code)
    assessor = team.request(priority=p.fate.acuity)
    yield assessor
    sys.record(p.id, START, team.code)
    yield sys.env.timeout(p.fate.frailty_assessment_hours)
    team.release(assessor)
    sys.record(p.id, END, team.code)
    return "home" if p.fate.frailty_avoid_u < cfg.admission_avoided_share else destination


def crowding_turns_home(sys: System, p: Patient, destination: str) -> bool:
    """A would-be admission sent home because ED is full of patients already waiting for beds."""
    cfg = sys.scenario.ed.crowding
    return (
        cfg is not None
        and destination in ADMITTING
        and sys.boarding >= cfg.boarding_threshold
        and p.fate.crowding_u < cfg.admission_avoided_share
    )


def wants_ucr_follow_up(sys: System, p: Patient) -> bool:
    cfg = sys.scenario.ed.front_door_frailty
    return cfg is not None and p.fate.frailty_ucr_u < cfg.home_with_ucr_share


def clinician_rota(sys: System) -> Generator[simpy.Event, object, None]:
    """Change the number of clinicians on duty on the hour."""
    rota = sys.scenario.ed.clinicians_by_hour
    clinicians = sys.units.clinicians
    while True:
        clinicians.set_capacity(rota[int(sys.env.now % 24)])
        yield sys.env.timeout(1.0)
