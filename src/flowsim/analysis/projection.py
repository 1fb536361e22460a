"""What the projected population asks of the system, year by year, without a simulation.

Demand is read straight from the resolved segments (residents x rates, with the place multiplier
and ``demand_profile.growth``); the places each unit needs come from `offered_load` of the
scenario projected to each year, divided by a target occupancy. Both are analytic, so a planner
sees the whole 2025-2035 curve in a second; what they leave out (queues, blocking, seasons'
peaks) is what `flowsim run` and `flowsim target` add. Offered load counts a ward bed through
the stay, the referral and the wait for the discharge window, not through a wait for community
capacity, so "places needed" is the capacity at which nothing waits on average at that
occupancy, not a guarantee of flow.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from flowsim.analysis.offered_load import offered_load
from flowsim.scenario import apply_changes
from flowsim.scenario.schema import AGE_BANDS, FRAILTY_BANDS, Scenario
from flowsim.scenario.units import ROUTES

__all__ = [
    "DAYS_PER_YEAR",
    "TARGET_OCCUPANCY",
    "at_year",
    "demand_by_segment",
    "demand_now_and_then",
    "projection_by_year",
]

DAYS_PER_YEAR = 365.25
TARGET_OCCUPANCY = 0.92
"""Occupancy at which places needed are counted: the level NHS planning uses for G&A beds
(SFH ran at 92.5% and NUH at 93.8% in December 2022, planning.md [F10] (M)); RCEM's safe level
is 85% [F10]. An assumption for every unit alike; say so when quoting a number."""


def at_year(scenario: Scenario, year: int) -> Scenario:
    """``scenario`` with its population moved to ``year`` (any year the projection covers)."""
    return apply_changes(scenario, {"population.projection_year": year})


def demand_by_segment(scenario: Scenario) -> pd.DataFrame:
    """One row per place x age band x frailty band: ``people`` and urgent contacts a day by
    route (999 calls, walk-ins, GP referrals, before UCR diverts any) and in ``total``; seasonal
    profiles average out over the year and are left out."""
    growth = scenario.demand_profile.growth
    rows = []
    for place in scenario.population.places:
        for seg in place.segments:
            row: dict[str, object] = {
                "place": place.name,
                "age_band": seg.age_band,
                "frailty": seg.frailty,
                "people": seg.people,
            }
            for route in ROUTES:
                per_year = getattr(seg, f"{route}_per_person_year")
                row[route] = seg.people * per_year * place.demand_multiplier * growth
                row[route] = float(row[route]) / DAYS_PER_YEAR  # type: ignore[arg-type]
            row["total"] = sum(float(row[r]) for r in ROUTES)  # type: ignore[arg-type]
            rows.append(row)
    return pd.DataFrame(rows)


def demand_now_and_then(scenario: Scenario, year: int) -> pd.DataFrame:
    """Residents and urgent contacts a day by age band and frailty band, in the scenario's own
    year and in ``year``, with the change in per cent and each row's share of all contacts."""
    now, then = scenario, at_year(scenario, year)
    first, last = now.population.base_year, then.population.base_year
    parts = []
    for label, s in ((first, now), (last, then)):
        table = demand_by_segment(s).groupby(["age_band", "frailty"])[["people", "total"]].sum()
        parts.append(table.rename(columns=lambda c, y=label: f"{c}_{y}"))
    out = pd.concat(parts, axis=1)
    order = pd.MultiIndex.from_product([AGE_BANDS, FRAILTY_BANDS], names=["age_band", "frailty"])
    out = out.reindex(order).fillna(0.0).reset_index()
    for what in ("people", "total"):
        before, after = out[f"{what}_{first}"], out[f"{what}_{last}"]
        out[f"{what}_change_pct"] = 100.0 * (after / before.where(before > 0) - 1.0)
    for y in (first, last):
        out[f"share_{y}_pct"] = 100.0 * out[f"total_{y}"] / out[f"total_{y}"].sum()
    return out


def projection_by_year(
    scenario: Scenario, years: Iterable[int], target_occupancy: float = TARGET_OCCUPANCY
) -> pd.DataFrame:
    """One row per year and unit: the population's demand (contacts a day, by age band in
    ``contacts_<age band>``, and the shares from people aged 85+ and from frail or severely
    frail people), the unit's arrivals and offered places (`offered_load`), today's places, and
    ``places_needed``: offered places divided by ``target_occupancy``, rounded up. Years are
    projected from the scenario's own population."""
    if not 0 < target_occupancy <= 1:
        raise ValueError(f"target_occupancy must be in (0, 1], got {target_occupancy:g}")
    rows = []
    for year in years:
        projected = at_year(scenario, year)
        demand = demand_by_segment(projected)
        total = float(demand["total"].sum())
        old = float(demand.loc[demand["age_band"] == "85+", "total"].sum())
        frail = float(demand.loc[demand["frailty"] != "fit", "total"].sum())
        people = int(demand["people"].sum())
        by_band = demand.groupby("age_band")["total"].sum()
        bands = {f"contacts_{band}": float(by_band.get(band, 0.0)) for band in AGE_BANDS}
        table = offered_load(projected).table
        for unit in table.to_dict("records"):
            offered = float(unit["offered_places"])
            rows.append(
                {
                    "year": year,
                    "people": people,
                    "contacts_per_day": total,
                    "share_85_plus_pct": 100.0 * old / total,
                    "share_frail_pct": 100.0 * frail / total,
                    **bands,
                    "unit": unit["unit"],
                    "label": unit["label"],
                    "arrivals_per_day": unit["arrivals_per_day"],
                    "offered_places": offered,
                    "places": unit["places"],
                    "places_needed": math.ceil(offered / target_occupancy - 1e-9),
                }
            )
    return pd.DataFrame(rows)
