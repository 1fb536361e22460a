"""Headline KPIs by calendar month of one replication, from its event log.

A year's mean hides the winter: published NHS statistics are monthly (type-1 4-hour %, 12 hours
from arrival, G&A occupancy from the sitrep, NCTR), so a seasonal calibration is checked month by
month. Each month is the part of the measured period ``[warm_up, end)`` that falls in it, with
the definitions of `flowsim.analysis.kpis` restricted to that window:

====================  =========  ===================================================
column                unit       definition (as the annual KPI of the same name)
====================  =========  ===================================================
month                 —          first day of the calendar month (a ``date``)
days                  days       measured days of the month in the run
ed_attendances        per day    ED attendances arriving in the month
ed_within_4h          %          of those, leaving ED <= 4 h after arrival
ed_over_12h_share     %          of those, in ED > 12 h from arrival
handover_mean         minutes    arrival to crew released, ambulance arrivals
admissions            per day    hospital spells starting in the month
occupancy_mean_general_acute  %  AMU + AFU + wards, held / in force, time-weighted
delayed_share_of_ward_beds    %  medically optimised patients in a bed / ward beds
====================  =========  ===================================================

An attendance belongs to the month it arrives in, and is counted with its whole stay (as the
annual KPI counts a stay running past the end with the time so far). A log without
``meta["start_date"]`` has no calendar, and `monthly_kpis` says so.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from flowsim.analysis.eventframe import EventFrame
from flowsim.analysis.kpis import compute_kpis
from flowsim.log import EventLog

__all__ = ["MONTHLY_KPIS", "month_edges", "monthly_kpis", "year_and_months"]

MONTHLY_KPIS: tuple[str, ...] = (
    "ed_attendances",
    "ed_within_4h",
    "ed_over_12h_share",
    "handover_mean",
    "admissions",
    "occupancy_mean_general_acute",
    "delayed_share_of_ward_beds",
)
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


def _pct(mask: np.ndarray) -> float:
    return 100.0 * float(np.mean(mask)) if len(mask) else math.nan


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
    v = ef.ed_visits
    arrival = v["arrival"].to_numpy()
    tin = v["time_in_ed"].to_numpy()
    amb = v["ambulance"].to_numpy() & ~np.isnan(v["handover_wait"].to_numpy())
    wait_min = v["handover_wait"].to_numpy() * 60.0
    spell_start = ef.spells["start"].to_numpy()
    occ = ef.occupancy_steps(ef.inpatient_units)
    cap = ef.capacity_steps(ef.inpatient_units)
    ward_cap = ef.capacity_steps(ef.wards) if ef.wards else None
    d = ef.delays
    d_start = d["start"].to_numpy()
    d_end = d["end"].fillna(ef.end).to_numpy()

    rows = []
    for month, a, b in month_edges(ef.start_date, ef.warm_up, ef.end):
        days = (b - a) / 24.0
        if days < min_days:
            continue
        here = (arrival >= a) & (arrival < b)
        t = tin[here]
        w = wait_min[here & amb]
        in_force = cap.area(a, b)
        held = (np.clip(d_end, a, b) - np.clip(d_start, a, b)).sum() / (b - a)
        beds = ward_cap.mean(a, b) if ward_cap is not None else math.nan
        rows.append(
            {
                "month": month,
                "days": days,
                "ed_attendances": np.count_nonzero(here) / days,
                "ed_within_4h": _pct(t <= 4.0),
                "ed_over_12h_share": _pct(t > 12.0),
                "handover_mean": float(np.mean(w)) if len(w) else math.nan,
                "admissions": np.count_nonzero((spell_start >= a) & (spell_start < b)) / days,
                "occupancy_mean_general_acute": (
                    100.0 * occ.area(a, b) / in_force if in_force > 0 else math.nan
                ),
                "delayed_share_of_ward_beds": 100.0 * held / beds if beds > 0 else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=["month", "days", *MONTHLY_KPIS])


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
