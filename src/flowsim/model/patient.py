"""One patient's journey through the system, top to bottom."""

from __future__ import annotations

from collections.abc import Generator

from flowsim.model import acute, community, ed, readmission, ucr, wards
from flowsim.model.movement import Held, leave
from flowsim.model.system import ARRIVE, DEPART, Patient, System


def journey(sys: System, p: Patient) -> Generator[object, None, None]:
    sys.record(p.id, ARRIVE, sys.code[p.route])

    if p.route == "ambulance" and ucr.can_respond(sys, p):
        stayed_home = yield from ucr.respond(sys, p)
        if stayed_home:
            return

    if p.route == "gp_referral" and acute.takes_gp_referral_direct(sys, p):
        chair = yield from acute.sdec_visit(sys, p, holding=None)
        if chair is None:
            go_home(sys, p)
        else:
            yield from admit(sys, p, "amu", holding=chair)
        return

    arrived = sys.env.now
    cubicle = yield from ed.arrive(sys, p)
    if cubicle is None:  # left before being seen (ed.leave_before_seen)
        return
    decided = yield from ed.assess(sys, p, arrived)
    if decided == ed.LEFT_BEFORE_SEEN:
        return
    destination = decided
    if ed.frailty_assessed(sys, p, decided):
        destination = yield from ed.front_door_frailty(sys, p, decided)
    if ed.crowding_turns_home(sys, p, destination):
        destination = "home"

    if destination == "virtual_ward":
        if sys.units.virtual_ward.free > 0:
            yield from community.virtual_ward_stay(sys, p, holding=cubicle)
            return
        destination = "amu"
    if destination == "sdec":
        if acute.sdec_can_take(sys):
            chair = yield from acute.sdec_visit(sys, p, holding=cubicle)
            if chair is None:
                go_home(sys, p)
                return
            cubicle = chair
        destination = "amu"
    if destination == "home":
        leave(sys, p, cubicle)
        if decided != "home" and ed.wants_ucr_follow_up(sys, p):
            yield from ucr.follow_up(sys, p)
        go_home(sys, p)
        return

    yield from admit(sys, p, destination, holding=cubicle)


def admit(sys: System, p: Patient, destination: str, holding: Held) -> Generator:
    """Into hospital through AMU, AFU or straight to a ward."""
    if destination == "afu" and not acute.afu_can_take(sys, p):
        destination = "amu"
    if destination == "amu" and sys.units.amu.base_capacity == 0:
        destination = "ward"
    if destination in ("amu", "afu"):
        holding = yield from acute.assessment_unit_stay(sys, p, destination, holding)
        if holding is None:
            sys.record(p.id, DEPART, sys.code["home"])
            readmission.maybe_readmit(sys, p, "P0")
            return
    yield from wards.ward_stay(sys, p, holding)


def go_home(sys: System, p: Patient) -> None:
    sys.record(p.id, DEPART, sys.code["home"])
    readmission.maybe_readmit(sys, p, "home_from_ed")
