"""EventFrame's public row view: events in patient order and their pairing, on a hand-made log."""

from __future__ import annotations

import numpy as np

from flowsim.analysis import EventFrame, PatientRows
from flowsim.log import EventLog, Kind

PLACES = ["ambulance", "walk_in", "corridor", "ed_cubicle", "amu", "ward:x", "p1", "home", "P1"]
Q, S, E, OPT, R, A = Kind.QUEUE, Kind.START, Kind.END, Kind.OPTIMISED, Kind.RESERVE, Kind.ARRIVE


def _log() -> EventLog:
    """Patient 1: ED -> AMU -> ward -> P1; patient 2 interleaved, still waiting for AMU."""
    c = PLACES.index
    ev = [
        (0.0, 1, A, c("walk_in")),
        (0.0, 1, Q, c("ed_cubicle")),
        (0.5, 2, A, c("ambulance")),
        (1.0, 1, S, c("ed_cubicle")),
        (1.0, 2, Q, c("ed_cubicle")),
        (2.0, 2, S, c("ed_cubicle")),
        (3.0, 1, Q, c("amu")),
        (4.0, 1, S, c("amu")),
        (4.0, 1, E, c("ed_cubicle")),
        (5.0, 2, Q, c("amu")),
        (6.0, 1, Q, c("ward:x")),
        (7.0, 1, S, c("ward:x")),
        (7.0, 1, E, c("amu")),
        (9.0, 1, OPT, c("ward:x")),
        (10.0, 1, Q, c("p1")),
        (11.0, 1, R, c("p1")),
        (12.0, 1, S, c("p1")),
        (12.0, 1, E, c("ward:x")),
    ]
    return EventLog(PLACES, ["here"], 0.0, 20.0, {"ed_cubicle": 2, "amu": 1}, events=ev)


def test_rows_are_in_patient_order_with_their_pairs() -> None:
    rows = EventFrame(_log()).rows
    assert isinstance(rows, PatientRows)
    assert rows.patient.tolist() == [1] * 14 + [2] * 4
    assert np.all(np.diff(rows.time[:14]) >= 0)
    assert rows.first_row.tolist() == [0] * 14 + [14] * 4
    assert rows.last_row.tolist() == [13] * 14 + [17] * 4
    kinds = rows.kind.tolist()
    q_cubicle = kinds.index(Q)  # patient 1's first QUEUE
    s_cubicle = rows.start_of_queue[q_cubicle]
    assert rows.time[s_cubicle] == 1.0 and rows.queue_of_start[s_cubicle] == q_cubicle
    assert rows.time[rows.end_of_start[s_cubicle]] == 4.0
    optimised = kinds.index(OPT)
    assert rows.time[rows.end_of_optimised[optimised]] == 12.0
    # patient 2 still waits for AMU at the end: no START, so no pair
    q_amu_2 = 17
    assert rows.kind[q_amu_2] == Q and rows.start_of_queue[q_amu_2] == -1
    assert np.isnan(rows.time_at(np.array([-1])))[0]


def test_next_and_last_where_stay_within_the_patient() -> None:
    rows = EventFrame(_log()).rows
    reserve = rows.kind == R
    nxt = rows.next_where(reserve)
    assert rows.time[nxt[0]] == 11.0  # patient 1's RESERVE
    assert (nxt[14:] == -1).all()  # patient 2 never reserves; patient 1's rows are not theirs
    starts = rows.kind == S
    last = rows.last_where(starts, inclusive=True)
    assert last[14] == -1  # patient 2's ARRIVE: no START yet
    assert rows.time[last[17]] == 2.0
    assert rows.time[rows.last_where(starts)[4]] == 1.0  # before AMU's START: the cubicle's
