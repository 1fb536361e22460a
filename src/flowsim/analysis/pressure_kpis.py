"""KPIs of the pressure responses, read from ``EventLog.pressure`` (see `flowsim.log`).

Measured over ``[warm_up, end)`` as every KPI. A run without a ``pressure`` section has no rows
and no pressure KPIs, so its KPI table is unchanged.

=============================  ==========  ====================================================
kpi                            unit        definition
=============================  ==========  ====================================================
opel_level_share_<n>           %           time at OPEL level n (1-4)
outlier_share                  %           ward admissions (START at a ward) placed as outliers
electives_admitted             per day     elective admissions
electives_cancelled            per day     electives cancelled for pressure (OPEL, occupancy)
electives_cancelled_no_bed     per day     electives cancelled for lack of a free bed
electives_cancelled_share      %           both kinds of cancellation, of electives scheduled
elective_beds_mean             beds        elective inpatients in beds, time-weighted
spot_places_mean_<unit>        places      spot-purchased places open, time-weighted (place-days
                                           bought per day; `spot_place_days` gives the total)
=============================  ==========  ====================================================
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np

from flowsim.log import EventLog, Kind
from flowsim.scenario.units import is_ward

UNITS: dict[str, str] = {
    "opel_level_share_": "%",
    "outlier_share": "%",
    "electives_admitted": "per day",
    "electives_cancelled": "per day",
    "electives_cancelled_no_bed": "per day",
    "electives_cancelled_share": "%",
    "elective_beds_mean": "beds",
    "spot_places_mean_": "places",
}
"""Units of the pressure KPIs; keys ending in ``_`` are prefixes."""


def _signals(log: EventLog) -> dict[str, list[tuple[float, int]]]:
    out: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for t, signal, value in log.pressure:
        out[signal].append((t, value))
    return out


def _time_integral(rows: list[tuple[float, int]], a: float, b: float) -> float:
    """Integral over ``[a, b]`` of a step function set by ``rows`` (0 before the first)."""
    total = 0.0
    for i, (t, value) in enumerate(rows):
        until = rows[i + 1][0] if i + 1 < len(rows) else b
        lo, hi = max(t, a), min(until, b)
        if hi > lo:
            total += value * (hi - lo)
    return total


def _value_at(rows: list[tuple[float, int]], t: float) -> int:
    """A running total as it stood just before ``t``."""
    value = 0
    for when, v in rows:
        if when >= t:
            break
        value = v
    return value


def _increase(rows: list[tuple[float, int]], a: float, b: float) -> int:
    return _value_at(rows, b) - _value_at(rows, a)


def opel_hours(log: EventLog) -> dict[int, float]:
    """Hours at each OPEL level (1-4) in the measurement period; empty without OPEL."""
    rows = _signals(log).get("opel")
    if not rows:
        return {}
    a, b = log.warm_up_hours, log.end_hours
    return {
        level: _time_integral([(t, int(v == level)) for t, v in rows], a, b)
        for level in (1, 2, 3, 4)
    }


def elective_counts(log: EventLog) -> dict[str, int]:
    """Electives ``admitted``, ``cancelled`` (pressure) and ``no_bed`` in the period, all wards."""
    a, b = log.warm_up_hours, log.end_hours
    out = {"admitted": 0, "cancelled": 0, "no_bed": 0}
    names = {
        "electives_admitted": "admitted",
        "electives_cancelled": "cancelled",
        "electives_no_bed": "no_bed",
    }
    for signal, rows in _signals(log).items():
        key = names.get(signal.split(":", 1)[0])
        if key is not None:
            out[key] += _increase(rows, a, b)
    return out


def spot_place_days(log: EventLog) -> dict[str, float]:
    """Spot-purchased place-days open in the period, by community service (for costing)."""
    a, b = log.warm_up_hours, log.end_hours
    return {
        signal.split(":", 1)[1]: _time_integral(rows, a, b) / 24.0
        for signal, rows in _signals(log).items()
        if signal.startswith("spot:")
    }


def outlier_share(log: EventLog) -> float:
    """Ward admissions in the period placed in another group's bed, as % of all ward STARTs."""
    a, b = log.warm_up_hours, log.end_hours
    outliers = sum(
        1 for t, signal, _ in log.pressure if signal.startswith("outlier:") and a <= t < b
    )
    ev = log.event_arrays()
    wards = np.array([is_ward(n) for n in log.places])
    starts = (ev["kind"] == int(Kind.START)) & wards[ev["place"]]
    starts &= (ev["time"] >= a) & (ev["time"] < b)
    n = int(starts.sum())
    return 100.0 * outliers / n if n else float("nan")


def pressure_kpis(log: EventLog, add: Callable[[str, float], None]) -> None:
    """Add the KPIs of the responses the run had switched on (``log.meta["pressure"]``)."""
    enabled = set(log.meta.get("pressure", ()))
    if not enabled:
        return
    a, b = log.warm_up_hours, log.end_hours
    days = (b - a) / 24.0
    if "opel" in enabled:
        for level, h in opel_hours(log).items():
            add(f"opel_level_share_{level}", 100.0 * h / (b - a))
    if "outlying" in enabled:
        add("outlier_share", outlier_share(log))
    if "electives" in enabled:
        counts = elective_counts(log)
        add("electives_admitted", counts["admitted"] / days)
        add("electives_cancelled", counts["cancelled"] / days)
        add("electives_cancelled_no_bed", counts["no_bed"] / days)
        scheduled = sum(counts.values())
        lost = counts["cancelled"] + counts["no_bed"]
        add("electives_cancelled_share", 100.0 * lost / scheduled if scheduled else float("nan"))
        beds = sum(
            _time_integral(rows, a, b)
            for s, rows in _signals(log).items()
            if s.split(":", 1)[0] == "electives"
        )
        add("elective_beds_mean", beds / (b - a))
    if "community_surge" in enabled:
        for unit, place_days in spot_place_days(log).items():
            add(f"spot_places_mean_{unit}", place_days / days)
