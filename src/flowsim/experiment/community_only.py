"""Replications of a ``community_only`` scenario (`flowsim.model.community_only`).

Serial on purpose: a replication of a community pathway alone is a few thousand events (tens of
milliseconds), so a process pool would cost more to start than it saves. Each log is reduced as
soon as it is made, as in `flowsim.experiment.runner`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flowsim.log import EventLog
from flowsim.model.community_only import simulate
from flowsim.scenario.schema import Scenario

__all__ = ["run_community_only"]


def run_community_only(
    scenario: Scenario,
    replications: int,
    reduce: Callable[[EventLog], Any] | None = None,
    *,
    seed: int | None = None,
    horizon_days: float | None = None,
    first: int = 0,
) -> list[Any]:
    """Replications ``first .. first + replications - 1``, each log passed through ``reduce``."""
    out = []
    for r in range(first, first + replications):
        log = simulate(scenario, r, seed=seed, horizon_days=horizon_days)
        out.append(log if reduce is None else reduce(log))
    return out
