"""Capacity lost in winter: the ward beds `seasons.beds_closed_share` closes and the community
places `seasons.community_places_multiplier` scales, month by month.

Norovirus closures (pressure.md S38/S39) take a share of each ward group's beds out of use, and
home-care staff sickness a share of community places (S33, estimate). At the start of the run
and at each change of calendar month the month's value is applied as a change of capacity by the
difference from the month before, so that escalation beds or spot-purchased places opened or
closed meanwhile (also changes by a difference) are kept. Patients in a bed or place keep it: a
closure takes effect as they empty (a multiplier above 1 adds places at once).

Demand, admission and length-of-stay profiles act where patients' fates are drawn
(`flowsim.model.arrivals.seasonal_profile`, `flowsim.model.fate`).
"""

from __future__ import annotations

from flowsim.model.kernel import call_later
from flowsim.model.system import System
from flowsim.scenario.seasons import for_key


def schedule_bed_closures(system: System) -> None:
    """Close and reopen ward beds (and resize community services) at each month boundary;
    nothing at all without a profile."""
    seasons = system.scenario.seasons
    if seasons is None:
        return
    plans = []
    for unit, name in zip(system.units.wards, system.ward_names, strict=True):
        profile = for_key(seasons.beds_closed_share, name)
        if profile is not None and unit.base_capacity > 0:
            plans.append((unit, [round(share * unit.base_capacity) for share in profile]))
    for pathway, profile in seasons.community_places_multiplier.items():
        unit = getattr(system.units, pathway)
        if unit.base_capacity > 0:
            plans.append(
                (unit, [unit.base_capacity - round(m * unit.base_capacity) for m in profile])
            )
    if not plans:
        return
    closed = [0] * len(plans)
    env = system.env

    def apply(month: int) -> None:
        for i, (unit, closed_by_month) in enumerate(plans):
            change = closed_by_month[month] - closed[i]
            if change:
                unit.set_capacity(unit.capacity - change)
                closed[i] = closed_by_month[month]

    starts = system.calendar.month_starts()
    apply(starts[0][1])
    for at_hours, month in starts[1:]:
        if at_hours < system.end_hours:
            call_later(env, at_hours, [lambda _event, m=month: apply(m)])
