"""`flowsim run` on a scenario with a ``community_only`` section simulates only its pathways
(`flowsim.model.community_only`), not the whole hospital the rest of the scenario describes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from flowsim.cli import app
from flowsim.model import community_only
from flowsim.model.build import simulate
from flowsim.scenario import load_scenario

BASELINE = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.yaml"


def tiny_community_only(folder: Path) -> Path:
    path = folder / "p1_only.yaml"
    path.write_text(
        f"extends: {BASELINE.as_posix()}\n"
        "name: p1 only\n"
        "run: {horizon_days: 5, warm_up_days: 0}\n"
        "community:\n"
        "  p1: {capacity: 12}\n"
        "community_only:\n"
        "  p1: {referrals_per_day: [6.0], repeat: true, occupied: 10, queued: 3}\n",
        encoding="utf-8",
    )
    return path


def test_simulate_hands_a_community_only_scenario_to_its_model(tmp_path: Path) -> None:
    s = load_scenario(tiny_community_only(tmp_path))
    log = simulate(s, 1, seed=7)
    same = community_only.simulate(s, 1, seed=7)
    assert log.meta["mode"] == "community_only"
    assert log.events == same.events and log.patients == same.patients


def test_flowsim_run_simulates_only_the_community_pathway(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["run", str(tiny_community_only(tmp_path)), "--replications", "1", "--workers", "1"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    events = pd.read_parquet(out / "events.parquet")
    assert set(events["place"].astype(str)) == {"gp_referral", "p1", "P1"}
    assert (events["time_hours"] <= 5 * 24).all()
    kpis = pd.read_csv(out / "kpis.csv").set_index("kpi")["value"]
    assert kpis["occupancy_mean_p1"] > 50
    assert kpis["ed_attendances"] == 0 and kpis["admissions"] == 0
