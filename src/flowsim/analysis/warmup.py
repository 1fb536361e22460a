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
from flowsim.scenario.base import FRAILTY_BANDS
from flowsim.scenario.units import (
    COMMUNITY_UNITS,
    DISCHARGE_PATHWAY_UNITS,
    put_warm_start,
    warm_start_path,
)
from flowsim.scenario.warm_start import LOOKAHEAD_DAYS

__all__ = [
    "LOOKAHEAD_DAYS",
    "WARMUP_UNITS",
    "Snapshot",
    "delayed_at",
    "mser",
    "recommend_warm_up",
    "returns_after",
    "snapshot",
    "warmup_series",
]

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


def snapshot(log: EventLog, at_hours: float | None = None, *, escalation: bool = False) -> Snapshot:
    """The occupancy and elapsed stays of AMU, AFU, wards and community services at
    ``at_hours`` (default: the end of the run), ready to warm-start another run.

    A unit over its base capacity (escalation beds open) keeps the patients who came first,
    unless ``escalation`` (every patient kept, and the places open beyond the base at ``at_hours``
    written as ``opened``, so a warm start opens them at time 0, as the app's census does);
    each is listed in ``notes``. A ward's medically optimised patients
    are its ``delayed``, by pathway (`delayed_at`), so a warm start does not restart their
    treatment.
    """
    t = log.end_hours if at_hours is None else float(at_hours)
    if not 0.0 <= t <= log.end_hours:
        raise ValueError(f"at_hours must be within the run, 0 to {log.end_hours:g}; got {t:g}")
    ef = EventFrame(log)
    stays = ef.stays
    inside = stays[(stays["start"] <= t) & ~(stays["end"] <= t)]
    waiting = delayed_at(ef, t)
    frailty = ef.patients.set_index("patient")["frailty"]
    opened = opened_at(log, t)
    section: dict[str, Any] = {"mix": "in_progress"}
    occupied: dict[str, int] = {}
    notes = []
    for unit, group in inside.groupby("unit", observed=True, sort=True):
        unit = str(unit)
        if warm_start_path(unit) is None:  # ED, SDEC and UCR empty within hours
            continue
        group = group.sort_values("start", kind="stable")
        cap = log.capacities.get(unit, len(group))
        if len(group) > cap and escalation:
            notes.append(f"{unit}: {len(group)} patients in {cap} base places")
        elif len(group) > cap:
            notes.append(
                f"{unit}: {len(group)} in the unit at {t / 24:g} days, {cap} kept (base "
                "capacity; escalation beds were open)"
            )
            group = group.iloc[:cap]
        if not len(group):
            continue
        delayed = waiting.get(unit, pd.DataFrame(columns=["patient", "pathway", "referred"]))
        unknown = int((delayed["pathway"] == "").sum())
        if unknown:
            notes.append(
                f"{unit}: {unknown} medically optimised patients whose discharge pathway the "
                f"log does not show by its end, counted in treatment (run {LOOKAHEAD_DAYS:g} "
                "days past the census day to know it)"
            )
        entry = _entry(group, delayed[delayed["pathway"] != ""], t, frailty)
        if escalation and opened.get(unit):
            entry["opened"] = opened[unit]
        occupied[unit] = entry["occupied"]
        put_warm_start(section, unit, entry)
    if returns := returns_after(ef, t):
        section["returns"] = returns
    if log.end_hours < t + LOOKAHEAD_DAYS * 24.0:
        notes.append(
            f"returns: patients who left before {t / 24:g} days and come back after "
            f"{log.end_hours / 24:g} days (the log's end) are not known (run {LOOKAHEAD_DAYS:g} "
            "days past the census day to know them)"
        )
    return Snapshot(t, section, occupied, notes)


def returns_after(ef: EventFrame, t: float) -> list[dict[str, Any]]:
    """The ``warm_start.returns`` of a census at ``t``: patients whose stay (or visit) before
    ended by ``t`` and who came back after it, as the log shows them, by arrival stream (hours
    after ``t``). A run starting from the census is owed them (`flowsim.scenario.warm_start.
    WarmStartReturns`)."""
    pts = ef.patients
    left = pts.set_index("patient")["depart"]
    back = pts[(pts["readmission_of"] >= 0) & (pts["arrival"] > t)]
    back = back[back["readmission_of"].map(left) <= t]
    out = []
    keys = ["place", "age_band", "frailty", "route"]
    for key, rows in back.groupby([back[k].astype(str) for k in keys], sort=True):
        hours = np.sort(np.round(rows["arrival"].to_numpy(dtype=float) - t, 4))
        out.append({**dict(zip(keys, key, strict=True)), "after_hours": hours.tolist()})
    return out


def _entry(
    group: pd.DataFrame, waiting: pd.DataFrame, t: float, frailty: pd.Series
) -> dict[str, Any]:
    """One unit's ``warm_start`` entry: its patients, those in treatment by frailty band, the
    delayed by pathway."""

    def elapsed(starts: Iterable[float]) -> dict[str, Any]:
        days = np.round((t - np.asarray(list(starts), dtype=float)) / 24.0, 4)
        return {"dist": "empirical", "values": days.tolist()}

    delayed = waiting[waiting["patient"].isin(group["patient"])] if len(waiting) else waiting
    treating = group[~group["patient"].isin(delayed["patient"])] if len(delayed) else group
    entry: dict[str, Any] = {"occupied": len(group)}
    if len(treating):
        entry["elapsed_days"] = elapsed(treating["start"])
        entry["frailty"] = _bands(treating["patient"], frailty)
    if len(delayed):
        on_ward = dict(zip(group["patient"], group["start"], strict=True))
        entry["delayed"] = {
            pathway: {
                "assessing": int((~rows["referred"]).sum()),
                "referred": int(rows["referred"].sum()),
                "elapsed_days": elapsed(on_ward[pid] for pid in rows["patient"]),
                "frailty": _bands(rows["patient"], frailty),
            }
            for pathway, rows in delayed.groupby("pathway", sort=True)
        }
    return entry


def _bands(patients: pd.Series, frailty: pd.Series) -> dict[str, int]:
    counts = patients.map(frailty).astype(str).value_counts()
    return {b: int(counts.get(b, 0)) for b in FRAILTY_BANDS}


def opened_at(log: EventLog, t: float) -> dict[str, list[str]]:
    """Unit -> the kinds of places beyond its base (``escalation``, ``full_capacity_protocol``)
    open at ``t``, from ``EventLog.meta["escalation"]`` (written by the model's escalation
    rules)."""
    state: dict[tuple[str, str], bool] = {}
    for when, unit, kind, is_open in log.meta.get("escalation", []):
        if when <= t:
            state[(unit, kind)] = bool(is_open)
    out: dict[str, list[str]] = {}
    for (unit, kind), is_open in sorted(state.items()):
        if is_open:
            out.setdefault(unit, []).append(kind)
    return out


def delayed_at(ef: EventFrame, t: float) -> dict[str, pd.DataFrame]:
    """Ward -> its patients medically optimised and still there at ``t``: ``patient``,
    ``pathway`` (P0-P3) and ``referred`` (already queued for a place at ``t``).

    The pathway is what the log shows next: the patient's first queue at P1-P3 after being
    optimised, or a P0 discharge. Those the log ends on before either have pathway ``""``
    (`snapshot` counts them in treatment and says so in its notes): run `LOOKAHEAD_DAYS` past
    the census day to know them all, as the app and ``flowsim snapshot`` do.
    """
    d = ef.delays
    d = d[(d["start"] <= t) & ~(d["end"] <= t)]
    if d.empty:
        return {}
    q = ef.queues
    q = q[q["unit"].isin(DISCHARGE_PATHWAY_UNITS)][["patient", "unit", "queue"]]
    m = d[["patient", "unit", "start"]].merge(
        q.rename(columns={"unit": "pathway"}), on="patient", how="left"
    )
    m = m[m["queue"].isna() | (m["queue"] >= m["start"])]
    m = m.sort_values(["patient", "queue"]).drop_duplicates("patient", keep="first")
    outcome = ef.patients.set_index("patient")["outcome"]
    p0 = m["queue"].isna() & (m["patient"].map(outcome).astype(str) == "P0")
    known = np.where(m["queue"].notna(), m["pathway"].astype(str).str.upper(), "")
    m["pathway"] = np.where(p0, "P0", known)
    m["referred"] = m["queue"].notna() & (m["queue"] <= t)
    return {
        str(unit): rows[["patient", "pathway", "referred"]].reset_index(drop=True)
        for unit, rows in m.groupby("unit", observed=True, sort=True)
    }
