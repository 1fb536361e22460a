"""The hospital's pressure level (OPEL 1-4), worked out every hour, and the state the pressure
responses share.

Real hospitals declare an operational pressure level from a few indicators and switch their
responses on it (outlying, cancelling electives, opening escalation beds; pressure.md P1-P5).
The level here is the highest any configured indicator reaches (G&A occupancy, ED boarders,
the ED queue, delayed discharges), rising at once and falling only after a few calm hours, so
a response does not flap on and off within a shift. With no ``pressure.opel`` the level stays
1 and nothing is scheduled.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from flowsim.model.kernel import call_later
from flowsim.model.system import System
from flowsim.scenario.pressure import Opel, Pressure


class PressureState:
    """What the pressure responses read and write during one replication (``system.pressure``)."""

    __slots__ = ("_log", "_sys", "config", "delayed", "level", "pushed")

    def __init__(self, system: System) -> None:
        self._sys = system
        self._log = system.log.pressure
        self.config: Pressure = system.scenario.pressure or Pressure()
        self.level = 1
        """OPEL level now (1 when no level is worked out)."""
        self.delayed = 0
        """Medically optimised patients still in a ward bed now (no criteria to reside)."""
        self.pushed: set[int] = set()
        """Patients whose stay or discharge was hurried by `DischargePush` (readmission cost)."""

    def record(self, signal: str, value: int) -> None:
        """Append a row to ``EventLog.pressure`` now (see `flowsim.log`)."""
        self._log.append((self._sys.env.now, signal, value))


def install(system: System) -> PressureState:
    """Give the system its pressure state and start the hourly level check if configured."""
    state = PressureState(system)
    system.pressure = state
    enabled = [name for name in type(state.config).model_fields if getattr(state.config, name)]
    if enabled:
        system.log.meta["pressure"] = enabled
    opel = state.config.opel
    if opel is not None:
        state.record("opel", 1)
        _hourly_level(system, state, opel)
    return state


def ga_occupancy(system: System) -> float:
    """Patients (and electives, and beds being cleaned) in AMU, AFU and ward beds, over the beds
    in force; 0 for a hospital without beds."""
    u = system.units  # read every day of every long stay: plain loops, no generators
    amu, afu = u.amu, u.afu
    beds, in_use = amu.capacity + afu.capacity, amu.in_use + afu.in_use
    for ward in u.wards:
        beds += ward.capacity
        in_use += ward.in_use
    return in_use / beds if beds else 0.0


def bed_pressure(system: System) -> float:
    """Patients in or waiting in ED for an AMU, AFU or ward bed, per such bed in force now."""
    u = system.units  # read for every would-be admission: plain loops, no generators
    amu, afu = u.amu, u.afu
    beds, needing = amu.capacity + afu.capacity, amu.in_use + afu.in_use + system.boarding
    for ward in u.wards:
        beds += ward.capacity
        needing += ward.in_use
    return needing / beds if beds > 0 else math.inf


def delayed_share(system: System) -> float:
    """Delayed discharges over ward beds in force (0 for a hospital without ward beds)."""
    beds = sum(w.capacity for w in system.units.wards)
    return system.pressure.delayed / beds if beds else 0.0


def indicated_level(system: System, opel: Opel) -> int:
    """The level the indicators point to now: the highest any of them reaches."""
    level = 1
    readings: list[tuple[list | None, Callable[[], float]]] = [
        (opel.occupancy, lambda: ga_occupancy(system)),
        (opel.ed_boarding, lambda: system.boarding),
        (opel.ed_queue, lambda: len(system.units.cubicles.queue)),
        (opel.delayed_share, lambda: delayed_share(system)),
    ]
    for thresholds, read in readings:
        if thresholds is None:
            continue
        value = read()
        level = max(level, 1 + sum(value >= t for t in thresholds))
    return level


def _hourly_level(system: System, state: PressureState, opel: Opel) -> None:
    """Check the indicators on the hour (a callback where an hourly timeout would end)."""
    env = system.env
    hours_below = 0.0
    callbacks: list = []

    def check(_event: object) -> None:
        nonlocal hours_below
        indicated = indicated_level(system, opel)
        if indicated > state.level:
            state.level = indicated
            state.record("opel", indicated)
            hours_below = 0.0
        elif indicated < state.level:
            hours_below += 1.0
            if hours_below >= opel.step_down_after_hours:
                state.level = indicated
                state.record("opel", indicated)
                hours_below = 0.0
        else:
            hours_below = 0.0
        call_later(env, 1.0, callbacks)

    callbacks.append(check)
    call_later(env, 1.0, callbacks)
