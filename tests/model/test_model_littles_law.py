"""Little's law on every unit: mean number present = arrival rate x mean time spent.

First as an identity: over a window, the time-weighted occupancy (from the event log's step
series and from the KPI table) equals the number of stays overlapping the window, per hour, times
their mean length clipped to the window; the same for queues. This ties the analysis side
(`EventFrame`, `compute_kpis`) to the model's own START/END and QUEUE/START pairs, unit by unit.

Then as a law: in a stationary small system, the mean occupancy over a long window matches
(stays begun in the window / its length) x (their mean length, followed to the end) for every
unit, within four standard deviations of the edge effect (stays straddling the window's ends),
computed from the stays themselves.
"""

from __future__ import annotations

import numpy as np
import pytest

from flowsim.analysis import EventFrame, compute_kpis
from flowsim.analysis.kpis import slug
from flowsim.log import EventLog
from helpers.model_helpers import (
    FLAT_PROFILE,
    QUEUE,
    START,
    code,
    holding_intervals,
    run,
    small_scenario,
)


def units_used(log: EventLog) -> list[str]:
    return sorted({log.places[c] for _, _, kind, c in log.events if kind == START})


def queue_intervals(log: EventLog, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """``(queue, start)`` of every wait for ``unit``; still waiting at the end: ``end_hours``.

    An outlier's wait for their own ward group ends when they queue at the host ward
    (flowsim/log.py), so a ``QUEUE`` at another ward ends a ward wait too.
    """
    u = code(log, unit)
    is_ward = unit.startswith("ward:")
    wards = {i for i, name in enumerate(log.places) if name.startswith("ward:")}
    waiting: dict[int, float] = {}
    begin, finish = [], []
    for t, pid, kind, place in log.events:
        if place != u:
            if is_ward and kind == QUEUE and place in wards and pid in waiting:
                begin.append(waiting.pop(pid))
                finish.append(t)
            continue
        if kind == QUEUE:
            waiting[pid] = t
        elif kind == START:
            begin.append(waiting.pop(pid))
            finish.append(t)
    begin += list(waiting.values())
    finish += [log.end_hours] * len(waiting)
    return np.asarray(begin, dtype=float), np.asarray(finish, dtype=float)


def littles_identity(start: np.ndarray, end: np.ndarray, a: float, b: float) -> float:
    """λ·W over ``[a, b]``: intervals overlapping it, per hour, times their mean clipped length."""
    clipped = np.clip(end, a, b) - np.clip(start, a, b)
    overlapping = (end > a) & (start < b)
    n = int(np.count_nonzero(overlapping))
    if n == 0:
        return 0.0
    rate = n / (b - a)
    return rate * float(clipped[overlapping].mean())


@pytest.fixture(scope="module")
def short_run() -> EventLog:
    # Without outlying (pressure.outlying): an outlier queues for one ward and starts in another,
    # which `queue_intervals` (a wait ends with a START at the same unit) does not pair.
    return run(
        small_scenario({"pressure.outlying": None}, horizon_days=30, warm_up_days=15), seed=21
    )


def test_occupancy_is_arrivals_times_stay_on_every_unit(short_run: EventLog) -> None:
    log = short_run
    ef = EventFrame(log)
    kpis = compute_kpis(ef).set_index("kpi")["value"]
    a, b = log.warm_up_hours, log.end_hours
    units = units_used(log)
    assert {"ed_cubicle", "amu", "ward:general_medicine", "p1", "corridor"} <= set(units)
    for unit in units:
        start, end = holding_intervals(log, unit)
        lam_w = littles_identity(start, end, a, b)
        occupancy = ef.occupancy_steps(unit).mean(a, b)
        assert occupancy == pytest.approx(lam_w, rel=1e-9, abs=1e-9), unit
        if unit in log.capacities:
            in_force = ef.capacity_steps(unit).mean(a, b)
            from_kpi = kpis[f"occupancy_mean_{slug(unit)}"] / 100.0 * in_force
            assert from_kpi == pytest.approx(lam_w, rel=1e-9, abs=1e-9), unit


def test_queue_length_is_arrivals_times_wait_on_every_unit(short_run: EventLog) -> None:
    log = short_run
    ef = EventFrame(log)
    a, b = log.warm_up_hours, log.end_hours
    waited = 0
    for unit in units_used(log):
        queued, started = queue_intervals(log, unit)
        lam_w = littles_identity(queued, started, a, b)
        assert ef.queue_steps(unit).mean(a, b) == pytest.approx(lam_w, rel=1e-9, abs=1e-9), unit
        waited += lam_w > 0
    assert waited >= 3, "hardly anyone queued: the identity was tested on zeros"


def test_littles_law_holds_in_a_stationary_system() -> None:
    """Stays begun in a 300-day window, followed for 60 days after it; flat demand."""
    window_days, follow_days = 300, 60
    s = small_scenario(
        {"demand_profile": FLAT_PROFILE},
        horizon_days=window_days + follow_days,
        warm_up_days=60,
    )
    log = run(s, seed=4)
    a = log.warm_up_hours
    b = a + window_days * 24.0
    units = units_used(log)
    assert len(units) >= 12
    for unit in units:
        start, end = holding_intervals(log, unit)
        occupancy = float(np.sum(np.clip(end, a, b) - np.clip(start, a, b))) / (b - a)
        begun = (start >= a) & (start < b)
        n = int(np.count_nonzero(begun))
        assert n >= 30, f"{unit}: only {n} stays, too few to test"
        stays = end[begun] - start[begun]
        rate, mean_stay = n / (b - a), float(np.mean(stays))
        # L and λW differ only by the stays that straddle the window's two ends: at each end
        # about L stays, each with a residual R of E[R^2] = E[S^3] / (3 E[S]) (renewal theory).
        # Their difference has a standard deviation of about sqrt(2 L E[R^2]) / (b - a); allow
        # four of those, so the test fails for a unit that is not in steady state (or whose
        # stays are paired wrongly), not for an unlucky seed.
        residual_sq = float(np.mean(stays**3)) / (3.0 * mean_stay)
        tolerance = 4.0 * np.sqrt(2.0 * max(occupancy, 1.0) * residual_sq) / (b - a)
        assert abs(rate * mean_stay - occupancy) <= tolerance, (
            f"{unit}: L = {occupancy:.3f}, λW = {rate * mean_stay:.3f}, tolerance {tolerance:.3f} "
            f"({n} stays of {mean_stay / 24:.2f} days)"
        )
