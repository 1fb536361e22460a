"""M/G/∞: a community service that never runs out of places.

Configured through scenario data: every patient is admitted to a ward where they are medically
optimised at once (stay 0), goes on discharge pathway P3 with no referral delay and a discharge
window open around the clock, and starts a care-home placement (P3) of unlimited capacity
(10⁶ places) with a lognormal duration. Arrivals to P3 are then the Poisson admissions themselves.

Theory: the caseload of M/G/∞ in steady state is Poisson with mean ``λ·E[S]`` whatever the
distribution of S. Checked: the time-averaged caseload against ``λ·E[S]`` (95% CI over
replications), and the Poisson shape of caseloads sampled once a day at noon (a day is more than
three mean durations, so the samples are practically independent): the index-of-dispersion test
(variance = mean) and a chi-square test against Poisson(λ·E[S]).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from flowsim.model.build import simulate
from flowsim.scenario import Scenario, scenario_from_dict
from helpers.model_helpers import time_average
from validation.helpers import (
    END,
    SEED,
    START,
    UNLIMITED,
    Check,
    assert_checks,
    ci_check,
    fit_check,
    isolated_system,
    level_at,
    per_band,
)

REPLICATIONS = 10
HORIZON_DAYS, WARM_UP_DAYS = 100, 2
ARRIVALS_PER_HOUR = 3.0
MEDIAN_DAYS, SIGMA = 0.25, 0.5
"""Lognormal duration: median 6 hours, mean 6.8 hours, P(S > 1 day) about 0.3%."""


def mginf_scenario() -> Scenario:
    data = isolated_system(
        "M/G/inf: P3 with unlimited places",
        ARRIVALS_PER_HOUR,
        horizon_days=HORIZON_DAYS,
        warm_up_days=WARM_UP_DAYS,
    )
    data["discharge"]["pathway"] = per_band({"P3": 1.0})
    data["discharge"]["referral_days"] = {}
    data["community"]["p3"] = {
        "capacity": UNLIMITED,
        "duration_days": {"dist": "lognormal", "median": MEDIAN_DAYS, "sigma": SIGMA},
    }
    return scenario_from_dict(data, "M/G/inf special case")


def poisson_chi_square(samples: np.ndarray, mean: float, cells: int = 10) -> Check:
    """Chi-square of sampled counts against Poisson(``mean``) (not fitted), in about ``cells``
    cells cut at the Poisson deciles: (-inf, e1], (e1, e2], ..., (e_last, inf)."""
    dist = stats.poisson(mean)
    edges = np.unique(dist.ppf(np.linspace(0, 1, cells + 1)[1:-1]))
    cdf = np.concatenate(([0.0], dist.cdf(edges), [1.0]))
    expected = len(samples) * np.diff(cdf)
    assert expected.min() >= 5, "too few samples for the chi-square approximation"
    observed = np.bincount(np.searchsorted(edges, samples, side="left"), minlength=len(expected))
    statistic, p = stats.chisquare(observed, expected)
    return fit_check(
        f"M/G/inf: daily caseloads against Poisson({mean:.2f})",
        float(statistic),
        float(p),
        f"chi2({len(expected) - 1})",
    )


def checks(seed: int = SEED, replications: int = REPLICATIONS) -> list[Check]:
    s = mginf_scenario()
    p3 = s.community.p3.duration_days
    mean_hours = p3.mean() * 24.0
    assert mean_hours == pytest.approx(MEDIAN_DAYS * 24.0 * math.exp(SIGMA**2 / 2))
    caseload = ARRIVALS_PER_HOUR * mean_hours

    averages, samples = [], []
    for r in range(replications):
        log = simulate(s, r, seed=seed)
        ev = log.event_arrays()
        held = ((ev["kind"] == START) | (ev["kind"] == END)) & (
            ev["place"] == log.places.index("p3")
        )
        t, steps = ev["time"][held], np.where(ev["kind"][held] == START, 1.0, -1.0)
        averages.append(time_average(t, steps, log.warm_up_hours, log.end_hours))
        noons = np.arange(log.warm_up_hours + 12.0, log.end_hours, 24.0)
        samples.append(level_at(t, steps, noons))
    x = np.concatenate(samples)

    # Index of dispersion: sum (x - mean)^2 / mean ~ chi2(n - 1) for Poisson counts (two-sided).
    dispersion = float(np.sum((x - x.mean()) ** 2) / x.mean())
    dof = len(x) - 1
    p_dispersion = 2 * min(stats.chi2.cdf(dispersion, dof), stats.chi2.sf(dispersion, dof))
    return [
        ci_check("M/G/inf: mean caseload λ·E[S]", averages, caseload),
        fit_check(
            "M/G/inf: daily caseloads have variance = mean (index of dispersion)",
            x.var(ddof=1) / x.mean(),
            float(p_dispersion),
            f"variance/mean of {len(x)} (dispersion chi2({dof}) = {dispersion:.1f})",
        ),
        poisson_chi_square(x, caseload),
    ]


def test_mginf_caseload_is_poisson_with_mean_lambda_es() -> None:
    assert_checks(checks())
