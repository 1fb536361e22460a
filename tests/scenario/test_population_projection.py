"""The population projection: ``population.projection_year`` validates, reproduces the cited
projections, shifts the age and frailty mix, changes nothing when left out, and runs."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from flowsim.errors import ScenarioError
from flowsim.scenario import apply_changes, load_scenario, scenario_from_dict
from flowsim.scenario.changes import plain
from flowsim.scenario.load import load_scenario_data
from flowsim.scenario.projection import GROWTH_PER_YEAR, growth_factor
from flowsim.scenario.schema import Scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
COUNTY = ("South Notts", "Mid Notts", "Bassetlaw")


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    return load_scenario(SCENARIOS / "baseline.yaml")


@pytest.fixture(scope="module")
def in_2030(baseline: Scenario) -> Scenario:
    return apply_changes(baseline, {"population.projection_year": 2030})


def people(s: Scenario, places: tuple[str, ...] | None = None) -> dict[tuple[str, str], int]:
    """Residents by (age band, frailty band), over ``places`` (all when None)."""
    out: dict[tuple[str, str], int] = defaultdict(int)
    for place in s.population.places:
        if places is None or place.name in places:
            for seg in place.segments:
                out[seg.age_band, seg.frailty] += seg.people
    return out


def by_band(counts: dict[tuple[str, str], int]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for (band, _), n in counts.items():
        out[band] += n
    return out


def test_without_a_projection_year_the_population_is_as_written(baseline: Scenario) -> None:
    raw = load_scenario_data(SCENARIOS / "baseline.yaml")["population"]
    assert baseline.population.projection_year is None
    assert baseline.population.base_year == 2025
    written = [[seg["people"] for seg in place["segments"]] for place in raw["places"]]
    resolved = [[seg.people for seg in place.segments] for place in baseline.population.places]
    assert resolved == written


def test_85_plus_grow_by_the_cited_rate_and_their_share_rises(
    baseline: Scenario, in_2030: Scenario
) -> None:
    # UK 85+ 1.7m (2022) to 3.3m (2047), planning.md A19: 2.69% a year, x1.142 over 5 years
    expected = (3.3 / 1.7) ** (5 / 25)
    before, after = by_band(people(baseline)), by_band(people(in_2030))
    assert after["85+"] / before["85+"] == pytest.approx(expected, rel=2e-3)
    # England 75-84 +33% 2018-2028 (A18)
    assert after["75-84"] / before["75-84"] == pytest.approx(1.33 ** (5 / 10), rel=2e-3)
    share_before = before["85+"] / sum(before.values())
    share_after = after["85+"] / sum(after.values())
    assert share_after / share_before == pytest.approx(expected / 1.029, rel=5e-3)


def test_frailty_shares_within_an_age_band_stay_so_the_whole_population_gets_frailer(
    baseline: Scenario, in_2030: Scenario
) -> None:
    for a, b in zip(baseline.population.places, in_2030.population.places, strict=True):
        for band in ("18-64", "65-74", "75-84", "85+"):
            old = {s.frailty: s.people for s in a.segments if s.age_band == band}
            new = {s.frailty: s.people for s in b.segments if s.age_band == band}
            for frailty in old:
                assert new[frailty] / sum(new.values()) == pytest.approx(
                    old[frailty] / sum(old.values()), abs=2e-4
                )
        rates = ("ambulance_per_person_year", "walk_in_per_person_year")
        for sa, sb in zip(a.segments, b.segments, strict=True):
            assert [getattr(sa, r) for r in rates] == [getattr(sb, r) for r in rates]

    def frail_share(s: Scenario) -> float:
        counts = people(s)
        return sum(n for (_, f), n in counts.items() if f != "fit") / sum(counts.values())

    assert frail_share(in_2030) > frail_share(baseline) * 1.02


def test_county_rates_reproduce_the_county_projection_of_a8(baseline: Scenario) -> None:
    """Nottinghamshire 833,000 (2020) to 908,000 (2034), 65+ up by 30% (planning.md A8)."""
    older = by_band(people(baseline, COUNTY))
    older.pop("18-64")
    grown = sum(n * growth_factor("Mid Notts", b, 2020, 2034) for b, n in older.items())
    assert grown / sum(older.values()) == pytest.approx(1.30, abs=0.005)
    over_65 = 53_200 / 0.30
    under_65 = 833_000 - over_65
    total = under_65 * growth_factor("Mid Notts", "18-64", 2020, 2034) + over_65 * 1.30
    assert total == pytest.approx(908_000, rel=0.002)


def test_city_rates_reproduce_the_city_projection_of_a12(baseline: Scenario) -> None:
    """Nottingham City 337,100 (2020) to 344,200 (2028), planning.md A12 (Census 2021 shares)."""
    city = by_band(people(baseline, ("Nottingham City",)))
    total = 323_700
    younger = total - sum(n for b, n in city.items() if b != "18-64")
    grown = younger * growth_factor("Nottingham City", "18-64", 2020, 2028)
    grown += sum(
        n * growth_factor("Nottingham City", b, 2020, 2028) for b, n in city.items() if b != "18-64"
    )
    assert grown / total == pytest.approx(344_200 / 337_100, abs=0.002)


def test_every_baseline_place_has_growth_figures(baseline: Scenario) -> None:
    assert {p.name for p in baseline.population.places} == set(GROWTH_PER_YEAR)


def test_projection_survives_a_round_trip_and_composes(
    baseline: Scenario, in_2030: Scenario
) -> None:
    assert in_2030.population.base_year == 2030
    assert scenario_from_dict(plain(in_2030)) == in_2030
    direct = by_band(people(apply_changes(baseline, {"population.projection_year": 2035})))
    stepped = by_band(people(apply_changes(in_2030, {"population.projection_year": 2035})))
    for band, n in direct.items():
        assert stepped[band] == pytest.approx(n, abs=12)  # rounding to whole people twice


def test_library_file_is_the_baseline_in_2030(in_2030: Scenario) -> None:
    library = load_scenario(SCENARIOS / "2030_nothing_changes.yaml")
    assert library.population == in_2030.population
    programme = load_scenario(SCENARIOS / "2030_combined_programme.yaml")
    assert programme.population == in_2030.population


@pytest.mark.parametrize("year", [2019, 2050])
def test_a_year_outside_the_data_is_refused_with_the_range(baseline: Scenario, year: int) -> None:
    with pytest.raises(ScenarioError, match="cover 2021 to 2035") as caught:
        apply_changes(baseline, {"population.projection_year": year})
    assert "population.projection_year" in str(caught.value)


def test_a_place_without_growth_figures_is_named(baseline: Scenario) -> None:
    with pytest.raises(ScenarioError, match="no population projection for the place 'Elsewhere'"):
        apply_changes(
            baseline,
            {"population.places[0].name": "Elsewhere", "population.projection_year": 2030},
        )


def test_the_projected_system_runs_with_more_attendances(
    baseline: Scenario, in_2030: Scenario
) -> None:
    from flowsim.analysis import compute_kpis
    from flowsim.model.build import simulate

    def attendances(s: Scenario) -> float:
        kpis = compute_kpis(simulate(s, 0, horizon_days=14, warm_up_days=7)).set_index("kpi")
        return float(kpis.loc["ed_attendances", "value"])

    now, then = attendances(baseline), attendances(in_2030)
    assert 1.0 < then / now < 1.07
