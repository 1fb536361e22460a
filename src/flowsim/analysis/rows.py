"""A log's events in patient order, paired: the arrays behind every table of `EventFrame`.

Each patient's events sit together in log order (the model appends in time order), and each row
knows its partners: a ``QUEUE`` the ``START`` that granted it, a ``START`` its ``QUEUE`` and its
``END``, an ``OPTIMISED`` the ``END`` that closed the delay (pairs are per patient and unit; -1
where there is none). `PatientRows` is the public form for analyses that work row by row (the
bottleneck attribution), so none reaches into `EventFrame`'s internals; ``next_where`` and
``last_where`` find a patient's next or latest row with some property, vectorised with running
minima and maxima over the sorted arrays.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from flowsim.log import Kind

__all__ = [
    "PatientRows",
    "first_of_runs",
    "last_before",
    "last_of_runs",
    "next_after",
    "run_ends",
    "run_starts",
]

_Q, _S, _E, _OPT = int(Kind.QUEUE), int(Kind.START), int(Kind.END), int(Kind.OPTIMISED)


# ---------------------------------------------------------------- array helpers


def _index_type(n: int) -> type[np.signedinteger]:
    """int32 row numbers where they fit: half the memory traffic of int64."""
    return np.int32 if n < 2**31 - 1 else np.int64


def _rows(n: int) -> np.ndarray:
    return np.arange(n, dtype=_index_type(n))


def run_starts(keys: np.ndarray) -> np.ndarray:
    """For rows sorted by ``keys``: index of the first row of each row's run of equal keys."""
    n = len(keys)
    first = np.ones(n, dtype=bool)
    if n > 1:
        first[1:] = keys[1:] != keys[:-1]
    return np.maximum.accumulate(np.where(first, _rows(n), 0)) if n else np.zeros(0, np.int32)


def run_ends(keys: np.ndarray) -> np.ndarray:
    """For rows sorted by ``keys``: index of the last row of each row's run."""
    n = len(keys)
    if not n:
        return np.zeros(0, np.int32)
    last = np.ones(n, dtype=bool)
    last[:-1] = keys[1:] != keys[:-1]
    idx = np.where(last, _rows(n), n)
    return np.minimum.accumulate(idx[::-1])[::-1]


def last_before(mask: np.ndarray, starts: np.ndarray, inclusive: bool = False) -> np.ndarray:
    """Index of the latest row in the same run where ``mask`` holds (-1 if none)."""
    n = len(mask)
    idx = np.where(mask, _rows(n), -1)
    np.maximum.accumulate(idx, out=idx)
    if not inclusive and n:
        idx = np.concatenate(([-1], idx[:-1]))
    idx[idx < starts] = -1
    return idx


def next_after(mask: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Index of the earliest later row in the same run where ``mask`` holds (-1 if none)."""
    n = len(mask)
    idx = np.where(mask, _rows(n), n)
    idx = np.minimum.accumulate(idx[::-1])[::-1]
    idx = np.concatenate((idx[1:], [n])) if n else idx
    idx[idx > ends] = -1
    return idx


def first_of_runs(keys: np.ndarray) -> np.ndarray:
    first = np.ones(len(keys), dtype=bool)
    if len(keys) > 1:
        first[1:] = keys[1:] != keys[:-1]
    return first


def last_of_runs(keys: np.ndarray) -> np.ndarray:
    last = np.ones(len(keys), dtype=bool)
    if len(keys) > 1:
        last[:-1] = keys[1:] != keys[:-1]
    return last


# ---------------------------------------------------------------- rows in patient order


class PatientRows:
    """Events in patient order with their pairing (all arrays one entry a row).

    ``time``, ``patient``, ``kind`` (`flowsim.log.Kind` values), ``place`` (codes into the log's
    places, one code per distinct name); ``first_row`` / ``last_row``: the first and last row of
    the row's patient; ``start_of_queue`` (QUEUE row -> its START row), ``queue_of_start``
    (START -> QUEUE), ``end_of_start`` (START -> END) and ``end_of_optimised`` (OPTIMISED -> the
    next END at that unit): -1 where there is none (still waiting or holding at the end).
    """

    def __init__(
        self, time: np.ndarray, patient: np.ndarray, kind: np.ndarray, place: np.ndarray
    ) -> None:
        """Rows already in patient order (a stable sort of the log by patient)."""
        self.time, self.patient, self.kind, self.place = time, patient, kind, place
        self.first_row = run_starts(patient)
        self._pair()

    @classmethod
    def from_log_order(
        cls, time: np.ndarray, patient: np.ndarray, kind: np.ndarray, place: np.ndarray
    ) -> PatientRows:
        """From columns in log order: each patient's events gathered, keeping their order."""
        order = np.argsort(patient, kind="stable")
        return cls(time[order], patient[order], kind[order], place[order])

    def __len__(self) -> int:
        return len(self.time)

    @cached_property
    def last_row(self) -> np.ndarray:
        return run_ends(self.patient)

    def next_where(self, mask: np.ndarray) -> np.ndarray:
        """For each row: the patient's earliest later row where ``mask`` holds (-1 if none)."""
        return next_after(mask, self.last_row)

    def last_where(self, mask: np.ndarray, inclusive: bool = False) -> np.ndarray:
        """For each row: the patient's latest earlier row (or this one, if ``inclusive``) where
        ``mask`` holds (-1 if none)."""
        return last_before(mask, self.first_row, inclusive)

    def time_at(self, rows: np.ndarray) -> np.ndarray:
        """The time of each row index, NaN for -1."""
        return np.where(rows >= 0, self.time[np.clip(rows, 0, None)], np.nan)

    def _pair(self) -> None:
        """Pair QUEUE->START->END and OPTIMISED->END per (patient, unit), in patient order."""
        n = len(self.time)
        pk, pu, pp = self.kind, self.place, self.patient
        idx_type = _index_type(n)
        self.queue_of_start = np.full(n, -1, idx_type)  # START row -> its QUEUE row
        self.end_of_start = np.full(n, -1, idx_type)  # START row -> its END row
        self.start_of_queue = np.full(n, -1, idx_type)  # QUEUE row -> its START row
        self.end_of_optimised = np.full(n, -1, idx_type)  # OPTIMISED row -> END row
        relevant = np.flatnonzero((pk == _Q) | (pk == _S) | (pk == _E) | (pk == _OPT))
        # Group the rows by unit, keeping patient order within a unit (a stable radix sort).
        relevant = relevant[np.argsort(pu[relevant].astype(np.int16), kind="stable")]
        cuts = np.flatnonzero(np.diff(pu[relevant])) + 1
        for idx in np.split(relevant, cuts) if len(relevant) else []:
            # One pass per unit (a couple of dozen), vectorised within.
            k = pk[idx]
            starts = run_starts(pp[idx])
            isq, iss, ise = k == _Q, k == _S, k == _E
            last_q = last_before(isq, starts)
            last_s = last_before(iss, starts)
            last_e = last_before(ise, starts)
            # START <- latest QUEUE not already used by an earlier START
            j = np.flatnonzero(iss & (last_q > last_s))
            self.queue_of_start[idx[j]] = idx[last_q[j]]
            self.start_of_queue[idx[last_q[j]]] = idx[j]
            # END <- latest START not already ended
            j = np.flatnonzero(ise & (last_s > last_e))
            self.end_of_start[idx[last_s[j]]] = idx[j]
            # OPTIMISED -> next END
            isopt = k == _OPT
            if isopt.any():
                nxt = next_after(ise, run_ends(pp[idx]))
                j = np.flatnonzero(isopt & (nxt >= 0))
                self.end_of_optimised[idx[j]] = idx[nxt[j]]
