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

Step series (`StepSeries`) give occupancy (``START`` +1, ``END`` -1), queue
length (``QUEUE`` +1, leaving the queue -1) and capacity in force for any unit or
group of units.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property

import numpy as np
import pandas as pd

from flowsim.analysis.rows import (
    PatientRows,
    first_of_runs,
    last_before,
    last_of_runs,
    next_after,
    run_ends,
    run_starts,
)
from flowsim.analysis.steps import StepSeries
from flowsim.analysis.steps import ratio_quantile as ratio_quantile
from flowsim.log import PATIENT_FIELDS, ROUTES, EventLog, Kind
from flowsim.scenario.schema import AGE_BANDS, FRAILTY_BANDS
from flowsim.scenario.units import (
    COMMUNITY_UNITS,
    ED_PLACES,
    ED_UNITS,
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

    def _names(self, codes: np.ndarray) -> pd.Categorical:
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
                "unit": self._names(self.pu[rows]),
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
                "unit": self._names(self.pu[rows]),
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
                "unit": [str(u) for u in self._names(self.pu[rows])],
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
                "unit": self._names(self.pu[rows]),
                "start": self.pt[rows],
                "end": end,
                "censored": np.isnan(end),
            }
        )

    # ------------------------------------------------------------ ED visits

    @cached_property
    def _visit_of_row(self) -> tuple[np.ndarray, np.ndarray]:
        """ED attendance number of each row in patient order (-1 before the first), arrival rows."""
        arrival = (self.pk == _Q) & (self.pu == self.code("ed_cubicle"))
        last = last_before(arrival, self._pstart, inclusive=True)
        visit = np.where(last >= 0, np.cumsum(arrival) - 1, -1)
        return visit, np.flatnonzero(arrival)

    def _per_visit(
        self, mask: np.ndarray, n_visits: int, first: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """For rows in ``mask`` belonging to a visit: the first (or last) row of each visit."""
        visit, _ = self._visit_of_row
        rows = np.flatnonzero(mask & (visit >= 0))
        v = visit[rows]
        pick = first_of_runs(v) if first else last_of_runs(v)
        out = np.full(n_visits, -1, np.int64)
        out[v[pick]] = rows[pick]
        return out, v

    @cached_property
    def ed_visits(self) -> pd.DataFrame:
        """One row per ED attendance (``QUEUE`` at ``ed_cubicle``), times in hours:

        ``arrival``; ``handover`` (crew released) and ``handover_place``; ``cubicle`` (first START
        at ed_cubicle); ``decision`` (first QUEUE at a unit outside ED while still in ED, else the
        exit); ``next_unit`` (that unit); ``exit`` (leaving ED: the last END at ed_cubicle/corridor
        once nothing is held there, else the first START elsewhere or DEPART for a patient never
        placed; NaN while still in ED at the end); ``censored``; ``admitted`` (a hospital spell
        began during this attendance, also via SDEC); ``ambulance`` (the patient's route is
        ambulance, or there was a handover); ``time_in_ed``, ``handover_wait`` (arrival to crew
        released; NaN for an ambulance patient who left ED with no handover recorded) and
        ``boarding`` (decision to exit, for patients whose next unit is an inpatient unit), censored
        at the end of the run.
        """
        visit, arrivals = self._visit_of_row
        nv = len(arrivals)
        pk, pu, pt = self.pk, self.pu, self.pt
        in_ed = self.place_mask(lambda n: n in ED_PLACES)[pu]
        ed_unit = self.place_mask(lambda n: n in ED_UNITS)[pu]
        v_rows = visit >= 0
        starts_ed = np.bincount(visit[v_rows & in_ed & (pk == _S)], minlength=nv)
        ends_ed = np.bincount(visit[v_rows & in_ed & (pk == _E)], minlength=nv)
        last_end, _ = self._per_visit(in_ed & (pk == _E), nv, first=False)
        elsewhere, _ = self._per_visit(((pk == _S) & ~ed_unit) | (pk == _DEPART), nv)
        exit_ = np.where(
            starts_ed > ends_ed,
            np.nan,
            np.where(ends_ed > 0, self._time_or_nan(last_end), self._time_or_nan(elsewhere)),
        )
        exit_c = np.where(np.isnan(exit_), self.end, exit_)
        cubicle, _ = self._per_visit((pk == _S) & (pu == self.code("ed_cubicle")), nv)
        handover, _ = self._per_visit(pk == _HANDOVER, nv)
        dec_row, _ = self._per_visit((pk == _Q) & ~ed_unit, nv)
        dec_time = self._time_or_nan(dec_row)
        has_dec = (dec_row >= 0) & (dec_time <= exit_c)
        decision = np.where(has_dec, dec_time, exit_)
        next_code = np.where(has_dec, pu[np.clip(dec_row, 0, None)], -1)
        inpatient = self.place_mask(is_inpatient)
        to_inpatient = inpatient[next_code]

        arrival = pt[arrivals]
        patient = self.pp[arrivals]
        handover_t = self._time_or_nan(handover)
        route = self.patient_field(patient, "route")
        ambulance = ~np.isnan(handover_t) | (route == ROUTES.index("ambulance"))
        # No handover yet: still under way at the end (censored), else never recorded (NaN).
        handover_end = np.where(np.isnan(handover_t) & np.isnan(exit_), self.end, handover_t)
        handover_wait = np.where(ambulance, handover_end - arrival, np.nan)
        admitted = np.zeros(nv, dtype=bool)
        sv = self._spell_arrays["visit"]
        admitted[sv[sv >= 0]] = True
        return pd.DataFrame(
            {
                "patient": patient,
                "route": pd.Categorical.from_codes(
                    np.where((route >= 0) & (route < len(ROUTES)), route, -1), list(ROUTES)
                ),
                "arrival": arrival,
                "handover": handover_t,
                "handover_place": self._names(np.where(handover >= 0, pu[handover], -1)),
                "cubicle": self._time_or_nan(cubicle),
                "decision": decision,
                "next_unit": self._names(next_code),
                "exit": exit_,
                "censored": np.isnan(exit_),
                "admitted": admitted,
                "ambulance": ambulance,
                "time_in_ed": exit_c - arrival,
                "handover_wait": handover_wait,
                "boarding": np.where(to_inpatient, exit_c - dec_time, np.nan),
            }
        )

    # ------------------------------------------------------------ hospital spells

    @cached_property
    def _spell_arrays(self) -> dict[str, np.ndarray]:
        inpatient = self.place_mask(is_inpatient)
        pk, pu, pp, pt = self.pk, self.pu, self.pp, self.pt
        rows = np.flatnonzero(inpatient[pu] & ((pk == _S) | (pk == _E)))
        # At equal times a move START(next) and END(old) must not split the spell: STARTs first.
        rows = rows[np.lexsort((pk[rows], pt[rows], pp[rows]))]
        k, p = pk[rows], pp[rows]
        delta = np.where(k == _S, 1, -1)
        cs = np.cumsum(delta)
        starts = run_starts(p)
        base = (cs - delta)[starts] if len(rows) else cs
        after = cs - base
        before = after - delta
        begin = (k == _S) & (before == 0)
        finish = (k == _E) & (after == 0)
        ok = last_before(begin, starts, inclusive=True) >= 0
        spell = np.where(ok, np.cumsum(begin) - 1, -1)
        b = rows[begin]
        ns = len(b)
        end_row = np.full(ns, -1, np.int64)
        f = np.flatnonzero(finish & ok)
        # A spell finishes once; a later begin makes a new spell, so the first finish is the one.
        fs = spell[f]
        first = first_of_runs(fs)
        end_row[fs[first]] = rows[f[first]]
        visit, _ = self._visit_of_row
        return {
            "patient": pp[b],
            "start": pt[b],
            "first_unit": pu[b],
            "end_row": end_row,
            "visit": visit[b] if ns else np.zeros(0, np.int64),
        }

    @cached_property
    def _died_in_hospital(self) -> np.ndarray:
        """Patient-order DEPART rows at ``died`` straight after an END at an inpatient unit."""
        died = self.code("died")
        rows = np.flatnonzero((self.pk == _DEPART) & (self.pu == died))
        prev = rows - 1
        inpatient = self.place_mask(is_inpatient)
        ok = (
            (prev >= 0)
            & (self.pp[np.clip(prev, 0, None)] == self.pp[rows])
            & (self.pk[np.clip(prev, 0, None)] == _E)
            & inpatient[self.pu[np.clip(prev, 0, None)]]
        )
        return rows[ok]

    @cached_property
    def spells(self) -> pd.DataFrame:
        """One row per hospital spell: from the first START at amu/afu/a ward to the END that leaves
        the patient holding no inpatient place (moves between units keep the spell going).

        Columns: ``patient, start, end`` (NaN if still in hospital), ``censored``, ``first_unit``,
        ``last_unit``, ``los_days`` (NaN if censored), ``frailty``, ``from_ed`` (began during an ED
        attendance, directly or via SDEC), ``died`` (died in hospital at the end of this spell),
        ``last_of_patient``. SDEC time before an admission is not part of the spell.
        """
        s = self._spell_arrays
        end_row = s["end_row"]
        end = self._time_or_nan(end_row)
        patient = s["patient"]
        last_of_patient = last_of_runs(patient)
        died_rows = self._died_in_hospital
        died_patients = self.pp[died_rows]
        died = last_of_patient & ~np.isnan(end) & np.isin(patient, died_patients)
        frailty = self.patient_field(patient, "frailty")
        return pd.DataFrame(
            {
                "patient": patient,
                "start": s["start"],
                "end": end,
                "censored": np.isnan(end),
                "first_unit": self._names(s["first_unit"]),
                "last_unit": self._names(np.where(end_row >= 0, self.pu[end_row], -1)),
                "los_days": (end - s["start"]) / 24.0,
                "frailty": pd.Categorical.from_codes(
                    np.where((frailty >= 0) & (frailty < len(FRAILTY_BANDS)), frailty, -1),
                    list(FRAILTY_BANDS),
                ),
                "from_ed": s["visit"] >= 0,
                "died": died,
                "last_of_patient": last_of_patient,
            }
        )

    @cached_property
    def deaths_in_hospital(self) -> pd.DataFrame:
        """``patient, time, unit`` of each death straight after an END at amu/afu/a ward."""
        rows = self._died_in_hospital
        return pd.DataFrame(
            {
                "patient": self.pp[rows],
                "time": self.pt[rows],
                "unit": self._names(self.pu[rows - 1]),
            }
        )

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
