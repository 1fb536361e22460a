"""How the hospital and community respond to pressure: the scenario's ``pressure`` section.

Every response is off by default (its group is null), so a scenario without ``pressure`` runs
exactly as before. Each setting cites the row of the evidence brief it rests on
(``pressure.md``: O outlying, E electives, L length of stay under load, X escalation and bought-in
capacity, P the OPEL framework, D degradation) with its confidence: H national statistics or
large cohort, M audit or single-site study, L secondary or derived; "estimate" where nothing was
found (no OPEL numeric thresholds are published, P and the not-found list).

The section is pure data like the rest of the scenario; `flowsim.model.opel`,
`flowsim.model.outlying`, `flowsim.model.electives`, `flowsim.model.surge` and the ward and
discharge modules turn it into behaviour. An example (values illustrative, to calibrate)::

    pressure:
      opel: {occupancy: [0.94, 0.97, 0.99], ed_boarding: [40, 80, 140]}
      outlying: {after_hours: 4, los_multiplier: 1.0, ring_fenced_beds: {surgery: 10}}
      electives:
        admissions_by_weekday: {surgery: [12, 12, 12, 12, 12, 0, 0]}
        los_days: {dist: lognormal, median: 2.0, sigma: 0.8}
        cancel_from_level: 4
      discharge_push: {above_occupancy: 0.95, weekend_discharge_factor: 0.7}
      community_surge:
        p1: {places: 30, open_when_waiting: 40, open_after_days: 7, close_when_waiting: 10}
"""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from flowsim.scenario.distributions import Distribution

__all__ = [
    "CommunitySurge",
    "DischargePush",
    "Electives",
    "Opel",
    "Outlying",
    "Pressure",
    "SpotPurchase",
]

_Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
_NonNegativeInt = Annotated[int, Field(ge=0)]
_NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
_PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
_HourOfDay = Annotated[float, Field(ge=0, le=24, allow_inf_nan=False)]
_Level = Annotated[int, Field(ge=1, le=4)]


class _Frozen(BaseModel):
    # As flowsim.scenario.schema.Frozen (not imported from there: schema imports this module).
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _ascending(values: list | None, what: str) -> list | None:
    if values is not None and any(b < a for a, b in itertools.pairwise(values)):
        raise ValueError(f"{what}: thresholds for OPEL 2, 3 and 4 must not fall, got {values}")
    return values


class Opel(_Frozen):
    """Hospital pressure level, OPEL 1 (flow maintained) to 4 (unable to deliver comprehensive
    care), worked out every hour from the indicators below [P1 (M), P2 (H)].

    Each indicator given has three thresholds, for OPEL 2, 3 and 4; the level is the highest any
    indicator reaches. It rises at once and falls only after the indicators have been below the
    level for ``step_down_after_hours``. No official numeric thresholds were found (pressure.md
    not-found 1): every threshold here is an estimate, to calibrate so that OPEL 3-4 is common in
    winter and OPEL 4 rare [P3 (H), P4 (M)].
    """

    occupancy: list[_Probability] | None = Field(
        default_factory=lambda: [0.92, 0.95, 0.98],
        min_length=3,
        max_length=3,
        description="G&A occupancy (AMU, AFU and ward patients / beds in force) for OPEL 2, 3, 4. "
        "92% is the planning cap and 92-93% the tipping points [D6 (H), O5 (H)]; 95%, 98% "
        "estimate. Null: not an indicator.",
    )
    ed_boarding: list[_NonNegativeInt] | None = Field(
        None,
        min_length=3,
        max_length=3,
        description="Admitted patients waiting in ED for a bed, for OPEL 2, 3, 4 (estimate; "
        "[P2 (H)] names ED crowding as a core parameter). Null: not an indicator.",
    )
    ed_queue: list[_NonNegativeInt] | None = Field(
        None,
        min_length=3,
        max_length=3,
        description="Patients waiting for an ED cubicle, ambulances waiting to hand over among "
        "them, for OPEL 2, 3, 4 (estimate; handover delay is a core parameter [P2 (H)]). Null: "
        "not an indicator.",
    )
    delayed_share: list[_Probability] | None = Field(
        None,
        min_length=3,
        max_length=3,
        description="Medically optimised patients still in a ward bed (no criteria to reside) "
        "over ward beds in force, for OPEL 2, 3, 4 (estimate; NCTR is a core acute parameter "
        "[P2 (H)]; England ran at about 1 bed in 7 in winter 2024/25 [S34 (H)]). Null: not an "
        "indicator.",
    )
    step_down_after_hours: _NonNegativeFloat = Field(
        4.0,
        description="Hours the indicators must stay below the level before it falls (estimate: "
        "levels are reviewed at a few daily huddles, not minute by minute).",
    )
    escalation_at_level: _Level | None = Field(
        None,
        description="Open every unit's escalation beds once OPEL has been at this level or above "
        "for the unit's open_after_hours, instead of the unit's own trigger; close them when OPEL "
        "is below it again and the unit's own close rule holds [P5 (M), X1-X4 (H)]. Null: each "
        "unit's own trigger.",
    )

    @field_validator("occupancy", "ed_boarding", "ed_queue", "delayed_share")
    @classmethod
    def _thresholds(cls, v: list | None) -> list | None:
        return _ascending(v, "opel")


class Outlying(_Frozen):
    """An admitted patient whose ward group is full is placed in another group's free bed after
    a wait (medical outliers, "bedspacing") [O1-O8].

    The patient keeps their AMU, AFU or ED place until the outlying bed is theirs, as for any
    move. They stay in the host ward for the whole stay (no moving back).
    """

    after_hours: _NonNegativeFloat = Field(
        4.0,
        description="Wait for a bed in the patient's own ward group before a bed elsewhere is "
        "sought; then sought again every hour. Outliers wait about 1 h longer in ED than others "
        "[O3 (M), O4 (M)]; the value is an estimate.",
    )
    from_level: _Level = Field(
        1,
        description="Only while the hospital is at this OPEL level or above (needs "
        "pressure.opel for levels above 1). Outlying is a full-capacity action [P5 (M)].",
    )
    los_multiplier: _PositiveFloat = Field(
        1.0,
        description="Scales an outlier's time to medically optimised. Sign uncertain: longer in "
        "an English DGH [O1 (M)], shorter in Adelaide and Ontario (110.7 vs 141.9 h [O3 (M)]; "
        "-0.1 d [O6 (H)]). Keep near 1.0 and vary it in sensitivity runs.",
    )
    death_multiplier: _NonNegativeFloat = Field(
        1.0,
        description="Scales an outlier's chance of dying in hospital. Bounds: HR 0.95 [O6 (H)] "
        "to about 1.4 [O3 (M)], 3.4 at admission in one centre [O5 (M)]; the review finds "
        "'increased trends in mortality' [O7 (H)]. The risk is front-loaded (O3, O5), which "
        "the model does not time: deaths come at the end of treatment.",
    )
    ring_fenced_beds: dict[str, _NonNegativeInt] = Field(
        default_factory=dict,
        description="By ward group: beds kept free for the group's own patients (an outlier is "
        "placed there only while more beds than this are free). Estimate: ring-fencing is "
        "common practice; no published numbers were found.",
    )
    hosts: dict[str, list[str]] | None = Field(
        None,
        description="By ward group: the groups that may take its outliers, in order of "
        "preference. Null: any other group, the one with most free beds first.",
    )


class Electives(_Frozen):
    """Elective inpatients take ward beds on a weekday schedule and are cancelled under pressure
    [E1-E9].

    Each day at ``admission_hour`` the day's electives of each ward group are admitted into free
    beds, cancelled for lack of a bed when none is free [E8 (M): 21.8% of day-of-surgery
    cancellations], or all cancelled while the hospital is under pressure. Electives are not
    patients of the event log: they hold beds, recorded in ``EventLog.pressure``.
    """

    admissions_by_weekday: dict[str, list[_NonNegativeInt]] = Field(
        description="By ward group: elective admissions on each weekday, Monday first. Electives "
        "are ~55% of admissions but <30% of bed days [E7 (H)]; counts are the scenario's own."
    )
    admission_hour: _HourOfDay = Field(
        7.0, description="When the day's electives arrive (estimate: morning admission)."
    )
    los_days: Distribution = Field(
        description="Length of an elective stay. Use elective, not emergency, stays [E7 (H)]."
    )
    cancel_from_level: _Level | None = Field(
        4,
        description="Cancel the day's electives while OPEL is at this level or above (needs "
        "pressure.opel). NHS guidance defers non-urgent electives in a bad winter [E1 (H)]; "
        "pressure.md suggests OPEL 3-4. Null: never for the level.",
    )
    cancel_above_occupancy: _Probability | None = Field(
        None,
        description="Cancel the day's electives of a ward group while it is fuller than this "
        "(occupied / beds in force; estimate). Null: never for occupancy.",
    )

    @field_validator("admissions_by_weekday")
    @classmethod
    def _seven_days(cls, d: dict[str, list[int]]) -> dict[str, list[int]]:
        for ward, counts in d.items():
            if len(counts) != 7:
                raise ValueError(
                    f"{ward}: give 7 daily counts, Monday first; got {len(counts)} values"
                )
        return d


class DischargePush(_Frozen):
    """Discharge under pressure: at high G&A occupancy, long stays finish sooner and discharges
    happen earlier in the day and at weekends, at some cost in readmissions [L1-L9].

    Use L5 (England, 136 trusts) for the size: +1 point of occupancy brings +0.49% daily
    discharge rate, "more pronounced once bed occupancy exceeded 95%" [L5 (H)], acting mainly on
    stays of 10 days or more [L8 (M)]. US specialist-unit magnitudes [L1, L2] are not for NHS
    medical wards.
    """

    above_occupancy: _Probability = Field(
        0.95,
        description="G&A occupancy (patients / beds in force) above which the push acts [L5 (H)].",
    )
    measure: Literal["occupancy", "bed_demand"] = Field(
        "occupancy",
        description="What the push reads: occupancy (patients in G&A beds / beds in force, at "
        "most 1, as L5 measured it) or bed_demand (those patients plus admitted patients waiting "
        "in ED, / beds in force: above 1 on over-census days, to which separation rates respond "
        "[L8 (M)]; the size per point beyond 100% is L5's, an extrapolation (estimate, L)).",
    )
    speed_up_per_point: _NonNegativeFloat = Field(
        0.0049,
        description="Extra rate of progress of a long stay's remaining treatment per occupancy "
        "point above the threshold (0.0049 = +0.49% per point [L5 (H)]).",
    )
    max_speed_up: _NonNegativeFloat = Field(
        0.1,
        description="Cap on that extra rate (estimate; beyond ~93% LOS rises again [L3 (H)]).",
    )
    min_elapsed_days: _NonNegativeFloat = Field(
        10.0,
        description="Only stays that have lasted this long speed up [L8 (M)].",
    )
    weekend_discharge_factor: _Probability | None = Field(
        None,
        description="Weekend discharge factor while the push acts (replaces "
        "discharge.weekend_discharge_factor; estimate, direction [L5 (H)]). Null: unchanged.",
    )
    window_start_hour: _HourOfDay | None = Field(
        None,
        description="Start of the discharge window while the push acts (earlier discharges; "
        "estimate, direction [L9 (H)]). Null: unchanged.",
    )
    readmission_odds_ratio: _PositiveFloat = Field(
        1.0,
        description="Odds ratio of 30-day readmission for a patient whose stay was shortened or "
        "whose discharge was brought forward: 1.11-1.17 at >=95% occupancy [L6 (M)]; England "
        "+0.011% per point [L5 (H)].",
    )


class SpotPurchase(_Frozen):
    """Places of one community service bought in when its waiting list grows, after a lag, and
    given up when the list is short again [X6 (H), X7 (L), X10 (M)]."""

    places: _NonNegativeInt = Field(
        description="Places bought in at once (X7: the 2023 fund hoped for 1,000-2,000 beds "
        "nationally, scale by ~1.4% for an NUH-size system [N, L])."
    )
    open_when_waiting: _NonNegativeInt = Field(
        description="Patients waiting for the service before purchase is started (estimate)."
    )
    open_after_days: _NonNegativeFloat = Field(
        7.0,
        description="Lag from the decision to the places opening: commissioning and brokerage "
        "(estimate; the 2023 fund aimed to free beds 'within the next four weeks' [X7 (L)]).",
    )
    close_when_waiting: _NonNegativeInt = Field(
        0,
        description="Close once no more than this many are waiting (hysteresis: below "
        "open_when_waiting; estimate).",
    )
    close_after_days: _NonNegativeFloat = Field(
        7.0,
        description="Days the list must stay that short before the places are given up "
        "(estimate), each as soon as it is empty: a place held or reserved stays paid for.",
    )

    @model_validator(mode="after")
    def _hysteresis(self) -> SpotPurchase:
        if self.close_when_waiting >= max(self.open_when_waiting, 1):
            raise ValueError(
                f"close_when_waiting ({self.close_when_waiting}) must be below "
                f"open_when_waiting ({self.open_when_waiting})"
            )
        return self


class CommunitySurge(_Frozen):
    """Spot-purchased community capacity by discharge pathway (P1 home care, P3 care homes;
    P2 rehabilitation beds too if wanted). Its open place-days are recorded for costing."""

    p1: SpotPurchase | None = None
    p2: SpotPurchase | None = None
    p3: SpotPurchase | None = None

    def services(self) -> list[tuple[Literal["p1", "p2", "p3"], SpotPurchase]]:
        return [(n, sp) for n in ("p1", "p2", "p3") if (sp := getattr(self, n)) is not None]


class FullCapacityProtocol(_Frozen):
    """At the top pressure level each ward group takes patients beyond its beds: an extra trolley
    or chair in bays and ward corridors ("boarding" on wards, the full-capacity protocol), so
    that admitted patients wait on a ward rather than in ED [C1 (M), C7 (H), P5 (M)].

    Opened and closed like escalation beds, on the hospital's OPEL level. The places are not
    beds: the KPIs count them as capacity in force while open, so occupancy stays <= 100%.
    """

    extra_share_of_beds: _Probability = Field(
        0.03,
        description="Extra places per ward group, as a share of its beds (rounded): about one "
        "per 30-bed ward. Estimate (L): 66.8% of nursing staff give care in unsuitable places "
        "daily [C1 (M)] and NHS England now counts corridor-care beds [C7 (H)], but no count "
        "per ward was found [not-found 15].",
    )
    from_level: _Level = Field(
        4, description="OPEL level at which the wards take the extra patients [P1 (M)]."
    )
    after_hours: _NonNegativeFloat = Field(
        4.0,
        description="Hours at that level before the places open (estimate: a site huddle decides).",
    )
    close_below_occupancy: _Probability = Field(
        0.95,
        description="Close (each place as its patient leaves) once OPEL is below the level, "
        "nobody waits for the ward and its occupancy of base beds is below this (estimate).",
    )


class Pressure(_Frozen):
    """Evidence for each response: pressure.md rows O, E, L, X, P and D, cited per key below.
    Recorded in ``EventLog.pressure``; KPIs in `flowsim.analysis.pressure_kpis`."""

    opel: Opel | None = None
    outlying: Outlying | None = None
    electives: Electives | None = None
    discharge_push: DischargePush | None = None
    community_surge: CommunitySurge | None = None
    full_capacity_protocol: FullCapacityProtocol | None = None

    @model_validator(mode="after")
    def _levels_need_opel(self) -> Pressure:
        if self.opel is not None:
            return self
        if self.outlying is not None and self.outlying.from_level > 1:
            raise ValueError(
                f"outlying.from_level is {self.outlying.from_level} but there is no "
                "pressure.opel to set the level; add an opel group or use from_level 1"
            )
        if self.electives is not None and self.electives.cancel_from_level is not None:
            raise ValueError(
                "electives.cancel_from_level needs pressure.opel; add an opel group or set "
                "cancel_from_level to null (and cancel_above_occupancy if wanted)"
            )
        if self.full_capacity_protocol is not None:
            raise ValueError(
                "full_capacity_protocol opens on the OPEL level: add a pressure.opel group"
            )
        return self

    def enabled(self) -> bool:
        return any(getattr(self, name) is not None for name in type(self).model_fields)

    def check_wards(self, wards: set[str]) -> None:
        """Every ward group named here must be one of the scenario's (`Scenario` calls this)."""
        named: list[tuple[str, str]] = []
        if self.outlying is not None:
            named += [("outlying.ring_fenced_beds", w) for w in self.outlying.ring_fenced_beds]
            for home, hosts in (self.outlying.hosts or {}).items():
                named += [("outlying.hosts", home)]
                named += [(f"outlying.hosts.{home}", w) for w in hosts]
        if self.electives is not None:
            named += [
                ("electives.admissions_by_weekday", w) for w in self.electives.admissions_by_weekday
            ]
        for key, ward in named:
            if ward not in wards:
                raise ValueError(
                    f"pressure.{key}: no ward group called {ward!r}; "
                    f"wards are {', '.join(sorted(wards))}"
                )
