"""Community only: referrals straight into P1-P3, with no hospital in front of them.

A discharge-to-assess planner asks how many community places a pathway needs for the people
ready to leave hospital on each date, given who is in it and who is waiting today. That is this
mode: each pathway given here takes referrals at a rate of its own for each day, starts with
``occupied`` people in its places and ``queued`` people waiting (in IPACS's terms, the acute
delayed discharges), and serves them first come first served with the places
(``community.<p>.capacity``) and durations (``community.<p>.duration_days``) of the scenario.
The hospital, the population and everything else in the scenario are not simulated.

It is the model of one IPACS node (Wood et al., doi:10.5281/zenodo.7845908), which is how
flowsim is checked against IPACS (``flowsim ipacs-check``, docs/validation.md)::

    community_only:
      remaining_stay: length_biased   # or uniform (IPACS's rule)
      p2:
        referrals_per_day: [1.53, 1.88, 2.58, 4.19, 3.12, 3.74, 4.47]   # day 1 first
        repeat: true                  # the list is a cycle (a week here), not the whole run
        occupied: 97
        queued: 31

Run it with `flowsim.model.community_only.simulate` (``flowsim ipacs-check`` does); the whole
system's ``simulate`` does not read this section.

Pure data: the cross-checks against the rest of the scenario (capacity, horizon) run as the
field is validated, from the sections declared before it.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, model_validator

from flowsim.scenario.base import Frozen, NonNegativeFloat, NonNegativeInt
from flowsim.scenario.distributions import Distribution
from flowsim.scenario.units import DISCHARGE_PATHWAY_UNITS

__all__ = [
    "COMMUNITY_PATHWAYS",
    "CommunityOnly",
    "CommunityOnlyField",
    "Referrals",
    "check_against",
]

COMMUNITY_PATHWAYS = DISCHARGE_PATHWAY_UNITS
"""The units this mode can feed: the discharge pathways' community services."""


class Referrals(Frozen):
    """Referrals into one community pathway, and who is in it at time 0."""

    referrals_per_day: list[NonNegativeFloat] = Field(
        min_length=1,
        description="Mean referrals on each day, day 1 (run.start_date) first. Each day's "
        "number is Poisson with that mean, its referrals spread uniformly over the day (as "
        "IPACS). Without `repeat` the list must cover warm-up and horizon.",
    )
    repeat: bool = Field(
        False, description="Repeat the list as a cycle (e.g. 7 values for a weekly pattern)."
    )
    occupied: NonNegativeInt = Field(0, description="People in the pathway's places at time 0.")
    queued: NonNegativeInt = Field(
        0,
        description="People waiting for a place at time 0 (delayed discharges); they are "
        "served before any new referral.",
    )
    elapsed_days: Distribution | None = Field(
        None,
        description="Time each of the `occupied` has already spent in the pathway, in days "
        "(from a census). Their remaining stay is then the rest of a stay that has lasted that "
        "long, as in `warm_start`, and `remaining_stay` does not apply to this pathway.",
    )


class CommunityOnly(Frozen):
    """Simulate only the community pathways, fed by referrals (discharge to assess, IPACS).

    Each pathway given takes its own date-specific referrals, with its census and queue at
    time 0; places and durations are `community`'s. The rest of the scenario is not simulated.
    """

    remaining_stay: Literal["length_biased", "uniform"] = Field(
        "length_biased",
        description="Remaining stay of the people in place at time 0. length_biased: that of "
        "a stay in progress in steady state (a stay drawn in proportion to its length, a "
        "uniform share of it left), as `warm_start`. uniform: IPACS's rule, uniform between 1 "
        "day and a stay drawn from the duration distribution (shorter on average). A pathway "
        "with `elapsed_days` uses its census instead.",
    )
    p1: Referrals | None = None
    p2: Referrals | None = None
    p3: Referrals | None = None

    @model_validator(mode="after")
    def _some_pathway(self) -> CommunityOnly:
        if not self.pathways():
            raise ValueError(
                "no pathway given: add p1, p2 or p3 with referrals_per_day "
                "(or remove community_only to simulate the whole system)"
            )
        return self

    def pathways(self) -> dict[str, Referrals]:
        """Pathway (``p1``..``p3``, as in the event log) -> its referrals, for those given."""
        return {p: r for p in COMMUNITY_PATHWAYS if (r := getattr(self, p)) is not None}


def check_against(section: CommunityOnly, run: Any, community: Any) -> None:
    """The section fits the scenario: nobody in place beyond the pathway's places, and
    referral rates for every day of the run. Raises ValueError naming the key to change."""
    for name, ref in section.pathways().items():
        if community is not None:
            places = getattr(community, name).capacity
            if ref.occupied > places:
                raise ValueError(
                    f"{name}.occupied is {ref.occupied}, more than the {places} places of "
                    f"community.{name}.capacity; lower it or add places"
                )
        if run is not None and not ref.repeat:
            days = math.ceil(run.warm_up_days + run.horizon_days)
            if len(ref.referrals_per_day) < days:
                raise ValueError(
                    f"{name}.referrals_per_day gives {len(ref.referrals_per_day)} days but the "
                    f"run lasts {days} (run.warm_up_days + run.horizon_days); give a rate for "
                    "every day, shorten the run or set repeat: true"
                )


def _fits_scenario(value: CommunityOnly | None, info: ValidationInfo) -> CommunityOnly | None:
    if value is not None:
        check_against(value, info.data.get("run"), info.data.get("community"))
    return value


CommunityOnlyField = Annotated[CommunityOnly | None, AfterValidator(_fits_scenario)]
"""The type of ``Scenario.community_only``: declared after ``run`` and ``community``, so its
check sees them (`check_against`)."""
