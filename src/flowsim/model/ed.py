"""The emergency department: handover or waiting room, a cubicle, a clinician, a decision.

A patient holds their cubicle from handover until they leave ED, including
boarding while they wait for a bed elsewhere; that is how a full hospital
fills the ED and leaves ambulances queuing outside.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from heapq import heapify

from flowsim.model import readmission
from flowsim.model.kernel import PriorityUnit, Request, call_later, first_of
from flowsim.model.movement import Held, leave
from flowsim.model.opel import bed_pressure
from flowsim.model.system import DEPART, END, HANDOVER, QUEUE, START, Patient, System
from flowsim.scenario.schema import DISPOSITIONS

ADMITTING = frozenset({"amu", "afu", "ward"})
LEFT_BEFORE_SEEN = "left_before_seen"
"""The outcome of a patient who left ED before a clinician saw them (`Ed.leave_before_seen`)."""


def arrive(system: System, p: Patient) -> Generator[object, None, Held]:
    """From the ambulance or the waiting room into a cubicle.

    Returns None for a patient who left the waiting room before being seen.
    """
    f, cubicles, record = p.fate, system.units.cubicles, system.record
    record(p.id, QUEUE, cubicles.code)
    if p.route != "ambulance":
        arrived = system.env.now
        if f.triage_minutes > 0:
            yield f.triage_minutes / 60.0
        cubicle = cubicles.request(cubicle_priority(p))
        if cubicle is not None:
            if f.patience_hours < math.inf:
                deadline = arrived + f.patience_hours
                stayed = yield from _wait_or_leave(system, cubicles, cubicle, deadline)
                if not stayed:
                    _leave_unseen(system, p)
                    return None
            yield cubicle
        record(p.id, START, cubicles.code)
        return cubicles

    cubicle = cubicles.request(cubicle_priority(p))
    if cubicle is not None:
        max_wait = system.scenario.ed.max_handover_minutes
        if max_wait is not None and not cubicle.triggered:
            yield first_of(system.env, cubicle, max_wait / 60.0)
            if not cubicle.triggered:
                record(p.id, HANDOVER, system.code["corridor"])
                yield cubicle
                record(p.id, START, cubicles.code)
                return cubicles
        yield cubicle
    record(p.id, START, cubicles.code)
    if f.handover_minutes > 0:
        yield f.handover_minutes / 60.0
    record(p.id, HANDOVER, cubicles.code)
    return cubicles


def cubicle_priority(p: Patient) -> int:
    """Triage categories 1-2 jump the cubicle queue; the rest wait in turn.

    Strict priority for all five categories would starve category 4-5 walk-ins for days when the
    department is full, which real departments avoid by streaming them to minors.
    """
    return 0 if p.fate.acuity <= 2 else 1


def assess(system: System, p: Patient, arrived: float = 0.0) -> Generator[object, None, str]:
    """Clinician assessment, then tests and treatment; returns where the patient should go.

    A patient who may leave unseen (``arrived``: when they came in) and whose patience runs out
    before a clinician is free leaves their cubicle: returns `LEFT_BEFORE_SEEN`.
    """
    f, clinicians, record = p.fate, system.units.clinicians, system.record
    record(p.id, QUEUE, clinicians.code)
    clinician = clinicians.request(f.acuity)
    if clinician is not None:
        if f.patience_hours < math.inf and p.route != "ambulance":
            stayed = yield from _wait_or_leave(
                system, clinicians, clinician, arrived + f.patience_hours
            )
            if not stayed:
                leave(system, p, system.units.cubicles)
                _leave_unseen(system, p)
                return LEFT_BEFORE_SEEN
        yield clinician
    record(p.id, START, clinicians.code)
    if f.assessment_minutes > 0:
        yield f.assessment_minutes / 60.0
    clinicians.release()
    record(p.id, END, clinicians.code)
    yield f.treatment_hours
    return DISPOSITIONS[f.disposition]


def frailty_assessed(system: System, p: Patient, destination: str) -> bool:
    """Whether `front_door_frailty` would see this patient (so the journey can skip it)."""
    cfg = system.scenario.ed.front_door_frailty
    return (
        cfg is not None
        and destination in ADMITTING
        and p.frailty in cfg.eligible_frailty
        and system.units.frailty_team.base_capacity > 0
    )


def front_door_frailty(
    system: System, p: Patient, destination: str
) -> Generator[object, None, str]:
    """Comprehensive geriatric assessment in ED may turn an admission into going home."""
    cfg = system.scenario.ed.front_door_frailty
    if cfg is None or not frailty_assessed(system, p, destination):
        return destination
    team = system.units.frailty_team
    system.record(p.id, QUEUE, team.code)
    assessor = team.request(p.fate.acuity)
    if assessor is not None:
        yield assessor
    system.record(p.id, START, team.code)
    yield p.fate.frailty_assessment_hours
    team.release()
    system.record(p.id, END, team.code)
    return "home" if p.fate.frailty_avoid_u < cfg.admission_avoided_share else destination


def _wait_or_leave(
    system: System, unit: PriorityUnit, request: Request, deadline: float
) -> Generator[object, None, bool]:
    """Wait for ``request`` until ``deadline``; False (request withdrawn) if it was not granted.

    The caller yields the request afterwards when True (granted now or earlier at this instant),
    as SimPy processes it.
    """
    remaining = deadline - system.env.now
    if remaining > 0 and not request.triggered:
        yield first_of(system.env, request, remaining)
    if request.triggered:
        return True
    queue = unit.queue
    for i, entry in enumerate(queue):
        if entry[2] is request:
            queue[i] = queue[-1]
            queue.pop()
            heapify(queue)
            break
    return False


def _leave_unseen(system: System, p: Patient) -> None:
    system.record(p.id, DEPART, system.code[LEFT_BEFORE_SEEN])
    cfg = system.scenario.ed.leave_before_seen
    u = p.fate.reattend_u
    if cfg is not None and u < cfg.re_attend_share:
        delay_hours = u / cfg.re_attend_share * cfg.re_attend_within_hours
        call_later(
            system.env,
            delay_hours,
            [lambda _event: readmission.re_present(system, p, p.route, True)],
        )


def crowding_turns_home(system: System, p: Patient, destination: str) -> bool:
    """A would-be admission sent home because the hospital is full (`Ed.crowding`).

    Only patients the model would admit, of the eligible triage categories, at the share of the
    highest crowding step reached; the old form counts boarders and takes any would-be admission.
    """
    cfg = system.scenario.ed.crowding
    if cfg is None or destination not in ADMITTING:
        return False
    if cfg.is_old_form:
        return (
            system.boarding >= cfg.boarding_threshold  # type: ignore[operator]
            and p.fate.crowding_u < cfg.admission_avoided_share  # type: ignore[operator]
        )
    if p.fate.acuity < cfg.eligible_min_acuity:
        return False
    level = system.boarding if cfg.measure == "boarding" else bed_pressure(system)
    reduction = 0.0
    for step in cfg.steps:
        if level >= step.at_least:
            reduction = step.admission_reduction
    return p.fate.crowding_u < reduction


def wants_ucr_follow_up(system: System, p: Patient) -> bool:
    cfg = system.scenario.ed.front_door_frailty
    return cfg is not None and p.fate.frailty_ucr_u < cfg.home_with_ucr_share


def clinician_rota(system: System) -> None:
    """Change the number of clinicians on duty on the hour.

    An hourly callback where a SimPy timeout would end, not a process: same instants, same order.
    """
    rota = system.scenario.ed.clinicians_by_hour
    clinicians, env = system.units.clinicians, system.env
    clinicians.set_capacity(rota[int(env.now % 24)])
    callbacks: list = []

    def on_the_hour(_event: object) -> None:
        clinicians.set_capacity(rota[int(env.now % 24)])
        call_later(env, 1.0, callbacks)

    callbacks.append(on_the_hour)
    call_later(env, 1.0, callbacks)
