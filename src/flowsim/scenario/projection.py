"""Population projection: a place's residents by age band in a future year, as plain data.

Demand is residents x rates (`flowsim.scenario.schema.Segment`), so the ageing of the
population is a change of head counts, not a flat ``demand_profile.growth``. Each place x age
band grows at its own compound rate a year (`GROWTH_PER_YEAR`); within a place and age band the
shares of fit, frail and severely frail people and every person's rates stay as they are, so a
population that grows fastest at 75-84 and 85+, where frailty is commonest, becomes frailer and
needs more urgent care per head. `project_population` applies it to the mapping of a
``population`` section; the schema calls it when ``population.projection_year`` differs from
``population.base_year``, so the model only ever sees ordinary segments.

Sources (rows of shared/domain/planning.md, confidence H/M/L). The band x place x year table of
the ONS sub-national population projections (SNPP Z1) could not be reached (planning.md,
"Not found" 1-3), so the rates are derived as planning.md advises: national growth for the
older bands, checked against the local totals. Every rate is therefore "derived" (L):

* 75-84: +2.89% a year, England's 75-84 up by a third 2018-2028 [A18] (H via Health
  Foundation; 2018-based NPP). 1.33 ** (1/10).
* 85+: +2.69% a year, UK 85+ 1.7 million (2022) to 3.3 million (2047) [A19] (H; 2022-based
  NPP, the latest). (3.3/1.7) ** (1/25). The 2018-28 figure (+20%, 1.8% a year) is lower
  because the small 1930s birth cohorts were reaching 85 then; the 2030s bring the post-war ones.
* 65-74: +0.95% a year, the residual that makes the county's 65+ grow by 30% from 2020 to
  2034 [A8] (H via council summary) with the two rates above and the baseline's county shares
  of 65-74, 75-84 and 85+ (tests/scenario/test_projection.py checks it).
* County 18-64 (South Notts, Mid Notts, Bassetlaw): +0.23% a year, the residual of the county
  total 833,000 (2020) to 908,000 (2034) after 65+ gains 53,200 [A8]; children are assumed to
  grow as working-age adults (estimate). [A7] (+8% 2019-2031) agrees with the total.
  Bassetlaw has no projection of its own ("Not found" 2): the county rates are used.
* Nottingham City 18-64: +0.03% a year, the residual of the City total 337,100 (2020) to
  356,100 (2043) [A12] (H via JSNA, 2018-based SNPP) after the City's older bands grow at the
  rates above. The City's older bands use the national rates, as planning.md advises, although
  its 70+ grew only 3.2% from 2011 to 2021 against the county's 23.4% [A6] (H): the City's
  older growth is the least certain figure here (test it from 0% to the national rates).

Frailty within an age band: no trend within a band is sourced. PACSim [B16] (H) finds
dependency prevalence at 85+ "little changed" to 2035 while numbers grow, which supports
holding prevalence within a band; the eFI rise of [B6] (26.5% to 38.9% of the 50+, 2006-2017)
mixes ageing and better coding and is not used. The 85+ band is open: its own ageing (more
people over 90) would raise its frailty a little and is not modelled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "AGE_BAND_GROWTH_SOURCES",
    "FIRST_YEAR",
    "GROWTH_PER_YEAR",
    "LAST_YEAR",
    "PROJECTED_PLACES",
    "check_year",
    "growth_factor",
    "project_population",
]

FIRST_YEAR: Final = 2021
"""The earliest year a population can be projected from or to: the Census 2021 base [A1][A11]."""
LAST_YEAR: Final = 2035
"""The latest: the derived rates rest on projections spanning 2018-2034 [A8][A18] (and 2047
for 85+ [A19]); beyond 2035 they would be extrapolated past their sources."""

_OLDER: Final = {"65-74": 0.0095, "75-84": 0.0289, "85+": 0.0269}
GROWTH_PER_YEAR: Final[dict[str, dict[str, float]]] = {
    "Nottingham City": {"18-64": 0.0003, **_OLDER},
    "South Notts": {"18-64": 0.0023, **_OLDER},
    "Mid Notts": {"18-64": 0.0023, **_OLDER},
    "Bassetlaw": {"18-64": 0.0023, **_OLDER},
}
"""Compound growth a year of each place's residents in each age band (derived, L; see the
module notes for each figure's source)."""

AGE_BAND_GROWTH_SOURCES: Final = {
    "18-64": "residual of the local totals: county [A8] (H), City [A12] (H); derived, L",
    "65-74": "residual of the county's 65+ +30% 2020-2034 [A8] (H); derived, L",
    "75-84": "England 75-84 +33% 2018-2028 [A18] (H); derived, L",
    "85+": "UK 85+ 1.7m (2022) to 3.3m (2047) [A19] (H); derived, L",
}
"""Where each age band's rate comes from, for tables and file headers."""

PROJECTED_PLACES: Final = tuple(GROWTH_PER_YEAR)


def check_year(year: int) -> int:
    """``year`` if the growth figures cover it; otherwise a `ValueError` saying the range."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(
            f"{year} is outside the years of the population projection: its growth figures "
            f"(ONS 2018- and 2022-based projections, planning.md A7-A19) cover {FIRST_YEAR} to "
            f"{LAST_YEAR}; choose a year in that range, or leave projection_year out for the "
            "population as written"
        )
    return year


def growth_factor(place: str, age_band: str, from_year: int, to_year: int) -> float:
    """Residents of ``age_band`` in ``place`` in ``to_year`` per resident in ``from_year``."""
    rates = GROWTH_PER_YEAR.get(place)
    if rates is None:
        known = ", ".join(PROJECTED_PLACES)
        raise ValueError(
            f"no population projection for the place {place!r}: growth figures exist for "
            f"{known}; name the places as baseline.yaml does, or leave projection_year out"
        )
    return math.pow(1.0 + rates[age_band], to_year - from_year)


def project_population(population: Mapping[str, Any]) -> dict[str, Any]:
    """The mapping of a ``population`` section moved from its ``base_year`` to its
    ``projection_year``: head counts scaled by `growth_factor` (rounded to whole people),
    rates and frailty shares within each age band kept, and ``base_year`` set to the
    projection year so that validating the result again changes nothing."""
    start, end = int(population["base_year"]), int(population["projection_year"])
    places = []
    for place in population["places"]:
        segments = []
        for segment in place["segments"]:
            factor = growth_factor(place["name"], segment["age_band"], start, end)
            segments.append({**segment, "people": round(segment["people"] * factor)})
        places.append({**place, "segments": segments})
    return {**population, "places": places, "base_year": end}
