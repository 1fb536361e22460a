"""Community-only runs: the log contract, the census and queue at time 0, the referral process
and the random streams."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats

from flowsim.analysis.kpis import occupancy_series
from flowsim.errors import ModelError
from flowsim.model.community_only import initial_remaining_days, referral_days, simulate
from flowsim.random import stream
from flowsim.scenario import Scenario, apply_changes
from flowsim.scenario.community_only import Referrals
from flowsim.scenario.distributions import Lognormal
from helpers.log_contract import assert_conserved
from helpers.model_helpers import ARRIVE, END, QUEUE, START, baseline


def community_only(section: dict[str, Any], **changes: Any) -> Scenario:
    return apply_changes(
        baseline(),
        {"run.horizon_days": 30, "run.warm_up_days": 0, "community_only": section, **changes},
    )


def starts(log: Any, unit: str) -> dict[int, float]:
    code = log.places.index(unit)
    return {p: t for t, p, k, c in log.events if k == START and c == code}


def test_the_log_keeps_the_contract_on_every_pathway() -> None:
    s = community_only(
        {
            "p1": {"referrals_per_day": [6.0], "repeat": True, "occupied": 20, "queued": 4},
            "p2": {"referrals_per_day": [3.0, 5.0], "repeat": True, "occupied": 30},
            "p3": {"referrals_per_day": [2.0] * 30, "queued": 8},
        },
        **{"community.p1.capacity": 25, "community.p2.capacity": 40, "community.p3.capacity": 5},
    )
    log = simulate(s, 0)
    rep = assert_conserved(log, s)
    assert set(rep.starts) == {"p1", "p2", "p3"}
    assert log.meta["mode"] == "community_only"
    assert set(log.places) == set(simulate(s, 1).places)


def test_census_first_then_the_queue_before_any_referral() -> None:
    s = community_only(
        {"p2": {"referrals_per_day": [4.0], "repeat": True, "occupied": 9, "queued": 6}},
        **{"community.p2.capacity": 10},
    )
    log = simulate(s, 0)
    got = starts(log, "p2")
    census, queued = range(9), range(9, 15)
    assert all(got[p] == 0.0 for p in census)
    assert got[9] == 0.0  # the one free place
    order = sorted(got, key=lambda p: (got[p], p))
    assert order[: len(census) + len(queued)] == [*census, *queued]
    arrive = {p: t for t, p, k, _ in log.events if k == ARRIVE}
    assert all(arrive[p] == 0.0 for p in queued)
    assert all(arrive[p] > 0.0 for p in got if p >= 15)


def test_first_come_first_served() -> None:
    s = community_only(
        {"p1": {"referrals_per_day": [8.0], "repeat": True}}, **{"community.p1.capacity": 3}
    )
    log = simulate(s, 2)
    code = log.places.index("p1")
    queued = [p for _, p, k, c in log.events if k == QUEUE and c == code]
    started = [p for _, p, k, c in log.events if k == START and c == code]
    assert started == queued[: len(started)]


def test_same_seed_same_log_and_the_rule_leaves_referrals_alone() -> None:
    section = {"p2": {"referrals_per_day": [3.0], "repeat": True, "occupied": 40, "queued": 5}}
    a = simulate(community_only(section), 3)
    assert simulate(community_only(section), 3).events == a.events
    b = simulate(community_only({**section, "remaining_stay": "uniform"}), 3)
    arrivals = [(t, p) for t, p, k, _ in a.events if k == ARRIVE and t > 0]
    assert arrivals == [(t, p) for t, p, k, _ in b.events if k == ARRIVE and t > 0]
    assert a.events != b.events


def test_referrals_are_poisson_by_day_and_uniform_within_it() -> None:
    rates = [2.0, 10.0, 0.0, 5.0]
    ref = Referrals(referrals_per_day=rates, repeat=True)
    times = referral_days(ref, 4000.0, stream(1, 0, "test"))
    counts = np.bincount(times.astype(int), minlength=4000).reshape(-1, 4)
    assert np.allclose(counts.mean(axis=0), rates, rtol=0.05, atol=0.01)
    assert counts[:, 2].sum() == 0
    assert counts[:, 1].var() == pytest.approx(10.0, rel=0.1)  # Poisson: variance = mean
    assert stats.kstest(times % 1.0, "uniform").pvalue > 0.001
    with pytest.raises(ModelError, match="repeat: true"):
        referral_days(Referrals(referrals_per_day=rates), 10.0, stream(1, 0, "test"))


def test_the_two_census_rules_have_their_means() -> None:
    spec = Lognormal(dist="lognormal", median=34.0, sigma=0.678)
    mu, s2 = np.log(34.0), 0.678**2
    mean = np.exp(mu + s2 / 2)
    biased = initial_remaining_days(spec, "length_biased", stream(1, 0, "lb"), 40_000)
    uniform = initial_remaining_days(spec, "uniform", stream(1, 0, "u"), 40_000)
    assert biased.mean() == pytest.approx(np.exp(mu + 1.5 * s2) / 2, rel=0.03)  # E[S²]/2E[S]
    assert uniform.mean() == pytest.approx((1 + mean) / 2, rel=0.02)
    assert uniform.min() >= 0


def test_warm_up_is_measured_out_and_the_horizon_can_be_overridden() -> None:
    s = community_only({"p3": {"referrals_per_day": [3.0], "repeat": True, "occupied": 10}})
    log = simulate(s, 0, horizon_days=12, warm_up_days=3)
    assert log.end_hours == 15 * 24 and log.warm_up_hours == 3 * 24
    daily = occupancy_series(log, ["p3"])
    assert len(daily) == 12


def test_a_scenario_without_the_section_is_refused() -> None:
    with pytest.raises(ModelError, match="no community_only section"):
        simulate(baseline(), 0)


def test_a_census_with_elapsed_days_leaves_the_rest_of_each_stay() -> None:
    s = community_only(
        {
            "remaining_stay": "uniform",
            "p1": {
                "referrals_per_day": [0.0],
                "repeat": True,
                "occupied": 5,
                "elapsed_days": {"dist": "fixed", "value": 4},
            },
        },
        **{"community.p1.duration_days": {"dist": "fixed", "value": 10}},
    )
    log = simulate(s, 0)
    code = log.places.index("p1")
    ends = [t for t, _, k, c in log.events if k == END and c == code]
    assert ends == [6 * 24.0] * 5
