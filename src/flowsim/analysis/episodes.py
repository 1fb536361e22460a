"""ED attendances and hospital spells: the tables that group a patient's rows into episodes.

`EventFrame.ed_visits`, `EventFrame.spells` and `EventFrame.deaths_in_hospital` are computed
here from the frame's public row view (`flowsim.analysis.rows.PatientRows`), with the same
vectorised running maxima and cumulative sums: an attendance runs from the ``QUEUE`` at
``ed_cubicle`` to leaving ED; a spell from the first ``START`` at an inpatient unit to the ``END``
that leaves the patient holding none (moves between units keep it going).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from flowsim.analysis.rows import first_of_runs, last_before, last_of_runs, run_starts
from flowsim.log import ROUTES, Kind
from flowsim.scenario.schema import FRAILTY_BANDS
from flowsim.scenario.units import ED_PLACES, ED_UNITS, is_inpatient

if TYPE_CHECKING:
    from flowsim.analysis.eventframe import EventFrame

__all__ = ["Episodes"]

_Q, _S, _E = int(Kind.QUEUE), int(Kind.START), int(Kind.END)
_HANDOVER, _DEPART = int(Kind.HANDOVER), int(Kind.DEPART)


class Episodes:
    """The episode tables of one `EventFrame`, each computed on first use."""

    def __init__(self, ef: EventFrame) -> None:
        self.ef = ef
        self.rows = ef.rows

    # ------------------------------------------------------------ ED visits

    @cached_property
    def visit_of_row(self) -> tuple[np.ndarray, np.ndarray]:
        """ED attendance number of each row in patient order (-1 before the first), arrival rows."""
        ef = self.ef
        arrival = (self.rows.kind == _Q) & (self.rows.place == ef.code("ed_cubicle"))
        last = last_before(arrival, self.rows.first_row, inclusive=True)
        visit = np.where(last >= 0, np.cumsum(arrival) - 1, -1)
        return visit, np.flatnonzero(arrival)

    def _per_visit(
        self, mask: np.ndarray, n_visits: int, first: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """For rows in ``mask`` belonging to a visit: the first (or last) row of each visit."""
        visit, _ = self.visit_of_row
        rows = np.flatnonzero(mask & (visit >= 0))
        v = visit[rows]
        pick = first_of_runs(v) if first else last_of_runs(v)
        out = np.full(n_visits, -1, np.int64)
        out[v[pick]] = rows[pick]
        return out, v

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
        ef = self.ef
        visit, arrivals = self.visit_of_row
        nv = len(arrivals)
        pk, pu, pt = self.rows.kind, self.rows.place, self.rows.time
        in_ed = ef.place_mask(lambda n: n in ED_PLACES)[pu]
        ed_unit = ef.place_mask(lambda n: n in ED_UNITS)[pu]
        v_rows = visit >= 0
        starts_ed = np.bincount(visit[v_rows & in_ed & (pk == _S)], minlength=nv)
        ends_ed = np.bincount(visit[v_rows & in_ed & (pk == _E)], minlength=nv)
        last_end, _ = self._per_visit(in_ed & (pk == _E), nv, first=False)
        elsewhere, _ = self._per_visit(((pk == _S) & ~ed_unit) | (pk == _DEPART), nv)
        exit_ = np.where(
            starts_ed > ends_ed,
            np.nan,
            np.where(ends_ed > 0, self.rows.time_at(last_end), self.rows.time_at(elsewhere)),
        )
        exit_c = np.where(np.isnan(exit_), ef.end, exit_)
        cubicle, _ = self._per_visit((pk == _S) & (pu == ef.code("ed_cubicle")), nv)
        handover, _ = self._per_visit(pk == _HANDOVER, nv)
        dec_row, _ = self._per_visit((pk == _Q) & ~ed_unit, nv)
        dec_time = self.rows.time_at(dec_row)
        has_dec = (dec_row >= 0) & (dec_time <= exit_c)
        decision = np.where(has_dec, dec_time, exit_)
        next_code = np.where(has_dec, pu[np.clip(dec_row, 0, None)], -1)
        inpatient = ef.place_mask(is_inpatient)
        to_inpatient = inpatient[next_code]

        arrival = pt[arrivals]
        patient = self.rows.patient[arrivals]
        handover_t = self.rows.time_at(handover)
        route = ef.patient_field(patient, "route")
        ambulance = ~np.isnan(handover_t) | (route == ROUTES.index("ambulance"))
        # No handover yet: still under way at the end (censored), else never recorded (NaN).
        handover_end = np.where(np.isnan(handover_t) & np.isnan(exit_), ef.end, handover_t)
        handover_wait = np.where(ambulance, handover_end - arrival, np.nan)
        admitted = np.zeros(nv, dtype=bool)
        sv = self.spell_arrays["visit"]
        admitted[sv[sv >= 0]] = True
        return pd.DataFrame(
            {
                "patient": patient,
                "route": pd.Categorical.from_codes(
                    np.where((route >= 0) & (route < len(ROUTES)), route, -1), list(ROUTES)
                ),
                "arrival": arrival,
                "handover": handover_t,
                "handover_place": ef.place_names(np.where(handover >= 0, pu[handover], -1)),
                "cubicle": self.rows.time_at(cubicle),
                "decision": decision,
                "next_unit": ef.place_names(next_code),
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
    def spell_arrays(self) -> dict[str, np.ndarray]:
        ef = self.ef
        inpatient = ef.place_mask(is_inpatient)
        pk, pu, pp, pt = self.rows.kind, self.rows.place, self.rows.patient, self.rows.time
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
        visit, _ = self.visit_of_row
        return {
            "patient": pp[b],
            "start": pt[b],
            "first_unit": pu[b],
            "end_row": end_row,
            "visit": visit[b] if ns else np.zeros(0, np.int64),
        }

    @cached_property
    def died_in_hospital(self) -> np.ndarray:
        """Patient-order DEPART rows at ``died`` straight after an END at an inpatient unit."""
        ef = self.ef
        died = ef.code("died")
        rows = np.flatnonzero((self.rows.kind == _DEPART) & (self.rows.place == died))
        prev = rows - 1
        inpatient = ef.place_mask(is_inpatient)
        ok = (
            (prev >= 0)
            & (self.rows.patient[np.clip(prev, 0, None)] == self.rows.patient[rows])
            & (self.rows.kind[np.clip(prev, 0, None)] == _E)
            & inpatient[self.rows.place[np.clip(prev, 0, None)]]
        )
        return rows[ok]

    def spells(self) -> pd.DataFrame:
        """One row per hospital spell: from the first START at amu/afu/a ward to the END that leaves
        the patient holding no inpatient place (moves between units keep the spell going).

        Columns: ``patient, start, end`` (NaN if still in hospital), ``censored``, ``first_unit``,
        ``last_unit``, ``los_days`` (NaN if censored), ``frailty``, ``from_ed`` (began during an ED
        attendance, directly or via SDEC), ``died`` (died in hospital at the end of this spell),
        ``last_of_patient``. SDEC time before an admission is not part of the spell.
        """
        ef = self.ef
        s = self.spell_arrays
        end_row = s["end_row"]
        end = self.rows.time_at(end_row)
        patient = s["patient"]
        last_of_patient = last_of_runs(patient)
        died_rows = self.died_in_hospital
        died_patients = self.rows.patient[died_rows]
        died = last_of_patient & ~np.isnan(end) & np.isin(patient, died_patients)
        frailty = ef.patient_field(patient, "frailty")
        return pd.DataFrame(
            {
                "patient": patient,
                "start": s["start"],
                "end": end,
                "censored": np.isnan(end),
                "first_unit": ef.place_names(s["first_unit"]),
                "last_unit": ef.place_names(np.where(end_row >= 0, self.rows.place[end_row], -1)),
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

    def deaths_in_hospital(self) -> pd.DataFrame:
        """``patient, time, unit`` of each death straight after an END at amu/afu/a ward."""
        ef = self.ef
        rows = self.died_in_hospital
        return pd.DataFrame(
            {
                "patient": self.rows.patient[rows],
                "time": self.rows.time[rows],
                "unit": ef.place_names(self.rows.place[rows - 1]),
            }
        )
