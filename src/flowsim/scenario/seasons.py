"""Seasons: what changes from month to month, as monthly profiles (January first).

Winter in England is not an arrivals spike. Type-1 attendances in January run about 5% below
July (pressure.md S3, L) and emergency admissions stay within about +-5% across months (S10, L);
what rises is the share admitted (S4/S5, H: 26.3% in Dec 2022 against 25.9% in Jul 2022), the
length of stay and the long stayers (S12, M; S44, H), and beds are lost to norovirus closures and
virus-occupied beds (S38-S43, H: 0.7-1.4% of G&A beds closed to D&V, about 4.6% occupied by the
four winter viruses). Summer brings more attendances of lower acuity (S1, S6: the busiest months
on record were in spring and summer 2024). These profiles let a scenario say that; every one is
optional and a missing one changes nothing.

Profiles are plain multipliers (1.0 = the scenario's own value), not rescaled: choose values with
mean 1 over the year to move demand between months without changing the annual total. A month is
the calendar month of the simulated day, from ``run.start_date`` (warm-up included).

Pure data: imports nothing of flowsim's model; `check` is called by the scenario's validator.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from flowsim.scenario.schema import Scenario

__all__ = ["ALL", "MONTHS", "Monthly", "Seasons", "check", "for_key"]

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ALL = "all"
"""The key of a profile that applies to every frailty band or ward group without its own."""

Monthly = Annotated[
    list[Annotated[float, Field(ge=0, allow_inf_nan=False)]],
    Field(min_length=12, max_length=12),
]
ClosedShare = Annotated[
    list[Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]],
    Field(min_length=12, max_length=12),
]
_Band = Literal["all", "fit", "frail", "severe"]
_ADMITTING = ("amu", "afu", "ward")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Seasons(_Frozen):
    """Monthly profiles (12 values, January first). Every profile is optional; none is neutral.

    Sources (pressure.md): S1-S11 demand and admissions by month, S27-S45 beds, occupancy,
    delays and winter viruses, N19 the national-to-NUH scale. See "How to use (S)".
    """

    attendance_multiplier: dict[Literal["ambulance", "walk_in", "gp_referral"], Monthly] = Field(
        default_factory=dict,
        description=(
            "Arrival-rate multiplier by route and month, on top of demand_profile.monthly (which "
            "applies to every route). Use it for summer's extra walk-ins of lower acuity "
            "(pressure.md S1/S3/S6: type-1 attendances Jan/Jul = 0.95, L; May-June 2024 the "
            "busiest months on record, H). A route not listed keeps 1.0."
        ),
    )
    frailty_attendance_multiplier: dict[Literal["fit", "frail", "severe"], Monthly] = Field(
        default_factory=dict,
        description=(
            "Arrival-rate multiplier by frailty band and month, multiplying the route's: a "
            "winter shift of case mix towards frail people (direction S12/S14/N16, M; size an "
            "estimate). A band not listed keeps 1.0."
        ),
    )
    admission_multiplier: dict[_Band, Monthly] = Field(
        default_factory=dict,
        description=(
            "Multiplier on the share of ED attendances admitted (dispositions amu + afu + ward), "
            "by month of arrival, with home taking up the difference: above 1 some patients "
            "heading home are admitted (to amu/afu/ward in their usual proportions), below 1 "
            "some heading for a bed go home. Key 'all', or a frailty band (which then overrides "
            "'all'). Evidence: type-1 conversion 26.3% in Dec 2022 vs 25.9% in Jul 2022 "
            "(S4/S5, H; a relative +1.5%); 'the proportion of people admitted increases' in "
            "winter (S12, M); respiratory admissions +40% in winter (S14, H). Drawn at arrival "
            "from its own random stream (season_admit_u), so common random numbers hold."
        ),
    )
    ward_los_multiplier: dict[str, Monthly] = Field(
        default_factory=dict,
        description=(
            "Multiplier on ward length of stay (to medically optimised) by month of arrival, "
            "key 'all' or a ward group name (which overrides 'all'). Direction: 'a higher "
            "proportion of patients with longer lengths of stay in winter' (S12, M); long-stay "
            "beds peak in winter (S44, H). No national winter/summer LOS figure was found "
            "(pressure.md not-found 7): the size is an estimate (L)."
        ),
    )
    beds_closed_share: dict[str, ClosedShare] = Field(
        default_factory=dict,
        description=(
            "Share of each ward group's beds out of use in each month (norovirus/D&V closures, "
            "flu and COVID beds: S38-S43, H; about 0.7-1.4% of G&A beds closed to D&V at "
            "750-1,443 beds, S38/S30, and about 4.6% occupied by the four winter viruses, S43), "
            "applied at each month boundary as a change of capacity (patients in a bed keep it). "
            "Key 'all' or a ward group name (which overrides 'all'). Summer values were not "
            "published (not-found 5): take them as about 0."
        ),
    )

    def is_neutral(self) -> bool:
        """True when no profile is given (the model then runs exactly as without seasons)."""
        return not (
            self.attendance_multiplier
            or self.frailty_attendance_multiplier
            or self.admission_multiplier
            or self.ward_los_multiplier
            or self.beds_closed_share
        )


def for_key(profiles: dict[str, list[float]], key: str) -> list[float] | None:
    """The profile for a frailty band or ward group: its own, else 'all', else None."""
    return profiles.get(key, profiles.get(ALL))


def check(seasons: Seasons, scenario: Scenario) -> None:
    """Checks that need the rest of the scenario: ward names, and room for more admissions.

    An admission multiplier above 1 turns patients heading home into admissions; the home share
    of ED dispositions must be large enough to give them.
    """
    wards = set(scenario.wards)
    for key in ("ward_los_multiplier", "beds_closed_share"):
        unknown = set(getattr(seasons, key)) - wards - {ALL}
        if unknown:
            raise ValueError(
                f"seasons.{key}: no ward group called {sorted(unknown)}; use 'all' or one of "
                f"{', '.join(sorted(wards))}"
            )
    for band, disp in scenario.ed.disposition.items():
        profile = for_key(seasons.admission_multiplier, band)
        if profile is None:
            continue
        admitting = sum(disp.get(d, 0.0) for d in _ADMITTING)
        home = disp.get("home", 0.0)
        for month, m in zip(MONTHS, profile, strict=True):
            if m > 1 and admitting * (m - 1) > home + 1e-12:
                most = 1 + home / admitting if admitting > 0 else math.inf
                raise ValueError(
                    f"seasons.admission_multiplier ({band}, {month}): {m:g} would admit "
                    f"{admitting * m:.3f} of attendances, but only {admitting:.3f} are admitted "
                    f"and {home:.3f} go home in ed.disposition.{band}; use at most {most:.3f}"
                )
