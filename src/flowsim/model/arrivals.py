"""Who needs urgent care, and when: non-homogeneous Poisson arrivals from the population.

Each (place, age band, frailty band, route) is its own arrival stream with its
own random numbers, so lowering demand in one place changes no one else's
arrivals. Times are generated up front by inverting the cumulative intensity
(exact for a piecewise-constant hourly rate), which costs no simulation events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flowsim.model.calendar import Calendar
from flowsim.random import Streams
from flowsim.scenario.schema import AGE_BANDS, FRAILTY_BANDS, Scenario

HOURS_PER_YEAR = 24 * 365.25


@dataclass(frozen=True)
class ArrivalStream:
    name: str
    place_index: int
    age_band: int
    frailty: int
    route: str
    rate_per_hour: float


def arrival_streams(scenario: Scenario) -> list[ArrivalStream]:
    streams = []
    for pi, place in enumerate(scenario.population.places):
        for seg in place.segments:
            per_year = {
                "ambulance": seg.ambulance_per_person_year,
                "walk_in": seg.walk_in_per_person_year,
                "gp_referral": seg.gp_referral_per_person_year,
            }
            for route, rate in per_year.items():
                hourly = seg.people * rate * place.demand_multiplier / HOURS_PER_YEAR
                if hourly <= 0:
                    continue
                streams.append(
                    ArrivalStream(
                        name=f"{place.name}/{seg.age_band}/{seg.frailty}/{route}",
                        place_index=pi,
                        age_band=AGE_BANDS.index(seg.age_band),
                        frailty=FRAILTY_BANDS.index(seg.frailty),
                        route=route,
                        rate_per_hour=hourly,
                    )
                )
    return streams


def arrival_times(
    s: ArrivalStream, profile: np.ndarray, streams: Streams, end_hours: float
) -> np.ndarray:
    """Arrival times in [0, end_hours) for a rate ``s.rate_per_hour * profile[hour]``."""
    rates = s.rate_per_hour * profile
    cumulative = np.concatenate([[0.0], np.cumsum(rates)])
    grid = np.arange(len(cumulative), dtype=float)
    total = cumulative[-1]
    rng = streams.generator(f"{s.name}/arrivals")
    expected = int(total + 10 * np.sqrt(total + 1) + 10)
    unit_times = np.cumsum(rng.exponential(1.0, expected))
    while unit_times[-1] < total:  # pragma: no cover - astronomically rare
        more = unit_times[-1] + np.cumsum(rng.exponential(1.0, expected))
        unit_times = np.concatenate([unit_times, more])
    unit_times = unit_times[unit_times < total]
    times = np.interp(unit_times, cumulative, grid)
    return times[times < end_hours]


def seasonal_profile(
    s: ArrivalStream, profile: np.ndarray, scenario: Scenario, calendar: Calendar
) -> np.ndarray:
    """``profile`` times the stream's monthly multipliers of `seasons` (by route and frailty).

    The same array when no multiplier applies to the stream, so a run without seasons draws
    exactly the arrival times it always did. The unit-rate draws of the stream are unchanged
    either way: a seasonal profile moves arrivals in time, it does not draw new ones.
    """
    seasons = scenario.seasons
    if seasons is None:
        return profile
    route = seasons.attendance_multiplier.get(s.route)  # type: ignore[call-overload]
    band = seasons.frailty_attendance_multiplier.get(FRAILTY_BANDS[s.frailty])  # type: ignore[call-overload]
    for monthly in (route, band):
        if monthly is not None:
            profile = profile * calendar.monthly_hourly(monthly, len(profile))
    return profile
