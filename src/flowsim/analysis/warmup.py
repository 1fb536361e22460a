"""How long a run must settle before it is measured: MSER-5 on the key occupancy series.

A run starts empty, so for its first weeks wards are emptier and community caseloads far
smaller than in the steady state the KPIs describe (P2 and P3 services take months to fill). MSER
(White 1997; MSER-5 from White, Cobb & Spratt 2000) picks the truncation point that minimises the
standard error of the mean of what is left, on batch means of 5; Hoad, Robinson & Davies (2010,
the AutoSimOA project) found it the most reliable of the automatic warm-up rules. It is applied to
each series averaged over replications (as in Welch's method, averaging removes noise that would
hide the trend), and the recommendation is the longest truncation over the series, so every one
of them has settled.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from flowsim.analysis.eventframe import EventFrame
from flowsim.analysis.kpis import GENERAL_ACUTE, occupancy_series
from flowsim.log import EventLog
from flowsim.scenario.units import COMMUNITY_UNITS, put_warm_start, warm_start_path

__all__ = ["WARMUP_UNITS", "Snapshot", "mser", "recommend_warm_up", "snapshot", "warmup_series"]

WARMUP_UNITS: tuple[str, ...] = ("ed_cubicle", GENERAL_ACUTE, *COMMUNITY_UNITS)
"""Units whose occupancy decides the warm-up: ED fills in hours, beds in weeks, community
services in months."""


def mser(values: Sequence[float] | np.ndarray, batch: int = 5) -> int:
    """The number of leading points to delete, by MSER on batch means of ``batch`` points.

    Only truncations up to half the series are considered: beyond that the statistic is
    dominated by the few points left and favours deleting almost everything (a known artefact).
    """
    y = np.asarray(values, dtype=float)
    y = y[~np.isnan(y)]
    m = len(y) // batch
    if m < 4:
        raise ValueError(
            f"MSER needs at least {4 * batch} points (4 batches of {batch}); got {len(y)}: "
            "run longer or use shorter bins"
        )
    z = y[: m * batch].reshape(m, batch).mean(axis=1)
    stats = [float(np.sum((z[d:] - z[d:].mean()) ** 2)) / (m - d) ** 2 for d in range(m // 2 + 1)]
    best_d = int(np.argmin(stats))  # the first of equal minima: delete no more than needed
    return best_d * batch


def warmup_series(
    log: EventLog, units: Iterable[str] = WARMUP_UNITS, bin_hours: float = 24.0
) -> pd.DataFrame:
    """Occupied places per bin from time 0 (warm-up included): ``unit, day, occupied``."""
    have = set(log.places) | {GENERAL_ACUTE}
    chosen = [u for u in units if u in have and (u == GENERAL_ACUTE or u in log.capacities)]
    series = occupancy_series(log, chosen, bin_hours=bin_hours, include_warm_up=True)
    return pd.DataFrame(
        {
            "unit": series["unit"],
            "day": series["start_hours"] / 24.0,
            "occupied": series["occupied"],
        }
    )


def recommend_warm_up(series: pd.DataFrame, batch: int = 5) -> tuple[float, pd.DataFrame]:
    """MSER-5 per unit on the mean over replications of ``series`` (rows ``replication, unit,
    day, occupied``), and the recommended warm-up in days (the longest of them, rounded up to
    a whole week).

    Returns ``(days, table)`` with ``table``: ``unit, truncation_days, settled_mean``.
    """
    mean = series.groupby(["unit", "day"], sort=False)["occupied"].mean().reset_index()
    rows = []
    for unit, group in mean.groupby("unit", sort=False):
        group = group.sort_values("day")
        days = group["day"].to_numpy()
        values = group["occupied"].to_numpy()
        if np.nanmax(values, initial=0.0) == 0.0:
            continue  # an unused service says nothing about warm-up
        step = float(np.median(np.diff(days))) if len(days) > 1 else 1.0
        cut = mser(values, batch)
        rows.append((str(unit), cut * step, float(np.nanmean(values[cut:]))))
    table = pd.DataFrame(rows, columns=["unit", "truncation_days", "settled_mean"])
    longest = float(table["truncation_days"].max()) if len(table) else 0.0
    return float(np.ceil(longest / 7.0) * 7.0), table


@dataclass
class Snapshot:
    """Who is where at one moment of a run, as a scenario's ``warm_start`` section."""

    at_hours: float
    warm_start: dict[str, Any]
    occupied: dict[str, int]
    """Unit name as in the log -> patients in it (capped at base capacity, see `notes`)."""
    notes: list[str] = field(default_factory=list)


def snapshot(log: EventLog, at_hours: float | None = None) -> Snapshot:
    """The occupancy and elapsed stays of AMU, AFU, wards and community services at
    ``at_hours`` (default: the end of the run), ready to warm-start another run.

    A unit over its base capacity (escalation beds open) keeps the patients who came first,
    since a warm start opens no escalation beds; each cap is listed in ``notes``.
    """
    t = log.end_hours if at_hours is None else float(at_hours)
    if not 0.0 <= t <= log.end_hours:
        raise ValueError(f"at_hours must be within the run, 0 to {log.end_hours:g}; got {t:g}")
    stays = EventFrame(log).stays
    inside = stays[(stays["start"] <= t) & ~(stays["end"] <= t)]
    section: dict[str, Any] = {}
    occupied: dict[str, int] = {}
    notes = []
    for unit, group in inside.groupby("unit", observed=True, sort=True):
        unit = str(unit)
        if warm_start_path(unit) is None:  # ED and UCR empty within hours
            continue
        started = np.sort(group["start"].to_numpy())
        cap = log.capacities.get(unit, len(started))
        if len(started) > cap:
            notes.append(
                f"{unit}: {len(started)} in the unit at {t / 24:g} days, {cap} kept (base "
                "capacity; escalation beds were open)"
            )
            started = started[:cap]
        if not len(started):
            continue
        elapsed = np.round((t - started) / 24.0, 4)
        entry = {
            "occupied": len(started),
            "elapsed_days": {"dist": "empirical", "values": elapsed.tolist()},
        }
        occupied[unit] = len(started)
        put_warm_start(section, unit, entry)
    return Snapshot(t, section, occupied, notes)
