"""A run keeps its pooled distributions as histograms, not one value per attendance or stay
(issue 17, item 2): the histograms of the replications add up to the histogram of their pooled
values, the figures drawn from them are those drawn from the values, and what `RunResults`
keeps of them does not grow with the replications."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from flowsim.analysis import EventFrame
from flowsim.analysis.figure_data import los_table
from flowsim.model.build import simulate
from flowsim.report import RunResults
from flowsim.report.figures import (
    ED_EDGES_HOURS,
    HANDOVER_EDGES_MINUTES,
    LOS_EDGES_DAYS,
    ed_time_figure,
    handover_figure,
    los_figure,
)
from flowsim.report.histograms import Histogram
from flowsim.report.outputs import reduce_replication
from helpers.model_helpers import small_scenario

RNG = np.random.default_rng(17)
# values on bar edges and standard lines as well as between them, below 0 and beyond the axes
ED = np.concatenate([RNG.lognormal(1.0, 0.8, 20_000), [0.0, -0.1, 4.0, 12.0, 24.0, 80.0, np.nan]])
HANDOVER = np.concatenate(
    [np.zeros(900), np.full(300, 15.0), np.full(50, 30.0), RNG.exponential(25.0, 4_000), [400.0]]
)


def _drawn(fig: Figure) -> list[object]:
    """What a reader sees: titles, bars, lines and legend texts."""
    seen: list[object] = []
    for ax in fig.axes:
        seen.append((ax.get_title(loc="left"), ax.get_title(), ax.get_ylabel(), ax.get_xlim()))
        seen.append(
            [
                (round(p.get_x(), 9), round(p.get_width(), 9), round(p.get_height(), 9))
                if hasattr(p, "get_height")
                else np.round(p.get_xy(), 9).tolist()
                for p in ax.patches
            ]
        )
        seen.append([tuple(line.get_xdata()) for line in ax.get_lines()])
        legend = ax.get_legend()
        seen.append([t.get_text() for t in legend.get_texts()] if legend else None)
    return seen


@pytest.mark.parametrize(
    ("values", "edges"), [(ED, ED_EDGES_HOURS), (HANDOVER, HANDOVER_EDGES_MINUTES)]
)
def test_histograms_of_replications_add_up_to_the_pooled_histogram(
    values: np.ndarray, edges: np.ndarray
) -> None:
    parts = np.array_split(values, 5)
    merged = Histogram.empty(edges)
    for part in parts:
        merged += Histogram.of(part, edges)
    pooled = Histogram.of(values, edges)

    assert np.array_equal(merged.counts, pooled.counts)
    assert np.array_equal(merged.on_edge, pooled.on_edge)
    assert merged.n == np.isfinite(values).sum()
    finite = values[np.isfinite(values)]
    for at in (0.0, 4.0, 12.0, 30.0, 60.0):
        if at in edges:
            assert merged.at_most(at) == np.sum(finite <= at)
            assert merged.below(at) == np.sum(finite < at)


def test_distribution_figures_from_histograms_draw_what_the_values_draw() -> None:
    ed = Histogram.of(ED[:5000], ED_EDGES_HOURS) + Histogram.of(ED[5000:], ED_EDGES_HOURS)
    assert _drawn(ed_time_figure(ed)) == _drawn(ed_time_figure(ED))
    handover = Histogram.of(HANDOVER, HANDOVER_EDGES_MINUTES)
    assert _drawn(handover_figure(handover)) == _drawn(handover_figure(HANDOVER))
    empty = Histogram.empty(ED_EDGES_HOURS)
    assert _drawn(ed_time_figure(empty)) == _drawn(ed_time_figure([]))


def test_length_of_stay_from_histograms_shows_the_same_bars_and_medians_to_the_hour() -> None:
    bands = RNG.choice(["fit", "frail", "severe"], 12_000)
    table = pd.DataFrame(
        {
            "frailty": pd.Categorical(bands, categories=["fit", "frail", "severe"]),
            "los_days": np.concatenate([RNG.gamma(1.2, 6.0, 11_996), [0.0, 7.0, 28.0, 100.0]]),
        }
    )
    hists = {
        band: Histogram.of(table.loc[table["frailty"] == band, "los_days"], LOS_EDGES_DAYS)
        for band in ("fit", "frail", "severe")
    }
    from_values, from_hists = _drawn(los_figure(table)), _drawn(los_figure(hists))

    for seen, want in zip(from_hists, from_values, strict=True):
        if seen != want and isinstance(want, list) and want and isinstance(want[0], tuple):
            # the median line: interpolated within an hour of the stays' median
            assert len(seen) == len(want) == 1
            assert abs(seen[0][0] - want[0][0]) < 1.0 / 24.0
        else:
            assert seen == want


@pytest.fixture(scope="module")
def reduced(tmp_path_factory: pytest.TempPathFactory) -> object:
    log = simulate(small_scenario(), 0, horizon_days=4, warm_up_days=1)
    ef = EventFrame(log)
    assert len(ef.ed_visits) > 100 and len(los_table(ef)) > 10
    red = reduce_replication(log, Path(tmp_path_factory.mktemp("parts")))
    red.parts = {}  # the parts are not appended here
    return red


def _distributions_kept(results: RunResults) -> int:
    return len(pickle.dumps((results._ed_hours, results._handover_minutes, results._los_days)))


def test_run_results_keep_no_per_replication_values_for_the_distributions(reduced) -> None:
    for hist in (reduced.ed_hours, reduced.handover_minutes, *reduced.los_days.values()):
        assert isinstance(hist, Histogram)
    results = RunResults()
    results.add_reduced(reduced)
    once = _distributions_kept(results)
    for _ in range(7):
        results.add_reduced(reduced)

    assert _distributions_kept(results) == once
    assert results._ed_hours.n == 8 * reduced.ed_hours.n
    assert len(results.figures()) == 6
