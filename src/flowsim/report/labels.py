"""Words and numbers for people: KPI labels, KPI groups and value formatting.

Shared by the terminal table of ``flowsim run`` and the HTML report, so both say the same.
"""

from __future__ import annotations

import math
from typing import Any

from flowsim.scenario.units import unit_from_slug, unit_label

__all__ = [
    "KPI_GROUPS",
    "clip_interval",
    "difference_in_words",
    "duration_words",
    "format_ci",
    "format_difference",
    "format_value",
    "kpi_group",
    "kpi_label",
    "possible_range",
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
    "ed_left_before_seen_share": "ED: left before being seen",
    "outlier_share": "Admissions placed outside their ward group (outliers)",
    "electives_admitted": "Elective admissions",
    "electives_cancelled": "Electives cancelled",
    "electives_cancelled_no_bed": "Electives cancelled for lack of a bed",
    "electives_cancelled_share": "Electives cancelled, share of those listed",
    "elective_beds_mean": "Beds held by electives, mean",
    "cost_delayed_discharges": "Cost: delayed discharges (acute bed-days)",
    "cost_acute_treatment": "Cost: acute bed-days in treatment",
    "cost_escalation_beds": "Cost: escalation bed-days",
    "cost_ambulance_handover": "Cost: ambulance hours lost",
    "cost_ed_attendances": "Cost: ED attendances",
    "cost_cancelled_electives": "Cost: cancelled electives",
    "cost_community": "Cost: community services",
    "cost_delay_and_community": "Cost: delayed discharges and community services",
    "cost_total": "Cost: total",
}

_BAND_NAMES = {"fit": "fit", "frail": "frail", "severe": "severely frail"}
"""Frailty bands as ``los_mean_frailty_<band>`` names them."""

_PREFIXES: tuple[tuple[str, str], ...] = (
    ("los_mean_frailty_", "Length of stay, mean, {}"),
    ("los_mean_", "Length of stay in unit, mean, {}"),
    ("occupancy_mean_", "Occupancy, mean, {}"),
    ("occupancy_p95_", "Occupancy, 95th percentile, {}"),
    ("community_wait_mean_", "Wait for community service, mean, {}"),
    ("cost_community_", "Cost: community, {}"),
    ("opel_level_share_", "Time at OPEL level {}"),
    ("spot_places_mean_", "Spot-purchased places, mean, {}"),
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
    ("Pressure responses", ("opel_", "outlier_", "elective", "spot_")),
    ("Costs (£ a day)", ("cost_",)),
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


def possible_range(unit: str) -> tuple[float, float]:
    """Where a KPI measured in ``unit`` can lie: a share 0–100%, anything else (counts, waits,
    rates, places, money) at least 0."""
    return (0.0, 100.0) if unit == "%" else (0.0, math.inf)


def clip_interval(low: float, high: float, unit: str, baseline: float = 0.0) -> tuple[float, float]:
    """A t interval cut to the possible range: a normal approximation over a few replications
    can reach below 0 minutes or above 100%, which no run can. With ``baseline`` (the base
    mean) the interval is of a difference, whose range is the possible range minus it."""
    if not _finite(low, high):
        return low, high
    lo, hi = possible_range(unit)
    lo, hi = lo - baseline, hi - baseline
    return min(max(low, lo), hi), max(min(high, hi), lo)


_DIFF_UNITS = {
    "%": " points",
    "minutes": " min",
    "hours": " h",
    "days": " days",
    "per day": " a day",
    "hours per day": " h a day",
    "£ per day": " a day",
}
"""A difference's own unit: percentages differ in points, never in percent."""

_TIME_MINUTES = {"minutes": 1.0, "hours": 60.0, "days": 24.0 * 60.0}
_NOUNS = (
    ("los_", "stay"),
    ("handover_", "handover"),
    ("ed_time_", "time in ED"),
    ("ed_boarding_", "wait for a bed"),
    ("community_wait_", "wait"),
    ("delayed_days_", "delay"),
)
NEGLIGIBLE_POINTS = 0.5
NEGLIGIBLE_SHARE = 0.01
"""An interval that includes no change and lies within 0.5 points (a share) or 1% of the
baseline (anything else) either side of it is called "no change worth noting" (estimate: a
reading aid, not a clinical threshold)."""


def _diff_decimals(size: float, unit: str) -> int:
    if unit == "%":
        return 2 if size < 1 else 1
    return _decimals(size, unit)


def _signed(value: float, unit: str, like: float) -> str:
    if not math.isfinite(value):
        return "–"
    text = f"{abs(value):,.{_diff_decimals(abs(like), unit)}f}"
    nothing = not text.strip("0.,")
    sign = "" if nothing else "+" if value > 0 else "-" if value < 0 else ""
    money = "£" if unit.startswith("£") else ""
    return f"{sign}{money}{text}"


def format_difference(row: Any) -> tuple[str, str, str]:
    """A `paired_comparison` row in its KPI's own unit: ``("+0.8 points (+0.6 to +1.0)", "–",
    "higher, worse")`` for a share (points, never percent), ``("-12 min (-18 to -6)", "-28.0%",
    "shorter, better")`` for a wait. The second item is the relative change, only for KPIs
    that are not percentages. The interval is cut to what is possible (`clip_interval`).

    The difference and its interval share one precision, set by the larger of them, so a
    small difference is not rounded to nothing beside its interval.
    """
    unit, diff = str(row.unit), float(row.difference)
    low, high = clip_interval(float(row.ci_low), float(row.ci_high), unit, float(row.baseline_mean))
    like = max(abs(low), abs(high), abs(diff)) if _finite(low, high) else abs(diff)
    words = _DIFF_UNITS.get(unit, f" {unit}" if unit else "")
    interval = (
        f" ({_signed(low, unit, like)} to {_signed(high, unit, like)})"
        if _finite(low, high)
        else ""
    )
    difference = f"{_signed(diff, unit, like)}{words}{interval}"
    pct = float(row.pct_change)
    change = f"{pct:+.1f}%" if math.isfinite(pct) and unit != "%" else "–"
    verdict = f"{row.verdict}, {row.assessment}" if row.assessment else str(row.verdict)
    return difference, change, verdict


def duration_words(value: float, unit: str) -> str:
    """A length of time in the unit a person would say: ``"12 minutes"``, ``"1 hour"``,
    ``"2.5 hours"``, ``"3.1 days"``."""
    minutes = abs(value) * _TIME_MINUTES[unit]
    if minutes < 1.0:
        return "under a minute"
    if minutes < 59.5:
        n = round(minutes)
        return f"{n} minute{'s' if n != 1 else ''}"
    hours = minutes / 60.0
    if hours < 36.0:
        h = round(hours, 1) if hours < 10 else round(hours)
        return "1 hour" if h == 1 else f"{h:g} hours"
    days = round(minutes / 1440.0, 1)
    return "1 day" if days == 1 else f"{days:g} days"


def _article(text: str) -> str:
    spoken_vowel = text.startswith("8") or (text[:2] in ("11", "18") and not text[2:3].isdigit())
    return "an" if spoken_vowel else "a"


def _noun(kpi: str) -> str:
    return next((noun for prefix, noun in _NOUNS if kpi.startswith(prefix)), "mean")


def _short_number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:.1f}"


_COUNTED = {"per day": " a day", "hours per day": " hours a day", "patients": " patients"}


def _phrase(value: float, unit: str, like: float, up: bool) -> tuple[str, str]:
    """A size and its direction in words, split so two sizes can share a tail: ("24 minutes",
    "shorter"), ("0.12", "points higher"), ("2.2", "fewer a day"), ("£1,200", "a day less")."""
    if unit in _TIME_MINUTES:
        return duration_words(value, unit), "longer" if up else "shorter"
    if unit == "%":
        return f"{abs(value):.{_diff_decimals(like, unit)}f}", (
            "points higher" if up else "points lower"
        )
    number = f"{abs(value):,.{_decimals(abs(like), unit)}f}"
    if unit == "£ per day":
        return f"£{number}", "a day more" if up else "a day less"
    if unit in _COUNTED or unit in ("beds", "places"):
        return number, ("more" if up else "fewer") + _COUNTED.get(unit, f" {unit}")
    return number, f"{unit} higher" if up else f"{unit} lower"


def difference_in_words(row: Any, brief: bool = False) -> str:
    """How big a `paired_comparison` difference is and how sure the runs are, in a sentence a
    board can read: "About 1 hour shorter on an 8.4-day stay; the runs are clear about the
    direction: between 24 minutes and 1.6 hours shorter (95% interval)."; ``brief`` says the
    second half in fewer words ("clear: between 24 minutes and 1.6 hours shorter")."""
    unit, diff, base = str(row.unit), float(row.difference), float(row.baseline_mean)
    if not math.isfinite(diff):
        return "Not measured in these runs."
    low, high = clip_interval(float(row.ci_low), float(row.ci_high), unit, base)
    like = max(abs(low), abs(high), abs(diff)) if _finite(low, high) else abs(diff)
    if diff == 0 and (not _finite(low, high) or low == high == 0):
        return "No difference at all: every replication gave the same value."
    lead, tail = _phrase(diff, unit, like, diff > 0)
    if unit not in _TIME_MINUTES and not lead.strip("£0.,"):
        shown = f"{base:.2f}%" if unit == "%" else format_value(base, unit)
        size = f"practically no change ({shown} in both)"
    elif unit in _TIME_MINUTES:
        base_text = _short_number(base)
        about = "" if lead.startswith("under") else "about "
        size = (
            f"{about}{lead} {tail} on {_article(base_text)} {base_text}-"
            f"{unit.removesuffix('s')} {_noun(row.kpi)}"
        )
    elif unit == "%":
        places = 2 if like < 1 else 1
        size = f"{lead} {tail}, from {base:.{places}f}% to {float(row.scenario_mean):.{places}f}%"
    else:
        pct = float(row.pct_change)
        rel = f" ({pct:+.1f}%)" if math.isfinite(pct) else ""
        size = (
            f"{lead} {tail}, from {format_value(base, unit)} to "
            f"{format_value(float(row.scenario_mean), unit)}{rel}"
        )
    sure = _sureness(low, high, unit, base, like, brief)
    return f"{size[0].upper()}{size[1:]}; {sure}."


_SURE_WORDS = {
    False: (
        "the runs are clear about the direction: between",
        "no change worth noting: between",
        "the runs cannot tell the direction: anywhere from",
        " (95% interval)",
        "; more replications would narrow it",
    ),
    True: ("clear: between", "no change worth noting: between", "not clear: from", "", ""),
}


def _sureness(
    low: float, high: float, unit: str, base: float, like: float, brief: bool = False
) -> str:
    clear, negligible, unclear, interval, more = _SURE_WORDS[brief]
    if not _finite(low, high):
        return "one replication, so no interval yet: run at least two to see how sure this is"
    if low > 0 or high < 0:
        a, b = sorted((abs(low), abs(high)))
        (near, _), (far, tail) = (_phrase(v, unit, like, high > 0) for v in (a, b))
        return f"{clear} {near} and {far} {tail}{interval}"
    widest = max(abs(low), abs(high))
    small = NEGLIGIBLE_POINTS if unit == "%" else NEGLIGIBLE_SHARE * abs(base)
    down, up = _phrase(low, unit, like, False), _phrase(high, unit, like, True)
    if widest <= small:
        return f"{negligible} {down[0]} {down[1]} and {up[0]} {up[1]}{interval}"
    return f"{unclear} {down[0]} {down[1]} to {up[0]} {up[1]}{interval}{more}"
