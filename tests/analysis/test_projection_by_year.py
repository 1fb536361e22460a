"""Demand and places needed by year: analytic, from the projected segments and offered load."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from flowsim.analysis.offered_load import offered_load
from flowsim.analysis.projection import (
    demand_by_segment,
    demand_now_and_then,
    projection_by_year,
)
from flowsim.scenario import load_scenario
from flowsim.scenario.schema import Scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    return load_scenario(SCENARIOS / "baseline.yaml")


def test_demand_is_residents_times_rates(baseline: Scenario) -> None:
    table = demand_by_segment(baseline)
    seg = baseline.population.places[0].segments[0]
    row = table.iloc[0]
    per_year = seg.ambulance_per_person_year + seg.walk_in_per_person_year
    per_year += seg.gp_referral_per_person_year
    assert row["total"] == pytest.approx(seg.people * per_year / 365.25)
    assert 500 < table["total"].sum() < 700  # ~600 a day, baseline.yaml [A1]


def test_now_and_then_shows_the_older_frailer_mix(baseline: Scenario) -> None:
    table = demand_now_and_then(baseline, 2030).set_index(["age_band", "frailty"])
    assert table.loc[("85+", "severe"), "total_change_pct"] == pytest.approx(14.2, abs=0.1)
    assert table.loc[("18-64", "fit"), "total_change_pct"] < 1.0
    old = table.xs("85+", level="age_band")
    assert old["share_2030_pct"].sum() > old["share_2025_pct"].sum() + 0.5
    assert table["share_2025_pct"].sum() == pytest.approx(100.0)


def test_places_needed_are_offered_load_over_the_target_occupancy(baseline: Scenario) -> None:
    table = projection_by_year(baseline, [2025, 2030, 2035], target_occupancy=0.9)
    today = offered_load(baseline).table.set_index("unit")["offered_places"]
    first = table[table["year"] == 2025].set_index("unit")
    assert first["offered_places"].to_dict() == pytest.approx(today.to_dict())
    for unit, row in first.iterrows():
        assert row["places_needed"] == math.ceil(today[unit] / 0.9 - 1e-9), unit
    wards = table[table["unit"].str.startswith("ward:")].groupby("year")["places_needed"].sum()
    assert wards.is_monotonic_increasing and wards[2035] > wards[2025] * 1.08
    assert table.groupby("year")["share_85_plus_pct"].first().is_monotonic_increasing


def test_a_target_occupancy_outside_0_1_is_refused(baseline: Scenario) -> None:
    with pytest.raises(ValueError, match="target_occupancy"):
        projection_by_year(baseline, [2025], target_occupancy=1.5)


def test_an_older_population_needs_more_beds_than_a_flat_multiplier(baseline: Scenario) -> None:
    """The same growth in contacts as 2030's, with no ageing, raises ward bed-days by the same
    share; the projection raises them by more, most for care of the elderly."""
    from flowsim.scenario import apply_changes
    from flowsim.scenario.units import is_ward

    def wards(s: Scenario) -> dict[str, float]:
        table = offered_load(s).table.set_index("unit")["offered_places"]
        return {u: float(v) for u, v in table.items() if is_ward(str(u))}

    contacts = demand_by_segment(baseline)["total"].sum()
    later = projection_by_year(baseline, [2030]).iloc[0]["contacts_per_day"]
    flat = wards(apply_changes(baseline, {"demand_profile.growth": later / contacts}))
    aged = wards(apply_changes(baseline, {"population.projection_year": 2030}))
    today = wards(baseline)
    growth_flat = sum(flat.values()) / sum(today.values())
    assert growth_flat == pytest.approx(later / contacts, rel=1e-3)
    assert sum(aged.values()) / sum(today.values()) > 1 + 1.5 * (growth_flat - 1)
    elderly = max(today, key=lambda u: aged[u] / today[u])
    assert "elderly" in elderly
