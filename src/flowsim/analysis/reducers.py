"""Per-replication reducers: what one replication's event log becomes where it is made (in the
worker), so only a small table travels back and memory holds one log at a time.

Each is a top-level function of an `EventLog` (or a `functools.partial` of one), so it pickles
to any executor; `REDUCERS` names them for callers that choose one by name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from flowsim.analysis.bottlenecks import bottleneck_tables, waiting_hours
from flowsim.analysis.eventframe import EventFrame
from flowsim.analysis.extract import log_extract_kpis
from flowsim.analysis.figure_data import los_table
from flowsim.analysis.kpis import compute_kpis
from flowsim.analysis.periods import trend_kpis
from flowsim.analysis.warmup import WARMUP_UNITS, warmup_series
from flowsim.log import EventLog

__all__ = [
    "REDUCERS",
    "bottleneck_kpis",
    "comparison_tables",
    "replication_kpis",
    "warmup_series_of",
]


def _numbered(table: pd.DataFrame, log: EventLog) -> pd.DataFrame:
    return table.assign(replication=int(log.meta["replication"]))


def replication_kpis(log: EventLog) -> pd.DataFrame:
    """`compute_kpis` with the log's replication number."""
    return _numbered(compute_kpis(log), log)


def comparison_tables(log: EventLog) -> dict[str, object]:
    """What a comparison needs from one replication: KPIs, lengths of stay for the LOS figure,
    the bottleneck tables and the weekly trends (`trend_kpis`) for the report's first page."""
    ef = EventFrame(log)
    return {
        "kpis": _numbered(compute_kpis(ef), log),
        "los": los_table(ef),
        "bottlenecks": bottleneck_tables(ef),
        "trends": _numbered(trend_kpis(ef), log),
    }


def bottleneck_kpis(log: EventLog) -> pd.DataFrame:
    """`replication_kpis` plus ``waiting_hours`` (patient-hours per day waiting for capacity)."""
    extra = pd.DataFrame(
        [("waiting_hours", "hours per day", waiting_hours(log))], columns=["kpi", "unit", "value"]
    )
    return _numbered(pd.concat([compute_kpis(log), extra], ignore_index=True), log)


def _warmup_series(log: EventLog, units: tuple[str, ...]) -> pd.DataFrame:
    return _numbered(warmup_series(log, units), log)


def warmup_series_of(units: Sequence[str] = WARMUP_UNITS) -> Callable[[EventLog], pd.DataFrame]:
    """The daily occupancy of ``units`` from empty (`warmup_series`), with the replication."""
    return functools.partial(_warmup_series, units=tuple(units))


REDUCERS: dict[str, Callable[[EventLog], Any]] = {
    "kpis": replication_kpis,
    "comparison": comparison_tables,
    "bottleneck_kpis": bottleneck_kpis,
    "warmup_series": warmup_series_of(),
    "extract_kpis": log_extract_kpis,
    "bottleneck_tables": bottleneck_tables,
}
"""Every reducer by name."""
