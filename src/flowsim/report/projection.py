"""The projection figure: urgent demand by age band, and the places it needs, year by year.

Drawn from `flowsim.analysis.projection.projection_by_year`, so it is analytic (no run): three
panels sharing the years, demand stacked by age band on top, then the G&A beds, then the AMU and
AFU beds and community places needed at the target occupancy, each against the places the
scenario has today (dashed), so the year a line crosses its dash is the year that unit runs out.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from matplotlib.figure import Figure

from flowsim.report.style import BLUE, GREEN, GREY, ORANGE, RED, house_style, new_figure
from flowsim.scenario.schema import AGE_BANDS
from flowsim.scenario.units import (
    ACUTE_UNITS,
    DISCHARGE_PATHWAY_UNITS,
    in_group,
    is_ward,
    unit_label,
)

__all__ = ["ACUTE_LABEL", "HOSPITAL_GROUPS", "projection_figure"]

ACUTE_LABEL = " and ".join(str(unit_label(u)) for u in ACUTE_UNITS)
HOSPITAL_GROUPS: dict[str, Callable[[str], bool]] = {
    "G&A wards": is_ward,
    ACUTE_LABEL: lambda unit: in_group(unit, "acute"),
}
"""Hospital units summed into one figure each (offered places add up within a group)."""
_OTHERS = (
    (f"{ACUTE_LABEL} beds", ACUTE_UNITS, ORANGE),
    *(
        (str(unit_label(u)), (u,), colour)
        for u, colour in zip(DISCHARGE_PATHWAY_UNITS, (GREEN, RED, GREY), strict=True)
    ),
)
_BAND_COLOURS = ("#c9d6ea", "#8fb0d9", BLUE, "#0d2f57")


def projection_figure(table: pd.DataFrame, name: str, target_occupancy: float) -> Figure:
    """Three panels from a `projection_by_year` table of one scenario."""
    years = sorted(table["year"].unique())
    per_year = table.drop_duplicates("year").set_index("year").loc[years]
    percent = f"{100 * target_occupancy:.0f}"
    with house_style():
        fig, (demand, hospital, community) = new_figure(11.0, rows=3)
        demand.stackplot(
            years,
            [per_year[f"contacts_{band}"] for band in AGE_BANDS],
            labels=[f"aged {band}" for band in AGE_BANDS],
            colors=_BAND_COLOURS,
        )
        first, last = per_year.iloc[0], per_year.iloc[-1]
        demand.set_title(
            f"{name}: urgent contacts a day, {first['contacts_per_day']:.0f} in {years[0]} and "
            f"{last['contacts_per_day']:.0f} in {years[-1]}\n(aged 85+: "
            f"{first['share_85_plus_pct']:.1f}% and {last['share_85_plus_pct']:.1f}% of them)"
        )
        demand.set_ylabel("contacts a day")
        demand.legend(loc="lower left", ncols=4)
        wards = table[table["unit"].map(is_ward)].groupby("year")
        sums = wards[["places_needed", "places"]].sum().loc[years]
        hospital.plot(years, sums["places_needed"], color=BLUE, marker="o", label="G&A wards")
        hospital.plot(years, sums["places"], color=BLUE, linestyle="--", linewidth=1.2)
        hospital.set_ylabel("beds")
        hospital.set_title(f"G&A beds needed at {percent}% occupancy (dashed: today's)")
        hospital.legend(loc="upper left")
        for label, units, colour in _OTHERS:
            rows = table[table["unit"].isin(units)].groupby("year")
            sums = rows[["places_needed", "places"]].sum().loc[years]
            community.plot(years, sums["places_needed"], color=colour, marker="o", label=label)
            community.plot(years, sums["places"], color=colour, linestyle="--", linewidth=1.2)
        community.set_ylabel("places")
        community.set_title(f"{ACUTE_LABEL} beds, community places at {percent}% (dashed: today's)")
        community.legend(loc="upper left", ncols=2)
        community.set_xlabel("year (population projected from the scenario's; services as today)")
        community.set_xticks(years)
    return fig
