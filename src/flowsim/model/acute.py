"""Acute medicine: same-day emergency care (SDEC), the acute medical unit (AMU) and the acute
frailty unit (AFU). Each either sends the patient home or passes them on to a ward, holding
its own bed or chair until the ward bed is free."""

from __future__ import annotations

from collections.abc import Generator

from flowsim.model.movement import Held, leave, move_to
from flowsim.model.system import Patient, System


def sdec_open(system: System) -> bool:
    cfg = system.scenario.sdec
    t = system.env.now
    if system.units.sdec.base_capacity == 0:
        return False
    if not cfg.open_weekends and system.calendar.is_weekend(t):
        return False
    return cfg.open_hour <= t % 24 < cfg.close_hour


def sdec_can_take(system: System) -> bool:
    """New patients only while open and a chair is free; otherwise they go to AMU."""
    return sdec_open(system) and system.units.sdec.free > 0


def takes_gp_referral_direct(system: System, p: Patient) -> bool:
    return p.fate.sdec_direct_u < system.scenario.sdec.gp_direct_share and sdec_can_take(system)


def afu_can_take(system: System, p: Patient) -> bool:
    cfg, afu = system.scenario.afu, system.units.afu
    if afu.base_capacity == 0 or p.frailty not in cfg.eligible_frailty:
        return False
    if not system.age_at_least(p, cfg.min_age_band):
        return False
    return not (cfg.divert_to_amu_when_full and afu.free == 0)


def sdec_visit(system: System, p: Patient, holding: Held) -> Generator[object, None, Held]:
    """A same-day stay in a chair. Returns the chair still held if the patient needs admitting."""
    sdec = system.units.sdec
    yield from move_to(system, p, sdec, holding)
    yield p.fate.sdec_hours
    if p.fate.sdec_admit_u < system.scenario.sdec.admit_share.get(p.frailty):
        return sdec
    leave(system, p, sdec)
    return None


def assessment_unit_stay(
    system: System, p: Patient, unit_name: str, holding: Held
) -> Generator[object, None, Held]:
    """AMU or AFU. Returns the bed still held if a ward is needed, None if they went home."""
    if unit_name == "afu":
        unit, cfg, stay_hours, home_u = (
            system.units.afu,
            system.scenario.afu,
            p.fate.afu_hours,
            p.fate.afu_home_u,
        )
    else:
        unit, cfg, stay_hours, home_u = (
            system.units.amu,
            system.scenario.amu,
            p.fate.amu_hours,
            p.fate.amu_home_u,
        )
    yield from move_to(system, p, unit, holding)
    yield stay_hours
    if home_u < cfg.discharge_share.get(p.frailty):
        leave(system, p, unit)
        return None
    return unit
