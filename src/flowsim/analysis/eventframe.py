"""An `EventLog` as pandas tables, and the per-visit, per-stay and per-spell tables behind KPIs.

`EventFrame` turns the log into numpy columns once and derives every table with
vectorised operations (sorts, cumulative sums and running maxima over sorted
event arrays); nothing loops over events or patients in Python, so a simulated
year of ~3 million events takes about a second.

Conventions, all following `flowsim.log`:

- times are hours from the start of warm-up, as in the log;
- a patient's events are taken in log order (the model appends in time order);
- a ``QUEUE`` is paired with the ``START`` that follows it at the same unit for
  the same patient, and a ``START`` with the following ``END``; an ``OPTIMISED``
  with the next ``END`` of the same unit;
- an interval that has not finished by ``log.end_hours`` has ``end`` NaN and
  ``censored`` True; callers decide how to count it.

Derived tables (one row per ...):

=================  ============================================================
``events``         event: ``time, patient, kind, place`` (kind and place named)
``patients``       patient: the `PATIENT_FIELDS`, decoded, plus ``arrival``,
                   ``depart`` and ``outcome``
``ed_visits``      ED attendance (``QUEUE`` at ``ed_cubicle``)
``stays``          ``START``..``END`` at any unit
``queues``         ``QUEUE`` at any unit, and when the patient left the queue
``spells``         hospital spell: first ``START`` at amu/afu/a ward until the
                   patient holds no inpatient place any more
``delays``         delayed discharge: ``OPTIMISED``..``END`` at a ward
``community_waits`` ``queues`` at p1/p2/p3/virtual_ward
=================  ============================================================

Step series (`StepSeries`, in `flowsim.analysis.steps`) give occupancy (``START`` +1,
``END`` -1), queue length (``QUEUE`` +1, leaving the queue -1) and capacity in force for any
unit or group of units. ``EventFrame.rows`` is the row-level view for analyses that need more
than the tables: events in patient order with their pairing (`flowsim.analysis.rows`); ED
attendances and spells are grouped from it in `flowsim.analysis.episodes`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property

import numpy as np
import pandas as pd

from flowsim.analysis.episodes import Episodes
from flowsim.analysis.rows import (
    PatientRows,
    first_of_runs,
    next_after,
    run_ends,
)
from flowsim.analysis.steps import StepSeries
from flowsim.analysis.steps import ratio_quantile as ratio_quantile
from flowsim.log import PATIENT_FIELDS, ROUTES, EventLog, Kind
from flowsim.scenario.schema import AGE_BANDS, FRAILTY_BANDS
from flowsim.scenario.units import (
    COMMUNITY_UNITS,
    is_inpatient,
    is_ward,
    unit_order,
)

_Q, _S, _E = int(Kind.QUEUE), int(Kind.START), int(Kind.END)
_ARRIVE, _HANDOVER, _OPT, _DEPART = (
    int(Kind.ARRIVE),
    int(Kind.HANDOVER),
    int(Kind.OPTIMISED),
    int(Kind.DEPART),
)
_KIND_NAMES = [k.name for k in sorted(Kind)]


def _event_columns(log: EventLog) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    cols = log.event_arrays()
    return cols["time"], cols["patient"], cols["kind"], cols["place"].astype(np.int32)


# ---------------------------------------------------------------- the frame


class EventFrame:
    """An `EventLog` decoded once, with derived tables computed on first use and cached."""

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self.warm_up = float(log.warm_up_hours)
        self.end = float(log.end_hours)
        self.places: list[str] = list(log.places)
        # One code per distinct name ("virtual_ward" may be both a unit and an outcome).
        first_code = {name: i for i, name in reversed(list(enumerate(self.places)))}
        self._canon = np.array([first_code[name] for name in self.places], dtype=np.int32)
        self._name = np.array([*self.places, ""], dtype=object)

        t, p, k, u = _event_columns(log)
        if len(u):
            if u.min() < 0 or u.max() >= len(self.places):
                raise ValueError(
                    f"event place codes must index log.places (0..{len(self.places) - 1}), "
                    f"got {u.min()}..{u.max()}"
                )
            u = self._canon[u]
        if len(t) > 1 and not np.all(t[1:] >= t[:-1]):
            order = np.argsort(t, kind="stable")
            t, p, k, u = t[order], p[order], k[order], u[order]
        self._t, self._p, self._k, self._u = t, p, k, u

        self.rows = PatientRows.from_log_order(t, p, k, u)
        """Events in patient order, paired: the public row-level view (`PatientRows`)."""
        r = self.rows
        self.pt, self.pp, self.pk, self.pu = r.time, r.patient, r.kind, r.place
        self._pstart = r.first_row
        self._q_of_start, self._end_of_start = r.queue_of_start, r.end_of_start
        self._start_of_queue, self._end_of_opt = r.start_of_queue, r.end_of_optimised

    # ------------------------------------------------------------ basics

    @property
    def days(self) -> float:
        """Length of the measured period ``[warm_up, end]`` in days."""
        return (self.end - self.warm_up) / 24.0

    @cached_property
    def start_date(self) -> dt.datetime | None:
        raw = self.log.meta.get("start_date")
        if raw is None:
            return None
        if isinstance(raw, dt.datetime):
            return raw
        if isinstance(raw, dt.date):
            return dt.datetime.combine(raw, dt.time())
        return dt.datetime.fromisoformat(str(raw))

    def code(self, name: str) -> int:
        """Place code of ``name`` (-1 if the log has no such place)."""
        try:
            return int(self._canon[self.places.index(name)])
        except ValueError:
            return -1

    def place_mask(self, predicate: Callable[[str], bool]) -> np.ndarray:
        """Boolean lookup over place codes, plus a trailing False for code -1: index it with
        `rows` places (``ef.place_mask(is_ward)[ef.rows.place]``)."""
        return np.array([bool(predicate(n)) for n in self.places] + [False])

    @cached_property
    def units(self) -> list[str]:
        """Units with a base capacity or used by QUEUE/START/END, in pathway order."""
        used = np.unique(self._u[(self._k == _Q) | (self._k == _S) | (self._k == _E)])
        return unit_order([*self.log.capacities, *(self.places[c] for c in used)])

    @cached_property
    def wards(self) -> list[str]:
        return [u for u in self.units if is_ward(u)]

    @cached_property
    def inpatient_units(self) -> list[str]:
        return [u for u in self.units if is_inpatient(u)]

    def _categorical(self, codes: np.ndarray) -> pd.Categorical:
        uniq = list(dict.fromkeys(self.places))
        remap = np.array([uniq.index(n) for n in self.places] + [-1], dtype=np.int32)
        return pd.Categorical.from_codes(remap[codes], categories=uniq)

    @cached_property
    def events(self) -> pd.DataFrame:
        """One row per event, in log order: ``time, patient, kind, place`` (kind/place named)."""
        return pd.DataFrame(
            {
                "time": self._t,
                "patient": self._p,
                "kind": pd.Categorical.from_codes(self._k.astype(np.int16), _KIND_NAMES),
                "place": self._categorical(self._u),
            }
        )

    # ------------------------------------------------------------ patients

    @cached_property
    def _patient_table(self) -> dict[str, np.ndarray]:
        rows, width = self.log.patients, len(PATIENT_FIELDS)
        if isinstance(rows, list) and rows and isinstance(rows[0], tuple) and len(rows[0]) == width:
            flat = np.fromiter(
                itertools.chain.from_iterable(rows), dtype=np.int64, count=width * len(rows)
            ).reshape(len(rows), width)
            cols = {name: flat[:, i] for i, name in enumerate(PATIENT_FIELDS)}
        else:
            cols = self.log.patient_arrays()
        ids = cols["patient"]
        order = np.argsort(ids, kind="stable")
        return {name: cols[name][order] for name in PATIENT_FIELDS}

    def _patient_row(self, ids: np.ndarray) -> np.ndarray:
        """Row of each patient id in the (sorted) patient table, -1 if not described."""
        table = self._patient_table["patient"]
        if not len(table):
            return np.full(len(ids), -1, np.int64)
        pos = np.clip(np.searchsorted(table, ids), 0, len(table) - 1)
        return np.where(table[pos] == ids, pos, -1)

    def patient_field(self, ids: np.ndarray, field: str, missing: int = -1) -> np.ndarray:
        """A `PATIENT_FIELDS` column looked up for patient ids (``missing`` if not described)."""
        row = self._patient_row(np.asarray(ids, dtype=np.int64))
        col = self._patient_table[field]
        if not len(col):
            return np.full(len(row), missing, np.int64)
        return np.where(row >= 0, col[np.clip(row, 0, None)], missing)

    @cached_property
    def patients(self) -> pd.DataFrame:
        """One row per described patient, decoded, with ``arrival``, ``depart`` and ``outcome``."""
        tab = self._patient_table
        ids = tab["patient"]

        def decode(codes: np.ndarray, names: Sequence[str]) -> pd.Categorical:
            codes = np.where((codes >= 0) & (codes < len(names)), codes, -1)
            return pd.Categorical.from_codes(codes, categories=list(names))

        pop_places = list(dict.fromkeys(self.log.population_places))
        pop_codes = np.array(
            [pop_places.index(n) for n in self.log.population_places] + [-1], dtype=np.int64
        )
        place = tab["place"]
        place = pop_codes[np.where((place >= 0) & (place < len(pop_codes) - 1), place, -1)]
        arrival = np.full(len(ids), np.nan)
        depart = np.full(len(ids), np.nan)
        outcome = np.full(len(ids), -1, np.int64)
        for kind, target in ((_ARRIVE, arrival), (_DEPART, depart)):
            rows = np.flatnonzero(self.pk == kind)
            first = first_of_runs(self.pp[rows])
            rows = rows[first]
            pos = self._patient_row(self.pp[rows])
            ok = pos >= 0
            target[pos[ok]] = self.pt[rows[ok]]
            if kind == _DEPART:
                outcome[pos[ok]] = self.pu[rows[ok]]
        return pd.DataFrame(
            {
                "patient": ids,
                "place": decode(place, pop_places),
                "age_band": decode(tab["age_band"], AGE_BANDS),
                "frailty": decode(tab["frailty"], FRAILTY_BANDS),
                "cfs": tab["cfs"],
                "acuity": tab["acuity"],
                "route": decode(tab["route"], ROUTES),
                "readmission_of": tab["readmission_of"],
                "arrival": arrival,
                "depart": depart,
                "outcome": pd.Categorical(
                    pd.Series(self._name[outcome], dtype=object).replace("", None)
                ),
            }
        )

    def place_names(self, codes: np.ndarray) -> pd.Categorical:
        """Place codes (-1: none) as a categorical of place names."""
        return self._categorical(np.asarray(codes, dtype=np.int64))

    def _time_or_nan(self, rows: np.ndarray) -> np.ndarray:
        return np.where(rows >= 0, self.pt[np.clip(rows, 0, None)], np.nan)

    # ------------------------------------------------------------ stays and queues

    @cached_property
    def stays(self) -> pd.DataFrame:
        """One row per START: ``patient, unit, queue, start, end, censored`` (hours)."""
        rows = np.flatnonzero(self.pk == _S)
        end = self._time_or_nan(self._end_of_start[rows])
        return pd.DataFrame(
            {
                "patient": self.pp[rows],
                "unit": self.place_names(self.pu[rows]),
                "queue": self._time_or_nan(self._q_of_start[rows]),
                "start": self.pt[rows],
                "end": end,
                "censored": np.isnan(end),
            }
        )

    @cached_property
    def _queue_left(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For QUEUE rows: rows, time the patient left the queue (NaN: still waiting), started."""
        rows = np.flatnonzero(self.pk == _Q)
        start_row = self._start_of_queue[rows]
        left = self._time_or_nan(start_row)
        # A QUEUE never followed by its START ends at the patient's next QUEUE elsewhere (not a
        # corridor space, which is still waiting for a cubicle) or at DEPART.
        corridor = self.code("corridor")
        moves_on = ((self.pk == _Q) & (self.pu != corridor)) | (self.pk == _DEPART)
        nxt = next_after(moves_on, run_ends(self.pp))
        gone = np.flatnonzero(start_row < 0)
        left[gone] = self._time_or_nan(nxt[rows[gone]])
        return rows, left, start_row >= 0

    @cached_property
    def queues(self) -> pd.DataFrame:
        """One row per QUEUE: ``patient, unit, queue, start`` (NaN if never), ``left`` (NaN: still
        waiting at the end), ``censored``."""
        rows, left, started = self._queue_left
        return pd.DataFrame(
            {
                "patient": self.pp[rows],
                "unit": self.place_names(self.pu[rows]),
                "queue": self.pt[rows],
                "start": np.where(started, left, np.nan),
                "left": left,
                "censored": np.isnan(left),
            }
        )

    @cached_property
    def community_waits(self) -> pd.DataFrame:
        """`queues` at p1, p2, p3 and virtual_ward with ``wait_hours``, censored at the end.

        The wait is for capacity: it ends at RESERVE where the patient then waits for the
        discharge window before starting the place."""
        q = self.queues
        q = q[q["unit"].isin(COMMUNITY_UNITS)].reset_index(drop=True)
        q["unit"] = q["unit"].cat.remove_unused_categories()
        reserved = self._reservations()
        pairs = zip(reserved["patient"], reserved["unit"], strict=True)
        when = dict(zip(pairs, reserved["reserved"], strict=True))
        keys = zip(q["patient"].tolist(), q["unit"].astype(str).tolist(), strict=True)
        q["reserved"] = np.array([when.get(k, np.nan) for k in keys], dtype=float)
        left = q["reserved"].fillna(q["left"])
        q["wait_hours"] = left.fillna(self.end) - q["queue"]
        return q

    def _reservations(self) -> pd.DataFrame:
        """RESERVE events: a community place held for a patient who starts it at discharge."""
        rows = np.flatnonzero(self.pk == int(Kind.RESERVE))
        return pd.DataFrame(
            {
                "patient": self.pp[rows].tolist(),
                "unit": [str(u) for u in self.place_names(self.pu[rows])],
                "reserved": self.pt[rows],
            }
        )

    @cached_property
    def delays(self) -> pd.DataFrame:
        """One row per OPTIMISED: ``patient, unit, start, end`` (NaN: still delayed), censored."""
        rows = np.flatnonzero(self.pk == _OPT)
        end = self._time_or_nan(self._end_of_opt[rows])
        return pd.DataFrame(
            {
                "patient": self.pp[rows],
                "unit": self.place_names(self.pu[rows]),
                "start": self.pt[rows],
                "end": end,
                "censored": np.isnan(end),
            }
        )

    # ------------------------------------------------------------ ED visits and spells

    @cached_property
    def _episodes(self) -> Episodes:
        return Episodes(self)

    @cached_property
    def ed_visits(self) -> pd.DataFrame:
        """One row per ED attendance; see `Episodes.ed_visits`."""
        return self._episodes.ed_visits()

    @cached_property
    def spells(self) -> pd.DataFrame:
        """One row per hospital spell; see `Episodes.spells`."""
        return self._episodes.spells()

    @cached_property
    def deaths_in_hospital(self) -> pd.DataFrame:
        """``patient, time, unit`` of each death straight after an END at amu/afu/a ward."""
        return self._episodes.deaths_in_hospital()

    # ------------------------------------------------------------ step series

    def _unit_codes(self, units: str | Iterable[str]) -> list[int]:
        names = [units] if isinstance(units, str) else list(units)
        return [c for c in (self.code(n) for n in names) if c >= 0]

    @cached_property
    def _holds_by_unit(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Per place code: times (log order) and +1/-1 of its START/END events."""
        rows = np.flatnonzero((self._k == _S) | (self._k == _E))
        order = np.argsort(self._u[rows].astype(np.int16), kind="stable")
        rows = rows[order]
        codes = self._u[rows]
        cuts = np.flatnonzero(codes[1:] != codes[:-1]) + 1
        out = {}
        for part in np.split(rows, cuts) if len(rows) else []:
            out[int(self._u[part[0]])] = (self._t[part], np.where(self._k[part] == _S, 1.0, -1.0))
        return out

    def occupancy_steps(self, units: str | Iterable[str]) -> StepSeries:
        """Places held in a unit (or the sum over units): START +1, END -1."""
        parts = [
            self._holds_by_unit[c] for c in self._unit_codes(units) if c in self._holds_by_unit
        ]
        if not parts:
            return StepSeries(np.zeros(1), np.zeros(1))
        times, deltas = (np.concatenate(x) for x in zip(*parts, strict=True))
        return StepSeries.from_deltas(times, deltas)

    def queue_steps(self, units: str | Iterable[str]) -> StepSeries:
        """Patients waiting for a unit (or any of the units): QUEUE +1, leaving the queue -1."""
        rows, left, _ = self._queue_left
        sel = np.isin(self.pu[rows], self._unit_codes(units))
        q_times, l_times = self.pt[rows[sel]], left[sel]
        l_times = l_times[~np.isnan(l_times)]
        return StepSeries.from_deltas(
            np.concatenate((q_times, l_times)),
            np.concatenate((np.ones(len(q_times)), -np.ones(len(l_times)))),
        )

    def capacity_steps(self, units: str | Iterable[str]) -> StepSeries:
        """Capacity in force (base from ``log.capacities``, changes from ``log.capacity``)."""
        names = [units] if isinstance(units, str) else list(units)
        cap = self.log.capacity_arrays()
        ctime, cplace, cval = cap["time"], cap["place"].astype(np.int64), cap["capacity"]
        if len(cplace):
            cplace = self._canon[cplace]
        base, times, deltas = 0.0, [], []
        for name in names:
            b = float(self.log.capacities.get(name, 0))
            base += b
            sel = cplace == self.code(name) if self.code(name) >= 0 else np.zeros(len(cplace), bool)
            t, v = ctime[sel], cval[sel].astype(np.float64)
            order = np.argsort(t, kind="stable")
            t, v = t[order], v[order]
            times.append(t)
            deltas.append(np.diff(np.concatenate(([b], v))))
        if not times:
            return StepSeries(np.zeros(1), np.zeros(1))
        return StepSeries.from_deltas(np.concatenate(times), np.concatenate(deltas), base=base)
