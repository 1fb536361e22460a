"""KPIs by week (the report's trends) add back up to the run's: the same definitions, as months."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flowsim.analysis import EventFrame, compute_kpis
from flowsim.analysis.monthly import monthly_kpis
from flowsim.analysis.periods import PERIOD_KPIS, block_edges, trend_block_days, trend_kpis
from helpers.model_helpers import run, small_scenario


def test_block_edges_cut_from_the_start_and_end_at_the_end():
    assert block_edges(24.0, 24.0 + 16 * 24.0, 7.0) == [
        (24.0, 24.0 + 168.0),
        (24.0 + 168.0, 24.0 + 336.0),
        (24.0 + 336.0, 24.0 + 384.0),
    ]
    assert block_edges(0.0, 0.0, 7.0) == []
    with pytest.raises(ValueError, match="block_days"):
        block_edges(0.0, 10.0, 0.0)


def test_weeks_from_four_weeks_days_before():
    assert trend_block_days(28.0) == 7.0
    assert trend_block_days(21.0) == 1.0


@pytest.fixture(scope="module")
def small_run():
    s = small_scenario({"run.start_date": "2025-01-20"}, horizon_days=31, warm_up_days=5)
    return EventFrame(run(s))


def test_weeks_add_up_to_the_run_kpis(small_run):
    ef = small_run
    weeks = trend_kpis(ef, min_days=0.0)
    annual = compute_kpis(ef).set_index("kpi")["value"]
    assert list(weeks.columns) == [
        "period",
        "start",
        "start_hours",
        "end_hours",
        "days",
        *PERIOD_KPIS,
    ]
    assert list(weeks["days"]) == [7.0, 7.0, 7.0, 7.0, 3.0]
    assert weeks["start"].iloc[0] == pd.Timestamp("2025-01-25")
    w = weeks["days"].to_numpy()
    att = weeks["ed_attendances"].to_numpy() * w
    assert att.sum() / ef.days == pytest.approx(annual["ed_attendances"])
    for kpi in ("ambulance_hours_lost", "admissions"):
        assert (weeks[kpi] * w).sum() / ef.days == pytest.approx(annual[kpi])
    for kpi in ("ed_within_4h", "ed_over_12h_share"):
        assert np.sum(weeks[kpi] * att) / att.sum() == pytest.approx(annual[kpi])
    assert (weeks["delayed_patients_mean"] * w).sum() / ef.days == pytest.approx(
        annual["delayed_patients_mean"]
    )
    assert weeks["occupancy_mean_general_acute"].between(0, 100).all()


def test_the_short_last_week_is_left_out_and_months_agree(small_run):
    weeks = trend_kpis(small_run)
    assert list(weeks["period"]) == [1, 2, 3, 4]
    months = monthly_kpis(small_run)
    by_hand = trend_kpis(small_run, block_days=7.0, min_days=0.0)
    assert months["days"].sum() == pytest.approx(by_hand["days"].sum())


def test_a_log_without_a_calendar_has_no_dates(small_run):
    log = small_run.log
    meta = dict(log.meta)
    try:
        log.meta.pop("start_date")
        weeks = trend_kpis(EventFrame(log))
        assert weeks["start"].isna().all() and len(weeks) == 4
    finally:
        log.meta.clear()
        log.meta.update(meta)
