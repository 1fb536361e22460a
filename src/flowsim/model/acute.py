"""Acute medicine: same-day emergency care (SDEC), the acute medical unit (AMU) and the acute
frailty unit (AFU). Each either sends the patient home or passes them on to a ward, holding
its own bed or chair until the ward bed is free."""

from __future__ import annotations

from collections.abc import Generator

from flowsim.model.movement import Held, leave, move_to
from flowsim.model.system import Patient, System


def sdec_open(sys: System) -> bool:
    cfg = sys.scenario.sdec
    t = sys.env.now
    if sys.units.sdec.base_capacity == 0:
        return False
    if not cfg.open_weekends and sys.calendar.is_weekend(t):
        return False
    return cfg.open_hour <= t % 24 < cfg.close_hour


def sdec_can_take(sys: System) -> bool:
    """New patients only while open and a chair is free; otherwise they go to AMU."""
    return sdec_open(sys) and sys.units.sdec.free > 0


def takes_gp_referral_direct(sys: System, p: Patient) -> bool:
    return p.fate.sdec_direct_u < sys.scenario.sdec.gp_direct_share and sdec_can_take(sys)


def afu_can_take(sys: System, p: Patient) -> bool:
    cfg, afu = sys.scenario.afu, sys.units.afu
    if afu.base_capacity == 0 or p.frailty not in cfg.eligible_frailty:
        return False
    if not sys.age_at_least(p, cfg.min_age_band):
        return False
    return not (cfg.divert_to_amu_when_full and afu.free == 0)


def sdec_visit(sys: System, p: Patient, holding: Held) -> Generator[object, None, Held]:
    """A same-day stay in a chair. Returns the chair still held if the patient needs admitting."""
    sdec = sys.units.sdec
    yield from move_to(sys, p, sdec, holding)
    yield p.fate.sdec_hours
    if p.fate.sdec_admit_u < sys.scenario.sdec.admit_share.get(p.frailty):
        return sdec
    leave(sys, p, sdec)
    return None


def assessment_unit_stay(
    sys: System, p: Patient, unit_name: str, holding: Held
) -> Generator[object, None, Held]:
    """AMU or AFU. Returns the bed still held if a ward is needed, None if they went home."""
    if unit_name == "afu":
        unit, cfg, stay_hours, home_u = (
            sys.units.afu,
            sys.scenario.afu,
            p.fate.afu_hours,
            p.fate.afu_home_u,
        )
    else:
        unit, cfg, stay_hours, home_u = (
            sys.units.amu,
            sys.scenario.amu,
            p.fate.amu_hours,
            p.fate.amu_home_u,
        )
    yield from move_to(sys, p, unit, holding)
    yield stay_hours
    if home_u < cfg.discharge_share.get(p.frailty):
        leave(sys, p, unit)
        return None
    return unit
