"""The event log: the contract between the model, which writes it, and everything that reads it.

Each event is a row ``(time_hours, patient, kind, place)`` of `Events`, a sequence of
tuples kept as three compact arrays (14 bytes an event, where a list of tuples takes ~96),
turned into numpy columns once at the end. ``place`` indexes
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
  (community pathway started after hospital), ``ucr_home``, ``virtual_ward_home``,
  ``left_before_seen`` (left ED before a clinician saw them: straight from the
  cubicle QUEUE, or after ``END ed_cubicle`` while still queued at
  ``ed_clinician``; either queue ends there). Always the last event of a patient.

Patients are described once in ``EventLog.patients`` (see `PATIENT_FIELDS`).
Capacity changes (clinician rota, escalation beds, seasonal bed closures) go to
``EventLog.capacity``.

A patient may stop waiting for one unit and ``QUEUE`` at another without a ``START`` at the
first: an admitted patient placed in another ward group's bed (an outlier,
``pressure.outlying``) ``QUEUE``s at the host ward when the bed is found; the earlier ``QUEUE``
ends there.

``EventLog.pressure`` (empty unless the scenario has a ``pressure`` section) holds rows
``(time_hours, signal, value)``, one per change, written by the pressure responses
(`flowsim.scenario.pressure`). Signals (see `PRESSURE_SIGNALS`):

- ``opel``: the hospital's OPEL level (1-4) from this time on; a first row at time 0;
- ``outlier:<ward unit>``: a patient (``value`` = patient id) placed in that ward as an outlier;
- ``electives:<ward unit>``: elective inpatients in the ward's beds from this time on (they hold
  beds but are not patients of the log);
- ``electives_admitted:``, ``electives_cancelled:`` and ``electives_no_bed:<ward unit>``: running
  totals of elective admissions, of cancellations for pressure and for lack of a bed;
- ``spot:<p1|p2|p3>``: spot-purchased community places open from this time on (its integral over
  time is the place-days bought; the unit's capacity rows in ``EventLog.capacity`` include them).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, overload

import numpy as np

from flowsim.scenario.units import OUTCOMES as OUTCOMES
from flowsim.scenario.units import ROUTES as ROUTES


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


PRESSURE_SIGNALS = (
    "opel",
    "outlier",
    "electives",
    "electives_admitted",
    "electives_cancelled",
    "electives_no_bed",
    "spot",
)
"""Signals of ``EventLog.pressure``, written ``<signal>`` or ``<signal>:<unit>``."""

Row = tuple[float, int, int, int]

KIND_SHIFT = 12
"""``codes`` holds ``kind << KIND_SHIFT | place``: up to 16 kinds and 4,096 places."""
_PLACE_MASK = (1 << KIND_SHIFT) - 1


class Events(Sequence[Row]):
    """The rows ``(time, patient, kind, place)`` of the event log, in the order recorded.

    Reads as a list of tuples (iterate, index, compare, ``len``) but is stored as three compact
    columns, 14 bytes an event: ``times`` (float64), ``patients`` (int32) and ``codes``
    (uint16, ``kind << KIND_SHIFT | place``).
    """

    __slots__ = ("codes", "patients", "times")

    def __init__(self, rows: Iterable[Row] = ()) -> None:
        self.times = array("d")
        self.patients = array("i")
        self.codes = array("H")
        for row in rows:
            self.append(row)

    def append(self, row: Row) -> None:
        t, patient, kind, place = row
        if not (0 <= kind < 1 << (16 - KIND_SHIFT) and 0 <= place <= _PLACE_MASK):
            raise ValueError(f"event {row!r}: kind or place code out of range")
        self.times.append(t)
        self.patients.append(patient)
        self.codes.append(kind << KIND_SHIFT | place)

    def __len__(self) -> int:
        return len(self.times)

    @overload
    def __getitem__(self, i: int) -> Row: ...
    @overload
    def __getitem__(self, i: slice) -> list[Row]: ...
    def __getitem__(self, i: int | slice) -> Row | list[Row]:
        if isinstance(i, slice):
            return list(self._rows(self.times[i], self.patients[i], self.codes[i]))
        code = self.codes[i]
        return self.times[i], self.patients[i], code >> KIND_SHIFT, code & _PLACE_MASK

    def __iter__(self) -> Iterator[Row]:
        return self._rows(self.times, self.patients, self.codes)

    @staticmethod
    def _rows(
        times: Iterable[float], patients: Iterable[int], codes: Iterable[int]
    ) -> Iterator[Row]:
        for t, patient, code in zip(times, patients, codes, strict=True):
            yield t, patient, code >> KIND_SHIFT, code & _PLACE_MASK

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Events):
            return (
                self.times == other.times
                and self.patients == other.patients
                and self.codes == other.codes
            )
        if isinstance(other, Sequence):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Events({len(self)} rows)"

    @property
    def nbytes(self) -> int:
        return sum(len(a) * a.itemsize for a in (self.times, self.patients, self.codes))

    def columns(self) -> dict[str, np.ndarray]:
        """``time``, ``patient``, ``kind``, ``place`` as numpy arrays (`EVENT_DTYPE` types)."""
        if not len(self):
            return {name: np.zeros(0, dtype=EVENT_DTYPE[name]) for name in EVENT_DTYPE.names}
        codes = np.frombuffer(self.codes, dtype=np.uint16)
        return {
            "time": np.frombuffer(self.times, dtype=np.float64).copy(),
            "patient": np.frombuffer(self.patients, dtype=np.intc).astype(np.int64),
            "kind": (codes >> KIND_SHIFT).astype(np.int8),
            "place": (codes & _PLACE_MASK).astype(np.int16),
        }


@dataclass
class EventLog:
    """Everything one replication recorded. Plain Python and numpy only."""

    places: list[str]
    population_places: list[str]
    warm_up_hours: float
    end_hours: float
    capacities: dict[str, int]
    events: Events = field(default_factory=Events)
    patients: list[tuple[int, int, int, int, int, int, int, int]] = field(default_factory=list)
    capacity: list[tuple[float, int, int]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    pressure: list[tuple[float, str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.events, Events):
            self.events = Events(self.events)

    def place_code(self, name: str) -> int:
        return self.places.index(name)

    def event_arrays(self) -> dict[str, np.ndarray]:
        """Columns ``time``, ``patient``, ``kind``, ``place`` as numpy arrays."""
        return self.events.columns()

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
