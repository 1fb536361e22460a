"""Step series: occupancy, queue length and capacity in force as right-continuous step functions.

`EventFrame` builds them from the log (``START`` +1, ``END`` -1; ``QUEUE`` +1, leaving the queue
-1; capacity changes); KPIs integrate them over the measured period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["StepSeries", "ratio_quantile"]


class StepSeries:
    """A right-continuous step function: ``levels[i]`` holds on ``[times[i], times[i+1])``.

    ``times`` are sorted; at tied times the last level wins, so simultaneous
    events never show a transient level. Before ``times[0]`` the level is
    ``levels[0]``.
    """

    def __init__(self, times: np.ndarray, levels: np.ndarray) -> None:
        self.times = np.asarray(times, dtype=np.float64)
        self.levels = np.asarray(levels, dtype=np.float64)
        if len(self.times) != len(self.levels) or not len(self.times):
            raise ValueError("a step series needs as many levels as times, at least one")
        seg = self.levels[:-1] * np.diff(self.times)
        self._cum = np.concatenate(([0.0], np.cumsum(seg)))

    @classmethod
    def from_deltas(
        cls, times: np.ndarray, deltas: np.ndarray, base: float = 0.0, origin: float = 0.0
    ) -> StepSeries:
        """Level ``base`` from ``origin``, then ``+deltas[i]`` at ``times[i]`` (sorted stably)."""
        times = np.asarray(times, dtype=np.float64)
        deltas = np.asarray(deltas, dtype=np.float64)
        order = np.argsort(times, kind="stable")
        times, deltas = times[order], deltas[order]
        start = min(origin, times[0]) if len(times) else origin
        return cls(
            np.concatenate(([start], times)), base + np.concatenate(([0.0], np.cumsum(deltas)))
        )

    def _index(self, x: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(self.times, x, side="right") - 1, 0, None)

    def at(self, x: float | np.ndarray) -> np.ndarray:
        """Level at time(s) ``x`` (after all events at exactly ``x``)."""
        return self.levels[self._index(np.asarray(x, dtype=np.float64))]

    def integral(self, x: float | np.ndarray) -> np.ndarray:
        """Integral of the level from ``times[0]`` to ``x``."""
        x = np.asarray(x, dtype=np.float64)
        k = self._index(x)
        return self._cum[k] + self.levels[k] * (x - self.times[k])

    def area(self, a: float, b: float) -> float:
        return float(self.integral(b) - self.integral(a))

    def mean(self, a: float, b: float) -> float:
        """Time-weighted mean level over ``[a, b]``."""
        return self.area(a, b) / (b - a) if b > a else float("nan")

    def bin_means(self, edges: np.ndarray) -> np.ndarray:
        """Time-weighted mean level in each bin ``[edges[i], edges[i+1])``."""
        edges = np.asarray(edges, dtype=np.float64)
        return np.diff(self.integral(edges)) / np.diff(edges)

    def __add__(self, other: StepSeries) -> StepSeries:
        grid = np.union1d(self.times, other.times)
        return StepSeries(grid, self.at(grid) + other.at(grid))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"time": self.times, "level": self.levels})


def ratio_quantile(num: StepSeries, den: StepSeries, a: float, b: float, q: float) -> float:
    """Time-weighted ``q``-quantile of ``num/den`` over ``[a, b]``, ignoring time when ``den == 0``.

    The smallest ratio ``r`` such that the ratio is ``<= r`` for at least ``q`` of the time.
    """
    if not b > a:
        return float("nan")
    grid = np.union1d(np.concatenate((num.times, den.times)), [a, b])
    grid = grid[(grid >= a) & (grid <= b)]
    left, width = grid[:-1], np.diff(grid)
    n, d = num.at(left), den.at(left)
    keep = (d > 0) & (width > 0)
    if not keep.any():
        return float("nan")
    ratio, width = n[keep] / d[keep], width[keep]
    order = np.argsort(ratio, kind="stable")
    cum = np.cumsum(width[order])
    k = int(np.searchsorted(cum, q * cum[-1] * (1 - 1e-12), side="left"))
    return float(ratio[order][min(k, len(ratio) - 1)])
