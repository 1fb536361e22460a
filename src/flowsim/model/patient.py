"""One patient's journey through the system, top to bottom."""

from __future__ import annotations

from collections.abc import Generator

from flowsim.model import acute, community, ed, readmission, ucr, wards
from flowsim.model.movement import Held, leave
from flowsim.model.system import ARRIVE, DEPART, Patient, System


def journey(system: System, p: Patient) -> Generator[object, None, None]:
    system.record(p.id, ARRIVE, system.code[p.route])

    if p.route == "ambulance" and ucr.can_respond(system, p):
        stayed_home = yield from ucr.respond(system, p)
        if stayed_home:
            return

    if p.route == "gp_referral" and acute.takes_gp_referral_direct(system, p):
        chair = yield from acute.sdec_visit(system, p, holding=None)
        if chair is None:
            go_home(system, p)
        else:
            yield from admit(system, p, "amu", holding=chair)
        return

    arrived = system.env.now
    cubicle = yield from ed.arrive(system, p)
    if cubicle is None:  # left before being seen (ed.leave_before_seen)
        return
    decided = yield from ed.assess(system, p, arrived)
    if decided == ed.LEFT_BEFORE_SEEN:
        return
    destination = decided
    if ed.frailty_assessed(system, p, decided):
        destination = yield from ed.front_door_frailty(system, p, decided)
    if ed.crowding_turns_home(system, p, destination):
        destination = "home"

    if destination == "virtual_ward":
        if system.units.virtual_ward.free > 0:
            yield from community.virtual_ward_stay(system, p, holding=cubicle)
            return
        destination = "amu"
    if destination == "sdec":
        if acute.sdec_can_take(system):
            chair = yield from acute.sdec_visit(system, p, holding=cubicle)
            if chair is None:
                go_home(system, p)
                return
            cubicle = chair
        destination = "amu"
    if destination == "home":
        leave(system, p, cubicle)
        if decided != "home" and ed.wants_ucr_follow_up(system, p):
            yield from ucr.follow_up(system, p)
        go_home(system, p)
        return

    yield from admit(system, p, destination, holding=cubicle)


def admit(system: System, p: Patient, destination: str, holding: Held) -> Generator:
    """Into hospital through AMU, AFU or straight to a ward."""
    if destination == "afu" and not acute.afu_can_take(system, p):
        destination = "amu"
    if destination == "amu" and system.units.amu.base_capacity == 0:
        destination = "ward"
    if destination in ("amu", "afu"):
        holding = yield from acute.assessment_unit_stay(system, p, destination, holding)
        if holding is None:
            system.record(p.id, DEPART, system.code["home"])
            readmission.maybe_readmit(system, p, "P0")
            return
    yield from wards.ward_stay(system, p, holding)


def go_home(system: System, p: Patient) -> None:
    system.record(p.id, DEPART, system.code["home"])
    readmission.maybe_readmit(system, p, "home_from_ed")
