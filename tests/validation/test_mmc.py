"""M/M/c: a ward of ``c`` beds fed by Poisson admissions with exponential stays.

The model is configured through scenario data (`mmc_scenario`): one population segment with flat
demand gives Poisson arrivals; ED takes no time and never runs out of cubicles or clinicians;
everyone is admitted to one ward group of ``c`` beds, stays an exponential time and goes home the
moment they are medically optimised. An admitted patient waits for a bed boarding in ED: the
wait is ``QUEUE`` to ``START`` at the ward, and Erlang C gives its mean exactly.

Theory: with offered load a = λ/μ and ρ = a/c,
``Wq = C(c, a) / (cμ - λ)`` and the mean number of occupied beds is ``a``.

Five beds, stays of six hours on average, at ρ = 0.7 and ρ = 0.9. The mean wait of one run is a
noisy, right-skewed statistic near saturation (its relaxation time grows like ``1/(1-√ρ)²``), so
the heavier load runs three times as long.
"""

from __future__ import annotations

import numpy as np
import pytest

from flowsim.model.build import simulate
from validation.helpers import (
    SEED,
    Check,
    arrival_rate_per_hour,
    assert_checks,
    ci_check,
    mmc_scenario,
    mmc_wait,
    ward_waits,
)

BEDS = 5
LOS_DAYS = 0.25

REPLICATIONS = 20
LOADS = {0.7: 400, 0.9: 1000}
"""Load ρ -> simulated days per replication after a warm-up of 5 days."""
WARM_UP_DAYS = 5


def checks(rho: float, seed: int = SEED, replications: int = REPLICATIONS) -> list[Check]:
    s = mmc_scenario(BEDS, rho, LOS_DAYS, horizon_days=LOADS[rho] + 1, warm_up_days=WARM_UP_DAYS)
    lam, mu = arrival_rate_per_hour(s), 1.0 / (LOS_DAYS * 24.0)
    assert lam / (BEDS * mu) == pytest.approx(rho)
    wq = mmc_wait(BEDS, lam, mu)

    mean_waits, occupied = [], []
    for r in range(replications):
        log = simulate(s, r, seed=seed)
        # Patients queueing in the last day are left out, so almost every wait is complete.
        waits, in_beds, _ = ward_waits(log, log.end_hours - 24.0)
        mean_waits.append(float(np.mean(waits)))
        occupied.append(in_beds)
    return [
        ci_check(f"M/M/{BEDS} rho={rho}: mean wait for a bed Wq (hours)", mean_waits, wq),
        ci_check(f"M/M/{BEDS} rho={rho}: mean occupied beds λ/μ", occupied, lam / mu),
    ]


@pytest.mark.parametrize(
    "rho", [0.7, pytest.param(0.9, marks=pytest.mark.slow)], ids=["rho0.7", "rho0.9"]
)
def test_mmc_ward_matches_erlang_c(rho: float) -> None:
    found = checks(rho)
    assert_checks(found)
    wait = found[0]
    assert wait.high - wait.low < 0.35 * wait.theory, "the CI is too wide to test anything"
