"""``flowsim project``: a projected scenario file with its sources, the demand table, the
by-year table, figure and report, and clear refusals."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from flowsim.cli import app
from flowsim.scenario import apply_changes, load_scenario

BASELINE = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.yaml"


def test_year_writes_a_projected_scenario_with_its_sources(tmp_path: Path) -> None:
    out = tmp_path / "baseline_2030.yaml"
    result = CliRunner().invoke(
        app, ["project", str(BASELINE), "--year", "2030", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"urgent contacts \d+ -> \d+ a day \(\+3\.\d%\)", result.output)
    text = out.read_text(encoding="utf-8")
    assert "[A19] (H)" in text and "Nottingham City: 18-64 +0.03%" in text
    written = load_scenario(out)
    expected = apply_changes(load_scenario(BASELINE), {"population.projection_year": 2030})
    assert written.population == expected.population
    assert written.name == "baseline 2030"


def test_to_writes_the_table_figure_and_report(tmp_path: Path) -> None:
    figure = tmp_path / "figure.png"
    args = ["project", str(BASELINE), "--to", "2027", "--folder", str(tmp_path / "out")]
    result = CliRunner().invoke(app, [*args, "--figure", str(figure), "--occupancy", "0.9"])
    assert result.exit_code == 0, result.output
    for name in ("projection.csv", "projection.png", "projection.html"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    assert figure.read_bytes().startswith(b"\x89PNG")
    assert "G&A wards" in result.output and "2027" in result.output


def test_a_year_outside_the_data_or_no_year_is_refused(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["project", str(BASELINE), "--year", "2040"])
    assert result.exit_code == 2
    assert "cover 2021 to 2035" in result.output
    result = runner.invoke(app, ["project", str(BASELINE)])
    assert result.exit_code == 2
    assert "--year" in result.output
