"""Moving between places: the one rule that makes blocking propagate upstream.

A patient asks for a place in the next unit while still holding the current
one, and lets go of the old place only once the new one is theirs. A full ward
therefore keeps AMU patients in AMU beds, which keeps ED patients in cubicles
(boarding), which keeps ambulances waiting outside.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy

from flowsim.model.resources import Unit
from flowsim.model.system import END, QUEUE, START, Patient, System

Held = tuple[Unit, simpy.resources.resource.Request] | None


def move_to(
    sys: System, p: Patient, unit: Unit, holding: Held, priority: int = 0
) -> Generator[simpy.Event, object, simpy.resources.resource.Request]:
    """Wait for a place in ``unit`` while keeping ``holding``; then give ``holding`` up."""
    sys.record(p.id, QUEUE, unit.code)
    place = unit.request(priority=priority)
    yield place
    sys.record(p.id, START, unit.code)
    if holding is not None:
        leave(sys, p, holding)
    return place


def leave(sys: System, p: Patient, holding: Held) -> None:
    if holding is None:
        return
    unit, place = holding
    unit.leave(place)
    sys.record(p.id, END, unit.code)
