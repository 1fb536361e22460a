"""Distributions as data.

A scenario never holds a sampler, only a description such as
``{dist: lognormal, median: 5, sigma: 0.9}``. The unit lives in the key that
holds the distribution (``los_days``, ``stay_hours``), never in the distribution.
`flowsim.random.sampler` turns these descriptions into samplers.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def mean(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError


class Fixed(_Dist):
    """Always the same value: for deterministic tests and fixed delays."""

    dist: Literal["fixed"]
    value: NonNegativeFloat

    def mean(self) -> float:
        return self.value


class Exponential(_Dist):
    """Memoryless durations: queueing-theory special cases and rough defaults."""

    dist: Literal["exponential"]
    mean_: PositiveFloat = Field(alias="mean")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def mean(self) -> float:
        return self.mean_


class Lognormal(_Dist):
    """Right-skewed stays. Give either ``median`` and ``sigma`` or ``mean`` and ``sd``."""

    dist: Literal["lognormal"]
    median: PositiveFloat | None = None
    sigma: PositiveFloat | None = None
    mean_: PositiveFloat | None = Field(default=None, alias="mean")
    sd: PositiveFloat | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_parameterisation(self) -> Lognormal:
        by_median = self.median is not None or self.sigma is not None
        by_mean = self.mean_ is not None or self.sd is not None
        if by_median and by_mean:
            raise ValueError("give either median+sigma or mean+sd, not both")
        if by_median and (self.median is None or self.sigma is None):
            raise ValueError("median and sigma must be given together")
        if by_mean and (self.mean_ is None or self.sd is None):
            raise ValueError("mean and sd must be given together")
        if not (by_median or by_mean):
            raise ValueError("give median+sigma or mean+sd")
        return self

    def mu_sigma(self) -> tuple[float, float]:
        """Parameters of the underlying normal."""
        if self.median is not None and self.sigma is not None:
            return math.log(self.median), self.sigma
        assert self.mean_ is not None and self.sd is not None
        s2 = math.log(1.0 + (self.sd / self.mean_) ** 2)
        return math.log(self.mean_) - s2 / 2.0, math.sqrt(s2)

    def mean(self) -> float:
        mu, s = self.mu_sigma()
        return math.exp(mu + s * s / 2.0)


class Gamma(_Dist):
    """Stays less dispersed than lognormal; ``cv`` = sd / mean (cv 1 is exponential)."""

    dist: Literal["gamma"]
    mean_: PositiveFloat = Field(alias="mean")
    cv: PositiveFloat

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def mean(self) -> float:
        return self.mean_


class Triangular(_Dist):
    """Expert judgement: lowest, most likely and highest value."""

    dist: Literal["triangular"]
    low: NonNegativeFloat
    mode: NonNegativeFloat
    high: NonNegativeFloat

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high) or self.low == self.high:
            raise ValueError(
                f"need low <= mode <= high and low < high, got {self.low}, {self.mode}, {self.high}"
            )
        return self

    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3.0


class Uniform(_Dist):
    """Any value between ``low`` and ``high`` equally likely."""

    dist: Literal["uniform"]
    low: NonNegativeFloat
    high: NonNegativeFloat

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError(f"need low < high, got low={self.low}, high={self.high}")
        return self

    def mean(self) -> float:
        return (self.low + self.high) / 2.0


class Empirical(_Dist):
    """Observed values, drawn with the given weights (equal weights if omitted)."""

    dist: Literal["empirical"]
    values: list[NonNegativeFloat] = Field(min_length=1)
    weights: list[NonNegativeFloat] | None = None

    @model_validator(mode="after")
    def _weights_match(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights has {len(self.weights)} entries but values has {len(self.values)}"
                )
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
        return self

    def mean(self) -> float:
        w = self.weights or [1.0] * len(self.values)
        return sum(v * x for v, x in zip(self.values, w, strict=True)) / sum(w)


Distribution = Annotated[
    Fixed | Exponential | Lognormal | Gamma | Triangular | Uniform | Empirical,
    Field(discriminator="dist"),
]
DIST_NAMES = ("fixed", "exponential", "lognormal", "gamma", "triangular", "uniform", "empirical")
