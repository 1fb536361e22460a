"""Calibration (issue 9): synthetic extracts, fitting them back, bad extracts, check-fit, census.

Round trip: a small system with known parameters is simulated for 150 days, written as an
extract, read back and fitted; the fitted values must recover the known ones. Tolerances are
statistical, stated per estimate (a few standard errors of the estimator at the sample size the
test has), so the test fails on bias, not on noise. The known scenario switches off what makes an
extract's observed shares differ from the parameters by design: SDEC open all day (else its
share goes to AMU at night), no crowding rule (turns admissions into discharges), no UCR
(keeps 999 callers out of ED) and ample AFU and community capacity (diversions and long waits).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flowsim.analysis.eventframe import EventFrame
from flowsim.analysis.extract import (
    ExtractError,
    extract_from_log,
    read_extract,
    validate_extract,
    write_extract,
)
from flowsim.analysis.fit import census, fit_extract, fit_yaml
from flowsim.api import check_fit
from flowsim.model.build import simulate
from flowsim.scenario import Scenario, apply_changes, load_scenario, scenario_to_yaml
from helpers.model_helpers import run, small_scenario

DAYS = 150


@pytest.fixture(scope="module")
def known() -> Scenario:
    s = small_scenario(scale=0.2, horizon_days=DAYS, warm_up_days=30)
    return apply_changes(
        s,
        {
            "sdec.open_hour": 0,
            "sdec.close_hour": 24,
            "sdec.chairs": 200,
            "ed.crowding": None,
            "ucr.eligible_share": 0.0,
            "afu.beds": 200,
            "community.p1.capacity": 1000,
            "community.p2.capacity": 1000,
            "community.p3.capacity": 1000,
        },
    )


@pytest.fixture(scope="module")
def extract(known: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fit") / "extract.csv"
    write_extract(extract_from_log(run(known)), path)
    return path


@pytest.fixture(scope="module")
def fitted(known: Scenario, extract: Path):
    return fit_extract(read_extract(extract), known)


def test_rates_recover_the_known_ones(known: Scenario, fitted) -> None:
    """Each segment's rate within 4 Poisson standard errors (where 30+ attendances are expected:
    fewer make a ratio too noisy to say anything), and each route's total within 4%."""
    places = {p["name"]: p for p in fitted.body["population"]["places"]}
    years = fitted.days / 365.25
    totals: dict[str, list[float]] = {}
    for place in known.population.places:
        for i, seg in enumerate(place.segments):
            new = places[place.name]["segments"][i]
            for route in ("ambulance", "walk_in", "gp_referral"):
                true = getattr(seg, f"{route}_per_person_year")
                got = new[f"{route}_per_person_year"]
                expected = true * seg.people * years
                t = totals.setdefault(route, [0.0, 0.0])
                t[0] += true * seg.people
                t[1] += got * seg.people
                if expected >= 30:
                    se = true / math.sqrt(expected)
                    assert abs(got - true) <= 4 * se, (place.name, seg.age_band, route, got, true)
    for route, (true, got) in totals.items():
        assert got == pytest.approx(true, rel=0.04), route


def test_demand_profile_recovers_the_shape(known: Scenario, fitted) -> None:
    """Hourly multipliers within 15% (about 4 SE at ~700 attendances an hour of day)."""
    true = np.asarray(known.demand_profile.hourly) / np.mean(known.demand_profile.hourly)
    got = np.asarray(fitted.body["demand_profile"]["hourly"])
    np.testing.assert_allclose(got, true, rtol=0.15)
    assert "monthly" not in fitted.body["demand_profile"]  # under a year: the base's kept


def test_dispositions_recover_the_known_ones(known: Scenario, fitted) -> None:
    """Each share within 4 binomial standard errors + 0.005 (rounding)."""
    for band, shares in fitted.body["ed"]["disposition"].items():
        n = int(fitted.notes[f"ed.disposition.{band}"].split()[3])
        for dest, got in shares.items():
            p = known.ed.disposition.get(band)[dest]
            assert abs(got - p) <= 4 * math.sqrt(p * (1 - p) / n) + 0.005, (band, dest, got, p)


def test_los_recovers_lognormal_parameters(known: Scenario, fitted) -> None:
    """Cells with 150+ stays: lognormal chosen by AIC, median within 15% and sigma within 12%
    (about 3 SE: the SE of log-median is sigma/sqrt(n), ~7% at n=150; of sigma ~sigma/sqrt(2n))."""
    checked = 0
    for d in fitted.dists:
        if not d.key.startswith("wards.") or d.n < 150:
            continue
        _, ward, _, band = d.key.split(".")
        true = known.wards[ward].los_days.get(band)
        assert d.spec["dist"] == "lognormal", d.key
        assert d.spec["median"] == pytest.approx(true.median, rel=0.15), d.key
        assert d.spec["sigma"] == pytest.approx(true.sigma, rel=0.12), d.key
        checked += 1
    assert checked >= 3


def test_pathway_split_recovers_the_known_one(known: Scenario, fitted) -> None:
    """Each pathway share within 4 binomial standard errors + 0.005."""
    for band, shares in fitted.body["discharge"]["pathway"].items():
        n = int(fitted.notes[f"discharge.pathway.{band}"].split()[3])
        for path, got in shares.items():
            p = known.discharge.pathway.get(band)[path]
            assert abs(got - p) <= 4 * math.sqrt(p * (1 - p) / n) + 0.005, (band, path, got, p)


def test_fitted_yaml_extends_the_base_and_loads(known: Scenario, fitted, tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(scenario_to_yaml(known), encoding="utf-8")
    text = fit_yaml(fitted, "base.yaml", "fitted", "a test")
    (tmp_path / "fitted.yaml").write_text(text, encoding="utf-8")
    s = load_scenario(tmp_path / "fitted.yaml")
    assert s.wards["general_medicine"].los_days.fit.dist == "lognormal"
    assert "# lognormal by AIC" in text and "stays + " in text
    assert s.amu.beds == known.amu.beds


# ---------------------------------------------------------------- bad extracts


def _good() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "attendance_id": ["a1", "a2"],
            "arrival_time": ["2025-01-06 10:00", "2025-01-06 11:00"],
            "age_band": ["85+", "18-64"],
            "cfs": ["6", "2"],
            "arrival_mode": ["ambulance", "walk_in"],
            "place": ["Bassetlaw", "Bassetlaw"],
            "ed_departure_time": ["2025-01-06 14:00", "2025-01-06 12:00"],
            "disposition": ["ward", "home"],
            "ward_group": ["care_of_elderly", ""],
            "ward_start_time": ["2025-01-06 14:00", ""],
            "optimised_time": ["2025-01-12 09:00", ""],
            "discharge_time": ["2025-01-14 16:00", ""],
            "discharge_pathway": ["P1", ""],
        }
    )


def test_a_good_extract_validates() -> None:
    df = validate_extract(_good())
    assert df["frailty"].tolist() == ["frail", "fit"]


def test_missing_column_is_named() -> None:
    with pytest.raises(ExtractError, match=r"column .cfs.*missing required column"):
        validate_extract(_good().drop(columns="cfs"))


def test_unparseable_time_names_column_and_line() -> None:
    bad = _good()
    bad.loc[1, "arrival_time"] = "next tuesday"
    with pytest.raises(ExtractError) as info:
        validate_extract(bad, source="x.csv")
    assert str(info.value).startswith("x.csv: column 'arrival_time', line 3: cannot read")


def test_negative_stay_names_column_and_line() -> None:
    bad = _good()
    bad.loc[0, "discharge_time"] = "2025-01-10 09:00"
    with pytest.raises(ExtractError, match=r"column 'discharge_time', line 2: is before"):
        validate_extract(bad)


def test_unknown_category_names_the_allowed_ones() -> None:
    bad = _good()
    bad.loc[0, "arrival_mode"] = "helicopter"
    with pytest.raises(ExtractError, match="'helicopter' is not one of ambulance, walk_in"):
        validate_extract(bad)


def test_bad_file_exits_cleanly_from_the_cli(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from flowsim.cli import app

    bad = _good().drop(columns="place")
    bad.to_csv(tmp_path / "bad.csv", index=False)
    result = CliRunner().invoke(
        app, ["fit", str(tmp_path / "bad.csv"), "--base", "x.yaml", "--out", "f.yaml"]
    )
    assert result.exit_code == 2
    assert "missing required column(s) place" in result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- check-fit and census


def test_check_fit_puts_observed_kpis_within_prediction_intervals(
    known: Scenario, fitted, tmp_path: Path
) -> None:
    """The fitted scenario's simulated KPIs (5 replications, CRN) against the observed ones of the
    extract: each observed KPI inside the 95% prediction interval for one period (an observed
    period is a single draw, so the CI of the simulated mean would be the wrong yardstick)."""
    (tmp_path / "base.yaml").write_text(scenario_to_yaml(known), encoding="utf-8")
    (tmp_path / "fitted.yaml").write_text(fit_yaml(fitted, "base.yaml", "f"), encoding="utf-8")
    src = tmp_path / "extract.csv"
    write_extract(extract_from_log(run(known)), src)
    table = check_fit(tmp_path / "fitted.yaml", src, 5, seed=7, workers=1)
    assert set(table["kpi"]) >= {"ed_within_4h", "los_mean", "ward_occupancy_mean"}
    assert table["consistent"].all(), table[["kpi", "observed", "pi_low", "pi_high"]]


def test_census_warm_start_reproduces_the_census_at_time_zero(
    known: Scenario, extract: Path
) -> None:
    """Every unit starts with exactly the census's patients placed at time 0."""
    df = read_extract(extract)
    at = df["arrival_time"].min().floor("D") + pd.Timedelta(days=90)
    section, occupied, _ = census(df, at, known)
    assert occupied["ward:general_medicine"] > 0 and occupied["p1"] > 0
    warm = apply_changes(known, {"warm_start": section, "run.warm_up_days": 0})
    log = simulate(warm, 0, horizon_days=1)
    ef = EventFrame(log)
    stays = ef.stays
    for unit, n in occupied.items():
        placed = stays[(stays["unit"] == unit) & (stays["start"] == 0.0)]
        assert len(placed) == n, unit
        # A patient whose census stay already exceeds a drawn stay may leave at once.
        assert ef.occupancy_steps(unit).at(0.0) >= n - max(1, 0.02 * n), unit
