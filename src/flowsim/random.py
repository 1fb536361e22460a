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
from functools import lru_cache
from typing import Final

import numpy as np
from numpy.random.bit_generator import ISeedSequence

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
    return _key_words(name).tolist()


@lru_cache(maxsize=1 << 16)
def _key_words(name: str) -> np.ndarray:
    """`stream_key` as a read-only array, hashed once per name: a run makes some 15,000
    generators (a fate table is a few dozen streams), and every replication and every scenario
    of a comparison asks for the same names again."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=16).digest()
    words = np.frombuffer(digest, dtype="<u4").astype(np.uint32)
    words.flags.writeable = False
    return words


_WORD: Final = 1 << 32


def stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """The generator for one named stream of one replication."""
    return np.random.Generator(np.random.PCG64(_Seeded(_pcg64_words(seed, replication, name))))


@lru_cache(maxsize=1 << 16)
def _pcg64_words(seed: int, replication: int, name: str) -> np.ndarray:
    """What ``PCG64(SeedSequence([seed, replication, *stream_key(name)]))`` seeds itself from,
    kept for the next scenario of a paired comparison (the same streams on common random
    numbers): making it is two thirds of a generator's cost, and a replication makes some
    15,000 generators.

    The entropy is given as 32-bit words when seed and replication are each one word: the words
    `SeedSequence` makes of the list, in a quarter of the time a list of Python ints takes.
    """
    if 0 <= seed < _WORD and 0 <= replication < _WORD:
        entropy: np.ndarray | list[int] = np.empty(6, dtype=np.uint32)
        entropy[0] = seed
        entropy[1] = replication
        entropy[2:] = _key_words(name)
    else:
        entropy = [seed, replication, *stream_key(name)]
    words = np.random.SeedSequence(entropy).generate_state(4, np.uint64)
    words.flags.writeable = False
    return words


class _Seeded(ISeedSequence):
    """A seed sequence that hands `PCG64` the state words `_pcg64_words` made."""

    __slots__ = ("words",)

    def __init__(self, words: np.ndarray) -> None:
        self.words = words

    def generate_state(self, n_words: int, dtype: type = np.uint32) -> np.ndarray:
        if n_words != 4 or dtype is not np.uint64:  # pragma: no cover: only PCG64 asks
            raise ValueError("only PCG64's four 64-bit words are kept")
        return self.words


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
