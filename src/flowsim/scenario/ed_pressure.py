"""ED pressure responses of the scenario: the evidence-bounded crowding rule and leaving
before being seen (pressure.md A1-A4 and W1-W10)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from flowsim.scenario.base import (
    Frozen,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    Probability,
)
from flowsim.scenario.distributions import Distribution, Lognormal

MAX_EVIDENCED_ADMISSION_REDUCTION = 0.10
"""The largest relative fall in admissions at very high occupancy the evidence shows: 31.5% to
28.7% admitted above 105% occupancy (-8.9% relative, OR 0.74; pressure.md A1, M), -1.9 points
per +10% occupancy (A2, H), OR 0.93 in a high-occupancy hour (A4, M); not reproduced everywhere
(A3, M)."""


class CrowdingStep(Frozen):
    """From this level of crowding on, this share of eligible would-be admissions go home."""

    at_least: NonNegativeFloat = Field(
        description="Crowding level: boarders in ED (measure boarding) or G&A bed demand as a "
        "share of G&A beds in force (measure occupancy; above 1 when patients wait for beds)."
    )
    admission_reduction: Probability = Field(
        description="Share of eligible would-be admissions sent home at this level or above."
    )


class Crowding(Frozen):
    """Admission thresholds rise when the hospital is full (pressure.md A1-A4).

    At a crowding level of at least a step's ``at_least`` (the highest such step counts), a share
    ``admission_reduction`` of patients ED would admit, of triage category ``eligible_min_acuity``
    or less urgent, go home instead (with the home-from-ED readmission risk). The evidence is a
    fall of 2-3 points of admission rate (6-9% relative) at very high occupancy, so a share above
    `MAX_EVIDENCED_ADMISSION_REDUCTION` is refused unless ``experiment`` is true: no rule may send
    home patients the model says need a bed just to keep the system stable. The default steps
    are Blom et al.'s (A1, M): occupancy 95-100% -1.9%, 100-105% -5.1%, above 105% -8.9%.

    Old form, kept so saved scenarios load and run as before: ``boarding_threshold`` and
    ``admission_avoided_share`` (no steps) send that share of all would-be admissions home while
    at least that many admitted patients board in ED. It was a calibrated stabiliser, not
    evidence (0.5 in the old baseline), and is not bounded.
    """

    measure: Literal["occupancy", "boarding"] = Field(
        "occupancy",
        description="What the steps count: 'occupancy' = (patients in AMU, AFU and ward beds + "
        "admitted patients boarding in ED) / those units' beds in force; 'boarding' = "
        "admitted patients waiting in ED for a bed.",
    )
    steps: list[CrowdingStep] = Field(
        default_factory=lambda: [
            CrowdingStep(at_least=0.95, admission_reduction=0.019),
            CrowdingStep(at_least=1.00, admission_reduction=0.051),
            CrowdingStep(at_least=1.05, admission_reduction=0.089),
        ],
        description="Crowding levels (ascending) and the relative reduction of admissions at "
        "each (pressure.md A1, M; A2, H; A4, M).",
    )
    eligible_min_acuity: Annotated[int, Field(ge=1, le=5)] = Field(
        3,
        description="Only would-be admissions of this triage category or less urgent can be "
        "sent home (categories 1-2 never are: the marginal patients of A1/A9; estimate).",
    )
    experiment: bool = Field(
        False,
        description="Allow admission_reduction above the evidenced bound (0.10): for a "
        "sensitivity run only, never a baseline.",
    )
    boarding_threshold: NonNegativeInt | None = Field(
        None,
        description="Old form: admitted patients waiting in ED for a bed before thresholds "
        "rise (with admission_avoided_share; replaces steps).",
    )
    admission_avoided_share: Probability | None = Field(
        None,
        description="Old form: share of all would-be admissions sent home while ED is that "
        "crowded (calibrated, not evidence; unbounded so saved scenarios load).",
    )

    @model_validator(mode="before")
    @classmethod
    def _old_form_has_no_steps(cls, data: object) -> object:
        if isinstance(data, dict) and (
            data.get("boarding_threshold") is not None
            or data.get("admission_avoided_share") is not None
        ):
            if data.get("steps"):
                raise ValueError(
                    "give either steps or the old boarding_threshold/admission_avoided_share, "
                    "not both (a scenario extending one with the old form: set those two to null)"
                )
            return {**data, "steps": [], "measure": data.get("measure", "boarding")}
        return data

    @model_validator(mode="after")
    def _evidenced(self) -> Crowding:
        old = (self.boarding_threshold, self.admission_avoided_share)
        if (old[0] is None) != (old[1] is None):
            raise ValueError(
                "the old form needs both boarding_threshold and admission_avoided_share"
            )
        if old[0] is not None:
            if self.measure != "boarding":
                raise ValueError("the old form counts boarders: drop measure or use steps")
            return self
        levels = [s.at_least for s in self.steps]
        if levels != sorted(levels):
            raise ValueError(f"steps: at_least must be ascending, got {levels}")
        for i, step in enumerate(self.steps):
            if step.admission_reduction > MAX_EVIDENCED_ADMISSION_REDUCTION and not self.experiment:
                raise ValueError(
                    f"steps[{i}].admission_reduction is {step.admission_reduction:g}, above the "
                    f"{MAX_EVIDENCED_ADMISSION_REDUCTION:g} the evidence supports (pressure.md "
                    "A1/A2/A4: 6-9% fewer admissions at very high occupancy); lower it, or set "
                    "ed.crowding.experiment: true for a sensitivity run"
                )
        return self

    @property
    def is_old_form(self) -> bool:
        return self.boarding_threshold is not None


TriageCategory = Annotated[int, Field(ge=1, le=5)]
"""1 (immediate) to 5 (non-urgent); as a mapping key also read from text ("3", as JSON writes)."""


class LeaveBeforeSeen(Frozen):
    """Patients who leave ED before a clinician sees them, as waits grow (reneging).

    Each patient of a listed route and of a triage category with a patience distribution would
    leave with that category's ``would_leave_share``, once they have waited their patience (from
    arrival) without starting a clinician assessment: from the waiting room, or from a cubicle
    while still waiting for the clinician. They leave the system as ``left_before_seen``; a share
    come back as a new walk-in within ``re_attend_within_hours``. England runs at about 2-3% of
    attendances (pressure.md W1-W4, H; 0.4-6.7% across trusts, W2); leavers are mostly low
    acuity and carry no added harm (W10, H). The defaults follow W8 (M: 51% willing to wait up
    to 2 h, 17% 2-8 h, 32% indefinitely, for low acuity) and W7 (M: less urgent patients leave
    sooner), shortened to land near 1.5-3.5% of attendances on the baseline at 4-hour
    performance of 48-65% (estimate, L).
    """

    routes: list[Literal["walk_in", "gp_referral"]] = Field(
        default_factory=lambda: ["walk_in"],
        description="Routes whose patients may leave (ambulance patients, on a trolley with "
        "a crew, are not modelled as leaving).",
    )
    patience_hours: dict[TriageCategory, Distribution] = Field(
        default_factory=lambda: {
            3: Lognormal(dist="lognormal", median=3.0, sigma=0.6),
            4: Lognormal(dist="lognormal", median=1.75, sigma=0.6),
            5: Lognormal(dist="lognormal", median=1.25, sigma=0.6),
        },
        description="Wait from arrival before leaving unseen, by triage category (1-5); a "
        "category not listed never leaves (W7/W8, M; sizes an estimate).",
    )
    would_leave_share: dict[TriageCategory, Probability] = Field(
        default_factory=lambda: {3: 0.35, 4: 0.68, 5: 0.68},
        description="Share of the category who would ever leave; the rest wait however long "
        "(W8, M: 68% of low-acuity patients would not wait indefinitely; category 3 an "
        "estimate). A category not listed: all of it.",
    )
    admitted_may_leave: bool = Field(
        False,
        description="Whether patients ED would admit may leave too. No by default: leavers are "
        "mostly low acuity and at no higher risk of adverse events (W10, H), so the sicker "
        "patients the model would admit are taken to stay.",
    )
    re_attend_share: Probability = Field(
        0.0,
        description="Share of leavers who come back as a new walk-in (estimate; W10 finds no "
        "added harm, so none by default).",
    )
    re_attend_within_hours: PositiveFloat = Field(
        24.0, description="Leavers who come back do so uniformly within this many hours."
    )

    @model_validator(mode="after")
    def _shares_name_categories(self) -> LeaveBeforeSeen:
        extra = set(self.would_leave_share) - set(self.patience_hours)
        if extra:
            raise ValueError(
                f"would_leave_share: categor{'ies' if len(extra) > 1 else 'y'} {sorted(extra)} "
                "has no patience_hours, so nobody of it leaves; add patience_hours or drop it"
            )
        return self
