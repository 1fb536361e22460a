"""Headline KPIs by calendar month of one replication, from its event log.

A year's mean hides the winter: published NHS statistics are monthly (type-1 4-hour %, 12 hours
from arrival, G&A occupancy from the sitrep, NCTR), so a seasonal calibration is checked month by
month. Each month is the part of the measured period ``[warm_up, end)`` that falls in it, and its
KPIs are `flowsim.analysis.periods.PERIOD_KPIS` over that window (the definitions are tabled
there): ``month`` (first day of the calendar month, a ``date``), ``days`` (measured days of the
month in the run), then the KPIs. A log without ``meta["start_date"]`` has no calendar, and
`monthly_kpis` says so.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from flowsim.analysis.eventframe import EventFrame
from flowsim.analysis.kpis import compute_kpis
from flowsim.analysis.periods import PERIOD_KPIS, period_kpis
from flowsim.log import EventLog

__all__ = ["MONTHLY_KPIS", "month_edges", "monthly_kpis", "year_and_months"]

MONTHLY_KPIS: tuple[str, ...] = PERIOD_KPIS
"""The KPIs `monthly_kpis` gives for each month, in column order."""


def month_edges(
    start: dt.datetime, a_hours: float, b_hours: float
) -> list[tuple[dt.date, float, float]]:
    """``(first day of month, from, to)`` in model hours for each calendar month overlapping
    ``[a_hours, b_hours)``, where hour 0 is ``start``."""
    out: list[tuple[dt.date, float, float]] = []
    t = start + dt.timedelta(hours=a_hours)
    month = dt.datetime(t.year, t.month, 1)
    while True:
        nxt = dt.datetime(month.year + month.month // 12, month.month % 12 + 1, 1)
        lo = max(a_hours, (month - start).total_seconds() / 3600.0)
        hi = min(b_hours, (nxt - start).total_seconds() / 3600.0)
        if lo >= b_hours:
            break
        if hi > lo:
            out.append((month.date(), lo, hi))
        month = nxt
    return out


def monthly_kpis(log: EventLog | EventFrame, min_days: float = 0.0) -> pd.DataFrame:
    """One row per calendar month of the measured period, columns ``month, days`` and
    `MONTHLY_KPIS`. Months with fewer than ``min_days`` measured days (the ragged ends of a
    run that does not start on the 1st) are left out."""
    ef = log if isinstance(log, EventFrame) else EventFrame(log)
    if ef.start_date is None:
        raise ValueError(
            "the log has no calendar: meta['start_date'] is missing; run the scenario with "
            "flowsim (which records run.start_date) or set log.meta['start_date']"
        )
    edges = [
        (month, a, b)
        for month, a, b in month_edges(ef.start_date, ef.warm_up, ef.end)
        if (b - a) / 24.0 >= min_days
    ]
    table = period_kpis(ef, [(a, b) for _, a, b in edges])
    table.insert(0, "month", [month for month, _, _ in edges])
    return table[["month", "days", *MONTHLY_KPIS]]


def year_and_months(log: EventLog) -> dict[str, pd.DataFrame]:
    """``{"kpis": compute_kpis, "months": monthly_kpis}`` of one replication, decoded once: a
    top-level reducing function for `flowsim.experiment.run_replications` (it runs where the
    replication runs, so only two small tables travel back)."""
    ef = EventFrame(log)
    replication = int(log.meta.get("replication", 0))
    return {
        "kpis": compute_kpis(ef).assign(replication=replication),
        "months": monthly_kpis(ef).assign(replication=replication),
    }
