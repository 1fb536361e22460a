"""One-at-a-time sensitivity over the weak-evidence inputs: the variants change one setting
each, the table ranks inputs by swing, and the command writes its files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure
from typer.testing import CliRunner

import flowsim.api
from flowsim.analysis.sensitivity import SENSITIVITY_COLUMNS, sensitivity_table
from flowsim.cli import app
from flowsim.errors import ScenarioError
from flowsim.report.figures import tornado_figure
from flowsim.report.sensitivity import sensitivity_figures
from flowsim.scenario import diff_scenarios, scenario_to_yaml
from flowsim.scenario.weak_evidence import WEAK_EVIDENCE, sensitivity_variants
from helpers.model_helpers import baseline, small_scenario


def test_each_variant_changes_one_setting_of_the_scenario() -> None:
    base = baseline()
    variants = sensitivity_variants(base)
    assert len(variants) == 2 * len(WEAK_EVIDENCE)
    for v in variants:
        changed = {path for path, _, _ in diff_scenarios(base, v.scenario)} - {"name"}
        top = v.parameter.key.split("[")[0]
        assert changed and all(path.startswith(top) for path in changed), (v.label, changed)


def test_relative_ranges_scale_the_scenario_value_and_round_whole_numbers() -> None:
    base = baseline()
    low, high = sensitivity_variants(base, ["ed.clinicians_by_hour"])
    assert low.scenario.ed.clinicians_by_hour[0] == round(base.ed.clinicians_by_hour[0] * 0.9)
    assert high.scenario.ed.clinicians_by_hour[11] == round(base.ed.clinicians_by_hour[11] * 1.1)
    (p,) = [p for p in WEAK_EVIDENCE if p.key == "ed.clinicians_by_hour"]
    assert p.source == "E6"


def test_an_unknown_parameter_names_the_ones_that_can_be_varied() -> None:
    with pytest.raises(ScenarioError, match=r"ucr\.eligible_share"):
        sensitivity_variants(baseline(), ["ucr.eligble_share"])


def test_every_weak_parameter_cites_a_row_and_has_a_range() -> None:
    for p in WEAK_EVIDENCE:
        assert p.source[0].isalpha() and p.source[1:].isdigit()
        assert (p.low is not None and p.high is not None) or p.relative is not None


def _table() -> pd.DataFrame:
    rows = []
    effects = {"a low": -1.0, "a high": 3.0, "b low": 0.5, "b high": -0.5}
    for r, noise in enumerate([0.0, 0.2, -0.1]):
        rows.append(("base", r, "los_mean", "days", 10.0 + noise))
        for name, effect in effects.items():
            rows.append((name, r, "los_mean", "days", 10.0 + noise + effect + 0.01 * r))
    kpis = pd.DataFrame(rows, columns=["scenario", "replication", "kpi", "unit", "value"])
    design = pd.DataFrame(
        [(n, n.split()[0], "L3", "note", n.split()[1], "v") for n in effects],
        columns=["scenario", "parameter", "source", "note", "side", "value"],
    )
    return sensitivity_table(kpis, design, "base")


def test_table_ranks_inputs_by_swing_with_paired_intervals() -> None:
    table = _table()
    assert list(table.columns) == SENSITIVITY_COLUMNS
    assert list(table["parameter"]) == ["a", "a", "b", "b"]
    assert list(table["rank"]) == [1, 1, 2, 2]
    assert table["swing"].iloc[0] == pytest.approx(4.0, abs=0.02)
    assert table["difference"].iloc[1] == pytest.approx(3.01, abs=1e-9)
    assert (table["ci_low"] <= table["difference"]).all()


def test_tornado_and_report_figures() -> None:
    table = _table()
    assert isinstance(tornado_figure(table, "title"), Figure)
    ((caption, fig),) = sensitivity_figures(table, replications=3)
    assert isinstance(fig, Figure)
    assert "Largest swing: a ([L3]" in caption


def test_api_and_command_on_a_small_system(tmp_path: Path) -> None:
    s = small_scenario(horizon_days=10, warm_up_days=5)
    found = flowsim.api.sensitivity(
        s, params=["sdec.chairs"], kpis=["admissions"], replications=2, workers=1
    )
    assert set(found.table["side"]) == {"low", "high"}
    assert set(found.kpis["scenario"]) == {s.name, *found.design["scenario"]}

    path = tmp_path / "small.yaml"
    path.write_text(scenario_to_yaml(s), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "sensitivity",
            str(path),
            "--params",
            "discharge.weekend_discharge_factor",
            "--kpis",
            "los_mean",
            "--replications",
            "2",
            "--workers",
            "1",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    for name in ("sensitivity.csv", "kpis.csv", "tornado.png", "run.txt"):
        assert (out / name).is_file()
    bad = CliRunner().invoke(app, ["sensitivity", str(path), "--params", "nope", "--out", str(out)])
    assert bad.exit_code == 2 and "weak-evidence list" in bad.output


def test_run_adds_tornado_charts_to_the_report_when_asked(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from flowsim.cli import app
    from flowsim.scenario import scenario_to_yaml
    from helpers.model_helpers import small_scenario

    file = tmp_path / "s.yaml"
    file.write_text(scenario_to_yaml(small_scenario(horizon_days=10, warm_up_days=10)))
    out = tmp_path / "out"
    args = ["run", str(file), "--replications", "2", "--out", str(out)]
    result = CliRunner().invoke(
        app, [*args, "--sensitivity", "sdec.chairs,discharge.weekend_discharge_factor"]
    )
    assert result.exit_code == 0, result.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "weak-evidence input" in html
    assert html.count("data:image/png;base64,") > 7  # the run's figures and the tornadoes
    assert (out / "sensitivity.csv").exists()
