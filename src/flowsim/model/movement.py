"""Moving between places: the one rule that makes blocking propagate upstream.

A patient asks for a place in the next unit while still holding the current
one, and lets go of the old place only once the new one is theirs. The one
exception is the full-capacity protocol (``ed.corridor_boarding_after_hours``):
a long-boarding ED patient gives the cubicle up for a corridor space. A full ward
therefore keeps AMU patients in AMU beds, which keeps ED patients in cubicles
(boarding), which keeps ambulances waiting outside. Outlying (`flowsim.model.outlying`) keeps
the rule: the patient waits in their place for a bed in another ward group instead.
"""

from __future__ import annotations

from collections.abc import Generator

from flowsim.model.kernel import Unit, first_of
from flowsim.model.system import END, QUEUE, START, Patient, System

Held = Unit | None
"""The unit whose place a patient holds (units count places; they need no ticket)."""


def move_to(system: System, p: Patient, unit: Unit, holding: Held) -> Generator[object, None, Unit]:
    """Wait for a place in ``unit`` while keeping ``holding``; then give ``holding`` up."""
    record = system.record
    record(p.id, QUEUE, unit.code)
    place = unit.request()
    if place is not None:
        boarding = holding is system.units.cubicles and not place.triggered
        if boarding:
            system.boarding += 1
            corridor_after = system.scenario.ed.corridor_boarding_after_hours
            if corridor_after is not None:
                yield first_of(system.env, place, corridor_after)
                while not place.triggered and system.units.corridor.free == 0:
                    yield first_of(system.env, place, 1.0)  # ed.corridor_spaces all taken
                if not place.triggered:
                    holding = yield from board_in_corridor(system, p, holding)
        yield place
        if boarding:
            system.boarding -= 1
    record(p.id, START, unit.code)
    if holding is not None:
        holding.leave()
        record(p.id, END, holding.code)
    return unit


def board_in_corridor(system: System, p: Patient, cubicle: Unit) -> Generator[object, None, Unit]:
    """Free the cubicle for the next patient; the boarder waits on in a corridor space."""
    corridor = system.units.corridor
    system.record(p.id, QUEUE, corridor.code)
    space = corridor.request()
    if space is not None:
        yield space
    system.record(p.id, START, corridor.code)
    leave(system, p, cubicle)
    return corridor


def leave(system: System, p: Patient, holding: Held) -> None:
    if holding is None:
        return
    holding.leave()
    system.record(p.id, END, holding.code)
