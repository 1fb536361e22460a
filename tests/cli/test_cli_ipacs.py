"""``flowsim ipacs-check`` end to end on one variant, short: the table, the files, the errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from flowsim.cli import app

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "validation" / "ipacs_data"
BASE = ROOT / "scenarios" / "baseline.yaml"


def test_one_variant_prints_its_shares_and_writes_tables_and_figures(tmp_path: Path) -> None:
    args = ["ipacs-check", "--data", str(DATA), "--base", str(BASE), "--only", "BCap_Blos_BArr"]
    args += ["--replications", "2", "--days", "40", "--out", str(tmp_path), "--figures"]
    result = CliRunner().invoke(app, [*args, str(tmp_path)], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "BCap_Blos_BArr" in result.output and "length-biased" in result.output
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert list(summary["remaining_stay"]) == ["length_biased", "uniform"]
    assert summary["queue_in_band"].between(0, 1).all()
    daily = pd.read_csv(tmp_path / "daily.csv")
    assert daily["day"].max() == 39
    for name in ("ipacs_queue.png", "ipacs_occupancy.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_errors_say_what_to_give(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["ipacs-check", "--data", str(tmp_path)])
    assert result.exit_code == 2
    assert "arrivals.csv" in result.output
    result = CliRunner().invoke(
        app, ["ipacs-check", "--data", str(DATA), "--base", str(BASE), "--only", "nope"]
    )
    assert result.exit_code == 2 and "no variant" in result.output
