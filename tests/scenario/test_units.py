"""The unit catalogue: one description of every unit, agreeing with the scenario and the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowsim.scenario import apply_changes, load_scenario
from flowsim.scenario.units import (
    ACUTE_UNITS,
    COMMUNITY_UNITS,
    DISCHARGE_PATHWAY_UNITS,
    ED_PLACES,
    ED_UNITS,
    OUTCOMES,
    ROUTES,
    SERVICES,
    capacity_of,
    catalogue,
    in_group,
    is_inpatient,
    log_places,
    log_unit_names,
    spec_of,
    unit_capacity_key,
    unit_label,
    unit_order,
    ward_name,
    ward_unit,
    warm_start_path,
)

BASELINE = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.yaml"


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(BASELINE)


def test_ward_names_round_trip() -> None:
    assert ward_unit("care_of_elderly") == "ward:care_of_elderly"
    assert ward_name("ward:care_of_elderly") == "care_of_elderly"
    assert ward_name("amu") is None
    assert is_inpatient("ward:x") and is_inpatient("amu") and not is_inpatient("p1")


def test_every_capacity_key_reads_the_scenario(baseline) -> None:
    """Each key names the setting itself: change the setting and the catalogue follows."""
    for unit in catalogue(baseline):
        if unit.capacity_key is None or unit.name == "ed_clinician":
            continue
        if unit.name == "frailty_team" and baseline.ed.front_door_frailty is None:
            continue
        changed = apply_changes(baseline, {unit.capacity_key: unit.capacity + 3})
        assert capacity_of(changed, unit.name) == unit.capacity + 3, unit.name


def test_capacities_match_the_scenario_by_hand(baseline) -> None:
    c = baseline.community
    expected = {
        "ed_cubicle": baseline.ed.cubicles,
        "ed_clinician": baseline.ed.clinicians_by_hour[0],
        "ucr": baseline.ucr.teams,
        "sdec": baseline.sdec.chairs,
        "amu": baseline.amu.beds,
        "afu": baseline.afu.beds,
        "p1": c.p1.capacity,
        "p2": c.p2.capacity,
        "p3": c.p3.capacity,
        "virtual_ward": c.virtual_ward.capacity,
        **{f"ward:{n}": w.beds for n, w in baseline.wards.items()},
    }
    got = {u.name: u.capacity for u in catalogue(baseline) if u.name in expected}
    assert got == expected
    assert unit_capacity_key("ward:surgery") == "wards.surgery.beds"
    assert unit_capacity_key("p2") == "community.p2.capacity"


def test_log_places_are_the_models(baseline) -> None:
    """The model's log uses exactly these places, in this order (their codes)."""
    from flowsim.model.system import System

    system = System(baseline, warm_up_hours=0.0, end_hours=24.0)
    assert system.log.places == log_places(baseline)
    assert set(system.log.capacities) == set(log_unit_names(baseline))
    places = log_places(baseline)
    assert places[: len(ROUTES)] == list(ROUTES)
    assert places[-len(OUTCOMES) :] == list(OUTCOMES)


def test_groups_and_pathway_order(baseline) -> None:
    names = [u.name for u in catalogue(baseline)]
    assert names[: len(ED_UNITS)] == list(ED_UNITS)
    assert set(ED_PLACES) == {"ed_cubicle", "corridor"}
    assert ACUTE_UNITS == ("amu", "afu")
    assert COMMUNITY_UNITS == ("p1", "p2", "p3", "virtual_ward")
    assert DISCHARGE_PATHWAY_UNITS == ("p1", "p2", "p3")
    assert set(SERVICES) == {"ed_clinician", "frailty_team", "ucr"}
    assert unit_order(["p1", "ward:b", "zzz", "amu", "ward:a", "ed_cubicle"]) == [
        "ed_cubicle",
        "amu",
        "ward:b",
        "ward:a",
        "p1",
        "zzz",
    ]
    assert in_group("ward:a", "ward") and in_group("sdec", "sdec") and not in_group("home", "ed")


def test_labels_for_people() -> None:
    assert unit_label("p1") == "P1 (home with support)"
    assert unit_label("P1") == unit_label("p1")
    assert unit_label("ward:care_of_elderly") == "ward: care of elderly"
    assert unit_label("walk_in") == "walk-in"
    assert unit_label("discharge_window") is None
    spec = spec_of("ward:care_of_elderly")
    assert spec is not None and spec.place == "care of elderly bed"
    assert spec.lever == "Care of elderly ward beds"
    assert spec_of("home") is None


def test_warm_start_paths() -> None:
    assert warm_start_path("ward:surgery") == "wards.surgery"
    assert warm_start_path("p3") == "p3"
    assert warm_start_path("ed_cubicle") is None
