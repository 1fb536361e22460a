"""Analysis: KPIs and tables computed from a replication's `EventLog` (pandas; never the model).

`compute_kpis(log)` gives one replication's KPIs as a tidy ``kpi, unit, value`` table;
`summarise(table)` gives means and 95% confidence intervals across replications;
`occupancy_series(log)` gives binned occupancy for figures; `EventFrame(log)` exposes the
decoded events and the derived per-visit, per-stay and per-spell tables, and its ``rows`` (a
`PatientRows`) the paired events for row-level analyses such as the bottleneck attribution.
Units are named and grouped by the catalogue in `flowsim.scenario.units`; the event log's
contract is `flowsim.log`.
"""

from flowsim.analysis.eventframe import EventFrame, StepSeries
from flowsim.analysis.kpis import (
    GENERAL_ACUTE,
    PRIMARY_KPIS,
    compute_kpis,
    kpi_unit,
    occupancy_series,
    summarise,
)
from flowsim.analysis.rows import PatientRows

__all__ = [
    "GENERAL_ACUTE",
    "PRIMARY_KPIS",
    "EventFrame",
    "PatientRows",
    "StepSeries",
    "compute_kpis",
    "kpi_unit",
    "occupancy_series",
    "summarise",
]
