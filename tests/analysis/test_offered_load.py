"""Offered load from the scenario alone agrees with what the simulation keeps busy.

Where no unit is saturated, Little's law says the mean number of places in use is arrivals x
mean stay, so the analytic busy places of a unit should match the simulated mean occupancy
(time-weighted START..END) within sampling error. The small system here is the tenth-size
baseline with ward, AMU and community places to spare; units whose stays are weeks long (P1-P3)
or that hold patients through waits the analysis leaves out on purpose (ED cubicles, where
patients wait for a clinician and board) are not compared.
"""

from __future__ import annotations

import numpy as np
import pytest

from flowsim.analysis import EventFrame
from flowsim.analysis.offered_load import WARN_AT, erlang_b, offered_load
from flowsim.model.build import simulate
from flowsim.scenario.units import is_ward, ward_name
from helpers.model_helpers import small_scenario

ROOMY = {
    "community.p1.capacity": 90,
    "community.p2.capacity": 60,
    "community.p3.capacity": 40,
    "wards.general_medicine.beds": 90,
    "wards.care_of_elderly.beds": 60,
    "wards.surgery.beds": 55,
    "amu.beds": 20,
}
COMPARED = ("ed_clinician", "amu", "afu", "sdec")


def _turnaround_hours(s, unit: str) -> float:
    if is_ward(unit):
        return s.wards[ward_name(unit)].turnaround_hours
    section = getattr(s, unit, None)
    return float(getattr(section, "turnaround_hours", 0.0))


@pytest.fixture(scope="module")
def loads_and_runs():
    s = small_scenario(ROOMY, horizon_days=100, warm_up_days=100)
    table = offered_load(s).table.set_index("unit")
    occupied: dict[str, list[float]] = {}
    for r in range(2):
        ef = EventFrame(simulate(s, r))
        for unit in table.index:
            if unit in ef.log.capacities:
                area = ef.occupancy_steps(unit).area(ef.warm_up, ef.end)
                occupied.setdefault(unit, []).append(area / (ef.end - ef.warm_up))
    return s, table, {u: float(np.mean(v)) for u, v in occupied.items()}


def test_analytic_busy_places_match_simulated_occupancy(loads_and_runs) -> None:
    s, table, simulated = loads_and_runs
    units = [*COMPARED, *(u for u in table.index if is_ward(u))]
    for unit in units:
        row = table.loc[unit]
        assert row["load"] < 0.8, f"{unit} is meant to be unsaturated here"
        # occupancy counts patients (START..END), not the bed turnaround the load includes
        patients = row["busy_places"] - row["arrivals_per_day"] / 24.0 * _turnaround_hours(s, unit)
        assert simulated[unit] == pytest.approx(patients, rel=0.08), unit


def test_no_warning_when_nothing_is_near_full(loads_and_runs) -> None:
    _, table, _ = loads_and_runs
    assert (table["load"].fillna(0) < WARN_AT).all()
    assert not table["warning"].str.len().any()


def test_a_planted_overload_is_named_in_plain_words() -> None:
    s = small_scenario({**ROOMY, "community.p1.capacity": 10})
    result = offered_load(s)
    p1 = result.table.set_index("unit").loc["p1"]
    assert p1["load"] > 1.0
    (warning,) = [w for w in result.warnings if w.startswith("P1")]
    assert f"P1 is offered {100 * p1['load']:.0f}% of its packages" in warning
    assert "grow without limit" in warning and "block the hospital" in warning


def test_a_unit_that_never_queues_says_where_patients_go() -> None:
    s = small_scenario({**ROOMY, "afu.beds": 1})
    afu = offered_load(s).table.set_index("unit").loc["afu"]
    assert afu["load"] > 1.0
    assert afu["turned_away_share"] == pytest.approx(erlang_b(1, afu["offered_places"]), rel=1e-9)
    assert "go to AMU instead" in afu["warning"]


def test_erlang_b_known_values() -> None:
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)
    assert erlang_b(0, 1.0) == 1.0


def test_the_run_report_section_shows_the_table_and_warning() -> None:
    from flowsim.report.html import _offered_load_section

    html = _offered_load_section(small_scenario({**ROOMY, "community.p1.capacity": 10}))
    assert 'id="offered-load"' in html and "P1 (home with support)" in html
    assert "grow without limit" in html


def test_validate_load_prints_the_table() -> None:
    from typer.testing import CliRunner

    from flowsim.cli import app
    from helpers.model_helpers import BASELINE

    result = CliRunner().invoke(app, ["validate", "--load", str(BASELINE)])
    assert result.exit_code == 0
    assert "Offered load of" in result.output and "P1 (home with support)" in result.output
