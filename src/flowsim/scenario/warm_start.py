"""A run's starting state: who is in each unit at time 0 (a census), so a short run needs no
months of warm-up. Read by `flowsim.model.warm_start`; written by
`flowsim.analysis.warmup.snapshot` and the app's census (`flowsim.app.census`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from flowsim.scenario.base import AGE_BANDS, Frozen, NonNegativeInt
from flowsim.scenario.distributions import Distribution
from flowsim.scenario.units import ROUTES, WARM_START_UNITS, ward_unit

__all__ = ["LOOKAHEAD_DAYS", "WarmStart", "WarmStartDelayed", "WarmStartReturns", "WarmStartUnit"]

LOOKAHEAD_DAYS = 42.0
"""Days a census's run goes on past the census day, so the pathway of every patient then
waiting to leave a ward is known (the log shows it only once they are referred or gone home;
the baseline's longest assessments take three weeks): `flowsim.analysis.warmup.snapshot` then
lists them as ``delayed``, and a warm start does not restart their treatment."""


class WarmStartDelayed(Frozen):
    """A ward's delayed discharges on one pathway: medically optimised, waiting to leave."""

    assessing: NonNegativeInt = Field(
        0,
        description="Waiting for assessment before a place is sought (P0: waiting to go home). "
        "Each has the rest of an assessment in progress to go (length-biased, from "
        "`discharge.referral_days`; P0 from `discharge.p0_delay_hours`).",
    )
    referred: NonNegativeInt = Field(
        0,
        description="Assessed and referred, waiting for a place on the pathway (P1-P3 only).",
    )
    elapsed_days: Distribution | None = Field(
        None,
        description="Time each has already spent on the ward, in days (their length of stay "
        "so far). Default: a whole treatment stay drawn from the ward's length of stay.",
    )
    frailty: dict[Literal["fit", "frail", "severe"], NonNegativeInt] | None = Field(
        None,
        description="These patients by frailty band (a census's counts). Default: in proportion "
        "to the arrivals who reach the ward and take this pathway.",
    )

    @model_validator(mode="after")
    def _frailty_adds_up(self) -> WarmStartDelayed:
        if self.frailty is not None and sum(self.frailty.values()) != self.patients:
            raise ValueError(
                f"frailty: {sum(self.frailty.values())} patients by band, but "
                f"{self.patients} assessing and referred; make them agree"
            )
        return self

    @property
    def patients(self) -> int:
        return self.assessing + self.referred


class WarmStartUnit(Frozen):
    """Patients already in one unit at time 0."""

    occupied: NonNegativeInt = Field(
        description="Patients in the unit at the start of the run (including any `delayed`)."
    )
    elapsed_days: Distribution | None = Field(
        None,
        description="Time each has already spent in the unit, in days (e.g. from a census or "
        "`flowsim.analysis.snapshot`); with `delayed`, of the patients still in treatment. "
        "Default: the steady-state age of a stay (length-biased), drawn from the unit's own "
        "length of stay.",
    )
    opened: list[Literal["escalation", "full_capacity_protocol"]] = Field(
        default_factory=list,
        description="Places beyond the unit's base open at the start: its `escalation` beds, "
        "a ward group's `full_capacity_protocol` share (`pressure.full_capacity_protocol`). A "
        "census taken under pressure has them open; they close by their own rules.",
    )
    frailty: dict[Literal["fit", "frail", "severe"], NonNegativeInt] | None = Field(
        None,
        description="Patients in treatment by frailty band (a census's counts). With "
        "`warm_start.mix: in_progress`, who each is follows them (given `elapsed_days`, in "
        "proportion to the chance a band's stay lasts that long).",
    )
    delayed: dict[Literal["P0", "P1", "P2", "P3"], WarmStartDelayed] = Field(
        default_factory=dict,
        description="Wards only: how many of `occupied` are medically optimised and wait to "
        "leave, by discharge pathway. They start the run delayed, on that pathway; the rest "
        "start in treatment.",
    )

    @model_validator(mode="after")
    def _delayed_fit(self) -> WarmStartUnit:
        if self.delayed.get("P0") is not None and self.delayed["P0"].referred:
            raise ValueError(
                "delayed.P0.referred: P0 patients go home without a referral; count them "
                "under delayed.P0.assessing"
            )
        waiting = sum(d.patients for d in self.delayed.values())
        if self.frailty is not None and sum(self.frailty.values()) != self.occupied - waiting:
            raise ValueError(
                f"frailty: {sum(self.frailty.values())} patients by band, but "
                f"{self.occupied - waiting} in treatment (occupied less delayed); make them agree"
            )
        if waiting > self.occupied:
            raise ValueError(
                f"delayed: {waiting} patients waiting to leave, more than the {self.occupied} "
                "occupied; `occupied` counts every patient, delayed or not"
            )
        return self

    @property
    def in_treatment(self) -> int:
        """Patients of `occupied` not in `delayed`."""
        return self.occupied - sum(d.patients for d in self.delayed.values())


class WarmStartReturns(Frozen):
    """Patients of one arrival stream who left before the census and come back after it: the
    readmissions (and re-attendances) a run already had scheduled at that moment.

    Why: a run from empty is, at any moment, owed the returns of everyone it sent home in the
    last `community.readmission.within_days`; on the baseline's census day about 590 in the
    next four weeks (5 % of arrivals in the first week). A warm start without them runs on
    about 3 % less demand for its first weeks, with 50 fewer inpatients and about two points
    fewer 12-hour waits than the run it continues."""

    place: str = Field(description="The place they live in (`population.places`).")
    age_band: str = Field(description=f"Their age band: {', '.join(AGE_BANDS)}.")
    frailty: Literal["fit", "frail", "severe"] = Field(description="Their frailty band.")
    route: str = Field(description=f"How they come back: {', '.join(ROUTES)}.")
    after_hours: list[float] = Field(
        description="When each comes back, in hours from the start of the run (one entry per "
        "patient). Each comes back as a new arrival with a fate of their own, as a readmission "
        "does."
    )

    @model_validator(mode="after")
    def _known(self) -> WarmStartReturns:
        if self.age_band not in AGE_BANDS:
            raise ValueError(
                f"age_band: {self.age_band!r} is not an age band; use one of {', '.join(AGE_BANDS)}"
            )
        if self.route not in ROUTES:
            raise ValueError(
                f"route: {self.route!r} is not a route; use one of {', '.join(ROUTES)}"
            )
        if any(not h >= 0.0 for h in self.after_hours):
            raise ValueError(
                "after_hours: every return comes at or after the start of the run (hours >= 0)"
            )
        return self


class WarmStart(Frozen):
    """Start a run from a realistic state instead of empty, so it needs only a short warm-up.

    Each patient placed here begins in the unit at time 0 with the rest of their stay to go
    (their stay drawn as for any patient, given the time already spent), then follows the
    pathway as usual; a ward's delayed discharges start delayed, on their pathway. They are
    recorded as arriving at time 0, so keep a warm-up of a week or two (length of stay counts
    the time they had spent before, `flowsim.model.warm_start`). A census written by
    `flowsim.analysis.snapshot` fills every field; a hand-written one needs only ``occupied``.
    """

    mix: Literal["arrivals", "in_progress"] = Field(
        "arrivals",
        description="Who each patient placed is. `in_progress`: as a patient found in the "
        "unit would be, in proportion to each stream's arrivals times how long its stays last "
        "(given `elapsed_days`, times the chance a stay lasts that long), so a ward holds "
        "the frail patients' long stays; a stay in treatment longer than the first draws is "
        "given the rest of a long one. A census (`flowsim.analysis.snapshot`) sets it. "
        "`arrivals`: in proportion to arrivals, and a ward stay longer than every draw is "
        "over (flowsim before December 2026).",
    )
    amu: WarmStartUnit | None = None
    afu: WarmStartUnit | None = None
    wards: dict[str, WarmStartUnit] = Field(
        default_factory=dict, description="By ward group name, as in `wards`."
    )
    p1: WarmStartUnit | None = None
    p2: WarmStartUnit | None = None
    p3: WarmStartUnit | None = None
    virtual_ward: WarmStartUnit | None = None
    returns: list[WarmStartReturns] = Field(
        default_factory=list,
        description="Patients who left before the census and come back during the run (a "
        "census from `flowsim.analysis.snapshot` lists those its run brought back within "
        f"{LOOKAHEAD_DAYS:g} days), by arrival stream.",
    )

    def units(self) -> dict[str, WarmStartUnit]:
        """Unit name as in the event log (``ward:<name>`` for wards) -> its warm start, for
        every unit with someone in it, in pathway order."""
        out = {}
        for name in WARM_START_UNITS:
            if name == "wards":
                out.update({ward_unit(n): u for n, u in self.wards.items() if u.occupied > 0})
            elif (u := getattr(self, name)) and u.occupied > 0:
                out[name] = u
        return out
