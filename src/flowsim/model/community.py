"""Community services instead of hospital: the virtual ward.

P1-P3 capacity is used by `discharge`, and the readmission loop that brings people back as new
arrivals is `readmission`.
"""

from __future__ import annotations

from collections.abc import Generator

from flowsim.model import readmission
from flowsim.model.movement import Held, leave, move_to
from flowsim.model.system import DEPART, Patient, System


def virtual_ward_stay(sys: System, p: Patient, holding: Held) -> Generator[object, None, None]:
    """Hospital at home. A share are admitted after all: they come back through ED."""
    vw = sys.units.virtual_ward
    yield from move_to(sys, p, vw, holding)
    yield p.fate.virtual_ward_days * 24.0
    leave(sys, p, vw)
    sys.record(p.id, DEPART, sys.code["virtual_ward_home"])
    if p.fate.virtual_ward_admit_u < sys.scenario.community.virtual_ward.admission_share:
        readmission.re_present(sys, p, route="ambulance")
