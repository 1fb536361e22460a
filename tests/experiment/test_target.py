"""Goal seeking on an Erlang-C ward whose answer is known, and the search's stopping rule.

The ward is M/M/c (`validation.helpers.mmc_scenario`): Poisson admissions, exponential stays,
patients boarding in ED until a bed is free. With offered load a = λ/μ = 4, the probability that
an admission waits for a bed is Erlang C: C(6) = 0.285, C(7) = 0.135, so the smallest number of
beds with P(wait) <= 0.2 is 7, and neither neighbour is close to the target.
"""

from __future__ import annotations

import numpy as np
import pytest

from flowsim.experiment import RunSettings
from flowsim.experiment.target import (
    Goal,
    Point,
    Search,
    capacity_lever,
    demand_growth_lever,
    judge,
    seek_target,
)
from flowsim.log import EventLog, Kind
from flowsim.scenario.units import ward_unit
from validation.helpers import erlang_c, mmc_scenario

WARD = ward_unit("erlang")
TARGET = 0.2
OFFERED = 4.0


def waited_share(log: EventLog) -> dict[str, float]:
    """Share of ward admissions in the measured period that waited for a bed."""
    ev = log.event_arrays()
    here = ev["place"] == log.places.index(WARD)
    t, pid, kind = ev["time"][here], ev["patient"][here], ev["kind"][here]
    queued = dict(zip(pid[kind == int(Kind.QUEUE)], t[kind == int(Kind.QUEUE)], strict=True))
    started = dict(zip(pid[kind == int(Kind.START)], t[kind == int(Kind.START)], strict=True))
    waits = [started.get(p, log.end_hours) - q for p, q in queued.items() if q >= log.warm_up_hours]
    return {"p_wait": float(np.mean(np.asarray(waits) > 1e-9))}


@pytest.fixture(scope="module")
def ward():
    # 8 beds at rho 0.5 is a = 4; the lever then sets the beds.
    return mmc_scenario(8, OFFERED / 8, 0.25, horizon_days=60, warm_up_days=5)


def test_the_known_answer_is_not_a_knife_edge() -> None:
    assert erlang_c(6, OFFERED) > TARGET + 0.05
    assert erlang_c(7, OFFERED) < TARGET - 0.05


def test_finds_the_smallest_erlang_c_ward(ward) -> None:
    settings = RunSettings.resolve(ward, replications=3, workers=1)
    goal = Goal("p_wait", TARGET, at_most=True)
    lever = capacity_lever(ward, WARD, low=4, high=12)
    result = seek_target(ward, lever, goal, waited_share, settings, max_replications=8)

    assert result.answer == 7
    assert result.estimate == 7
    assert result.plausible in (6, 7)
    assert "7 " in result.sentence()
    ks = [p.k for p in result.points]
    assert ks == sorted(ks) and {4, 7, 12} <= set(ks)
    assert len(ks) <= 6, "bisection, not a sweep"
    by_k = {p.k: p for p in result.points}
    for k in (6, 7):  # the simulated P(wait) is near Erlang C (about 7% below it on 200-day runs)
        mean, _, _ = by_k[k].interval("p_wait")
        assert mean == pytest.approx(erlang_c(k, OFFERED), abs=0.06)
    assert result.replications == sum(p.n for p in result.points)
    assert result.elapsed_seconds > 0


def test_stopping_rule_adds_replications_only_while_unsure(ward) -> None:
    settings = RunSettings.resolve(ward, replications=3, workers=1)
    # a target right at C(7): the point at 7 beds stays unsure, the others clear it at once
    goal = Goal("p_wait", erlang_c(7, OFFERED), at_most=True)
    search = Search(
        ward,
        capacity_lever(ward, WARD, low=4, high=12),
        goal,
        waited_share,
        settings,
        first_replications=3,
        max_replications=6,
        batch=1,
    )
    far = search.at(12)
    assert far.verdict == "meets" and far.n == 3
    near = search.at(7)
    assert near.n > 3, "an unsure point gets more replications"
    assert (near.verdict == "unsure" and near.n == 6) or near.verdict != "unsure"
    assert search.at(7) is near, "points are kept, not run again"


def test_judge_reads_the_interval_against_the_target() -> None:
    goal = Goal("k", 10.0, at_most=True)
    assert judge(Point(0, 0, {"k": [5.0, 5.2, 4.8]}), goal) == "meets"
    assert judge(Point(0, 0, {"k": [15.0, 15.2, 14.8]}), goal) == "fails"
    assert judge(Point(0, 0, {"k": [5.0, 15.0, 10.0]}), goal) == "unsure"
    at_least = Goal("k", 10.0, at_most=False)
    assert judge(Point(0, 0, {"k": [15.0, 15.2, 14.8]}), at_least) == "meets"


def test_a_worsening_lever_finds_the_largest_step() -> None:
    lever = demand_growth_lever(step_pct=5.0, max_pct=50.0)
    assert not lever.improves and lever.high == 10 and lever.value(3) == 15.0


def test_the_command_writes_the_curve_and_the_page(ward, tmp_path) -> None:
    from typer.testing import CliRunner

    from flowsim.cli import app
    from flowsim.scenario import scenario_to_yaml

    file = tmp_path / "ward.yaml"
    file.write_text(scenario_to_yaml(ward.model_copy(update={"name": "erlang ward"})))
    out = tmp_path / "out"
    args = [
        "target",
        str(file),
        "--kpi",
        "occupancy_mean_general_acute",
        "--at-most",
        "75",
        "--capacity",
        WARD,
        "--low",
        "4",
        "--high",
        "10",
        "--days",
        "20",
        "--workers",
        "1",
        "--max-replications",
        "4",
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "erlang beds (ward: erlang) meet" in result.output
    assert "with 95% confidence" in result.output
    page = (out / "target.html").read_text()
    assert "<img" in page and "Every point evaluated" in page
    assert (out / "target.png").stat().st_size > 1000
    assert (out / "points.csv").read_text().count("\n") >= 3


def test_cheapest_mix_adds_beds_until_the_target_is_met(ward) -> None:
    from flowsim.experiment.target import cheapest_mix
    from flowsim.scenario import apply_changes

    start = apply_changes(ward, {"wards.erlang.beds": 5})
    settings = RunSettings.resolve(start, replications=3, workers=1)
    goal = Goal("p_wait", TARGET, at_most=True)
    result = cheapest_mix(start, [(WARD, 1, 901.0)], goal, waited_share, settings, max_steps=5)
    assert result.met and result.added == {WARD: 2}, result.steps
    assert result.cost_per_day == pytest.approx(2 * 901.0)
    assert "met" in result.stopped
    assert [s["added"][WARD] for s in result.steps] == [0, 1, 2]
