"""KPIs by calendar month add back up to the year's: the same definitions on a partition."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pytest

from flowsim.analysis import EventFrame, compute_kpis
from flowsim.analysis.monthly import MONTHLY_KPIS, month_edges, monthly_kpis
from helpers.model_helpers import run, small_scenario


def test_month_edges_partition_the_period_at_midnight_on_the_first():
    start = dt.datetime(2025, 1, 20)
    edges = month_edges(start, 10 * 24.0, 55 * 24.0)
    months = [dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1)]
    assert [m for m, _, _ in edges] == months
    assert edges[0][1] == 240.0 and edges[-1][2] == 55 * 24.0
    assert edges[0][2] == 12 * 24.0  # 1 February is 12 days after 20 January
    assert edges[1][2] - edges[1][1] == 28 * 24.0
    for (_, _, hi), (_, lo, _) in itertools.pairwise(edges):
        assert hi == lo


@pytest.fixture(scope="module")
def small_run():
    s = small_scenario({"run.start_date": "2025-01-20"}, horizon_days=45, warm_up_days=10)
    return EventFrame(run(s))


def test_months_add_up_to_the_annual_kpis(small_run):
    ef = small_run
    months = monthly_kpis(ef)
    annual = compute_kpis(ef).set_index("kpi")["value"]
    assert list(months.columns) == ["month", "days", *MONTHLY_KPIS]
    assert months["days"].sum() == pytest.approx(ef.days)
    w = months["days"].to_numpy()
    att = months["ed_attendances"].to_numpy() * w
    assert att.sum() / ef.days == pytest.approx(annual["ed_attendances"])
    assert (months["admissions"] * w).sum() / ef.days == pytest.approx(annual["admissions"])
    for kpi in ("ed_within_4h", "ed_over_12h_share"):
        assert np.sum(months[kpi] * att) / att.sum() == pytest.approx(annual[kpi])
    # Time-weighted shares: weighted by days they come within rounding of the year's (the
    # denominators, beds in force, vary a little between months).
    for kpi in ("occupancy_mean_general_acute", "delayed_share_of_ward_beds"):
        assert np.sum(months[kpi] * w) / ef.days == pytest.approx(annual[kpi], rel=0.02)
    assert months["handover_mean"].between(0, 24 * 60).all()


def test_short_ends_can_be_left_out(small_run):
    months = monthly_kpis(small_run, min_days=20)
    assert list(months["month"]) == [dt.date(2025, 2, 1)]


def test_a_log_without_a_calendar_is_refused(small_run):
    log = small_run.log
    meta = dict(log.meta)
    try:
        log.meta.pop("start_date")
        with pytest.raises(ValueError, match="start_date"):
            monthly_kpis(EventFrame(log))
    finally:
        log.meta.clear()
        log.meta.update(meta)
