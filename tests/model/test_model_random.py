"""Random numbers: the same seed gives the same log bit for bit, and scenarios that share structure
share their random numbers (common random numbers), so a change shows its effect and not noise."""

from __future__ import annotations

import numpy as np
import pytest

from flowsim.log import PATIENT_FIELDS, EventLog
from flowsim.model.build import simulate
from flowsim.scenario import Scenario, apply_changes
from helpers.model_helpers import ARRIVE, small_scenario


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return small_scenario(horizon_days=20, warm_up_days=10)


@pytest.fixture(scope="module")
def log(scenario: Scenario) -> EventLog:
    return simulate(scenario, 0, seed=7)


def arrivals(log: EventLog) -> list[tuple]:
    """Population arrivals (not readmissions): time, patient id, route and every attribute."""
    described = {row[0]: row for row in log.patients}
    readmission_of = PATIENT_FIELDS.index("readmission_of")
    return [
        (t, pid, place, described[pid])
        for t, pid, kind, place in log.events
        if kind == ARRIVE and described[pid][readmission_of] == -1
    ]


def arrivals_by_place(log: EventLog) -> dict[int, list[tuple]]:
    """Population arrivals per home place, without patient ids (ids count all places)."""
    out: dict[int, list[tuple]] = {}
    for t, _pid, route, row in arrivals(log):
        attributes = row[1:]  # place, age band, frailty, CFS, acuity, route, readmission_of
        out.setdefault(row[1], []).append((t, route, attributes))
    return out


def test_same_seed_gives_the_same_log_bit_for_bit(scenario: Scenario, log: EventLog) -> None:
    again = simulate(scenario, 0, seed=7)
    assert len(log.events) > 10_000
    assert again.events == log.events
    for name, column in log.event_arrays().items():
        assert column.tobytes() == again.event_arrays()[name].tobytes(), name
    assert again.patients == log.patients
    assert again.capacity == log.capacity
    assert again.meta == log.meta


def test_other_seed_or_replication_gives_another_log(scenario: Scenario, log: EventLog) -> None:
    for other in (simulate(scenario, 0, seed=8), simulate(scenario, 1, seed=7)):
        assert other.events != log.events
        assert arrivals(other) != arrivals(log)
        # Another sample of the same system, not a broken one.
        assert 0.8 < len(other.patients) / len(log.patients) < 1.25


def test_scenario_seed_is_used_when_none_is_given(scenario: Scenario, log: EventLog) -> None:
    reseeded = apply_changes(scenario, {"run.seed": 7})
    assert simulate(reseeded).events == log.events


def test_afu_beds_do_not_change_the_arrival_stream(scenario: Scenario, log: EventLog) -> None:
    assert scenario.afu.beds > 0
    for beds in (0, 3 * scenario.afu.beds):
        other = simulate(apply_changes(scenario, {"afu.beds": beds}), 0, seed=7)
        assert other.events != log.events, "the change should change something"
        assert arrivals(other) == arrivals(log)


def test_one_place_demand_leaves_other_places_arrivals_alone(scenario: Scenario) -> None:
    base = simulate(scenario, 0, seed=3)
    quieter = simulate(
        apply_changes(scenario, {"population.places[0].demand_multiplier": 0.7}), 0, seed=3
    )
    before, after = arrivals_by_place(base), arrivals_by_place(quieter)
    assert before.keys() == after.keys() == set(range(len(scenario.population.places)))
    assert len(after[0]) < 0.8 * len(before[0])
    for place in range(1, len(scenario.population.places)):
        assert after[place] == before[place], scenario.population.places[place].name
    # Times are unchanged exactly, not just in number.
    times = np.array([a[0] for a in after[1]])
    assert np.array_equal(times, [b[0] for b in before[1]])
