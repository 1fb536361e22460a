"""Terminal tables at 80 columns and piped: every number printed whole, never "1,1…".

``flowsim bottlenecks`` runs for real on a tiny scenario with ``COLUMNS=80``; the KPI table of
``flowsim run``, the comparison table and the value-of-one-more table are rendered from
synthetic rows with numbers as wide as the baseline's (thousands, long intervals).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console
from rich.table import Table
from typer.testing import CliRunner

from flowsim.cli import app
from flowsim.cli.bottlenecks import _num, _value_table
from flowsim.cli.common import print_table
from flowsim.cli.compare import _comparison_table
from flowsim.cli.run import _summary_table
from flowsim.scenario import scenario_to_yaml
from helpers.model_helpers import small_scenario

NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?%?")


def numbers(text: str) -> set[str]:
    """Every number printed whole, without its plus sign."""
    return {n.removeprefix("+") for n in NUMBER.findall(text)}


def lines_over(text: str, width: int, but: str = "\0") -> list[str]:
    """Lines wider than ``width`` (lines naming ``but``, a results path, excepted)."""
    return [line for line in text.splitlines() if len(line) > width and but not in line]


def rendered(table: Table, monkeypatch: pytest.MonkeyPatch, columns: int | None = 80) -> str:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", str(columns))
    out = io.StringIO()
    print_table(table, Console(file=out, highlight=False, soft_wrap=True, width=columns or 80))
    return out.getvalue()


@pytest.fixture(scope="module")
def bottlenecks_at_80(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    tmp = tmp_path_factory.mktemp("bottlenecks80")
    scenario = tmp / "tiny_p1.yaml"
    s = small_scenario({"community.p1.capacity": 3}, horizon_days=6, warm_up_days=4)
    scenario.write_text(scenario_to_yaml(s), encoding="utf-8")
    out = tmp / "out"
    result = CliRunner().invoke(
        app,
        [
            *("bottlenecks", str(scenario), "--replications", "2", "--workers", "1"),
            *("--no-value", "--out", str(out)),
        ],
        env={"COLUMNS": "80"},
    )
    assert result.exit_code == 0, result.output
    return result.output, out


def test_bottlenecks_at_80_columns_shows_every_number_whole(
    bottlenecks_at_80: tuple[str, Path],
) -> None:
    output, out = bottlenecks_at_80
    shown = numbers(output)
    resources = pd.read_csv(out / "resources.csv")
    for column in (
        "capacity_mean",
        "utilisation_pct",
        "queue_mean",
        "full_pct",
        "blocked_hours_per_day",
        "delayed_hours_per_day",
    ):
        expected = {_num(float(v)) for v in resources[column] if pd.notna(v)}
        assert expected <= shown, f"{column}: {sorted(expected - shown)} cut or missing"
    attribution = pd.read_csv(out / "attribution.csv")
    total = float(attribution["patient_hours_per_day"].sum())
    big = attribution[attribution["patient_hours_per_day"] >= 0.005 * total]
    expected = {_num(float(v)) for v in big["patient_hours_per_day"]}
    assert expected <= shown
    assert "…" not in output
    assert not lines_over(output, 80, but=str(out)), output


def test_bottlenecks_prints_how_often_each_is_the_primary(
    bottlenecks_at_80: tuple[str, Path],
) -> None:
    output, out = bottlenecks_at_80
    assert "How often each is the primary constraint (2 replications)" in output
    shares = pd.read_csv(out / "constraints.csv")
    assert shares["primary_in"].sum() == 2
    for row in shares.itertuples(index=False):
        assert f"{row.primary_in} of 2" in output
    assert re.search(r"\b\d of 2\b", output)
    assert "Primary constraint: " in output


def wide_summary() -> pd.DataFrame:
    rows = [
        ("ed_within_4h", "%", 50.61, 49.12, 52.07),
        ("ed_over_12h_share", "%", 10.24, 9.61, 10.87),
        ("handover_mean", "minutes", 43.2, 38.71, 47.69),
        ("admissions", "per day", 1184.3, 1171.25, 1197.35),
        ("los_mean", "days", 8.37, 8.12, 8.62),
        ("occupancy_mean_general_acute", "%", 96.5, 96.1, 96.9),
        ("delayed_share_of_ward_beds", "%", 12.4, 11.9, 12.9),
    ]
    table = pd.DataFrame(rows, columns=["kpi", "unit", "mean", "ci_low", "ci_high"])
    table["n"] = 5
    return table


def test_the_run_kpi_table_fits_80_columns_with_numbers_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = rendered(_summary_table(wide_summary(), "baseline", 5), monkeypatch)
    assert {"1,184", "1,171", "1,197", "50.6%", "43.2", "8.37"} <= numbers(text) | {"50.6%"}
    assert "…" not in text
    assert not lines_over(text, 80), text


def comparison_rows() -> pd.DataFrame:
    rows = [
        ("ed_within_4h", "%", 50.61, 53.88, 3.27, 2.51, 4.03, 6.46, "higher", "better"),
        (
            "admissions",
            "per day",
            1184.3,
            1179.6,
            -4.71,
            -9.86,
            0.44,
            -0.4,
            "no clear difference",
            "",
        ),
        ("los_mean", "days", 8.3714, 8.3301, -0.0413, -0.0611, -0.0215, -0.49, "lower", "better"),
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "kpi",
            "unit",
            "baseline_mean",
            "scenario_mean",
            "difference",
            "ci_low",
            "ci_high",
            "pct_change",
            "verdict",
            "assessment",
        ],
    )


def test_the_comparison_table_keeps_numbers_whole_at_80_columns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = "seven_day_discharge_with_a_long_name"
    text = rendered(_comparison_table(comparison_rows(), "baseline", name, 5), monkeypatch)
    for number in ("1,184", "1,180", "-4.71", "-9.86", "0.44", "8.37", "8.33", "-0.4%"):
        assert number in numbers(text), f"{number} cut or missing:\n{text}"
    assert "…" not in text
    assert not lines_over(text, 80), text


def test_the_value_table_keeps_numbers_whole_at_80_columns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = pd.DataFrame(
        [
            {
                "rank": 1,
                "label": "One more ward: general medicine bed",
                "current": 1234.0,
                "k": 62,
                "waiting_hours_per_unit": -1184.33,
                "waiting_hours_ci_low": -1297.1,
                "waiting_hours_ci_high": -1071.55,
                "delayed_patients_mean_per_unit": -12.345,
                "ambulance_hours_lost_per_unit": -3.21,
            }
        ]
    )
    text = rendered(_value_table(rows, 10), monkeypatch)
    for number in ("1,234", "-1,184.3", "-1,297.1", "-1,071.5", "-12.35", "-3.21"):
        assert number in numbers(text), f"{number} cut or missing:\n{text}"
    assert "…" not in text


def test_piped_without_columns_prints_full_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    table = _summary_table(wide_summary(), "a_scenario_with_a_rather_long_name", 5)
    text = rendered(table, monkeypatch, columns=None)
    row = next(line for line in text.splitlines() if "Emergency admissions" in line)
    assert "1,184" in row and "1,171 – 1,197" in row  # one line: nothing wrapped


def test_a_planted_near_tie_is_printed_as_a_tie_with_its_shares(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flowsim.analysis.bottlenecks import BottleneckTables, combine_bottlenecks
    from flowsim.cli.bottlenecks import _constraints_table, _print_verdict

    def attribution(amu_hours: float) -> pd.DataFrame:
        """AMU keeps ``amu_hours``; the discharge referral keeps 75 (the ward passes 3/4 on)."""
        rows = [
            ("amu", "ed_cubicle", amu_hours),
            ("ward:care_of_elderly", "ed_cubicle", 100.0),
            ("discharge_referral", "ward:care_of_elderly", 300.0),
        ]
        return pd.DataFrame(rows, columns=["cause", "location", "patient_hours_per_day"])

    none = pd.DataFrame({"resource": pd.Series(dtype=str)})
    found = combine_bottlenecks(
        [BottleneckTables(attribution(h), none) for h in (77.0, 72.0, 76.0, 74.0, 73.0)]
    )
    text = rendered(_constraints_table(found), monkeypatch)
    assert re.search(r"AMU\s+2 of 5\s+40%", text), text
    assert re.search(r"discharge referral and\s+3 of 5\s+60%", text), text
    monkeypatch.setenv("COLUMNS", "80")
    printed = io.StringIO()
    monkeypatch.setattr(
        "flowsim.cli.common.stdout", Console(file=printed, width=80, highlight=False)
    )
    _print_verdict(found)
    said = " ".join(printed.getvalue().split())
    assert "(a tie)" in said
    assert "AMU and the discharge referral and assessment, about equally" in said
