"""The event log: what the model records, once, for every KPI to be computed from.

Each event is a tuple ``(time_hours, patient, kind, place)`` appended to a list:
cheap to write, and turned into numpy arrays once at the end. ``place`` indexes
``EventLog.places`` (units such as ``amu`` or ``ward:care_of_elderly``, routes
such as ``ambulance``, and outcomes such as ``home`` or ``died``). Names follow
vidigi's event-log vocabulary so the log can be animated.

Semantics of each kind (``place`` in brackets):

- ``ARRIVE`` [route]: the patient's need arises (999 call, walk-in, GP referral
  or readmission). Always the first event of a patient.
- ``QUEUE`` [unit]: starts waiting for a place in a unit. Every ``START`` has a
  ``QUEUE`` before it (at the same time when there was no wait). ``QUEUE`` at
  ``ed_cubicle`` is arrival at ED: the ED attendance.
- ``START`` [unit] / ``END`` [unit]: holds / leaves a place in the unit. A
  patient moving on keeps the old place until the new one starts (blocking), so
  ``END`` of the old unit has the same time as ``START`` of the next.
- ``HANDOVER`` [ed_cubicle or corridor]: the ambulance crew is released; the
  place says whether the patient went into a cubicle or (under a maximum
  handover time) waits on for a cubicle in a corridor, still queued for it.
- ``START``/``END`` [corridor]: under the full-capacity protocol, an admitted
  patient boarding in ED moves from the cubicle to a corridor space
  (``END ed_cubicle`` and ``START corridor`` at the same time) and waits there
  for the bed. Such a patient leaves ED at ``END corridor``, so ED departure
  is the last ``END`` at ``ed_cubicle`` or ``corridor``.
- ``RESERVE`` [p1, p2 or p3]: a community place became free and is held for
  the patient, who ``START``s it only when they leave the ward at the next
  discharge window (``START p1`` and ``END ward`` at one instant). QUEUE to
  RESERVE is the wait for community capacity; RESERVE to START the wait for
  the discharge window. Community occupancy counts people, not reservations.
- ``OPTIMISED`` [ward]: medically optimised; from here on the patient is a
  delayed discharge (no criteria to reside) until ``END`` of the ward.
- ``DEPART`` [outcome]: leaves the system: ``home``, ``died``, ``P0``..``P3``
  (community pathway started after hospital), ``ucr_home``, ``virtual_ward_home``.
  Always the last event of a patient.

Patients are described once in ``EventLog.patients`` (see `PATIENT_FIELDS`).
Capacity changes (clinician rota, escalation beds) go to ``EventLog.capacity``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np


class Kind(IntEnum):
    ARRIVE = 0
    QUEUE = 1
    START = 2
    END = 3
    HANDOVER = 4
    OPTIMISED = 5
    DEPART = 6
    RESERVE = 7


EVENT_DTYPE = np.dtype(
    [("time", np.float64), ("patient", np.int64), ("kind", np.int8), ("place", np.int16)]
)
ROUTES = ("ambulance", "walk_in", "gp_referral")
OUTCOMES = ("home", "died", "P0", "P1", "P2", "P3", "ucr_home", "virtual_ward_home")
PATIENT_FIELDS = (
    "patient",
    "place",  # index into EventLog.population_places
    "age_band",  # index into flowsim.scenario.schema.AGE_BANDS
    "frailty",  # index into FRAILTY_BANDS
    "cfs",  # Clinical Frailty Scale 1-9
    "acuity",  # triage category 1 (immediate) - 5 (non-urgent)
    "route",  # index into ROUTES
    "readmission_of",  # patient id of the index stay, -1 if none
)


@dataclass
class EventLog:
    """Everything one replication recorded. Plain Python and numpy only."""

    places: list[str]
    population_places: list[str]
    warm_up_hours: float
    end_hours: float
    capacities: dict[str, int]
    events: list[tuple[float, int, int, int]] = field(default_factory=list)
    patients: list[tuple[int, int, int, int, int, int, int, int]] = field(default_factory=list)
    capacity: list[tuple[float, int, int]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def place_code(self, name: str) -> int:
        return self.places.index(name)

    def event_arrays(self) -> dict[str, np.ndarray]:
        """Columns ``time``, ``patient``, ``kind``, ``place`` as numpy arrays."""
        table = np.fromiter(self.events, dtype=EVENT_DTYPE, count=len(self.events))
        return {name: table[name] for name in EVENT_DTYPE.names}

    def patient_arrays(self) -> dict[str, np.ndarray]:
        cols = list(zip(*self.patients, strict=True)) if self.patients else [()] * 8
        return {
            name: np.asarray(col, dtype=np.int64)
            for name, col in zip(PATIENT_FIELDS, cols, strict=True)
        }

    def capacity_arrays(self) -> dict[str, np.ndarray]:
        cols = list(zip(*self.capacity, strict=True)) if self.capacity else [(), (), ()]
        return {
            "time": np.asarray(cols[0], dtype=np.float64),
            "place": np.asarray(cols[1], dtype=np.int16),
            "capacity": np.asarray(cols[2], dtype=np.int64),
        }
