"""What every scenario section is built from: frozen models, bands, ranges and share checks.

Kept apart from `schema` so the section modules (crowding, seasons, pressure, costs) can share
them without importing the scenario that holds them.
"""

from __future__ import annotations

import math
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
NonNegativeInt = Annotated[int, Field(ge=0)]
NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
HourOfDay = Annotated[float, Field(ge=0, le=24, allow_inf_nan=False)]

FRAILTY_BANDS = ("fit", "frail", "severe")
"""CFS 1-4 (fit to very mildly frail), CFS 5-6 (mild to moderate), CFS 7-9 (severe, terminal)."""
CFS_BY_BAND = {"fit": (1, 2, 3, 4), "frail": (5, 6), "severe": (7, 8, 9)}
AGE_BANDS = ("18-64", "65-74", "75-84", "85+")
PATHWAYS = ("P0", "P1", "P2", "P3")
_SUM_TOLERANCE = 1e-6
T = TypeVar("T")


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _check_sums_to_one(values: dict[str, float], what: str) -> None:
    total = sum(values.values())
    if not math.isclose(total, 1.0, abs_tol=_SUM_TOLERANCE):
        parts = ", ".join(f"{k}={v:g}" for k, v in values.items())
        raise ValueError(f"{what}: the shares must add up to 1, got {total:.10g} ({parts})")


class ByFrailty(Frozen, Generic[T]):
    """One value for each frailty band."""

    fit: T
    frail: T
    severe: T

    def get(self, band: str) -> T:
        return getattr(self, band)

    def items(self) -> list[tuple[str, T]]:
        return [(b, getattr(self, b)) for b in FRAILTY_BANDS]
