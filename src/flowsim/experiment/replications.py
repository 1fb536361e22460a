"""How many replications: enough for the confidence interval of each headline KPI to be within
a stated precision of its mean.

The replication algorithm of Hoad, Robinson & Davies (2010), "Automated selection of the number
of replications for a discrete-event simulation", JORS 61(11): run replications one at a time;
once the relative half-width of the 95% interval is within the precision, keep going for a
look-ahead of ``k_limit`` more (more for long runs) and accept only if it stays within it, so
an interval that is narrow by luck after a few replications does not stop the run. With several
KPIs every one of them must meet the precision.

`run_until_precise` is the one loop that applies it, for the command line, the API and anyone
else: replications run in batches (as many at once as there are workers, and never fewer than
the rule still needs), and every replication run is kept and counted, since it only narrows the
intervals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy import stats

from flowsim.experiment.executors import Executor
from flowsim.experiment.runner import Reduce, replications_in_order
from flowsim.experiment.settings import RunSettings
from flowsim.scenario.schema import Scenario

__all__ = ["ReplicationsAlgorithm", "relative_half_width", "run_until_precise"]


def relative_half_width(values: np.ndarray, confidence: float = 0.95) -> float:
    """Half-width of the Student-t interval of the mean, as a share of |mean|.

    0 for a constant KPI (nothing to estimate); infinity when the mean is 0 but values vary.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n < 2:
        return math.inf
    sd = float(x.std(ddof=1))
    if sd == 0.0:
        return 0.0
    mean = abs(float(x.mean()))
    if mean == 0.0:
        return math.inf
    return float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * sd / math.sqrt(n) / mean


class ReplicationsAlgorithm:
    """Feed it each replication's KPIs with `add`; `done` says when to stop.

    ``precision`` is the target relative half-width (0.05: the interval is within ±5% of the
    mean); ``max_replications`` is a cap for KPIs that never settle (then `met` stays False).
    """

    def __init__(
        self,
        kpis: list[str],
        precision: float = 0.05,
        *,
        k_limit: int = 5,
        min_replications: int = 3,
        max_replications: int = 100,
        confidence: float = 0.95,
    ) -> None:
        if not 0.0 < precision < 1.0:
            raise ValueError(f"precision must be between 0 and 1 (0.05 = ±5%), got {precision}")
        if max_replications < min_replications:
            raise ValueError(
                f"max_replications ({max_replications}) is below the minimum of {min_replications}"
            )
        self.kpis = list(kpis)
        self.precision = precision
        self.k_limit = k_limit
        self.min_replications = min_replications
        self.max_replications = max_replications
        self.confidence = confidence
        self.values: dict[str, list[float]] = {k: [] for k in self.kpis}
        self.solution: int | None = None
        """The replication count that met the precision (still being confirmed if not done)."""
        self.history: list[dict[str, float]] = []
        """After each replication: ``replications`` and each KPI's relative half-width."""

    @property
    def n(self) -> int:
        return len(next(iter(self.values.values()))) if self.values else 0

    def add(self, kpis: Mapping[str, float]) -> None:
        """One more replication's KPI values (KPIs not listed at construction are ignored)."""
        for k in self.kpis:
            self.values[k].append(float(kpis.get(k, math.nan)))
        n = self.n
        widths = self.half_widths()
        self.history.append({"replications": n, **widths})
        if n < self.min_replications:
            return
        if all(h <= self.precision for h in widths.values()):
            if self.solution is None:
                self.solution = n
        else:
            self.solution = None

    def half_widths(self) -> dict[str, float]:
        """Relative half-width of each KPI's interval now."""
        return {
            k: relative_half_width(np.asarray(v), self.confidence) for k, v in self.values.items()
        }

    def within_precision(self) -> bool:
        return all(h <= self.precision for h in self.half_widths().values())

    def look_ahead(self, n: int) -> int:
        """Replications past the solution that must confirm it: k_limit, more beyond 100."""
        return self.k_limit if n <= 100 else math.floor(self.k_limit * n / 100)

    @property
    def met(self) -> bool:
        """The precision was met and held through the look-ahead."""
        return self.solution is not None and self.n >= self.solution + self.look_ahead(
            self.solution
        )

    @property
    def done(self) -> bool:
        return self.met or self.n >= self.max_replications

    def still_needed(self) -> int:
        """At least how many more replications before `done` can be True (for batching)."""
        if self.done:
            return 0
        cap = self.max_replications - self.n
        if self.solution is not None:
            return min(cap, self.solution + self.look_ahead(self.solution) - self.n)
        return min(cap, max(1, self.min_replications - self.n))


def run_until_precise(
    scenario: Scenario,
    settings: RunSettings,
    algorithm: ReplicationsAlgorithm,
    record: Callable[[Any], Mapping[str, float]],
    reduce: Reduce = None,
    *,
    on_done: Callable[[int], None] | None = None,
    executor: Executor | None = None,
) -> None:
    """Run replications 0, 1, ... of ``scenario`` until ``algorithm`` is done.

    ``record(result)`` takes each replication's ``reduce(log)`` (the log itself without
    ``reduce``), in replication order, and returns its KPI values for the algorithm. Each batch
    is ``settings.workers`` replications, or what the rule still needs if more, within the
    algorithm's cap; ``settings.replications`` is not used.
    """
    while not algorithm.done:
        first = algorithm.n
        batch = min(
            algorithm.max_replications - first, max(algorithm.still_needed(), settings.workers)
        )
        for result in replications_in_order(
            scenario,
            settings.but(replications=batch, workers=min(settings.workers, batch)),
            reduce,
            first_replication=first,
            on_done=on_done,
            executor=executor,
        ):
            algorithm.add(record(result))
            del result
