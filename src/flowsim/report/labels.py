"""Words and numbers for people: KPI labels, KPI groups and value formatting.

Shared by the terminal table of ``flowsim run`` and the HTML report, so both say the same.
"""

from __future__ import annotations

import math
from typing import Any

from flowsim.scenario.units import unit_from_slug, unit_label

__all__ = [
    "KPI_GROUPS",
    "format_ci",
    "format_difference",
    "format_value",
    "kpi_group",
    "kpi_label",
]

_LABELS: dict[str, str] = {
    "ed_attendances": "ED attendances",
    "ed_within_4h": "ED: left within 4 hours of arrival",
    "ed_over_12h": "ED: attendances over 12 hours from arrival",
    "ed_over_12h_share": "ED: over 12 hours from arrival",
    "ed_time_mean": "Time in ED, mean",
    "ed_time_median": "Time in ED, median",
    "ed_time_p95": "Time in ED, 95th percentile",
    "handover_mean": "Ambulance handover delay, mean",
    "handover_over_30min_share": "Handovers over 30 minutes",
    "handover_over_60min_share": "Handovers over 60 minutes",
    "ambulance_hours_lost": "Ambulance hours lost (beyond 15 min)",
    "ed_boarding_mean": "ED boarding (decision to admit to leaving ED), mean",
    "ed_boarding_over_12h": "ED boarding over 12 hours, patients",
    "ed_boarding_over_12h_share": "ED boarding over 12 hours, share of admitted",
    "admissions": "Emergency admissions",
    "ed_conversion": "ED conversion (attendances admitted)",
    "los_mean": "Length of stay, mean",
    "los_median": "Length of stay, median",
    "occupancy_mean_general_acute": "G&A bed occupancy, mean",
    "occupancy_p95_general_acute": "G&A bed occupancy, 95th percentile",
    "delayed_patients_mean": "Delayed discharges (no criteria to reside), mean patients",
    "delayed_share_of_ward_beds": "Ward beds held by delayed discharges",
    "delayed_days_mean": "Delay per delayed discharge, mean",
    "readmission_rate": "Readmission rate",
    "admissions_avoided_ucr": "Admissions avoided by UCR",
    "admissions_avoided_sdec": "Admissions avoided by SDEC",
    "admissions_avoided_virtual_ward": "Admissions avoided by the virtual ward",
    "deaths_in_hospital": "Deaths in hospital",
}

_BAND_NAMES = {"fit": "fit", "frail": "frail", "severe": "severely frail"}
"""Frailty bands as ``los_mean_frailty_<band>`` names them."""

_PREFIXES: tuple[tuple[str, str], ...] = (
    ("los_mean_frailty_", "Length of stay, mean, {}"),
    ("los_mean_", "Length of stay in unit, mean, {}"),
    ("occupancy_mean_", "Occupancy, mean, {}"),
    ("occupancy_p95_", "Occupancy, 95th percentile, {}"),
    ("community_wait_mean_", "Wait for community service, mean, {}"),
)

KPI_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Emergency department", ("ed_",)),
    ("Ambulance handover", ("handover_", "ambulance_")),
    ("Admissions", ("admissions", "ed_conversion")),
    ("Length of stay", ("los_",)),
    ("Occupancy", ("occupancy_",)),
    ("Delayed discharge", ("delayed_",)),
    ("Community and readmission", ("community_", "readmission_")),
    ("Admissions avoided and deaths", ("admissions_avoided_", "deaths_")),
)
"""Report sections: title and KPI name prefixes (first match wins, most specific first)."""


def _unit_name(slug: str) -> str:
    """A unit (or frailty band) as KPI names write it, in the catalogue's words."""
    if slug in _BAND_NAMES:
        return _BAND_NAMES[slug]
    label = unit_label(unit_from_slug(slug))
    return label if label is not None else slug.replace("_", " ")


def kpi_label(kpi: str) -> str:
    """A KPI name in words: ``occupancy_mean_ward_care_of_elderly`` -> ``Occupancy, mean, ward:
    care of elderly``; unknown names are returned with spaces for underscores."""
    if kpi in _LABELS:
        return _LABELS[kpi]
    for prefix, template in _PREFIXES:
        if kpi.startswith(prefix):
            return template.format(_unit_name(kpi.removeprefix(prefix)))
    return kpi.replace("_", " ").capitalize()


def kpi_group(kpi: str) -> str:
    """Title of the `KPI_GROUPS` section a KPI belongs to (``Other`` if none)."""
    ordered = sorted(
        ((prefix, title) for title, prefixes in KPI_GROUPS for prefix in prefixes),
        key=lambda pair: len(pair[0]),
        reverse=True,
    )
    for prefix, title in ordered:
        if kpi.startswith(prefix):
            return title
    return "Other"


def _decimals(size: float, unit: str) -> int:
    if unit == "%":
        return 1
    if size >= 100 or size == 0:
        return 0
    if size >= 10:
        return 1
    if size >= 1:
        return 2
    return 1 - math.floor(math.log10(size))  # two significant figures


def _finite(*values: float | None) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def format_value(value: float | None, unit: str = "", like: float | None = None) -> str:
    """A number with sensible precision for its size: ``1,234``, ``56.3``, ``7.42``, ``0.051``
    (percentages: one decimal place); ``–`` when missing. ``like`` sets the precision instead, so
    a mean and its interval can be shown alike."""
    if value is None or not math.isfinite(value):
        return "–"
    size = abs(like) if like is not None and math.isfinite(like) else abs(value)
    return f"{value:,.{_decimals(size, unit)}f}"


def format_ci(
    low: float | None, high: float | None, unit: str = "", like: float | None = None
) -> str:
    """``low – high``, both in the precision of ``like`` (else of the larger bound); ``–`` when the
    interval is missing (fewer than two replications)."""
    if not _finite(low, high):
        return "–"
    assert low is not None and high is not None
    ref = like if like is not None and math.isfinite(like) else max(abs(low), abs(high))
    return f"{format_value(low, unit, ref)} – {format_value(high, unit, ref)}"


def format_difference(row: Any) -> tuple[str, str, str]:
    """A `paired_comparison` row in words: ``("+0.8 (0.6 – 1.0)", "+3.1%", "higher, worse")``.

    The difference and its interval share one precision, set by the larger of them, so a
    small difference is not rounded to nothing beside its interval.
    """
    unit, diff = str(row.unit), float(row.difference)
    low, high = float(row.ci_low), float(row.ci_high)
    like = max(abs(low), abs(high), abs(diff)) if _finite(low, high) else diff
    sign = "+" if diff > 0 else ""
    difference = f"{sign}{format_value(diff, unit, like)} ({format_ci(low, high, unit, like)})"
    pct = float(row.pct_change)
    change = f"{pct:+.1f}%" if math.isfinite(pct) else "–"
    verdict = f"{row.verdict}, {row.assessment}" if row.assessment else str(row.verdict)
    return difference, change, verdict
