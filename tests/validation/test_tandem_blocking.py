"""Tandem with blocking: ED cubicles then AMU, each patient keeping the cubicle until a bed is free.

Configured through scenario data: walk-ins arrive as a Poisson process (all of triage category 3,
so the cubicle queue is first come, first served) and take a cubicle as soon as one is free
(triage and clinician assessment take no time; clinicians are unlimited). The treatment time in
the cubicle is exponential (mean 1 h): stage 1. Everyone is then admitted to AMU (``c2`` beds,
exponential stay of mean 1.5 h, no bed cleaning, all go home from AMU): stage 2. A patient whose
treatment is over but finds AMU full is *blocked*: they keep the cubicle (``QUEUE`` at AMU while
holding it) until an AMU bed is granted (``START amu`` and ``END ed_cubicle`` at one instant),
and meanwhile nobody else can use that cubicle. The waiting room before the cubicles is unlimited.

Theory: the exact continuous-time Markov chain of this network, with the waiting room truncated at
``N`` (far beyond any queue with visible probability), solved for its stationary distribution
(``πQ = 0``, ``Σπ = 1``) with numpy. A state is ``(m, s, b, n2)``: ``m`` waiting for a cubicle,
``s`` in treatment, ``b`` blocked in a cubicle, ``n2`` in AMU, with ``s + b ≤ c1``, ``m > 0`` only
if ``s + b = c1`` and ``b > 0`` only if ``n2 = c2``. Checked against the simulated time averages:
the mean number in the system (``ARRIVE`` to ``DEPART``), the mean number waiting for a cubicle
and the mean number blocked.
"""

from __future__ import annotations

import numpy as np
import pytest

from flowsim.model.build import simulate
from flowsim.scenario import Scenario, scenario_from_dict
from helpers.model_helpers import time_average
from validation.helpers import (
    QUEUE,
    SEED,
    START,
    Check,
    assert_checks,
    ci_check,
    in_system_steps,
    isolated_system,
    per_band,
)

REPLICATIONS = 20
HORIZON_DAYS, WARM_UP_DAYS = 150, 5
ARRIVALS_PER_HOUR = 0.9
CUBICLES, TREATMENT_HOURS = 2, 1.0
AMU_BEDS, AMU_HOURS = 2, 1.5
TRUNCATION = 300


def tandem_chain(
    lam: float, mu1: float, mu2: float, c1: int, c2: int, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Stationary distribution of the blocking tandem; returns ``(states, π)`` with each state a
    row ``(m, s, b, n2)``. Arrivals finding ``n`` waiting are lost (the truncation)."""
    states = [
        (m, s, b, n2)
        for m in range(n + 1)
        for s in range(c1 + 1)
        for b in range(c1 + 1 - s)
        for n2 in range(c2 + 1)
        if not (b > 0 and n2 < c2) and not (m > 0 and s + b < c1)
    ]
    index = {state: i for i, state in enumerate(states)}
    q = np.zeros((len(states), len(states)))

    def rate(frm: tuple[int, int, int, int], to: tuple[int, int, int, int], r: float) -> None:
        q[index[frm], index[to]] += r

    for state in states:
        m, s, b, n2 = state
        if s + b < c1:  # an arrival takes a free cubicle ...
            rate(state, (m, s + 1, b, n2), lam)
        elif m < n:  # ... or waits
            rate(state, (m + 1, s, b, n2), lam)
        if s > 0 and n2 < c2:  # treatment ends, an AMU bed is free: the cubicle goes to the queue
            rate(state, (m - 1, s, b, n2 + 1) if m else (m, s - 1, b, n2 + 1), s * mu1)
        elif s > 0:  # treatment ends, AMU is full: blocked, keeping the cubicle
            rate(state, (m, s - 1, b + 1, n2), s * mu1)
        if n2 > 0 and b > 0:  # an AMU bed frees: a blocked patient moves in, freeing a cubicle
            rate(state, (m - 1, s + 1, b - 1, n2) if m else (m, s, b - 1, n2), n2 * mu2)
        elif n2 > 0:
            rate(state, (m, s, b, n2 - 1), n2 * mu2)
    np.fill_diagonal(q, -q.sum(axis=1))
    # πQ = 0 with one balance equation replaced by Σπ = 1.
    a = q.T.copy()
    a[-1, :] = 1.0
    rhs = np.zeros(len(states))
    rhs[-1] = 1.0
    pi = np.linalg.solve(a, rhs)
    return np.array(states), pi


def theory() -> dict[str, float]:
    states, pi = tandem_chain(
        ARRIVALS_PER_HOUR, 1 / TREATMENT_HOURS, 1 / AMU_HOURS, CUBICLES, AMU_BEDS, TRUNCATION
    )
    assert pi.min() > -1e-12 and pi[states[:, 0] >= TRUNCATION - 50].sum() < 1e-12
    m, s, b, n2 = states.T
    return {
        "in_system": float(pi @ (m + s + b + n2)),
        "waiting": float(pi @ m),
        "blocked": float(pi @ b),
        "in_amu": float(pi @ n2),
    }


def tandem_scenario() -> Scenario:
    data = isolated_system(
        "tandem with blocking: ED cubicles -> AMU",
        ARRIVALS_PER_HOUR,
        disposition="amu",
        horizon_days=HORIZON_DAYS,
        warm_up_days=WARM_UP_DAYS,
    )
    data["population"]["acuity_weights"]["walk_in"] = [0, 0, 1, 0, 0]
    data["ed"].update(
        cubicles=CUBICLES, treatment_hours={"dist": "exponential", "mean": TREATMENT_HOURS}
    )
    data["amu"].update(
        beds=AMU_BEDS,
        stay_hours={"dist": "exponential", "mean": AMU_HOURS},
        discharge_share=per_band(1.0),
        turnaround_hours=0.0,
    )
    return scenario_from_dict(data, "tandem special case")


def checks(seed: int = SEED, replications: int = REPLICATIONS) -> list[Check]:
    s = tandem_scenario()
    measured: dict[str, list[float]] = {"in_system": [], "waiting": [], "blocked": []}
    for r in range(replications):
        log = simulate(s, r, seed=seed)
        a, b = log.warm_up_hours, log.end_hours
        ev = log.event_arrays()
        t, kind, place = ev["time"], ev["kind"], ev["place"]
        cubicle, amu = log.places.index("ed_cubicle"), log.places.index("amu")

        def between(first: np.ndarray, then: np.ndarray, t=t, a=a, b=b) -> float:
            """Time-average number between a ``first`` and a ``then`` event."""
            steps = first | then
            return time_average(t[steps], np.where(first[steps], 1.0, -1.0), a, b)

        times, deltas = in_system_steps(log)
        measured["in_system"].append(time_average(times, deltas, a, b))
        at_cubicle, at_amu = place == cubicle, place == amu
        measured["waiting"].append(
            between(at_cubicle & (kind == QUEUE), at_cubicle & (kind == START))
        )
        measured["blocked"].append(between(at_amu & (kind == QUEUE), at_amu & (kind == START)))
    exact = theory()
    label = f"tandem {CUBICLES} cubicles -> {AMU_BEDS} AMU beds"
    return [
        ci_check(f"{label}: mean number in system", measured["in_system"], exact["in_system"]),
        ci_check(
            f"{label}: mean number waiting for a cubicle", measured["waiting"], exact["waiting"]
        ),
        ci_check(
            f"{label}: mean number blocked in a cubicle", measured["blocked"], exact["blocked"]
        ),
    ]


def test_chain_solution_is_consistent() -> None:
    """Flow balance of the solved chain: AMU holds λ/μ2 on average (nobody is lost), and with one
    server each and no room to block into, the chain reduces to known cases."""
    exact = theory()
    assert exact["in_amu"] == pytest.approx(ARRIVALS_PER_HOUR * AMU_HOURS, rel=1e-9)
    # c1 = c2 = 1 with a fast stage 2 (μ2 → ∞): M/M/1 with L = ρ / (1 - ρ).
    states, pi = tandem_chain(0.5, 1.0, 1e6, 1, 1, 200)
    assert pi @ states.sum(axis=1) == pytest.approx(1.0, rel=1e-4)
    # A blocked patient can exist only while AMU is full.
    states, pi = tandem_chain(0.9, 1.0, 1 / 1.5, 2, 2, 50)
    assert np.all(states[states[:, 2] > 0, 3] == 2)


@pytest.mark.slow
def test_tandem_with_blocking_matches_the_markov_chain() -> None:
    assert_checks(checks())
