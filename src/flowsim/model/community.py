"""Community services after (or instead of) hospital: the virtual ward, and readmission.

P1-P3 capacity is used by `discharge`; this module holds what outlasts a
hospital stay: virtual-ward stays and the 30-day readmission loop that brings
people back as new arrivals.
"""

from __future__ import annotations

from collections.abc import Generator

from flowsim.model.kernel import call_later
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
        sys.re_present(p, route="ambulance")


def maybe_readmit(sys: System, p: Patient, after: str) -> None:
    """Schedule a return within the readmission window, by pathway and frailty band."""
    probability = sys.readmission_probability.get((after, p.frailty))
    if probability is None:
        return
    push = sys.pressure.config.discharge_push  # type: ignore[attr-defined]
    if push is not None and p.id in sys.pressure.pushed:  # type: ignore[attr-defined]
        probability = with_odds_ratio(probability, push.readmission_odds_ratio)
    if p.fate.readmit_u >= probability:
        return
    delay_hours = p.fate.readmit_delay_u * sys.scenario.community.readmission.within_days * 24.0
    call_later(sys.env, delay_hours, [lambda _event: sys.re_present(p, p.route, at_once=True)])


def with_odds_ratio(probability: float, odds_ratio: float) -> float:
    """A probability with its odds multiplied (pressure.md L6 reports odds ratios)."""
    if probability >= 1.0 or odds_ratio == 1.0:
        return probability
    odds = probability / (1.0 - probability) * odds_ratio
    return odds / (1.0 + odds)
