"""Inpatient wards: treatment until medically optimised, or death, or early step-down to the
virtual ward; then the discharge pathway, during which the patient still holds the bed."""

from __future__ import annotations

from collections.abc import Generator

from flowsim.model import community, discharge, outlying
from flowsim.model.movement import Held, leave, move_to
from flowsim.model.opel import bed_pressure, ga_occupancy
from flowsim.model.system import DEPART, OPTIMISED, Patient, System
from flowsim.scenario.pressure import DischargePush


def ward_stay(system: System, p: Patient, holding: Held) -> Generator[object, None, None]:
    f = p.fate
    home = system.units.wards[f.ward]
    cfg = system.scenario.wards[system.ward_names[f.ward]]
    pressure = system.pressure.config
    if pressure.outlying is None:
        yield from move_to(system, p, home, holding)
        ward = home
    else:
        ward = yield from outlying.move_to_ward(system, p, home, holding, pressure.outlying)
    treatment_hours = f.ward_los_days * 24.0
    death_probability = cfg.death_probability.get(p.frailty)
    if ward is not home:
        treatment_hours *= pressure.outlying.los_multiplier
        death_probability *= pressure.outlying.death_multiplier
    dies = f.death_u < death_probability

    vw = system.scenario.community.virtual_ward
    elapsed_hours = 0.0
    if not dies and f.step_down_u < vw.step_down_share.get(p.frailty):
        early_hours = max(treatment_hours - vw.step_down_days_saved * 24.0, 0.0)
        yield early_hours
        if system.units.virtual_ward.free > 0:
            yield from community.virtual_ward_stay(system, p, holding=ward)
            return
        treatment_hours -= early_hours
        elapsed_hours = early_hours

    push = pressure.discharge_push
    if push is None or treatment_hours <= max(push.min_elapsed_days * 24.0 - elapsed_hours, 0.0):
        yield treatment_hours  # as `_treatment_under_load` would: over before the push can act
    else:
        yield from _treatment_under_load(system, p, treatment_hours, elapsed_hours)
    if dies:
        leave(system, p, ward)
        system.record(p.id, DEPART, system.code["died"])
        return
    system.record(p.id, OPTIMISED, ward.code)
    system.pressure.delayed += 1
    yield from discharge.leave_hospital(system, p, ward)


def _treatment_under_load(
    system: System, p: Patient, remaining_hours: float, elapsed_hours: float
) -> Generator[object, None, None]:
    """The rest of a stay, progressing faster on days the hospital is full (pressure.md L5, L8).

    Once the stay has lasted ``min_elapsed_days``, the occupancy (or bed demand) is read at the
    start of each day; above ``above_occupancy`` the remaining treatment runs ``1 + speed-up``
    times as fast for that day, the speed-up growing by ``speed_up_per_point`` per point above,
    capped. A faster daily rate of finishing is the same as a higher discharge hazard on those days.
    """
    push: DischargePush = system.pressure.config.discharge_push
    wait_hours = max(push.min_elapsed_days * 24.0 - elapsed_hours, 0.0)
    if remaining_hours <= wait_hours:
        yield remaining_hours
        return
    if wait_hours > 0:
        yield wait_hours
        remaining_hours -= wait_hours
    above, per_point, most = push.above_occupancy, push.speed_up_per_point, push.max_speed_up
    level = ga_occupancy if push.measure == "occupancy" else bed_pressure
    pushed = system.pressure.pushed
    while remaining_hours > 0:  # `speed_up`, inline: it runs every day of every long stay
        points = (level(system) - above) * 100.0
        speed = 1.0 + (min(points * per_point, most) if points > 0 else 0.0)
        if speed > 1.0:
            pushed.add(p.id)
        clock_hours = min(24.0, remaining_hours / speed)
        yield clock_hours
        remaining_hours -= clock_hours * speed
        if remaining_hours < 1e-9:
            break


def speed_up(push: DischargePush, occupancy: float) -> float:
    """Extra rate of progress at this G&A occupancy (0 at or below the threshold)."""
    points = (occupancy - push.above_occupancy) * 100.0
    if points <= 0:
        return 0.0
    return min(points * push.speed_up_per_point, push.max_speed_up)
