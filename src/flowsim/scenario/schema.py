"""The scenario: everything a run needs, as immutable, validated data.

The schema interprets nothing. It checks shapes, ranges and sums so that a
learning set's typo is caught with a clear message before any simulation runs;
`flowsim.model.build` turns the data into processes.

Conventions: clock times are hours of the day (0-24); durations carry their
unit in the key (``_minutes``, ``_hours``, ``_days``); probabilities are in
[0, 1]; frailty is given in three bands of the Clinical Frailty Scale (CFS).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from flowsim.scenario.base import (  # re-exported: the schema's vocabulary
    AGE_BANDS as AGE_BANDS,
)
from flowsim.scenario.base import (
    CFS_BY_BAND as CFS_BY_BAND,
)
from flowsim.scenario.base import (
    FRAILTY_BANDS as FRAILTY_BANDS,
)
from flowsim.scenario.base import (
    PATHWAYS as PATHWAYS,
)
from flowsim.scenario.base import (
    ByFrailty,
    Frozen,
    HourOfDay,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    Probability,
    _check_sums_to_one,
)
from flowsim.scenario.community_only import CommunityOnlyField
from flowsim.scenario.costs import Costs
from flowsim.scenario.demand import (  # re-exported for older imports
    DemandProfile as DemandProfile,
)
from flowsim.scenario.demand import Place as Place
from flowsim.scenario.demand import Population as Population
from flowsim.scenario.demand import Segment as Segment
from flowsim.scenario.distributions import Distribution, Fixed
from flowsim.scenario.ed_pressure import (  # re-exported for older imports
    MAX_EVIDENCED_ADMISSION_REDUCTION as MAX_EVIDENCED_ADMISSION_REDUCTION,
)
from flowsim.scenario.ed_pressure import Crowding as Crowding
from flowsim.scenario.ed_pressure import CrowdingStep as CrowdingStep
from flowsim.scenario.ed_pressure import LeaveBeforeSeen as LeaveBeforeSeen
from flowsim.scenario.pressure import Pressure
from flowsim.scenario.seasons import Seasons
from flowsim.scenario.seasons import check as check_seasons
from flowsim.scenario.units import ROUTES as ROUTES  # re-exported for older imports
from flowsim.scenario.units import (
    is_ward,
    openable,
    unit_capacity_key,
    warm_start_limit,
    warm_start_path,
)
from flowsim.scenario.warm_start import WarmStart as WarmStart
from flowsim.scenario.warm_start import WarmStartDelayed as WarmStartDelayed
from flowsim.scenario.warm_start import WarmStartReturns as WarmStartReturns
from flowsim.scenario.warm_start import WarmStartUnit as WarmStartUnit

# ---------------------------------------------------------------- run


class Run(Frozen):
    """How long to simulate and from when."""

    horizon_days: PositiveFloat = Field(365, description="Simulated days after warm-up.")
    warm_up_days: NonNegativeFloat = Field(
        60, description="Days simulated first and discarded, so the system starts full."
    )
    seed: NonNegativeInt = Field(20261128, description="Run seed; replication r uses (seed, r).")
    replications: Annotated[int, Field(ge=1)] = Field(5, description="Default replications.")
    start_date: dt.date = Field(
        dt.date(2025, 1, 6),
        description="Calendar date at the start of warm-up; sets weekday and month.",
    )


# ---------------------------------------------------------------- services


class Escalation(Frozen):
    """Extra beds opened when a unit stays full, closed when pressure falls.

    Checked hourly. Opens after ``open_after_hours`` in which the unit was at least
    ``open_above_occupancy`` full and at least ``open_when_waiting`` patients were waiting for it;
    closes once nobody is waiting and occupancy is below ``close_below_occupancy`` (of base beds).
    Patients in escalation beds keep them until they leave.
    """

    beds: NonNegativeInt = 0
    open_above_occupancy: Probability = Field(0.97, description="Occupied / base beds.")
    open_when_waiting: NonNegativeInt = Field(
        0, description="Patients waiting for the unit before escalation opens (OPEL trigger)."
    )
    open_after_hours: NonNegativeFloat = Field(
        4.0, description="Hours above the thresholds before opening."
    )
    close_below_occupancy: Probability = 0.90

    @model_validator(mode="after")
    def _hysteresis(self) -> Escalation:
        if self.close_below_occupancy > self.open_above_occupancy:
            raise ValueError("close_below_occupancy must not exceed open_above_occupancy")
        return self


class Ucr(Frozen):
    """Urgent community response: a team that can see a 999 caller at home within 2 hours."""

    teams: NonNegativeInt = Field(description="Responses that can be under way at once.")
    eligible_frailty: list[Literal["fit", "frail", "severe"]] = ["frail", "severe"]
    eligible_min_acuity: Annotated[int, Field(ge=1, le=5)] = Field(
        3, description="Only calls of this triage category or less urgent (higher number)."
    )
    eligible_share: Probability = Field(
        0.3, description="Share of otherwise eligible calls that are suitable (e.g. falls)."
    )
    response_hours: Distribution = Field(description="Time a team spends on one response.")
    kept_at_home_share: Probability = Field(description="Of those seen, share not conveyed.")
    virtual_ward_step_up_share: Probability = Field(
        0.2, description="Of those kept at home, share stepped up to the virtual ward."
    )


class Ed(Frozen):
    """The emergency department: cubicles, clinicians and the decision."""

    cubicles: NonNegativeInt
    clinicians_by_hour: list[NonNegativeInt] = Field(min_length=24, max_length=24)
    handover_minutes: Distribution = Field(description="Crew handing over once a cubicle is free.")
    max_handover_minutes: NonNegativeFloat | None = Field(
        None,
        description=(
            "Release the ambulance after this wait; the patient waits in a corridor space. "
            "None: the crew waits as long as it takes."
        ),
    )
    corridor_boarding_after_hours: PositiveFloat | None = Field(
        None,
        description=(
            "Full-capacity protocol: an admitted patient who has waited this long in a cubicle for "
            "a bed moves to a corridor space, freeing the cubicle. None: boarders keep the cubicle."
        ),
    )
    corridor_spaces: NonNegativeInt | None = Field(
        None,
        description=(
            "Cap on corridor spaces for boarders under corridor_boarding_after_hours; a boarder "
            "who finds them all taken keeps the cubicle and looks again each hour. Snapshots "
            "find 13.5-19% of ED patients in corridors and other escalation spaces (pressure.md "
            "C2-C4, M; 7.5-10% of attendances in one trust, C5, M). None: unlimited (as before)."
        ),
    )
    escalation: Escalation = Field(
        Escalation(),
        description=(
            "ED escalation spaces (corridor trolleys, chairs, doubled cubicles) where patients are "
            "assessed and treated once every cubicle is taken: opened like escalation beds, "
            "`beds` counting spaces. Opening escalation areas is a standard full-capacity action "
            "(pressure.md P5, M); 17.7-19% of ED patients sit in such spaces at a snapshot "
            "(C2-C3, M), Welsh cubicle occupancy averaged 176% (C4, M). beds 0: none."
        ),
    )
    triage_minutes: Distribution
    assessment_minutes: Distribution = Field(description="Clinician time per patient.")
    treatment_hours: Distribution = Field(
        description="From assessment to decision (tests, treatment, review)."
    )
    disposition: ByFrailty[dict[str, Probability]] = Field(
        description="Where patients go after ED: home, sdec, amu, afu, ward, virtual_ward."
    )
    front_door_frailty: FrontDoorFrailty | None = None
    crowding: Crowding | None = None
    leave_before_seen: LeaveBeforeSeen | None = Field(
        None, description="Patients leaving before being seen as waits grow. None: nobody leaves."
    )

    @field_validator("disposition")
    @classmethod
    def _dispositions(cls, d: ByFrailty[dict[str, float]]) -> ByFrailty[dict[str, float]]:
        for band, probs in d.items():
            unknown = set(probs) - set(DISPOSITIONS)
            if unknown:
                raise ValueError(
                    f"{band}: unknown destination(s) {sorted(unknown)}; "
                    f"use {', '.join(DISPOSITIONS)}"
                )
            _check_sums_to_one(probs, band)
        return d


DISPOSITIONS = ("home", "sdec", "amu", "afu", "ward", "virtual_ward")


class FrontDoorFrailty(Frozen):
    """Comprehensive geriatric assessment in ED: turns some admissions into supported homegoing."""

    eligible_frailty: list[Literal["fit", "frail", "severe"]] = ["frail", "severe"]
    assessors: NonNegativeInt = Field(2, description="Frailty practitioners on duty.")
    assessment_hours: Distribution = Field(default_factory=lambda: Fixed(dist="fixed", value=1.0))
    admission_avoided_share: Probability = Field(
        description="Share of assessed patients heading for admission who go home instead."
    )
    home_with_ucr_share: Probability = Field(
        0.5, description="Of those sent home, share who get UCR follow-up (uses a UCR team)."
    )


Ed.model_rebuild()


class Sdec(Frozen):
    """Same-day emergency care: a day unit, open some hours, with chairs not beds."""

    chairs: NonNegativeInt
    open_hour: HourOfDay = 8
    close_hour: HourOfDay = 20
    open_weekends: bool = True
    stay_hours: Distribution
    admit_share: ByFrailty[Probability] = Field(description="Share admitted to AMU afterwards.")
    gp_direct_share: Probability = Field(
        0.5, description="Share of GP referrals streamed straight to SDEC while it is open."
    )

    @model_validator(mode="after")
    def _hours(self) -> Sdec:
        if self.close_hour <= self.open_hour:
            raise ValueError(
                f"close_hour ({self.close_hour:g}) must be after open_hour ({self.open_hour:g})"
            )
        return self


class Amu(Frozen):
    """Acute medical unit: assessment and short stay, then home or a ward."""

    beds: NonNegativeInt
    stay_hours: Distribution
    discharge_share: ByFrailty[Probability] = Field(
        description="Share going home from AMU rather than on to a ward."
    )
    turnaround_hours: NonNegativeFloat = 0.5
    escalation: Escalation = Escalation()


class Afu(Frozen):
    """Acute frailty unit: comprehensive assessment for frail older people, up to ~72 h."""

    beds: NonNegativeInt
    eligible_frailty: list[Literal["fit", "frail", "severe"]] = ["frail", "severe"]
    min_age_band: Literal["18-64", "65-74", "75-84", "85+"] = "65-74"
    stay_hours: Distribution
    max_stay_hours: PositiveFloat = 72
    discharge_share: ByFrailty[Probability]
    divert_to_amu_when_full: bool = Field(
        True, description="Send to AMU if no AFU bed is free, instead of waiting."
    )
    turnaround_hours: NonNegativeFloat = 0.5
    escalation: Escalation = Escalation()


class Ward(Frozen):
    """A group of inpatient wards sharing beds (e.g. care of the elderly)."""

    beds: NonNegativeInt
    los_days: ByFrailty[Distribution] = Field(
        description="Admission to medically optimised (ready for discharge)."
    )
    death_probability: ByFrailty[Probability]
    turnaround_hours: NonNegativeFloat = 1.0
    escalation: Escalation = Escalation()


class Discharge(Frozen):
    """How medically optimised patients leave, and what holds them."""

    pathway: ByFrailty[dict[str, Probability]] = Field(description="P0-P3 shares by frailty band.")
    window_start_hour: HourOfDay = 9
    window_end_hour: HourOfDay = 20
    weekend_discharge_factor: Probability = Field(
        0.5, description="Chance a weekend discharge happens that day rather than Monday."
    )
    p0_delay_hours: Distribution = Field(
        default_factory=lambda: Fixed(dist="fixed", value=4.0),
        description="Medicines, transport and letters before a P0 patient leaves.",
    )
    referral_days: dict[str, Distribution] = Field(
        default_factory=dict,
        description="P1-P3: assessment and paperwork before community capacity is sought.",
    )

    @field_validator("pathway")
    @classmethod
    def _pathways(cls, d: ByFrailty[dict[str, float]]) -> ByFrailty[dict[str, float]]:
        for band, probs in d.items():
            unknown = set(probs) - set(PATHWAYS)
            if unknown:
                raise ValueError(f"{band}: unknown pathway(s) {sorted(unknown)}; use P0-P3")
            _check_sums_to_one(probs, band)
        return d

    @field_validator("referral_days")
    @classmethod
    def _referral_keys(cls, d: dict[str, object]) -> dict[str, object]:
        unknown = set(d) - {"P1", "P2", "P3"}
        if unknown:
            raise ValueError(f"unknown pathway(s) {sorted(unknown)}; use P1, P2 or P3")
        return d

    @model_validator(mode="after")
    def _window(self) -> Discharge:
        if self.window_end_hour <= self.window_start_hour:
            raise ValueError("window_end_hour must be after window_start_hour")
        return self


class CommunityService(Frozen):
    """A community service with limited places; people wait (in a hospital bed) for one."""

    capacity: NonNegativeInt
    duration_days: Distribution


class VirtualWard(Frozen):
    """Hospital at home: step-up from UCR/ED, step-down to leave hospital sooner."""

    capacity: NonNegativeInt
    duration_days: Distribution
    step_down_share: ByFrailty[Probability] = Field(
        description="Share of ward patients offered early discharge to the virtual ward."
    )
    step_down_days_saved: PositiveFloat = Field(
        2.0, description="Days of ward stay saved by a step-down (never below zero)."
    )
    admission_share: Probability = Field(
        0.1, description="Share of virtual-ward patients who are admitted after all."
    )


class Readmission(Frozen):
    within_days: PositiveFloat = 30
    probability: dict[str, ByFrailty[Probability]] = Field(
        description="P0-P3 (and 'home_from_ed') by frailty band."
    )

    @field_validator("probability")
    @classmethod
    def _keys(cls, d: dict[str, object]) -> dict[str, object]:
        allowed = {*PATHWAYS, "home_from_ed"}
        unknown = set(d) - allowed
        if unknown:
            raise ValueError(f"unknown key(s) {sorted(unknown)}; use {', '.join(sorted(allowed))}")
        return d


class Community(Frozen):
    p1: CommunityService = Field(description="Home with support (reablement, home care).")
    p2: CommunityService = Field(description="Intermediate-care (rehabilitation) beds.")
    p3: CommunityService = Field(description="Care-home placements (discharge to assess).")
    virtual_ward: VirtualWard
    readmission: Readmission


class Scenario(Frozen):
    """A whole system: demand, services, discharge and community capacity."""

    name: str = Field(
        min_length=1,
        description="Short name shown in tables and reports; a file that extends another "
        "should give its own.",
    )
    description: str = Field(
        "", description="What the scenario is and what it changes, in a sentence or two."
    )
    run: Run = Run()
    population: Population
    demand_profile: DemandProfile
    ucr: Ucr
    ed: Ed
    sdec: Sdec
    amu: Amu
    afu: Afu
    wards: dict[str, Ward] = Field(min_length=1)
    ward_routing: ByFrailty[dict[str, Probability]] = Field(
        description="Which ward group an admitted patient needs, by frailty band."
    )
    discharge: Discharge
    community: Community
    warm_start: WarmStart | list[WarmStart] | None = Field(
        None,
        description="A census to start from, or one per replication (replication r starts "
        "from census r mod their number, so the replications sample different starting "
        "states, as runs from empty would).",
    )
    seasons: Seasons | None = Field(
        None, description="Monthly profiles of demand, admission, length of stay and beds lost."
    )
    pressure: Pressure | None = Field(
        None,
        description="Responses to pressure (OPEL level, outlying, electives, discharge "
        "push, community surge); each off unless given.",
    )
    costs: Costs = Field(
        default_factory=Costs,
        description="Unit costs for the cost KPIs, with their sources; they change no behaviour.",
    )
    community_only: CommunityOnlyField = Field(
        None,
        description="P1-P3 alone, on referrals: run by flowsim.model.community_only (and "
        "`flowsim ipacs-check`), not by a whole-system run.",
    )

    @model_validator(mode="after")
    def _pressure_fits(self) -> Scenario:
        if self.pressure is not None:
            self.pressure.check_wards(set(self.wards))
        return self

    @model_validator(mode="after")
    def _seasons_fit(self) -> Scenario:
        if self.seasons is not None:
            check_seasons(self.seasons, self)
        return self

    @model_validator(mode="after")
    def _warm_start_fits(self) -> Scenario:
        starts = self.warm_start if isinstance(self.warm_start, list) else [self.warm_start]
        if not starts:
            raise ValueError(
                "warm_start: an empty list; give one census (or one per replication), or leave "
                "warm_start out to start empty"
            )
        for i, ws in enumerate(starts):
            if ws is not None:
                where = f"warm_start[{i}]" if isinstance(self.warm_start, list) else "warm_start"
                self._census_fits(ws, where)
        return self

    def _census_fits(self, ws: WarmStart, at: str) -> None:
        unknown = set(ws.wards) - set(self.wards)
        if unknown:
            raise ValueError(
                f"{at}.wards: no ward group called {sorted(unknown)}; "
                f"wards are {', '.join(self.wards)}"
            )
        places = [p.name for p in self.population.places]
        for i, group in enumerate(ws.returns):
            if group.place not in places:
                raise ValueError(
                    f"{at}.returns[{i}].place: no place called {group.place!r}; places "
                    f"are {', '.join(places)}"
                )
        for unit, start in ws.units().items():
            key, limit = unit_capacity_key(unit), warm_start_limit(self, unit)
            where = warm_start_path(unit)
            if start.delayed and not is_ward(unit):
                raise ValueError(
                    f"{at}.{where}.delayed: only ward groups hold delayed discharges "
                    "(patients waiting for their discharge pathway); move them to "
                    f"{at}.wards.<group>.delayed"
                )
            cannot = set(start.opened) - openable(self, unit)
            if cannot:
                raise ValueError(
                    f"{at}.{where}.opened names {', '.join(sorted(cannot))}, which "
                    f"{unit} cannot open here (no escalation beds in {key.removesuffix('beds')}"
                    "escalation, or no pressure.full_capacity_protocol share); remove it"
                )
            if start.occupied > limit:
                raise ValueError(
                    f"{at}.{where}.occupied is {start.occupied}, more than the {limit} "
                    f"places of {key} and its escalation beds (those beyond {key} wait for a "
                    "bed from time 0, as escalation beds open under pressure during the run); "
                    "lower it or add places"
                )

    @model_validator(mode="after")
    def _routing_names_wards(self) -> Scenario:
        for band, probs in self.ward_routing.items():
            unknown = set(probs) - set(self.wards)
            if unknown:
                raise ValueError(
                    f"ward_routing.{band}: no ward group called {sorted(unknown)}; "
                    f"wards are {', '.join(self.wards)}"
                )
            _check_sums_to_one(probs, f"ward_routing.{band}")
        return self
