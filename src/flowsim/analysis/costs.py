"""Cost KPIs of one replication: what its bed-days, delays, packages and lost ambulance hours
cost a day, at the unit costs of a scenario's ``costs`` section (`flowsim.scenario.costs`).

Every cost is in pounds per day of the measurement period, so the replications' values summarise
with a confidence interval and two scenarios' costs difference as paired KPIs like any other.
The prices are each source's own year (see `flowsim.scenario.costs`): read totals as orders of
magnitude and differences between options at the same prices as the result.

=================================  ===========================================================
kpi                                definition (each x its unit cost)
=================================  ===========================================================
cost_delayed_discharges            delayed bed-days (medically optimised, still in a bed)
cost_acute_treatment               G&A bed-days (AMU, AFU, wards) of patients not yet optimised
cost_escalation_beds               escalation beds open (capacity in force above the base)
cost_ambulance_handover            ambulance hours lost at handover beyond 15 minutes
cost_ed_attendances                ED attendances
cost_cancelled_electives           electives cancelled (a run with a pressure section only)
cost_community_<unit>              P1, P2, P3, virtual ward: places provided, or places
                                   occupied, as ``costs.community_charged_for`` says
cost_community                     the community services together
cost_delay_and_community           delayed discharges plus community services: the trade-off
                                   of Wood et al. (2023), whose minimum the cost curve marks
cost_total                         every cost above
=================================  ===========================================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from flowsim.analysis.eventframe import EventFrame
from flowsim.scenario.costs import Costs
from flowsim.scenario.units import COMMUNITY_UNITS

__all__ = ["UNITS", "cost_kpis"]

UNITS: dict[str, str] = {"cost_": "£ per day"}
"""Unit of every cost KPI (a prefix)."""


def _mean_level(ef: EventFrame, series_area: float) -> float:
    span = ef.end - ef.warm_up
    return series_area / span if span > 0 else math.nan


def _get(kpis: Mapping[str, float], name: str) -> float:
    value = kpis.get(name, 0.0)
    return 0.0 if value is None or math.isnan(value) else float(value)


def cost_kpis(ef: EventFrame, kpis: Mapping[str, float], costs: Costs) -> list[tuple[str, float]]:
    """``(kpi, £ per day)`` of one replication, from its decoded log and the KPIs already
    computed (`flowsim.analysis.kpis.compute_kpis` passes both)."""
    w, e = ef.warm_up, ef.end
    inpatient = ef.inpatient_units
    occupied = _mean_level(ef, ef.occupancy_steps(inpatient).area(w, e)) if inpatient else 0.0
    delayed = _get(kpis, "delayed_patients_mean")
    escalation = 0.0
    for unit in inpatient:
        base = float(ef.log.capacities.get(unit, 0))
        escalation += max(ef.capacity_steps(unit).mean(w, e) - base, 0.0)
    out = [
        ("cost_delayed_discharges", delayed * costs.acute_delayed_day),
        ("cost_acute_treatment", max(occupied - delayed, 0.0) * costs.ga_bed_day),
        ("cost_escalation_beds", escalation * costs.escalation_bed_day),
        ("cost_ambulance_handover", _get(kpis, "ambulance_hours_lost") * costs.ambulance_hour),
        ("cost_ed_attendances", _get(kpis, "ed_attendances") * costs.ed_attendance),
    ]
    if "electives_cancelled" in kpis:
        cancelled = _get(kpis, "electives_cancelled") + _get(kpis, "electives_cancelled_no_bed")
        out.append(("cost_cancelled_electives", cancelled * costs.cancelled_elective))
    hospital = sum(v for _, v in out)
    community = 0.0
    for unit in COMMUNITY_UNITS:
        if unit not in ef.log.capacities:
            continue
        if costs.community_charged_for == "places":
            days = ef.capacity_steps(unit).mean(w, e)
        else:
            days = _mean_level(ef, ef.occupancy_steps(unit).area(w, e))
        value = days * costs.community_day(unit)
        community += value
        out.append((f"cost_community_{unit}", value))
    out.append(("cost_community", community))
    out.append(("cost_delay_and_community", delayed * costs.acute_delayed_day + community))
    out.append(("cost_total", hospital + community))
    return out
