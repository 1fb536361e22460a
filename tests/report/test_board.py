"""The board's first page: RAG by its stated rule, the finding in words, trends that show the
signal (percent axes not from 0, legends off the data)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from flowsim.report.board import (
    TARGETS,
    board_compare_section,
    board_run_section,
    rag_status,
    trends_figure,
)
from flowsim.report.figures import figure_png, forest_figure, occupancy_figure

FOUR_HOUR, TWELVE_HOUR, HANDOVER, OCCUPANCY = TARGETS


@pytest.mark.parametrize(
    ("target", "mean", "low", "high", "status"),
    [
        (FOUR_HOUR, 80.0, 79.0, 81.0, "green"),
        (FOUR_HOUR, 80.0, 77.0, 83.0, "amber"),  # the interval reaches the target
        (FOUR_HOUR, 74.0, 72.0, 76.0, "amber"),  # within 5 points
        (FOUR_HOUR, 60.0, 55.0, 65.0, "red"),
        (FOUR_HOUR, 60.0, math.nan, math.nan, "red"),  # one replication: the mean alone
        (OCCUPANCY, 91.0, 90.5, 91.5, "green"),
        (OCCUPANCY, 96.5, 95.0, 98.0, "red"),
        (OCCUPANCY, 94.0, 93.0, 95.0, "amber"),
        (HANDOVER, 43.0, 38.0, 48.0, "amber"),
        (TWELVE_HOUR, math.nan, math.nan, math.nan, ""),
    ],
)
def test_rag_follows_the_stated_rule(target, mean, low, high, status) -> None:
    assert rag_status(target, mean, low, high) == status


def _summary(**means: float) -> pd.DataFrame:
    units = {t.kpi: t.unit for t in TARGETS}
    return pd.DataFrame(
        [
            {"kpi": k, "unit": units[k], "mean": m, "ci_low": m - 1, "ci_high": m + 1, "n": 2}
            for k, m in means.items()
        ]
    )


def _trends(
    weeks: int = 6, occupancy: float = 95.0, scenarios: tuple[str, ...] = ()
) -> pd.DataFrame:
    rows = []
    for s, name in enumerate(scenarios or ("",)):
        for r in range(2):
            for w in range(weeks):
                rows.append(
                    {
                        "scenario": name,
                        "replication": r,
                        "period": w + 1,
                        "start": pd.Timestamp("2025-02-03") + pd.Timedelta(days=7 * w),
                        "days": 7.0,
                        "ed_within_4h": 50.0 + w + r,
                        "ed_over_12h_share": 10.0 - 0.1 * w,
                        "handover_mean": 43.0 + w,
                        "occupancy_mean_general_acute": occupancy + 0.3 * w - s,
                        "delayed_patients_mean": 180.0 + w,
                        "ambulance_hours_lost": 80.0 + r,
                    }
                )
    frame = pd.DataFrame(rows)
    return frame if scenarios else frame.drop(columns="scenario")


def test_the_run_finding_names_the_furthest_target_and_the_trend() -> None:
    summary = _summary(
        ed_within_4h=50.6,
        ed_over_12h_share=10.2,
        handover_mean=43.0,
        occupancy_mean_general_acute=96.5,
    )
    html = board_run_section(summary, _trends())
    assert "This run meets 1 of the 4 national targets (3 red, 0 amber, 1 green)." in html
    assert "Furthest off: 4-hour standard, 50.6% against ≥ 78% (27.4 points short)." in html
    assert "Week by week, the 4-hour ran between 50.5% and 55.5%" in html
    assert "G&amp;A occupancy was above 92% in 6 of 6 weeks" in html
    assert html.count("rag-red") == 3 and "RAG rule" in html
    assert "data:image/png;base64," in html


def test_a_comparison_says_what_each_change_does_in_words() -> None:
    columns = ["kpi", "unit", "baseline_mean", "scenario_mean", "difference", "ci_low"]
    columns += ["ci_high", "pct_change", "verdict", "assessment"]
    comparison = pd.DataFrame(
        [
            ("los_mean", "days", 8.37, 8.33, -0.042, -0.066, -0.017, -0.5, "shorter", "better"),
            ("ed_within_4h", "%", 50.6, 50.65, 0.05, -0.1, 0.2, 0.1, "no clear difference", ""),
        ],
        columns=columns,
    ).assign(scenario="afu", n=2)
    html = board_compare_section(
        ["base", "afu"], comparison, None, _trends(scenarios=("base", "afu"))
    )
    assert "afu against base: 1 headline measure clearly better, 0 clearly worse, 1 with" in html
    assert "about 1 hour shorter on an 8.4-day stay; clear: between 24 minutes and 1.6" in html
    assert "No clear difference: ED: left within 4 hours of arrival." in html


def _rendered(fig: Figure) -> Figure:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert figure_png(fig).startswith(b"\x89PNG")
    return fig


def test_trend_percent_axes_hold_the_data_and_target_not_zero() -> None:
    fig = _rendered(trends_figure(_trends(occupancy=95.0)))
    panels = {ax.get_title(loc="left"): ax for ax in fig.axes}
    low, high = panels["G&A bed occupancy (%)"].get_ylim()
    assert 85.0 < low < 92.0 and 96.5 < high <= 100.0
    low, high = panels["Left ED within 4 hours (%)"].get_ylim()
    assert 40.0 < low < 50.5 and 78.0 < high <= 100.0
    assert len(fig.legends) == 1 and not any(ax.get_legend() for ax in fig.axes)


def test_occupancy_axes_do_not_start_at_zero() -> None:
    days = np.arange(20)
    series = pd.DataFrame(
        {
            "unit": "ward:general_medicine",
            "start_hours": days * 24.0,
            "end_hours": days * 24.0 + 24.0,
            "occupied": 1400.0 + 10 * np.sin(days),
            "capacity": 1450.0,
        }
    )
    fig = _rendered(occupancy_figure(series))
    low, high = fig.axes[0].get_ylim()
    assert low > 1200.0 and high > 1450.0
    assert len(fig.legends) == 1 and fig.axes[0].get_legend() is None


def test_forest_legend_sits_below_its_rows() -> None:
    rows = []
    for name in ("a", "b"):
        for kpi in ("ed_within_4h", "los_mean", "occupancy_mean_general_acute"):
            rows.append(
                {
                    "scenario": name,
                    "kpi": kpi,
                    "baseline_mean": 50.0,
                    "difference": 1.0,
                    "ci_low": 0.5,
                    "ci_high": 1.5,
                    "pct_change": 2.0,
                    "assessment": "better",
                }
            )
    fig = _rendered(forest_figure(pd.DataFrame(rows)))
    renderer = fig.canvas.get_renderer()
    (ax,) = fig.axes
    assert ax.get_legend() is None and len(fig.legends) == 1
    legend: Bbox = fig.legends[0].get_window_extent(renderer)
    assert legend.y1 <= ax.get_window_extent(renderer).y0 + 1  # below the plot, not on it


def test_several_changes_share_the_page_in_one_sentence_each() -> None:
    rows = pd.DataFrame(
        {
            "kpi": ["los_mean", "ed_within_4h"],
            "unit": ["days", "%"],
            "baseline_mean": [8.37, 50.6],
            "scenario_mean": [8.33, 50.65],
            "difference": [-0.042, 0.05],
            "ci_low": [-0.066, -0.1],
            "ci_high": [-0.017, 0.2],
            "pct_change": [-0.5, 0.1],
            "n": [2, 2],
            "verdict": ["shorter", "no clear difference"],
            "assessment": ["better", ""],
        }
    )
    comparison = pd.concat([rows.assign(scenario="afu"), rows.assign(scenario="p1")])
    html = board_compare_section(["base", "afu", "p1"], comparison)
    assert "<ul" not in html and html.count("against base, clear changes:") == 2
    assert "Length of stay, mean: about 1 hour shorter on an 8.4-day stay (better); 1 with" in html
    assert "No trends in this report" in html
