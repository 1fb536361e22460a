"""Every facilitator preset shows what it says it shows: each `Preset.expect` entry is asserted
on the comparison the app runs for it, at the app's default settings (4 paired replications of
21 days after a 7-day warm-up from the baseline's census of day 287, Monday 17 November 2025,
so measured 24 November to 15 December 2025: `engine.census`, `engine.with_warm_start`,
`engine.stream_comparison`, exactly as the page does).

Why the defaults and not smaller settings: the room sees the defaults, and smaller runs do
not give the same signs: at 3 replications of 7 days after 2 days of warm-up 6 of the 23
expectations came out otherwise (closing the AFU takes more than a week to show in ED; longer
SDEC hours' 4-hour gain was inside the noise), at 2 replications of 10 days after 3, 15 did.
So this runs every preset's scenarios once, in one paired comparison against one set of
baseline replications (each scenario is paired with the same baseline replications as in its
own preset, so every difference and interval is the one the app shows), and is marked slow:
about 9 scenarios x 4 replications of 28 simulated days plus the census took 258 s on a busy
2-core machine (load average about 10, shared with other jobs), all in the first test's setup.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from flowsim.analysis.kpis import kpi_unit
from flowsim.app import engine, presets
from flowsim.app.engine import ComparisonSettings
from flowsim.app.presets import DIRECTIONS, PRESETS, YOUR_CHANGE, Preset
from flowsim.scenario import Scenario, apply_changes, load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _label(index: int, scenario: str) -> str:
    return f"preset {index}: {YOUR_CHANGE}" if scenario == YOUR_CHANGE else scenario


def _arms(base: Scenario) -> dict[str, Scenario]:
    """Every scenario some preset compares with the baseline, once, by `_label`."""
    current = engine.lever_values(base)
    out: dict[str, Scenario] = {}
    for i, preset in enumerate(PRESETS):
        changes = engine.lever_changes(base, {**current, **preset.values(current)})
        if changes:
            out[_label(i, YOUR_CHANGE)] = apply_changes(base, changes)
        for stem in preset.library:
            out.setdefault(stem, load_scenario(SCENARIOS / f"{stem}.yaml"))
    return out


@pytest.fixture(scope="module")
def comparison() -> pd.DataFrame:
    settings = ComparisonSettings()  # the page's defaults (not the environment's overrides)
    base = load_scenario(SCENARIOS / "baseline.yaml")
    pool = engine.WorkerPool(2)
    try:
        section = engine.census(base, settings, pool)
        choices = {"baseline": base, **_arms(base)}
        labels = list(choices)
        named = [
            engine.with_warm_start(s, section).model_copy(update={"name": n})
            for n, s in choices.items()
        ]
        *_, result = engine.stream_comparison(named, labels, settings, pool)
    finally:
        pool.close()
    assert result.complete
    return result.table


def test_every_preset_states_a_result_the_app_can_check() -> None:
    """Cheap: the expectations name KPIs the app computes, directions it knows, and scenarios
    the preset actually compares."""
    base = load_scenario(SCENARIOS / "baseline.yaml")
    current = engine.lever_values(base)
    for preset in PRESETS:
        assert preset.expect, f"preset {preset.title!r} states no expected result"
        has_change = bool(engine.lever_changes(base, {**current, **preset.values(current)}))
        allowed = set(preset.library) | ({YOUR_CHANGE} if has_change else set())
        assert set(preset.expect) <= allowed, preset.title
        for kpis in preset.expect.values():
            for kpi, direction in kpis.items():
                assert direction in DIRECTIONS, (preset.title, kpi, direction)
                assert kpi_unit(kpi), (preset.title, kpi)
        assert len(preset.expect_lines()) == len(preset.expect)


def _shown(row: pd.Series) -> str:
    if row["ci_low"] > 0.0:
        return "higher"
    if row["ci_high"] < 0.0:
        return "lower"
    return "no clear change"


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("FLOWSIM_CHECK_PRESETS"),
    reason="runs every preset at the app's defaults (about 1 min on an idle 2-core machine, "
    "3 under load): `make check-presets`",
)
@pytest.mark.parametrize("index", range(len(PRESETS)), ids=[p.title for p in PRESETS])
def test_preset_shows_its_stated_result(comparison: pd.DataFrame, index: int) -> None:
    preset: Preset = presets.PRESETS[index]
    wrong = []
    for scenario, kpis in preset.expect.items():
        for kpi, direction in kpis.items():
            rows = comparison[
                (comparison["scenario"] == _label(index, scenario)) & (comparison["kpi"] == kpi)
            ]
            assert len(rows) == 1, f"{preset.title!r}: no result for {scenario} / {kpi}"
            row = rows.iloc[0]
            if _shown(row) != direction:
                wrong.append(
                    f"{scenario}: {kpi} expected {direction}, shows {_shown(row)} "
                    f"({row['difference']:+.3g}, 95% CI {row['ci_low']:+.3g} to "
                    f"{row['ci_high']:+.3g})"
                )
    assert not wrong, f"preset {preset.title!r} does not show what it says:\n" + "\n".join(wrong)
