"""The app's downloadable report opens with the trends, as ``flowsim compare``'s does: each
replication's trend rows are reduced in the worker, kept in the result cache with the rest of
its record and carried on the comparison to the report's first page."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowsim.app import engine
from flowsim.app.views import comparison_figures, report_html
from flowsim.scenario import apply_changes
from helpers.model_helpers import small_scenario

LABELS = ["baseline", "more afu"]


@pytest.fixture(scope="module")
def scenarios() -> list:
    base = small_scenario(horizon_days=2, warm_up_days=0).model_copy(
        update={"warm_start": None, "name": LABELS[0]}
    )
    alt = apply_changes(base, {"afu.beds": base.afu.beds + 2}).model_copy(
        update={"name": LABELS[1]}
    )
    return [base, alt]


SETTINGS = engine.ComparisonSettings(replications=2, horizon_days=2.0, warm_up_days=0.5)


def _board(html: str) -> str:
    start = html.index('<section id="board"')
    return html[start : html.index("</section>", start)]


def test_the_app_report_first_page_carries_the_trends(scenarios: list, tmp_path: Path) -> None:
    pool, cache = engine.WorkerPool(1), engine.ResultCache(folder=tmp_path)
    try:
        *_, result = engine.stream_comparison(scenarios, LABELS, SETTINGS, pool, cache)
        # the same again from the result cache: the cached records carry their trends
        (again,) = engine.stream_comparison(scenarios, LABELS, SETTINGS, pool, cache)
    finally:
        pool.close()
    assert result.complete and again.cached == [True, True]
    trends = result.trends
    assert trends is not None and again.trends is not None
    assert trends.equals(again.trends)
    assert set(trends["scenario"]) == set(LABELS)
    assert set(trends["replication"]) == {0, 1}
    # 2 days measured: daily blocks (a week only from four weeks measured)
    assert sorted(set(trends["period"])) == [1, 2] and set(trends["days"]) == {1.0}
    board = _board(report_html(result, comparison_figures(result)))
    assert '<figure class="trends"><img src="data:image/png;base64,' in board
    assert "Trends (daily: the run measures under four weeks)" in board
    assert "over 2 replications" in board
    assert "No trends" not in board


def test_records_without_trends_make_a_report_that_says_so(scenarios: list) -> None:
    """Records reduced without trend rows (another reducer's) still compare; the report says
    the trends are missing rather than failing or drawing an empty figure."""
    pool = engine.WorkerPool(1)
    settings = engine.ComparisonSettings(replications=1, horizon_days=1.0, warm_up_days=0.0)
    try:
        results = [engine.run_scenario(s, settings, pool) for s in scenarios]
    finally:
        pool.close()
    for records in results:
        for record in records:
            del record["trends"]
    result = engine.compare_scenarios(scenarios, LABELS, results, settings)
    assert result.trends is None
    board = _board(report_html(result, comparison_figures(result)))
    assert "No trends in this report" in board and 'class="trends"' not in board
