"""A census warm start keeps who is where: delayed discharges stay delayed on their pathway,
the frail patients' long stays stay on the wards (issue 16, item 1: the app's default baseline
had too few delayed discharges and too short stays because a census restarted them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flowsim.analysis import EventFrame
from flowsim.analysis.warmup import delayed_at, snapshot
from flowsim.app.census import with_warm_start
from flowsim.errors import ScenarioError
from flowsim.log import Kind
from flowsim.model.build import simulate
from flowsim.scenario import apply_changes
from flowsim.scenario.units import warm_start_limit
from helpers.model_helpers import small_scenario

WARD = "general_medicine"


def _at_zero(log, kind: Kind, place: str | None = None) -> set[int]:  # type: ignore[no-untyped-def]
    out = set()
    for t, patient, k, code in log.events:
        if t > 0.0:
            break
        if k == kind and (place is None or log.places[code] == place):
            out.add(patient)
    return out


@pytest.fixture(scope="module")
def small():  # type: ignore[no-untyped-def]
    return small_scenario(horizon_days=6, warm_up_days=0)


def test_delayed_patients_start_delayed_on_their_own_pathway(small) -> None:  # type: ignore[no-untyped-def]
    delayed = {"P0": {"assessing": 2}, "P1": {"referred": 3, "assessing": 2}}
    warm = apply_changes(
        small, {"warm_start": {"wards": {WARD: {"occupied": 10, "delayed": delayed}}}}
    )
    log = simulate(warm, 0)
    ef = EventFrame(log)
    optimised = _at_zero(log, Kind.OPTIMISED)
    assert len(optimised) == 7  # the delayed, and none of the 3 in treatment
    queued = ef.queues[ef.queues["patient"].isin(optimised)]
    p1 = queued[queued["unit"].astype(str) == "p1"]
    assert (p1["queue"] == 0.0).sum() == 3  # the referred queue for a P1 place at once
    assert len(p1) == 5 and (p1["queue"] > 0.0).sum() == 2  # the assessing after assessment
    outcome = ef.patients.set_index("patient").loc[sorted(optimised), "outcome"].dropna()
    assert (outcome.astype(str) == "P0").sum() == 2 and set(outcome.astype(str)) <= {"P0", "P1"}


def test_a_census_lists_the_delayed_by_pathway_and_the_rest_by_frailty() -> None:
    cold = small_scenario(horizon_days=100, warm_up_days=0)
    log = simulate(cold, 0)
    at = 80 * 24.0
    shot = snapshot(log, at)
    assert shot.warm_start["mix"] == "in_progress"
    waiting = delayed_at(EventFrame(log), at)
    assert waiting, "the small system holds delayed discharges on day 80"
    for unit, rows in waiting.items():
        entry = shot.warm_start["wards"][unit.removeprefix("ward:")]
        listed = {p: d["assessing"] + d["referred"] for p, d in entry["delayed"].items()}
        assert listed == rows["pathway"].value_counts().to_dict()
        assert all(sum(d["frailty"].values()) == listed[p] for p, d in entry["delayed"].items())
        assert sum(entry["frailty"].values()) == entry["occupied"] - sum(listed.values())
        assert len(entry["elapsed_days"]["values"]) == sum(entry["frailty"].values())
    # At the log's end some pathways are not known yet: counted in treatment, and said so.
    last = snapshot(log)
    assert any("does not show" in note for note in last.notes)
    # A run from the census starts with exactly those delayed (every ward has room for them).
    warm = apply_changes(cold, {"warm_start": shot.warm_start, "run.horizon_days": 3})
    optimised = _at_zero(simulate(warm, 0), Kind.OPTIMISED)
    assert len(optimised) >= sum(len(rows) for rows in waiting.values())


def test_found_patients_are_as_frail_as_the_census_says(small) -> None:  # type: ignore[no-untyped-def]
    def frailty(mix: str, counts: dict[str, int] | None) -> pd.Series:
        entry: dict[str, object] = {"occupied": 60}
        if counts is not None:
            entry["frailty"] = counts
        warm = apply_changes(small, {"warm_start": {"mix": mix, "wards": {WARD: entry}}})
        log = simulate(warm, 0)
        placed = log.meta["warm_start"]["patient"]
        return EventFrame(log).patients.set_index("patient").loc[placed, "frailty"].astype(str)

    told = frailty("in_progress", {"fit": 0, "frail": 60, "severe": 0})
    assert (told == "frail").all()
    by_arrivals = (frailty("arrivals", None) != "fit").mean()
    in_progress = (frailty("in_progress", None) != "fit").mean()
    # Frail stays are longer, so more of a ward's patients are frail than of its arrivals.
    assert in_progress > by_arrivals


def test_a_long_census_stay_in_treatment_goes_on_unless_mix_is_arrivals(small) -> None:  # type: ignore[no-untyped-def]
    long_stay = {"dist": "fixed", "value": 60.0}  # beyond the first 32 draws of most patients

    def finished_at_once(mix: str) -> float:
        entry = {"occupied": 40, "elapsed_days": long_stay}
        warm = apply_changes(small, {"warm_start": {"mix": mix, "wards": {WARD: entry}}})
        log = simulate(warm, 0)
        return len(_at_zero(log, Kind.OPTIMISED)) / 40

    assert finished_at_once("arrivals") > 0.5  # the old rule: past every draw is over
    assert finished_at_once("in_progress") < 0.1


@pytest.mark.parametrize(
    ("entry", "where", "says"),
    [
        (
            {"amu": {"occupied": 3, "delayed": {"P1": {"referred": 1}}}},
            "warm_start.amu",
            "only ward",
        ),
        ({"wards": {WARD: {"occupied": 3, "delayed": {"P0": {"referred": 1}}}}}, "P0", "assessing"),
        ({"wards": {WARD: {"occupied": 1, "delayed": {"P1": {"referred": 2}}}}}, "delayed", "more"),
        ({"wards": {WARD: {"occupied": 4, "frailty": {"fit": 1}}}}, "frailty", "agree"),
        ({"afu": {"occupied": 2, "opened": ["full_capacity_protocol"]}}, "afu", "cannot open"),
    ],
)
def test_a_census_that_does_not_add_up_is_refused_with_the_fix(  # type: ignore[no-untyped-def]
    small, entry, where, says
) -> None:
    with pytest.raises((ScenarioError, ValueError)) as caught:
        apply_changes(small, {"warm_start": entry})
    text = str(caught.value)
    assert where in text and says in text


def test_a_census_cut_to_fewer_beds_keeps_the_delayed_and_the_frailty_mix(small) -> None:  # type: ignore[no-untyped-def]
    beds = small.wards[WARD].beds
    section = {
        "mix": "in_progress",
        "wards": {
            WARD: {
                "occupied": beds + 4,
                "elapsed_days": {"dist": "empirical", "values": [float(i) for i in range(beds)]},
                "frailty": {"fit": beds // 2, "frail": beds - beds // 2, "severe": 0},
                "delayed": {"P1": {"referred": 4, "assessing": 0}},
            }
        },
    }
    fewer = apply_changes(small, {f"wards.{WARD}.beds": beds - 6})
    room = warm_start_limit(fewer, f"ward:{WARD}")
    assert room < beds + 4
    cut = with_warm_start(fewer, section).warm_start
    assert cut is not None and cut.mix == "in_progress"
    ward = cut.wards[WARD]
    assert ward.occupied == room and ward.delayed["P1"].referred == 4
    assert ward.frailty is not None and sum(ward.frailty.values()) == room - 4
    assert len(ward.elapsed_days.values) == room - 4  # type: ignore[union-attr]
    assert np.isclose(ward.frailty["fit"] / (room - 4), 0.5, atol=0.1)


def test_open_escalation_starts_open_and_a_change_without_it_drops_it(small) -> None:  # type: ignore[no-untyped-def]
    escalation = small.wards[WARD].escalation.beds
    assert escalation > 0
    section = {"wards": {WARD: {"occupied": 3, "opened": ["escalation"]}}}
    closed = dict(section, wards={WARD: {"occupied": 3}})

    def at_start(start: dict) -> tuple[int, list]:
        log = simulate(apply_changes(small, {"warm_start": start}), 0)
        first = {log.places[place]: n for t, place, n in log.capacity if t == 0.0}
        return first.get(f"ward:{WARD}", small.wards[WARD].beds), log.meta["escalation"]

    (opened, changes), (shut, _) = at_start(section), at_start(closed)
    assert opened == shut + escalation  # (less any beds the season closes at time 0)
    assert changes[0] == (0.0, f"ward:{WARD}", "escalation", True)
    # A change that has no escalation beds there starts from the same census without them.
    none = apply_changes(small, {f"wards.{WARD}.escalation.beds": 0})
    assert with_warm_start(none, section).warm_start.wards[WARD].opened == []  # type: ignore[union-attr]


def test_delayed_patients_are_as_frail_as_the_census_says(small) -> None:  # type: ignore[no-untyped-def]
    delayed = {"P2": {"referred": 4, "assessing": 3, "frailty": {"severe": 7}}}
    warm = apply_changes(
        small, {"warm_start": {"wards": {WARD: {"occupied": 7, "delayed": delayed}}}}
    )
    log = simulate(warm, 0)
    placed = log.meta["warm_start"]["patient"]
    bands = EventFrame(log).patients.set_index("patient").loc[placed, "frailty"].astype(str)
    assert (bands == "severe").all() and len(bands) == 7
