"""Headline KPIs over the parts of one replication's measured period, from its event log.

A run's mean hides its course: a winter, a week of gridlock, a slow recovery. Published NHS
statistics come by month (type-1 4-hour %, 12 hours from arrival, G&A occupancy from the sitrep,
NCTR) and by week (the winter sitreps), so a run is read the same way. Each period is a window
``[lo, hi)`` of the measured period ``[warm_up, end)``, and each KPI is the annual KPI of the same
name (`flowsim.analysis.kpis`) restricted to that window:

============================  =============  ===================================================
column                        unit           definition (as the annual KPI of the same name)
============================  =============  ===================================================
days                          days           measured days in the period
ed_attendances                per day        ED attendances arriving in the period
ed_within_4h                  %              of those, leaving ED <= 4 h after arrival
ed_over_12h_share             %              of those, in ED > 12 h from arrival
handover_mean                 minutes        arrival to crew released, ambulance arrivals
ambulance_hours_lost          hours per day  handover time beyond 15 minutes, summed
admissions                    per day        hospital spells starting in the period
ed_boarding_mean              hours          of attendances arriving in the period and admitted,
                                             the mean wait in ED for a bed (decision to leaving)
occupancy_mean_general_acute  %              AMU + AFU + wards, held / in force, time-weighted
delayed_patients_mean         patients       medically optimised patients in a bed,
                                             time-weighted (delayed discharges, NCTR)
delayed_share_of_ward_beds    %              delayed_patients_mean / ward beds in force
============================  =============  ===================================================

An attendance belongs to the period it arrives in and is counted with its whole stay (as the
annual KPI counts a stay running past the end with the time so far), so periods of attendances
add up to the year. `period_kpis` takes any windows; `flowsim.analysis.monthly` cuts calendar
months, `trend_kpis` blocks of a week (a day in a run shorter than four weeks).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from flowsim.analysis.eventframe import EventFrame
from flowsim.log import EventLog

__all__ = [
    "PERIOD_KPIS",
    "block_edges",
    "period_kpis",
    "trend_block_days",
    "trend_kpis",
]

PERIOD_KPIS: tuple[str, ...] = (
    "ed_attendances",
    "ed_within_4h",
    "ed_over_12h_share",
    "handover_mean",
    "ambulance_hours_lost",
    "admissions",
    "ed_boarding_mean",
    "occupancy_mean_general_acute",
    "delayed_patients_mean",
    "delayed_share_of_ward_beds",
)
"""The KPIs `period_kpis` gives for each period, in column order."""

WEEKLY_FROM_DAYS = 28.0
"""A measured period at least this long is cut into weeks; a shorter one into days, so its
trend has more than three points."""


def _pct(mask: np.ndarray) -> float:
    return 100.0 * float(np.mean(mask)) if len(mask) else math.nan


def _frame(log: EventLog | EventFrame) -> EventFrame:
    return log if isinstance(log, EventFrame) else EventFrame(log)


def period_kpis(log: EventLog | EventFrame, windows: Sequence[tuple[float, float]]) -> pd.DataFrame:
    """One row per window ``(from, to)`` in model hours: ``start_hours, end_hours, days`` and
    `PERIOD_KPIS`. Windows should lie in the measured period; empty ones give NaN."""
    ef = _frame(log)
    v = ef.ed_visits
    arrival = v["arrival"].to_numpy()
    tin = v["time_in_ed"].to_numpy()
    amb = v["ambulance"].to_numpy() & ~np.isnan(v["handover_wait"].to_numpy())
    wait_min = v["handover_wait"].to_numpy() * 60.0
    boarding = v["boarding"].to_numpy()
    spell_start = ef.spells["start"].to_numpy()
    occ = ef.occupancy_steps(ef.inpatient_units)
    cap = ef.capacity_steps(ef.inpatient_units)
    ward_cap = ef.capacity_steps(ef.wards) if ef.wards else None
    d = ef.delays
    d_start = d["start"].to_numpy()
    d_end = d["end"].fillna(ef.end).to_numpy()

    rows = []
    for a, b in windows:
        days = (b - a) / 24.0
        here = (arrival >= a) & (arrival < b)
        t = tin[here]
        w = wait_min[here & amb]
        board = boarding[here]
        board = board[~np.isnan(board)]
        in_force = cap.area(a, b) if b > a else 0.0
        held = (np.clip(d_end, a, b) - np.clip(d_start, a, b)).sum() / (b - a) if b > a else 0.0
        beds = ward_cap.mean(a, b) if ward_cap is not None and b > a else math.nan
        per_day = 1.0 / days if days > 0 else math.nan
        rows.append(
            {
                "start_hours": a,
                "end_hours": b,
                "days": days,
                "ed_attendances": np.count_nonzero(here) * per_day,
                "ed_within_4h": _pct(t <= 4.0),
                "ed_over_12h_share": _pct(t > 12.0),
                "handover_mean": float(np.mean(w)) if len(w) else math.nan,
                "ambulance_hours_lost": np.clip(w - 15.0, 0.0, None).sum() / 60.0 * per_day,
                "admissions": np.count_nonzero((spell_start >= a) & (spell_start < b)) * per_day,
                "ed_boarding_mean": float(np.mean(board)) if len(board) else math.nan,
                "occupancy_mean_general_acute": (
                    100.0 * occ.area(a, b) / in_force if in_force > 0 else math.nan
                ),
                "delayed_patients_mean": held if b > a else math.nan,
                "delayed_share_of_ward_beds": 100.0 * held / beds if beds > 0 else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=["start_hours", "end_hours", "days", *PERIOD_KPIS])


def block_edges(a_hours: float, b_hours: float, block_days: float) -> list[tuple[float, float]]:
    """``[a_hours, b_hours)`` cut into blocks of ``block_days`` from its start; the last block
    ends at ``b_hours`` (and may be shorter)."""
    if block_days <= 0:
        raise ValueError(f"block_days must be > 0, got {block_days:g}")
    step = 24.0 * block_days
    count = max(0, math.ceil((b_hours - a_hours) / step - 1e-9))
    return [(a_hours + i * step, min(b_hours, a_hours + (i + 1) * step)) for i in range(count)]


def trend_block_days(measured_days: float) -> float:
    """The period of a run's trend: a week, or a day when fewer than four weeks are measured."""
    return 7.0 if measured_days >= WEEKLY_FROM_DAYS else 1.0


def trend_kpis(
    log: EventLog | EventFrame, block_days: float | None = None, min_days: float | None = None
) -> pd.DataFrame:
    """`period_kpis` over blocks of ``block_days`` from the end of warm-up (default
    `trend_block_days`), as ``period`` (1, 2, ...), ``start`` (the block's first moment as a
    timestamp when the log has a calendar, else NaT) and the `period_kpis` columns. A last block
    shorter than ``min_days`` (default half a block) is left out: it would be the noisiest point.
    """
    ef = _frame(log)
    block = trend_block_days(ef.days) if block_days is None else block_days
    shortest = 0.5 * block if min_days is None else min_days
    edges = [
        (a, b) for a, b in block_edges(ef.warm_up, ef.end, block) if (b - a) / 24.0 >= shortest
    ]
    out = period_kpis(ef, edges)
    start = ef.start_date
    when = (
        pd.to_datetime([start + pd.Timedelta(hours=a) for a, _ in edges])
        if start is not None
        else pd.to_datetime([pd.NaT] * len(edges))
    )
    out.insert(0, "start", when)
    out.insert(0, "period", np.arange(1, len(edges) + 1))
    return out
