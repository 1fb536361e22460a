"""The settings every replication of a run shares, resolved once from a scenario and the
options a caller gives.

Every command, API function and the app used to fill each unset option from ``scenario.run``
by hand (24 times in 7 files). `RunSettings.resolve` is the one place that does it, so a
default that changes, changes everywhere.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypedDict

from flowsim.experiment.executors import workers_for
from flowsim.scenario.schema import Scenario

__all__ = ["RunOptions", "RunSettings"]


class RunOptions(TypedDict, total=False):
    """The options of a run a caller may give (the keywords of the `flowsim.api` functions);
    each one left out, or None, is the scenario's ``run`` setting. ``workers`` changes only how
    fast the results come, never the results."""

    seed: int | None
    horizon_days: float | None
    warm_up_days: float | None
    workers: int | None


@dataclass(frozen=True)
class RunSettings:
    """Seed, horizon, warm-up, replications and worker processes of one run.

    The first three decide the results; ``workers`` decides only how fast they come: the
    model is deterministic for (scenario, replication, seed).
    """

    seed: int
    horizon_days: float
    warm_up_days: float
    replications: int
    workers: int = 1

    def __post_init__(self) -> None:
        if self.replications < 1:
            raise ValueError(f"replications must be at least 1, got {self.replications}")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")

    @classmethod
    def resolve(
        cls,
        scenario: Scenario,
        seed: int | None = None,
        horizon_days: float | None = None,
        warm_up_days: float | None = None,
        replications: int | None = None,
        workers: int | None = None,
        *,
        scenarios: int = 1,
    ) -> RunSettings:
        """``scenario.run``'s value for each option left as None (given by keyword, or in the
        order of the fields).

        ``workers`` is capped at the replications that can run at once (``replications`` of
        each of ``scenarios`` in one pool); None means one per replication, at most one per
        CPU this process may use.
        """
        run = scenario.run
        n = run.replications if replications is None else replications
        tasks = max(1, n * scenarios)
        return cls(
            seed=run.seed if seed is None else seed,
            horizon_days=run.horizon_days if horizon_days is None else horizon_days,
            warm_up_days=run.warm_up_days if warm_up_days is None else warm_up_days,
            replications=n,
            workers=workers_for(tasks, workers),
        )

    def but(self, **changes: Any) -> RunSettings:
        """These settings with ``changes`` (attrs' ``evolve``)."""
        return dataclasses.replace(self, **changes)

    @property
    def model(self) -> dict[str, Any]:
        """The keyword arguments of `flowsim.model.build.simulate` these settings fix."""
        return {
            "seed": self.seed,
            "horizon_days": self.horizon_days,
            "warm_up_days": self.warm_up_days,
        }

    def require_paired(self, what: str) -> None:
        """Refuse fewer than 2 replications for ``what`` (a comparison, say), which reports
        confidence intervals of paired differences."""
        if self.replications < 2:
            raise ValueError(
                f"{what} needs at least 2 replications for a confidence interval, "
                f"got {self.replications}"
            )
