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
`EXAMPLE` is a section with values read from pressure.md, ready to paste into a scenario (checked
by tests/model/test_pressure_seasons.py)::

    seasons:
      attendance_multiplier:        # mean 1: summer walk-ins (S1/S6, H; Jan/Jul 0.95, S3, L)
        walk_in:   [0.95, 0.95, 1.00, 1.00, 1.05, 1.05, 1.05, 1.03, 1.00, 1.00, 0.97, 0.95]
        ambulance: [1.02, 1.00, 0.99, 0.98, 0.99, 0.99, 1.00, 0.99, 0.99, 1.00, 1.02, 1.03]
      frailty_attendance_multiplier:  # winter case mix towards frailty (S12/S14/N16; estimate)
        frail:     [1.04, 1.03, 1.01, 1.00, 0.98, 0.97, 0.97, 0.97, 0.98, 1.00, 1.02, 1.03]
        severe:    [1.04, 1.03, 1.01, 1.00, 0.98, 0.97, 0.97, 0.97, 0.98, 1.00, 1.02, 1.03]
      admission_multiplier:         # conversion +1.5% Dec vs Jul (S4/S5, H); shape estimate
        all:       [1.03, 1.03, 1.01, 1.00, 0.99, 0.98, 0.98, 0.98, 0.99, 1.00, 1.01, 1.03]
      ward_los_multiplier:          # longer winter stays (S12, M; S44, H); size estimate (L)
        all:       [1.05, 1.05, 1.02, 1.00, 0.98, 0.97, 0.97, 0.97, 0.98, 1.00, 1.02, 1.04]
      beds_closed_share:            # D&V closures 0.7-1.4% of G&A beds at the peak (S38/S39/S30)
        all:       [0.010, 0.012, 0.006, 0.002, 0.0, 0.0, 0.0, 0.0, 0.0, 0.002, 0.004, 0.008]
      community_places_multiplier:  # winter home-care sickness (S33 direction; estimate)
        p1:        [0.95, 0.95, 0.98, 1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 0.98, 0.96]

Flu and COVID beds (S40/S41/S43) are patients the model admits, so they belong to the admission
and length-of-stay profiles, not to ``beds_closed_share`` (that would count them twice).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from flowsim.scenario.schema import Scenario

__all__ = ["ALL", "EXAMPLE", "MONTHS", "Monthly", "Seasons", "check", "for_key"]

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

    community_places_multiplier: dict[Literal["p1", "p2", "p3"], Monthly] = Field(
        default_factory=dict,
        description=(
            "Multiplier on community places (P1 home care and reablement, P2 rehabilitation "
            "beds, P3 care-home places) by month, applied at each month boundary as a change of "
            "capacity (people in a place keep it): home-care staff sickness and closed care "
            "homes in winter. Delayed discharges ran 18% higher in January than in June 2023 "
            "(S33, H) but not in 2021/22 (S32, H: Jan/Jul 0.95), and 24% of delays wait for "
            "home care (parameters.md D5, H): the size is an estimate (L). A pathway not listed "
            "keeps its capacity."
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
            or self.community_places_multiplier
        )


def _example() -> str:
    """The ``seasons:`` block of this module's docstring, as YAML text."""
    lines = (__doc__ or "").splitlines()
    start = lines.index("    seasons:")
    block = []
    for line in lines[start:]:
        if not line.strip():
            break
        block.append(line[4:])
    return "\n".join(block) + "\n"


EXAMPLE = _example()
"""The example section of the module docstring (YAML with comments)."""


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
