"""Conservation: every patient is accounted for, in one place at a time, and no unit is over-full.

One pass over each event log replays it patient by patient and unit by unit and checks the
contract of `flowsim.log` (see `log_contract.check_log`). It runs on the small baseline
for several seeds and on congested variants that exercise every lever: the 45-minute handover
rule, corridor boarding, escalation beds, front-door frailty assessment, and community capacity
cut so that blocking reaches the ambulances.
"""

from __future__ import annotations

import dataclasses

import pytest

from flowsim.log import EventLog
from flowsim.scenario import Scenario
from helpers.log_contract import COMMUNITY_PLACES, assert_conserved, check_log
from helpers.model_helpers import ARRIVE, END, QUEUE, START, run, small_scenario

# ---------------------------------------------------------------- scenarios


def congested() -> Scenario:
    """A tenth of the population on a tenth of the capacity, with community capacity cut: beds
    block, ED boards in corridors, ambulances hit the 45-minute rule, escalation beds open."""
    return small_scenario(
        {
            "ed.max_handover_minutes": 45,
            "community.p1.capacity": 10,
            "community.p3.capacity": 6,
            "ed.front_door_frailty": {"assessors": 1, "admission_avoided_share": 0.2},
        },
        capacity_scale=0.1,
        horizon_days=60,
        warm_up_days=20,
    )


def boarding_in_cubicles() -> Scenario:
    """No full-capacity protocol: boarders keep their cubicle, so a full hospital fills ED."""
    return small_scenario(
        {"ed.corridor_boarding_after_hours": None, "community.p1.capacity": 12},
        capacity_scale=0.1,
        horizon_days=45,
        warm_up_days=15,
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_small_baseline_conserves_patients(seed: int) -> None:
    s = small_scenario(horizon_days=45, warm_up_days=15)
    rep = assert_conserved(run(s, seed=seed), s)
    assert rep.outcomes["home"] > 0 and rep.outcomes["P0"] > 0
    assert rep.outcomes["died"] > 0
    assert rep.starts["ward:general_medicine"] > 0


@pytest.mark.parametrize("seed", [11, 12])
def test_congested_system_conserves_patients_and_respects_capacity(seed: int) -> None:
    s = congested()
    rep = assert_conserved(run(s, seed=seed), s)
    # The levers the checks are about were really pulled.
    assert rep.corridor_handovers > 0, "no ambulance reached the maximum handover time"
    assert rep.corridor_boarders > 0, "no patient boarded in a corridor"
    assert rep.capacity_changes > 0
    for unit in ("ed_cubicle", "amu", "ward:general_medicine", "p1"):
        assert rep.full_at_start[unit] > 0, f"{unit} never filled up"
    assert rep.starts["frailty_team"] > 0


def test_boarding_in_cubicles_conserves_patients() -> None:
    s = boarding_in_cubicles()
    rep = assert_conserved(run(s, seed=5), s)
    assert rep.corridor_boarders == 0
    assert rep.full_at_start["ed_cubicle"] > 0


def test_checker_catches_a_patient_in_two_beds() -> None:
    """The checker itself: a log with a patient holding two wards at once fails."""
    s = small_scenario(horizon_days=3, warm_up_days=0)
    log = run(s, seed=1)
    ward = log.places.index("ward:general_medicine")
    amu = log.places.index("amu")
    bad = EventLog(
        places=log.places,
        population_places=log.population_places,
        warm_up_hours=0.0,
        end_hours=10.0,
        capacities=log.capacities,
        events=[
            (0.0, 0, ARRIVE, log.places.index("walk_in")),
            (0.0, 0, QUEUE, amu),
            (0.0, 0, START, amu),
            (1.0, 0, QUEUE, ward),
            (1.0, 0, START, ward),
        ],
        patients=[(0, 0, 0, 0, 3, 3, 1, -1)],
    )
    with pytest.raises(AssertionError, match="holds"):
        check_log(bad, None)


def test_checker_catches_a_unit_given_another_units_capacity() -> None:
    """Capacities are checked against the scenario, so a model that swaps two units' capacities
    (and logs what it did) fails, even though its log is consistent with itself."""
    s = small_scenario(horizon_days=3, warm_up_days=0)
    log = run(s, seed=1)
    assert s.community.p2.capacity != s.community.p3.capacity
    caps = dict(log.capacities)
    caps["p2"], caps["p3"] = caps["p3"], caps["p2"]
    with pytest.raises(AssertionError, match="p2: the model gave it"):
        check_log(dataclasses.replace(log, capacities=caps), s)


def test_community_place_starts_as_the_ward_bed_ends() -> None:
    """A move to a community service is a move like any other: START of the new place and END of
    the old at the same instant (the place is reserved earlier, off the log)."""
    s = small_scenario(horizon_days=45, warm_up_days=15)
    log = run(s, seed=1)
    started: dict[int, float] = {}
    gaps = []
    for t, pid, kind, code in log.events:
        place = log.places[code]
        if kind == START and place in COMMUNITY_PLACES:
            started[pid] = t
        elif kind == END and place.startswith("ward:") and pid in started:
            gaps.append(t - started.pop(pid))
    assert gaps, "no one went home with community support"
    overlapping = [g for g in gaps if g > 0]
    assert not overlapping, (
        f"{len(overlapping)} of {len(gaps)} patients held a community place and a ward bed at "
        f"once, for {max(overlapping):.1f} h at most"
    )
