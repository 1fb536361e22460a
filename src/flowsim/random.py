"""Named random streams and samplers built from distribution data.

Every stochastic quantity draws from its own ``numpy.random.Generator``, seeded
from (run seed, replication, stable stream name). A stream's numbers therefore
never depend on which other streams exist or in what order they are used:
adding a service leaves the others' random numbers untouched, and two scenarios
run on the same seed share common random numbers wherever they share structure.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

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

__all__ = ["Streams", "sample", "stream", "stream_key"]


def stream_key(name: str) -> list[int]:
    """Four 32-bit words from a stable hash of the stream name (not Python's salted hash)."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=16).digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """The generator for one named stream of one replication."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, replication, *stream_key(name)]))
    )


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
        return stream(self.seed, self.replication, name)


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
