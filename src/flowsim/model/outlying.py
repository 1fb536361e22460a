"""Outlying: an admitted patient whose ward group is full goes to another group's free bed.

Hospitals place medical patients on other wards when their own are full (pressure.md O1-O8:
a fifth to a third of medical admissions in crowded systems). The patient first waits for a bed
in their own group, holding their AMU, AFU or ED place as for any move (blocking); after
``after_hours``, and every hour after that, a free bed in another group is sought, leaving that
group's ring-fenced beds to its own patients. Once found, the patient stops waiting for their own
group (``QUEUE`` at the host, see `flowsim.log`), takes the bed and stays there.
"""

from __future__ import annotations

import math
from collections.abc import Generator

from flowsim.model.kernel import Unit, first_of
from flowsim.model.movement import Held, board_in_corridor
from flowsim.model.system import END, QUEUE, START, Patient, System
from flowsim.scenario.pressure import Outlying

RECHECK_HOURS = 1.0
"""How often a bed elsewhere is sought again once the first search failed (bed meetings and
site huddles look often; the value is an estimate)."""


def move_to_ward(
    system: System, p: Patient, home: Unit, holding: Held, cfg: Outlying
) -> Generator[object, None, Unit]:
    """Wait for a bed in ``home`` (or, after the wait, another group's); return the ward."""
    env = system.env
    system.record(p.id, QUEUE, home.code)
    place = home.request()
    ward = home
    if place is not None:
        boarding = holding is system.units.cubicles and not place.triggered
        if boarding:
            system.boarding += 1
        corridor_after = system.scenario.ed.corridor_boarding_after_hours if boarding else None
        corridor_at = math.inf if corridor_after is None else env.now + corridor_after
        look_at = env.now + cfg.after_hours
        while not place.triggered:
            yield first_of(env, place, min(corridor_at, look_at) - env.now)
            if place.triggered:
                break
            if env.now >= corridor_at:
                if system.units.corridor.free == 0:  # every corridor space taken: look again
                    corridor_at = env.now + RECHECK_HOURS
                else:
                    holding = yield from board_in_corridor(system, p, holding)
                    corridor_at = math.inf
                    if place.triggered:
                        break
            if env.now >= look_at:
                host = _host(system, home, cfg)
                if host is not None:
                    home.queue.remove(place)
                    ward = host
                    break
                look_at = env.now + RECHECK_HOURS
        if ward is home:
            yield place
        else:
            system.record(p.id, QUEUE, ward.code)
            bed = ward.request()
            if bed is not None:
                yield bed
            system.pressure.record(f"outlier:{ward.name}", p.id)
        if boarding:
            system.boarding -= 1
    system.record(p.id, START, ward.code)
    if holding is not None:
        holding.leave()
        system.record(p.id, END, holding.code)
    return ward


def _host(system: System, home: Unit, cfg: Outlying) -> Unit | None:
    """The ward group to take an outlier now, or None (none free beyond its ring fence, or the
    hospital below the level at which outlying is allowed)."""
    if system.pressure.level < cfg.from_level:
        return None
    names, wards = system.ward_names, system.units.wards
    fence = cfg.ring_fenced_beds
    if cfg.hosts is not None:
        by_name = dict(zip(names, wards, strict=True))
        for name in cfg.hosts.get(names[wards.index(home)], []):
            ward = by_name[name]
            if ward is not home and not ward.queue and ward.free > fence.get(name, 0):
                return ward
        return None
    # Most free beds first, ward order breaking ties: the first such ward that can take one.
    # Sought every hour for every outlier waiting, so in one pass rather than by sorting.
    best, best_free = None, 0
    for name, ward in zip(names, wards, strict=True):
        if ward is home:
            continue
        free = ward.free
        if (best is None or free > best_free) and not ward.queue and free > fence.get(name, 0):
            best, best_free = ward, free
    return best
