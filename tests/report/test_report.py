"""Figures, the HTML report, the output tables and the words and numbers they use."""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from flowsim.analysis import GENERAL_ACUTE, PRIMARY_KPIS, EventFrame, occupancy_series
from flowsim.log import EventLog, Kind
from flowsim.model.build import simulate
from flowsim.report import (
    RunResults,
    ed_time_figure,
    event_table,
    figure_png,
    format_ci,
    format_value,
    handover_figure,
    kpi_group,
    kpi_label,
    occupancy_figure,
    patient_table,
    render_run_report,
)
from flowsim.report.figures import group_occupancy
from flowsim.scenario import load_scenario
from flowsim.scenario.schema import Scenario

BASELINE = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.yaml"


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(BASELINE)


@pytest.fixture(scope="module")
def logs(scenario: Scenario) -> list[EventLog]:
    return [simulate(scenario, r, horizon_days=6, warm_up_days=2) for r in (0, 1)]


@pytest.fixture(scope="module")
def results(logs: list[EventLog]) -> RunResults:
    results = RunResults()
    for log in logs:
        results.add(log)
    return results


def _render_all(figures: dict[str, Figure]) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for fig in figures.values():
            assert figure_png(fig).startswith(b"\x89PNG")
    return caught


def test_figures_render_without_warnings(results: RunResults) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figures = results.figures()
    caught += _render_all(figures)

    assert len(figures) == 6
    assert [str(w.message) for w in caught] == []


def test_figures_of_nothing_render_without_warnings() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figures = {
            "occupancy": occupancy_figure(pd.DataFrame()),
            "ed": ed_time_figure([]),
            "handover": handover_figure(np.array([np.nan])),
        }
    caught += _render_all(figures)

    assert [str(w.message) for w in caught] == []


def test_figures_have_titles_with_units_and_the_standard_lines(results: RunResults) -> None:
    occupancy, ed, handover, *_ = results.figures().values()

    titles = [ax.get_title(loc="left") for ax in occupancy.axes]
    assert titles == ["G&A wards (beds)", "AMU and AFU (beds)", "ED cubicles (cubicles)"]
    assert "(hours)" in ed.axes[0].get_title(loc="left")
    assert "(minutes)" in handover.axes[0].get_title(loc="left")
    ed_lines = [line.get_xdata()[0] for line in ed.axes[0].get_lines()]
    handover_lines = [line.get_xdata()[0] for line in handover.axes[0].get_lines()]
    assert ed_lines == [4.0, 12.0]
    assert handover_lines == [30.0, 60.0]


def test_grouped_occupancy_adds_up_to_general_acute(logs: list[EventLog]) -> None:
    ef = EventFrame(logs[0])
    units = ["ed_cubicle", *ef.inpatient_units]
    series = occupancy_series(ef, [*units, GENERAL_ACUTE])

    grouped = group_occupancy(series[series["unit"] != GENERAL_ACUTE])
    by_group = grouped.pivot(index="start_hours", columns="group", values="occupied")
    ga = series[series["unit"] == GENERAL_ACUTE].set_index("start_hours")["occupied"]

    assert set(by_group.columns) == {"G&A wards", "AMU and AFU", "ED cubicles"}
    total = by_group["G&A wards"] + by_group["AMU and AFU"]
    assert total.to_numpy() == pytest.approx(ga.to_numpy())


def test_report_holds_the_summary_and_escapes_text(scenario: Scenario, results: RunResults) -> None:
    odd = scenario.model_copy(
        update={"name": "<script>alert('x')</script>", "description": "beds & <b>chairs</b>"}
    )
    summary = results.summary

    html = render_run_report(odd, summary, results.figures(), {"seed": 7, "note": "<i>n</i>"})

    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html and "beds &amp; &lt;b&gt;chairs&lt;/b&gt;" in html
    assert html.count("data:image/png;base64,") == 6
    headline = html[html.index('id="headline"') : html.index('id="how-to-read"')]
    positions = [headline.index(_escaped(kpi_label(k))) for k in PRIMARY_KPIS]
    assert positions == sorted(positions)
    rest = html[html.index('id="all-results"') :]
    for kpi in summary["kpi"]:
        if kpi not in PRIMARY_KPIS:
            assert _escaped(kpi_label(kpi)) in rest, kpi
    assert "How to read this" in html and "confidence interval" in html
    assert "<h2>Run</h2>" in html and "flowsim version" in html


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;")


def test_event_and_patient_tables_are_compact_and_decoded(logs: list[EventLog]) -> None:
    log = logs[1]
    events = event_table(log)
    patients = patient_table(log)

    assert len(events) == len(log.events)
    assert (events["replication"] == 1).all()
    assert events["patient"].dtype == np.int32
    first = log.events[0]
    assert events.iloc[0]["event"] == Kind(first[2]).name
    assert events.iloc[0]["place"] == log.places[first[3]]
    assert len(patients) == len(log.patients)
    assert patients["cfs"].between(1, 9).all()
    assert patients["outcome"].dtype == "category"


def test_kpis_table_has_a_replication_column(results: RunResults) -> None:
    kpis = results.kpis

    assert list(kpis.columns) == ["kpi", "unit", "replication", "value"]
    assert results.replications == 2
    assert (results.summary["n"] <= 2).all()


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1234.5, "per day", "1,234"),
        (56.34, "%", "56.3"),
        (7.4234, "days", "7.42"),
        (12.34, "minutes", "12.3"),
        (0.05123, "days", "0.051"),
        (0.0, "per day", "0"),
        (math.nan, "%", "–"),
    ],
)
def test_format_value(value: float, unit: str, text: str) -> None:
    assert format_value(value, unit) == text


def test_format_ci_shares_the_precision_of_the_mean() -> None:
    assert format_ci(7.91, 10.2, "days", like=8.9) == "7.91 – 10.20"
    assert format_ci(math.nan, math.nan) == "–"


def test_kpi_labels_and_groups() -> None:
    assert kpi_label("occupancy_mean_ward_care_of_elderly") == (
        "Occupancy, mean, ward: care of elderly"
    )
    assert kpi_group("ed_conversion") == "Admissions"
    assert kpi_group("ed_time_mean") == "Emergency department"
    assert kpi_group("something_new") == "Other"
    assert re.fullmatch(r"[A-Z].*", kpi_label("something_new"))
