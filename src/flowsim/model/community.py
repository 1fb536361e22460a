"""Community services instead of hospital: the virtual ward.

P1-P3 capacity is used by `discharge`, and the readmission loop that brings people back as new
arrivals is `readmission`.
"""

from __future__ import annotations

from collections.abc import Generator

from flowsim.model import readmission
from flowsim.model.movement import Held, leave, move_to
from flowsim.model.system import DEPART, Patient, System


def virtual_ward_stay(system: System, p: Patient, holding: Held) -> Generator[object, None, None]:
    """Hospital at home. A share are admitted after all: they come back through ED."""
    vw = system.units.virtual_ward
    yield from move_to(system, p, vw, holding)
    yield p.fate.virtual_ward_days * 24.0
    leave(system, p, vw)
    system.record(p.id, DEPART, system.code["virtual_ward_home"])
    if p.fate.virtual_ward_admit_u < system.scenario.community.virtual_ward.admission_share:
        readmission.re_present(system, p, route="ambulance")
