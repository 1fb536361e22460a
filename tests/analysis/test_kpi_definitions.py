"""The KPI dictionary is complete and current: every KPI compute_kpis returns has one entry in
`KPI_DEFINITIONS`, in the unit it is computed in, and docs/kpis.md is what the definitions
generate (``flowsim kpis --markdown`` rewrites it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowsim.analysis.kpi_definitions import (
    KPI_DEFINITIONS,
    definition_of,
    kpi_dictionary_markdown,
)
from flowsim.analysis.kpis import compute_kpis, kpi_unit
from flowsim.cli import app
from helpers.model_helpers import run, small_scenario

DOCS = Path(__file__).resolve().parents[2] / "docs" / "kpis.md"
SAMPLE = {"<unit>": "amu", "<band>": "fit", "<n>": "1"}


def test_docs_kpis_md_is_up_to_date() -> None:
    assert DOCS.read_text(encoding="utf-8") == kpi_dictionary_markdown(), (
        "docs/kpis.md differs from src/flowsim/analysis/kpi_definitions.py: run "
        "`flowsim kpis --markdown` and commit docs/kpis.md"
    )


@pytest.fixture(scope="module")
def kpis() -> list[tuple[str, str]]:
    s = small_scenario(horizon_days=4, warm_up_days=2)
    assert s.pressure is not None  # pressure KPIs included
    table = compute_kpis(run(s))
    return list(zip(table["kpi"], table["unit"], strict=True))


def test_every_kpi_computed_is_defined_in_its_unit(kpis: list[tuple[str, str]]) -> None:
    missing = [k for k, _ in kpis if definition_of(k) is None]
    assert not missing, f"add these to KPI_DEFINITIONS: {missing}"
    wrong = [(k, u, definition_of(k).unit) for k, u in kpis if definition_of(k).unit != u]  # type: ignore[union-attr]
    assert not wrong


def test_every_definition_has_its_computed_unit_and_a_window() -> None:
    names = [d.name for d in KPI_DEFINITIONS]
    assert len(names) == len(set(names))
    for d in KPI_DEFINITIONS:
        sample = d.name
        for key, value in SAMPLE.items():
            sample = sample.replace(key, value)
        assert kpi_unit(sample) == d.unit, d.name
        assert definition_of(sample) is d, d.name
        assert d.definition and d.window, d.name


def test_an_exact_name_wins_over_its_family() -> None:
    assert definition_of("occupancy_mean_general_acute").name == "occupancy_mean_general_acute"  # type: ignore[union-attr]
    assert definition_of("occupancy_mean_ward_care_of_elderly").name == "occupancy_mean_<unit>"  # type: ignore[union-attr]
    assert definition_of("los_mean_frailty_severe").name == "los_mean_frailty_<band>"  # type: ignore[union-attr]
    assert definition_of("cost_community_p1").name == "cost_community_<unit>"  # type: ignore[union-attr]
    assert definition_of("no_such_kpi") is None


def test_the_command_writes_the_dictionary(tmp_path: Path) -> None:
    out = tmp_path / "kpis.md"
    result = CliRunner().invoke(app, ["kpis", "--markdown", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == kpi_dictionary_markdown()
    printed = CliRunner().invoke(app, ["kpis"], env={"COLUMNS": "80"})
    assert printed.exit_code == 0, printed.output
    assert "occupancy_mean_general_acute" in printed.output
