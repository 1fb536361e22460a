"""Inpatient wards: treatment until medically optimised, or death, or early step-down to the
virtual ward; then the discharge pathway, during which the patient still holds the bed."""

from __future__ import annotations

from collections.abc import Generator

from flowsim.model import community, discharge
from flowsim.model.movement import Held, leave, move_to
from flowsim.model.system import DEPART, OPTIMISED, Patient, System


def ward_stay(sys: System, p: Patient, holding: Held) -> Generator[object, None, None]:
    f = p.fate
    ward = sys.units.wards[f.ward]
    cfg = sys.scenario.wards[sys.ward_names[f.ward]]
    yield from move_to(sys, p, ward, holding)
    treatment_hours = f.ward_los_days * 24.0
    dies = f.death_u < cfg.death_probability.get(p.frailty)

    vw = sys.scenario.community.virtual_ward
    if not dies and f.step_down_u < vw.step_down_share.get(p.frailty):
        early_hours = max(treatment_hours - vw.step_down_days_saved * 24.0, 0.0)
        yield early_hours
        if sys.units.virtual_ward.free > 0:
            yield from community.virtual_ward_stay(sys, p, holding=ward)
            return
        treatment_hours -= early_hours

    yield treatment_hours
    if dies:
        leave(sys, p, ward)
        sys.record(p.id, DEPART, sys.code["died"])
        return
    sys.record(p.id, OPTIMISED, ward.code)
    yield from discharge.leave_hospital(sys, p, ward)
