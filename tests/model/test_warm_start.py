"""Warm start: a run that begins from a census instead of empty."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from flowsim.analysis import occupancy_series
from flowsim.analysis.warmup import snapshot
from flowsim.cli import app
from flowsim.errors import ScenarioError
from flowsim.log import Kind
from flowsim.model.build import simulate
from flowsim.model.warm_start import remaining_stays
from flowsim.random import stream
from flowsim.scenario import apply_changes, load_scenario, scenario_to_yaml
from flowsim.scenario.distributions import Exponential
from helpers.log_contract import assert_conserved
from helpers.model_helpers import small_scenario


def occupancy_at_start(log) -> dict[str, float]:  # type: ignore[no-untyped-def]
    occ = occupancy_series(log, bin_hours=1e-3, include_warm_up=True)
    first = occ[occ["start_hours"] == 0.0]
    return dict(zip(first["unit"].astype(str), first["occupied"], strict=True))


@pytest.fixture(scope="module")
def census() -> tuple[object, object]:
    cold = small_scenario(horizon_days=120, warm_up_days=0)
    return cold, snapshot(simulate(cold, 0))


def test_warm_start_reproduces_the_snapshot_at_time_0(census) -> None:  # type: ignore[no-untyped-def]
    cold, shot = census
    assert {"amu", "ward:care_of_elderly", "ward:general_medicine", "p1", "p2", "p3"} <= set(
        shot.occupied
    )
    warm = apply_changes(cold, {"warm_start": shot.warm_start, "run.horizon_days": 10})
    log = simulate(warm, 0)
    assert_conserved(log, warm)
    at_start = occupancy_at_start(log)
    placed: Counter[str] = Counter()
    done_at_once: Counter[str] = Counter()
    for t, _, kind, code in log.events:
        if t > 0.0:
            break
        placed[log.places[code]] += kind == Kind.START
        done_at_once[log.places[code]] += kind == Kind.END
    for unit, n in shot.occupied.items():
        # Everyone in the census is placed; one whose census stay is already past every drawn
        # stay may leave at time 0 (test_fit says the same), and only those.
        assert placed[unit] == n, unit
        assert at_start[unit] == pytest.approx(n - done_at_once[unit], abs=1e-6), unit


def test_warm_start_leaves_everyone_elses_random_numbers_alone(census) -> None:  # type: ignore[no-untyped-def]
    cold, shot = census
    short = apply_changes(cold, {"run.horizon_days": 10})
    warm = apply_changes(short, {"warm_start": shot.warm_start})
    a, b = simulate(short, 0).event_arrays(), simulate(warm, 0).event_arrays()
    arrivals = int(np.sum(a["kind"] == Kind.ARRIVE))
    assert Kind.ARRIVE == 0
    first = {
        p: t for p, t, k in zip(a["patient"], a["time"], a["kind"], strict=True) if k == Kind.ARRIVE
    }
    second = {
        p: t for p, t, k in zip(b["patient"], b["time"], b["kind"], strict=True) if k == Kind.ARRIVE
    }
    population = [p for p in first if p < arrivals * 0.9]  # readmission ids may shift
    assert population and all(first[p] == second[p] for p in population)


def test_a_warm_start_needs_no_long_warm_up(census) -> None:  # type: ignore[no-untyped-def]
    """The first fortnight of a warm run stays near the census it started from, where a cold
    start is far emptier (community services take months to fill)."""
    cold, shot = census
    units = ["general_acute", "p1", "p2"]
    warm = apply_changes(cold, {"warm_start": shot.warm_start, "run.horizon_days": 14})
    warm_mean = occupancy_series(simulate(warm, 1), units, bin_hours=14 * 24)
    cold_start = occupancy_series(simulate(cold, 1), units, bin_hours=14 * 24)
    warm_mean = warm_mean.set_index("unit")["occupied"]
    cold_mean = cold_start[cold_start["start_hours"] == 0].set_index("unit")["occupied"]
    census_count = {
        "general_acute": sum(n for u, n in shot.occupied.items() if u in ("amu", "afu"))
        + sum(n for u, n in shot.occupied.items() if u.startswith("ward:")),
        "p1": shot.occupied["p1"],
        "p2": shot.occupied["p2"],
    }
    for unit in units:
        assert warm_mean[unit] > 0.7 * census_count[unit], unit
        assert cold_mean[unit] < 0.6 * warm_mean[unit], unit


def test_remaining_stays_of_memoryless_stays_have_the_full_mean() -> None:
    spec = Exponential(dist="exponential", mean=2.0)
    rng = stream(1, 0, "test")
    assert remaining_stays(spec, rng, 20_000, None).mean() == pytest.approx(2.0, rel=0.04)
    elapsed = np.full(20_000, 1.0)
    assert remaining_stays(spec, rng, 20_000, elapsed).mean() == pytest.approx(2.0, rel=0.04)


def test_warm_start_errors_name_the_key() -> None:
    s = small_scenario()
    with pytest.raises(ScenarioError, match=r"warm_start\.wards: no ward group called"):
        apply_changes(s, {"warm_start": {"wards": {"nope": {"occupied": 3}}}})
    with pytest.raises(ScenarioError, match=r"warm_start\.amu\.occupied is 999, more than"):
        apply_changes(s, {"warm_start": {"amu": {"occupied": 999}}})


def test_snapshot_command_writes_a_runnable_warm_scenario(tmp_path: Path) -> None:
    base = tmp_path / "small.yaml"
    base.write_text(scenario_to_yaml(small_scenario(horizon_days=10, warm_up_days=5)))
    out = tmp_path / "warm.yaml"
    result = CliRunner().invoke(app, ["snapshot", str(base), "--day", "30", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    data = yaml.safe_load(out.read_text())
    assert data["extends"] == "small.yaml" and data["run"] == {"warm_up_days": 14}
    warm = load_scenario(out)
    assert warm.warm_start is not None and warm.warm_start.units()
    # The run went on past day 30, so the day's delayed discharges start delayed.
    assert warm.warm_start.mix == "in_progress"
    assert any(u.delayed for u in warm.warm_start.wards.values())
    # ... and those sent home before it who come back after it are owed to the warm run.
    assert warm.warm_start.returns and all(g.after_hours for g in warm.warm_start.returns)
    assert "coming back later (returns)" in result.stdout
