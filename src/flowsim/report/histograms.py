"""Counts on fixed edges: what a run keeps of a distribution instead of its values.

A year-long replication has about 230,000 attendances; keeping each one's time in ED (and each
handover wait and finished stay) for the pooled figures made the parent of ``flowsim run`` grow
by megabytes a replication, and the figures' sorting and masking of the pooled arrays multiplied
that at the end (issue 17, item 2). Counts on fixed edges add up: the sum of the replications'
histograms is the histogram of their pooled values, exactly. The edges are chosen to hold every
bar edge and standard line the figures can draw (`edges_for`), so bars, the shares within or
over a standard and the counts beyond the axis are the same as from the values; only a quantile
(the median printed on the length-of-stay panels, and a 95th or 99th percentile when it falls
between two values on either side of an axis limit) is interpolated within a bin.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Histogram", "edges_for"]


def edges_for(
    tops: Sequence[tuple[float, float]], extra: Iterable[float] = (), step: float | None = None
) -> np.ndarray:
    """Every bar edge of every axis a figure may choose, ``np.linspace(0, top, bars + 1)`` for
    each ``(top, bar width)`` in ``tops`` (computed as the figure computes them, so the same
    floats), with the ``extra`` positions (standard lines) and, with ``step``, a grid of that
    width up to the largest top (finer quantiles)."""
    parts = [np.linspace(0.0, top, round(top / width) + 1) for top, width in tops]
    parts.append(np.asarray(list(extra), dtype=np.float64))
    if step is not None:
        largest = max(top for top, _ in tops)
        parts.append(np.arange(round(largest / step) + 1) * step)
    return np.unique(np.concatenate(parts))


@dataclass(frozen=True)
class Histogram:
    """Counts of values on increasing ``edges``.

    ``counts[0]`` holds values below ``edges[0]``, ``counts[k]`` those in
    ``[edges[k-1], edges[k])`` and ``counts[-1]`` those at or above ``edges[-1]``;
    ``on_edge[k]`` counts values exactly equal to ``edges[k]``, so a count "at most x" is exact
    at every edge as well as "below x". Non-finite values are not counted.
    """

    edges: np.ndarray
    counts: np.ndarray
    on_edge: np.ndarray

    @classmethod
    def empty(cls, edges: np.ndarray) -> Histogram:
        edges = np.asarray(edges, dtype=np.float64)
        return cls(edges, np.zeros(len(edges) + 1, np.int64), np.zeros(len(edges), np.int64))

    @classmethod
    def of(cls, values: Sequence[float] | np.ndarray, edges: np.ndarray) -> Histogram:
        edges = np.asarray(edges, dtype=np.float64)
        v = np.asarray(values, dtype=np.float64)
        v = v[np.isfinite(v)]
        idx = np.searchsorted(edges, v, side="right")
        counts = np.bincount(idx, minlength=len(edges) + 1).astype(np.int64)
        hit = idx > 0
        exact = idx[hit][v[hit] == edges[idx[hit] - 1]] - 1
        on_edge = np.bincount(exact, minlength=len(edges)).astype(np.int64)
        return cls(edges, counts, on_edge)

    def __add__(self, other: Histogram) -> Histogram:
        if not np.array_equal(self.edges, other.edges):
            raise ValueError("histograms on different edges do not add up")
        return Histogram(self.edges, self.counts + other.counts, self.on_edge + other.on_edge)

    @property
    def n(self) -> int:
        """Values counted."""
        return int(self.counts.sum())

    def _index(self, x: float) -> int:
        k = int(np.searchsorted(self.edges, x))
        if k >= len(self.edges) or self.edges[k] != x:
            raise ValueError(f"{x!r} is not an edge of this histogram")
        return k

    def below(self, x: float) -> int:
        """Values < ``x`` (an edge)."""
        return int(self.counts[: self._index(x) + 1].sum())

    def at_most(self, x: float) -> int:
        """Values <= ``x`` (an edge)."""
        return self.below(x) + int(self.on_edge[self._index(x)])

    def bars(self, bar_edges: np.ndarray, clip_low: bool = False) -> np.ndarray:
        """Counts per bar as ``np.histogram(values, bar_edges)`` gives them (each bar half-open
        but the last, values outside dropped); with ``clip_low`` values below the first edge
        count in the first bar (``np.clip(values, bar_edges[0], None)`` first). Every bar edge
        must be an edge of this histogram."""
        ks = [self._index(float(b)) for b in bar_edges]
        cum = np.cumsum(self.counts)
        below = cum[ks]  # values < each bar edge
        out = np.diff(below).astype(np.int64)
        out[-1] += int(self.on_edge[ks[-1]])
        if clip_low:
            out[0] += int(below[0])
        return out

    def _value_at_rank(self, rank: int) -> float:
        """The value of 0-based ``rank`` among the sorted values, taken as spread evenly across
        its bin (after those exactly on the bin's lower edge); below or beyond the edges: the
        first or last edge."""
        cum = np.cumsum(self.counts)
        b = int(np.searchsorted(cum, rank, side="right"))
        if b == 0:
            return float(self.edges[0])
        if b >= len(self.edges):
            return float(self.edges[-1])
        start = int(cum[b - 1])
        lo, hi = float(self.edges[b - 1]), float(self.edges[b])
        exact = int(self.on_edge[b - 1])
        if rank - start < exact:
            return lo
        spread = int(self.counts[b]) - exact
        return lo + (rank - start - exact + 0.5) / spread * (hi - lo)

    def quantile(self, q: float) -> float:
        """``np.quantile(values, q)`` (linear), each value taken within its bin as in
        `_value_at_rank`: exact to within a bin. NaN when empty."""
        n = self.n
        if not n:
            return math.nan
        h = q * (n - 1)
        lo, hi = math.floor(h), math.ceil(h)
        a = self._value_at_rank(lo)
        return a if hi == lo else a + (h - lo) * (self._value_at_rank(hi) - a)

    def quantile_at_most(self, q: float, x: float) -> bool:
        """Whether ``np.quantile(values, q) <= x`` (``x`` an edge), exactly unless the two
        values the quantile interpolates between lie on either side of ``x`` (then from
        `quantile`). True when empty, as if the quantile of nothing were 0."""
        n = self.n
        if not n:
            return True
        h = q * (n - 1)
        lo, hi = math.floor(h), math.ceil(h)
        within = self.at_most(x)
        if within > hi:
            return True
        if within <= lo:
            return False
        return h == lo or self.quantile(q) <= x
