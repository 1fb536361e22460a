"""Differences in the KPI's own unit, their size and certainty in words, intervals clipped."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from flowsim.report.labels import (
    clip_interval,
    difference_in_words,
    duration_words,
    format_difference,
)


def _row(kpi: str, unit: str, base: float, diff: float, low: float, high: float) -> SimpleNamespace:
    return SimpleNamespace(
        kpi=kpi,
        unit=unit,
        baseline_mean=base,
        scenario_mean=base + diff,
        difference=diff,
        ci_low=low,
        ci_high=high,
        pct_change=100.0 * diff / abs(base),
        verdict="no clear difference" if low <= 0 <= high else "shorter",
        assessment="" if low <= 0 <= high else "better",
    )


def test_a_share_differs_in_points_never_in_percent() -> None:
    difference, change, _ = format_difference(_row("ed_within_4h", "%", 50.6, 0.0532, -0.12, 0.22))
    assert difference == "+0.05 points (-0.12 to +0.22)"
    assert change == "–"
    assert "%" not in difference


def test_waits_in_minutes_stays_in_days_with_the_relative_change() -> None:
    assert format_difference(_row("handover_mean", "minutes", 43.0, -12.3, -18.0, -6.0))[:2] == (
        "-12.3 min (-18.0 to -6.0)",
        "-28.6%",
    )
    assert format_difference(_row("los_mean", "days", 8.37, -0.042, -0.066, -0.017))[0] == (
        "-0.042 days (-0.066 to -0.017)"
    )


def test_the_size_and_how_sure_in_words() -> None:
    los = difference_in_words(_row("los_mean", "days", 8.37, -0.042, -0.066, -0.017))
    assert los.startswith("About 1 hour shorter on an 8.4-day stay;")
    assert "clear about the direction: between 24 minutes and 1.6 hours shorter" in los
    unsure = difference_in_words(_row("handover_mean", "minutes", 43.0, -12.3, -30.0, 5.0))
    assert "cannot tell the direction: anywhere from 30 minutes shorter to 5 minutes longer" in (
        unsure
    )
    small = difference_in_words(_row("ed_within_4h", "%", 50.6, 0.05, -0.12, 0.22))
    assert small.startswith("0.05 points higher, from 50.60% to 50.65%; no change worth noting")
    same = difference_in_words(_row("ed_within_4h", "%", 50.6, 0.0, 0.0, 0.0))
    assert same == "No difference at all: every replication gave the same value."
    one = difference_in_words(_row("admissions", "per day", 166.0, -3.2, math.nan, math.nan))
    assert one.startswith("3.20 fewer a day, from 166 to 163 (-1.9%); one replication")


@pytest.mark.parametrize(
    ("value", "unit", "words"),
    [
        (0.3, "minutes", "under a minute"),
        (12.4, "minutes", "12 minutes"),
        (1.0, "hours", "1 hour"),
        (0.042, "days", "1 hour"),
        (2.46, "hours", "2.5 hours"),
        (3.14, "days", "3.1 days"),
    ],
)
def test_duration_words(value: float, unit: str, words: str) -> None:
    assert duration_words(value, unit) == words


def test_intervals_are_clipped_to_what_is_possible() -> None:
    assert clip_interval(-1.04, 15.6, "%") == (0.0, 15.6)
    assert clip_interval(73.9, 101.2, "%") == (73.9, 100.0)
    assert clip_interval(-1.39, 1.95, "hours") == (0.0, 1.95)
    # A difference cannot take a wait below zero nor a share above 100%.
    assert clip_interval(-50.0, 3.0, "minutes", baseline=43.0) == (-43.0, 3.0)
    assert clip_interval(-2.0, 9.0, "%", baseline=96.5) == (-2.0, 3.5)
    assert all(math.isnan(v) for v in clip_interval(math.nan, math.nan, "%"))


def test_the_library_table_says_differences_as_the_reports_do() -> None:
    import pandas as pd

    from flowsim.report.library import _result
    from flowsim.scenario.library import Expectation

    four = _row("ed_within_4h", "%", 55.0, 6.0, -10.4, 22.3)
    admitted = _row("admissions", "per day", 173.0, -12.3, -13.3, -11.4)
    rows = pd.DataFrame([vars(four), vars(admitted)]).set_index("kpi", drop=False)
    four_hour = _result(Expectation(kpi="ed_within_4h", direction="higher"), rows)
    assert four_hour == (
        "ED: left within 4 hours of arrival +6.0 points (-10.4 to +22.3): **no clear difference**"
    )
    admissions = _result(Expectation(kpi="admissions", direction="lower"), rows)
    assert admissions == "Emergency admissions -12.3 a day (-13.3 to -11.4), -7.1%: **as expected**"


def test_cost_and_pressure_kpis_have_words_and_a_section() -> None:
    from flowsim.report.labels import kpi_group, kpi_label

    assert kpi_group("cost_total") == "Costs (£ a day)"
    assert kpi_label("cost_community_p1").startswith("Cost: community, P1")
    assert kpi_group("opel_level_share_4") == "Pressure responses"
    assert kpi_label("opel_level_share_4") == "Time at OPEL level 4"
