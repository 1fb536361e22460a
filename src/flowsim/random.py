"""Named random streams and samplers built from distribution data.

Every stochastic quantity draws from its own ``numpy.random.Generator``, seeded
from (run seed, replication, stable stream name). A stream's numbers therefore
never depend on which other streams exist or in what order they are used:
adding a service leaves the others' random numbers untouched, and two scenarios
run on the same seed share common random numbers wherever they share structure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from flowsim import seeds
from flowsim.scenario.distributions import (
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    Lognormal,
    Triangular,
    Uniform,
)
from flowsim.scenario.distributions import (
    _Dist as DistSpec,
)
from flowsim.seeds import stream_key

__all__ = ["Streams", "sample", "stream", "stream_key"]


def stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """The generator for one named stream of one replication."""
    return seeds.generator(seed, replication, name)


@dataclass(frozen=True)
class Streams:
    """The random streams of one replication of one run: what makes its draws its own.

    Passed as one value to everything in the model that draws, so no function takes (or can
    swap) a loose seed and replication.
    """

    seed: int
    replication: int

    def generator(self, name: str) -> np.random.Generator:
        """The generator of the stream ``name`` (see `stream`)."""
        return seeds.generator(self.seed, self.replication, name)

    def prefetch(self, names: Iterable[str]) -> None:
        """Seed the streams ``names`` together, before they are asked for one by one (see
        `flowsim.seeds`): a fate table's few dozen streams cost about what one does alone."""
        seeds.prefetch(self.seed, self.replication, names)


def sample(spec: DistSpec, rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw ``n`` values of a distribution spec, vectorised. Never negative."""
    match spec:
        case Fixed(value=v):
            return np.full(n, float(v))
        case Exponential():
            return rng.exponential(spec.mean(), n)
        case Lognormal():
            mu, sigma = spec.mu_sigma()
            return rng.lognormal(mu, sigma, n)
        case Gamma(cv=cv):
            shape = 1.0 / (cv * cv)
            return rng.gamma(shape, spec.mean() / shape, n)
        case Triangular(low=lo, mode=mode, high=hi):
            return rng.triangular(lo, mode, hi, n)
        case Uniform(low=lo, high=hi):
            return rng.uniform(lo, hi, n)
        case Empirical(values=values, weights=weights):
            p = None if weights is None else np.asarray(weights) / np.sum(weights)
            return rng.choice(np.asarray(values, dtype=float), size=n, p=p)
    raise TypeError(f"no sampler for {type(spec).__name__}")  # pragma: no cover
