"""The pathway figures: each draws from a short run without a warning and makes a PNG that
decodes, and the tables behind them agree with the log."""

from __future__ import annotations

import io
import itertools
import warnings
from collections.abc import Callable

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from flowsim.analysis import EventFrame
from flowsim.analysis.figure_data import (
    FLOW_STAGES,
    flow_links,
    hour_weekday_table,
    los_table,
    patient_paths,
    unit_label,
)
from flowsim.report.figures import (
    blocking_chain_figure,
    figure_png,
    flow_figure,
    hour_weekday_figure,
    los_figure,
)
from helpers.model_helpers import run, small_scenario

CHAIN = ["p1", "ward:care_of_elderly", "amu", "ed_cubicle", "handover"]


@pytest.fixture(scope="module")
def frames() -> tuple[EventFrame, EventFrame]:
    base = small_scenario(horizon_days=10, warm_up_days=4)
    change = small_scenario({"afu.beds": 8}, horizon_days=10, warm_up_days=4)
    return EventFrame(run(base)), EventFrame(run(change))


def _draws(make: Callable[[], Figure]) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = figure_png(make())
    image = mpimg.imread(io.BytesIO(png), format="png")
    assert image.ndim == 3 and image.shape[0] > 300 and image.shape[1] > 800
    return image


def test_hour_weekday_figure_draws(frames: tuple[EventFrame, EventFrame]) -> None:
    tables = pd.concat([hour_weekday_table(ef) for ef in frames], ignore_index=True)
    _draws(lambda: hour_weekday_figure(tables))


def test_hour_weekday_table_means_match_the_whole_period(frames: tuple[EventFrame, ...]) -> None:
    ef = frames[0]
    table = hour_weekday_table(ef)
    assert set(table["measure"]) == {"ed_occupancy", "boarding", "handover_delay"}
    assert (table.groupby("measure").size() == 7 * 24).all()
    occ = table[table["measure"] == "ed_occupancy"]
    hours = occ["count"].sum()
    assert hours == pytest.approx(ef.end - ef.warm_up)  # whole hours of the measured period
    v = ef.ed_visits
    in_ed = v["exit"].fillna(ef.end).clip(lower=ef.warm_up) - v["arrival"].clip(lower=ef.warm_up)
    assert occ["total"].sum() / hours == pytest.approx(in_ed.clip(lower=0).sum() / hours)


def test_los_figure_compares_scenarios_and_draws_one(frames: tuple[EventFrame, ...]) -> None:
    names = ("baseline", "AFU+")
    both = pd.concat(
        [los_table(ef).assign(scenario=n) for ef, n in zip(frames, names, strict=True)]
    )
    assert set(both["frailty"].astype(str)) <= {"fit", "frail", "severe"}
    assert (both["los_days"] > 0).all()
    _draws(lambda: los_figure(both))
    _draws(lambda: los_figure(los_table(frames[0])))


def test_flow_links_conserve_patients(frames: tuple[EventFrame, ...]) -> None:
    paths = patient_paths(frames[0])
    links = flow_links(paths)
    stages = [s for s, _ in FLOW_STAGES]
    for a, b in itertools.pairwise(stages):
        assert links.loc[links["source_stage"] == a, "patients"].sum() == len(paths)
        assert links.loc[links["target_stage"] == b, "patients"].sum() == len(paths)
    assert set(paths["entry"]) <= {"UCR at home", "ED", "SDEC", "other"}
    _draws(lambda: flow_figure(flow_links(paths, per=frames[0].days)))


def test_blocking_chain_figure_draws_with_and_without_hours() -> None:
    hours = {"p1": 120.0, "ward:care_of_elderly": 80.0, "amu": 31.0}
    _draws(lambda: blocking_chain_figure(CHAIN, hours))
    _draws(lambda: blocking_chain_figure(CHAIN[:2]))
    _draws(lambda: blocking_chain_figure([]))


def test_chain_boxes_name_units_in_words() -> None:
    fig = blocking_chain_figure(CHAIN, {"p1": 120.0})
    texts = [t.get_text().replace("\n", " ") for t in fig.axes[0].texts]
    for words in ("P1 (home with support)", "ward: care of elderly", "AMU", "ED boarding"):
        assert any(words in t for t in texts), (words, texts)
    assert any("primary constraint" in t for t in texts)
    assert unit_label("ward:general_medicine") == "ward: general medicine"
