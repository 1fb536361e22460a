"""Readmission fates: the n-th return of a (frailty, route) has the n-th fate of its batches.

A returning patient's fate must depend only on how many returns of its kind came before it (not
on the run's other random numbers), which is what keeps common random numbers between scenarios
that readmit differently.
"""

from __future__ import annotations

from flowsim.model.fate import draw_fates
from flowsim.model.readmission import BATCH, Readmissions
from flowsim.model.system import System
from flowsim.random import Streams
from flowsim.scenario import apply_changes
from flowsim.scenario.schema import FRAILTY_BANDS
from helpers.model_helpers import baseline


def never_started(*_args: object) -> None:  # pragma: no cover - fates only, no journeys
    raise AssertionError("no journey starts in this test")


def test_the_nth_return_of_a_kind_takes_the_nth_fate_of_its_batches() -> None:
    s = apply_changes(baseline(), {"seasons": None})  # fates without the arrival month's profile
    streams = Streams(7, 2)
    system = System(s, 0.0, 24.0, Readmissions(s, streams, never_started))
    got = [system.readmissions.fate(system, "frail", "walk_in") for _ in range(BATCH + 3)]
    other = system.readmissions.fate(system, "fit", "ambulance")

    def batch(kind: str, k: int) -> list:
        frailty, route = kind.split("/")
        name = f"readmission/{kind}/batch{k}"
        return draw_fates(s, streams, name, frailty, route, BATCH)

    assert got[:BATCH] == batch("frail/walk_in", 0)
    assert got[BATCH:] == batch("frail/walk_in", 1)[:3]
    assert other == batch("fit/ambulance", 0)[0]
    again = Readmissions(s, Streams(7, 3), never_started)
    assert again.fate(system, "frail", "walk_in") != got[0]


def test_return_probabilities_are_by_what_the_patient_left_after_and_band() -> None:
    s = baseline()
    readmissions = Readmissions(s, Streams(1, 0), never_started)
    for after, by_band in s.community.readmission.probability.items():
        for band in FRAILTY_BANDS:
            assert readmissions.probability[(after, band)] == by_band.get(band)
