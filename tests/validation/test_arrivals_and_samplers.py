"""The model's two sources of randomness: when people arrive, and how long things take.

**Arrivals.** The baseline's population and demand profile (every place, segment and route, the
hour-of-day, weekday and monthly multipliers) drive a system where nothing else happens (everyone
goes home from ED at once). Over eight weeks the counts of arrivals per hour of the day and per
weekday must fit the counts expected from the scenario's data (chi-square), and the total must
fit its Poisson mean. The expected counts are computed here from the scenario data and the
calendar, independently of `flowsim.model.calendar`: each profile list is rescaled to mean 1, and
the rate of a clock hour is ``Σ people × rate × place multiplier / hours per year × hourly[h] ×
weekday[d] × monthly[m] × growth``.

**Distributions.** Every distribution type a scenario can name is set as the ward length of stay
of a system with unlimited beds; the stays in the event log (``START`` to ``OPTIMISED`` at the
ward) must pass a Kolmogorov-Smirnov test against the scipy.stats distribution with the same
parameters (chi-square for the discrete empirical distribution; exact equality for ``fixed``).
The same spec, as parsed from the scenario, is also sampled directly with `flowsim.random.sample`
(100,000 draws) for a sharper test of the parameterisation.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pytest
import yaml
from scipy import stats

from flowsim.model.build import simulate
from flowsim.random import sample, stream
from flowsim.scenario import Scenario, scenario_from_dict
from helpers.model_helpers import arrival_rate_per_hour, baseline
from validation.helpers import (
    ARRIVE,
    OPTIMISED,
    SEED,
    START,
    TEST_LEVEL,
    WARD,
    Check,
    assert_checks,
    chi_square,
    fit_check,
    isolated_system,
    per_band,
)

ARRIVAL_DAYS = 56
"""Eight whole weeks from the baseline's start date (a Monday)."""


# ---------------------------------------------------------------- arrivals


def arrivals_scenario() -> Scenario:
    data = isolated_system(
        "arrivals: the baseline's demand, nothing else",
        1.0,
        disposition="home",
        horizon_days=ARRIVAL_DAYS,
        warm_up_days=0,
    )
    base = baseline()
    data["population"] = yaml.safe_load(yaml.safe_dump(base.population.model_dump(mode="json")))
    data["demand_profile"] = base.demand_profile.model_dump()
    return scenario_from_dict(data, "arrivals special case")


def expected_per_clock_hour(s: Scenario, hours: int) -> tuple[np.ndarray, np.ndarray]:
    """Expected arrivals in each clock hour ``[h, h+1)`` of the run, and the weekday of each."""
    profile = s.demand_profile
    hourly, weekday, monthly = (
        np.asarray(x, dtype=float) / np.mean(x)
        for x in (profile.hourly, profile.weekday, profile.monthly)
    )
    per_hour = arrival_rate_per_hour(s) / s.demand_profile.growth
    start = dt.datetime.combine(s.run.start_date, dt.time())
    clock = [start + dt.timedelta(hours=h) for h in range(hours)]
    days = np.array([c.weekday() for c in clock])
    months = np.array([c.month - 1 for c in clock])
    rate = per_hour * hourly[np.arange(hours) % 24] * weekday[days] * monthly[months]
    return rate * profile.growth, days


def arrival_checks(seed: int = SEED) -> list[Check]:
    s = arrivals_scenario()
    log = simulate(s, 0, seed=seed)
    ev = log.event_arrays()
    times = ev["time"][ev["kind"] == ARRIVE]
    hours = round(log.end_hours)
    assert hours == ARRIVAL_DAYS * 24 and times.max() < hours
    expected, weekday_of_hour = expected_per_clock_hour(s, hours)
    clock_hour = np.floor(times).astype(int)

    by_hour = np.bincount(clock_hour % 24, minlength=24)
    by_weekday = np.bincount(weekday_of_hour[clock_hour], minlength=7)
    expected_by_hour = np.bincount(np.arange(hours) % 24, weights=expected, minlength=24)
    expected_by_weekday = np.bincount(weekday_of_hour, weights=expected, minlength=7)

    n, total = len(times), float(expected.sum())

    # Exact (Garwood) CI for a Poisson mean from one count, at 95% and at the test level.
    def garwood(alpha: float) -> tuple[float, float]:
        return stats.chi2.ppf(alpha / 2, 2 * n) / 2, stats.chi2.ppf(1 - alpha / 2, 2 * n + 2) / 2

    (low, high), (test_low, test_high) = garwood(0.05), garwood(TEST_LEVEL)
    return [
        Check(
            f"arrivals: total over {ARRIVAL_DAYS} days (Poisson mean)",
            total,
            n,
            low,
            high,
            test_low=test_low,
            test_high=test_high,
        ),
        chi_square(by_hour, expected_by_hour, "arrivals: counts by hour of day vs profile"),
        chi_square(by_weekday, expected_by_weekday, "arrivals: counts by weekday vs profile"),
    ]


def test_arrivals_follow_the_demand_profile() -> None:
    s = arrivals_scenario()
    assert len(s.population.places) == 4 and s.demand_profile.hourly != [1.0] * 24
    assert_checks(arrival_checks())


# ---------------------------------------------------------------- distributions

STAY_ARRIVALS_PER_HOUR = 40.0
STAY_DAYS = 10
"""Stays of patients arriving in the first half of the run: all end well before it does."""


def _lognormal_by_mean(mean: float, sd: float) -> Any:
    s2 = math.log(1 + (sd / mean) ** 2)
    return stats.lognorm(s=math.sqrt(s2), scale=mean / math.sqrt(1 + (sd / mean) ** 2))


CONTINUOUS: dict[str, tuple[dict[str, Any], Any]] = {
    "exponential": ({"dist": "exponential", "mean": 0.5}, stats.expon(scale=0.5)),
    "lognormal_median_sigma": (
        {"dist": "lognormal", "median": 0.4, "sigma": 0.6},
        stats.lognorm(s=0.6, scale=0.4),
    ),
    "lognormal_mean_sd": (
        {"dist": "lognormal", "mean": 0.5, "sd": 0.3},
        _lognormal_by_mean(0.5, 0.3),
    ),
    "gamma": ({"dist": "gamma", "mean": 0.5, "cv": 0.5}, stats.gamma(a=4.0, scale=0.125)),
    "triangular": (
        {"dist": "triangular", "low": 0.1, "mode": 0.3, "high": 1.0},
        stats.triang(c=(0.3 - 0.1) / (1.0 - 0.1), loc=0.1, scale=0.9),
    ),
    "uniform": ({"dist": "uniform", "low": 0.2, "high": 0.8}, stats.uniform(loc=0.2, scale=0.6)),
}
DISCRETE: dict[str, tuple[dict[str, Any], dict[float, float]]] = {
    "empirical_weighted": (
        {"dist": "empirical", "values": [0.25, 0.5, 1.0, 2.0], "weights": [1, 2, 3, 4]},
        {0.25: 0.1, 0.5: 0.2, 1.0: 0.3, 2.0: 0.4},
    ),
    "empirical_equal": (
        {"dist": "empirical", "values": [0.25, 0.5, 1.0]},
        {0.25: 1 / 3, 0.5: 1 / 3, 1.0: 1 / 3},
    ),
}
FIXED = {"dist": "fixed", "value": 0.5}
DIRECT_DRAWS = 100_000


def stay_scenario(spec: dict[str, Any]) -> Scenario:
    data = isolated_system(
        f"ward stays: {spec['dist']}",
        STAY_ARRIVALS_PER_HOUR,
        horizon_days=STAY_DAYS,
        warm_up_days=0,
    )
    data["wards"]["erlang"]["los_days"] = per_band(spec)
    return scenario_from_dict(data, f"distribution special case ({spec['dist']})")


def ward_stays_days(s: Scenario, seed: int) -> np.ndarray:
    """Ward stays (``START`` to ``OPTIMISED``, in days) of patients arriving in the first half."""
    log = simulate(s, 0, seed=seed)
    ev = log.event_arrays()
    ward = ev["place"] == log.places.index(WARD)
    started, optimised = ward & (ev["kind"] == START), ward & (ev["kind"] == OPTIMISED)
    start = dict(zip(ev["patient"][started].tolist(), ev["time"][started].tolist(), strict=True))
    end = dict(zip(ev["patient"][optimised].tolist(), ev["time"][optimised].tolist(), strict=True))
    first_half = [p for p, t in start.items() if t < log.end_hours / 2]
    assert len(first_half) > 0.9 * STAY_ARRIVALS_PER_HOUR * log.end_hours / 2
    assert all(p in end for p in first_half), "a stay outlasted the run: the sample is censored"
    return np.array([(end[p] - start[p]) / 24.0 for p in first_half])


def direct_draws(s: Scenario, seed: int) -> np.ndarray:
    spec = s.wards["erlang"].los_days.fit
    return sample(spec, stream(seed, 0, "validation/direct draws"), DIRECT_DRAWS)


def sampler_checks(name: str, seed: int = SEED) -> list[Check]:
    if name in CONTINUOUS:
        spec, dist = CONTINUOUS[name]
        s = stay_scenario(spec)
        found = []
        for source, x in (
            ("ward stays", ward_stays_days(s, seed)),
            ("sample()", direct_draws(s, seed)),
        ):
            result = stats.kstest(x, dist.cdf)
            found.append(
                fit_check(
                    f"{name}: {source} vs scipy.stats",
                    float(result.statistic),
                    float(result.pvalue),
                    f"KS D (n={len(x)})",
                )
            )
        return found
    spec, probs = DISCRETE[name]
    s = stay_scenario(spec)
    values = np.array(list(probs))
    found = []
    for source, x in (
        ("ward stays", ward_stays_days(s, seed)),
        ("sample()", direct_draws(s, seed)),
    ):
        index = np.abs(x[:, None] - values[None, :]).argmin(axis=1)
        assert np.allclose(x, values[index], rtol=0, atol=1e-9), "a value not in the list"
        observed = np.bincount(index, minlength=len(values))
        found.append(chi_square(observed, list(probs.values()), f"{name}: {source} vs weights"))
    return found


@pytest.mark.parametrize("name", [*CONTINUOUS, *DISCRETE])
def test_sampler_matches_scipy(name: str) -> None:
    assert_checks(sampler_checks(name))


def test_fixed_distribution_is_exact() -> None:
    s = stay_scenario(FIXED)
    assert np.allclose(ward_stays_days(s, SEED), FIXED["value"], rtol=0, atol=1e-9)
    assert np.all(direct_draws(s, SEED) == FIXED["value"])
