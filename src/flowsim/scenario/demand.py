"""Demand of the scenario: who lives in each place, how often they need urgent care, and how
that need varies by hour, weekday and month (the ``population`` and ``demand_profile`` sections).

Kept apart from `schema`, as the ED pressure responses are in `ed_pressure`: demand is a whole
of its own (projected forward by `flowsim.scenario.projection`, shaped over time by the model's
calendar), and with it out `schema` holds the run, the services, discharge and the checks across
sections, well within the 600-line limit. `schema` re-exports these names.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    Field,
    ModelWrapValidatorHandler,
    field_validator,
    model_validator,
)

from flowsim.scenario.base import Frozen, NonNegativeFloat, NonNegativeInt
from flowsim.scenario.projection import check_year, project_population


class Segment(Frozen):
    """People of one age band and frailty band in a place, and how often they need urgent care."""

    age_band: Literal["18-64", "65-74", "75-84", "85+"]
    frailty: Literal["fit", "frail", "severe"]
    people: NonNegativeInt = Field(description="Number of residents in the segment.")
    ambulance_per_person_year: NonNegativeFloat = Field(
        description="999 calls that would be conveyed to ED, per resident per year."
    )
    walk_in_per_person_year: NonNegativeFloat = Field(
        description="Self-presentations at ED, per resident per year."
    )
    gp_referral_per_person_year: NonNegativeFloat = Field(
        description="GP/111 urgent referrals to hospital, per resident per year."
    )


class Place(Frozen):
    name: str = Field(min_length=1)
    segments: list[Segment] = Field(min_length=1)
    demand_multiplier: NonNegativeFloat = Field(
        1.0, description="Scales every rate in the place (e.g. a proactive-care programme)."
    )


class Population(Frozen):
    places: list[Place] = Field(min_length=1)
    acuity_weights: dict[Literal["ambulance", "walk_in", "gp_referral"], list[NonNegativeFloat]] = (
        Field(
            default_factory=lambda: {
                "ambulance": [0.05, 0.35, 0.45, 0.13, 0.02],
                "walk_in": [0.01, 0.12, 0.42, 0.38, 0.07],
                "gp_referral": [0.01, 0.15, 0.55, 0.25, 0.04],
            },
            description="Weights of triage categories 1 (immediate) to 5 (non-urgent) by route.",
        )
    )
    base_year: int = Field(
        2025,
        description="The year whose residents the segments describe (the baseline's rates are "
        "calibrated to 2024/25 attendances on Census 2021 head counts).",
    )
    projection_year: int | None = Field(
        None,
        description="Project the segments from base_year to this year (2021-2035): each place "
        "and age band grows at its ONS-projected rate, frailty shares within a band stay "
        "(flowsim.scenario.projection). Left out: the population as written.",
    )

    @field_validator("base_year", "projection_year")
    @classmethod
    def _projection_years(cls, year: int | None) -> int | None:
        return None if year is None else check_year(year)

    @model_validator(mode="wrap")
    @classmethod
    def _to_projection_year(
        cls, data: Any, handler: ModelWrapValidatorHandler[Population]
    ) -> Population:
        population = handler(data)
        if population.projection_year in (None, population.base_year):
            return population
        return handler(project_population(population.model_dump()))

    @field_validator("places")
    @classmethod
    def _unique_names(cls, places: list[Place]) -> list[Place]:
        names = [p.name for p in places]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"place names must be unique; repeated: {', '.join(dupes)}")
        return places

    @field_validator("acuity_weights")
    @classmethod
    def _five_categories(cls, w: dict[str, list[float]]) -> dict[str, list[float]]:
        for route, weights in w.items():
            if len(weights) != 5 or sum(weights) <= 0:
                raise ValueError(
                    f"{route}: need 5 non-negative weights (categories 1-5) with a positive sum"
                )
        return w


class DemandProfile(Frozen):
    """Relative demand by hour, weekday and month; each list is rescaled to mean 1."""

    hourly: list[NonNegativeFloat] = Field(min_length=24, max_length=24)
    weekday: list[NonNegativeFloat] = Field(min_length=7, max_length=7, description="Monday first.")
    monthly: list[NonNegativeFloat] = Field(
        min_length=12, max_length=12, description="January first."
    )
    growth: NonNegativeFloat = Field(1.0, description="Scales all demand (e.g. 1.05 for +5%).")

    @field_validator("hourly", "weekday", "monthly")
    @classmethod
    def _not_all_zero(cls, v: list[float]) -> list[float]:
        if sum(v) <= 0:
            raise ValueError("multipliers must not all be zero")
        return v
