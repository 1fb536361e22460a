"""Bottleneck analysis on planted constraints: the analysis must name the unit we starved, trace
the blocking back to the front door, and rank one more of it first. Small systems, short runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from flowsim.analysis import EventFrame
from flowsim.analysis.bottlenecks import find_bottlenecks
from flowsim.api import value_of_one_more
from flowsim.cli import app
from flowsim.scenario import scenario_to_yaml
from helpers.model_helpers import run, small_scenario

SHORT = {"horizon_days": 30, "warm_up_days": 30}
FEW_CUBICLES = {"ed.cubicles": 4}
TINY_P1 = {"community.p1.capacity": 3}
ROOMY = 10_000


def roomy_changes() -> dict[str, object]:
    """Room everywhere: nobody ever waits for a place downstream."""
    s = small_scenario()
    changes: dict[str, object] = {
        "ed.cubicles": ROOMY,
        "ed.clinicians_by_hour": [ROOMY] * 24,
        "sdec.chairs": ROOMY,
        "amu.beds": ROOMY,
        "afu.beds": ROOMY,
        "community.p1.capacity": ROOMY,
        "community.p2.capacity": ROOMY,
        "community.p3.capacity": ROOMY,
        "community.virtual_ward.capacity": ROOMY,
    }
    for name in s.wards:
        changes[f"wards.{name}.beds"] = ROOMY
    return changes


def test_few_ed_cubicles_are_named_the_primary_constraint() -> None:
    found = find_bottlenecks(run(small_scenario(FEW_CUBICLES, **SHORT)))
    assert found.primary == "ed_cubicle"
    assert found.chain[0] == "ed_cubicle"
    assert found.chain[-1] == "ambulance"
    cubicles = found.resources.set_index("resource").loc["ed_cubicle"]
    assert cubicles["utilisation_pct"] > 99.0
    assert cubicles["full_pct"] > 99.0


def test_tiny_p1_is_primary_and_blocking_reaches_the_front_door() -> None:
    found = find_bottlenecks(run(small_scenario(TINY_P1, **SHORT)))
    assert found.primary == "p1"
    assert is_ward_or_acute(found.chain[1])
    assert "amu" in found.chain
    assert found.chain[-2:] == ["ed_cubicle", "ambulance"]
    assert all(found.chain_hours[link] > 0 for link in found.chain)
    wards = found.resources[found.resources["resource"].str.startswith("ward:")]
    assert (wards["blocked_hours_per_day"] > 0).all()
    assert " → ".join(found.chain) == found.chain_text()


def is_ward_or_acute(unit: str) -> bool:
    return unit.startswith("ward:") or unit in ("amu", "afu")


def test_attribution_adds_up_to_all_waiting_in_the_log() -> None:
    log = run(small_scenario(TINY_P1, **SHORT))
    found = find_bottlenecks(log)
    ef = EventFrame(log)
    w, e = ef.warm_up, ef.end
    q = ef.queues
    q = q[~q["unit"].isin(["p1", "p2", "p3"])]
    total = (np.clip(q["left"].fillna(e), w, e) - np.clip(q["queue"], w, e)).sum()
    d = ef.delays  # referral + community capacity + discharge window
    total += (np.clip(d["end"].fillna(e), w, e) - np.clip(d["start"], w, e)).sum()
    att = found.attribution
    assert att["patient_hours_per_day"].sum() == pytest.approx(total / ef.days, rel=1e-9)
    assert (att["patient_hours_per_day"] > 0).all()
    p1 = att.loc[att["cause"] == "p1", "location"].astype(str)
    assert set(p1) <= {u for u in ef.units if u.startswith("ward:")} | {"amu", "afu"}


def test_no_blocked_time_when_nothing_waits_downstream() -> None:
    found = find_bottlenecks(run(small_scenario(roomy_changes(), horizon_days=10, warm_up_days=5)))
    assert (found.resources["blocked_hours_per_day"] == 0).all()
    causes = set(found.attribution["cause"].astype(str))
    # Walk-ins still wait through triage for a cubicle; discharges still wait for the window.
    assert causes <= {"ed_cubicle", "discharge_referral", "discharge_window"}


def test_several_replications_are_averaged() -> None:
    s = small_scenario(TINY_P1, horizon_days=10, warm_up_days=10)
    logs = [run(s, r) for r in (0, 1)]
    both = find_bottlenecks(logs)
    one = [find_bottlenecks(log) for log in logs]
    assert both.replications == 2
    total = both.attribution["patient_hours_per_day"].sum()
    singles = [b.attribution["patient_hours_per_day"].sum() for b in one]
    assert total == pytest.approx(np.mean(singles))


P1_DAYS = {"horizon_days": 30, "warm_up_days": 10}
"""Enough for one more P1 package to rank first: P1 is far ahead of the runner-up already
(paired t of the difference from -1.7 to -6.4 over the default seed and seeds 1-5, every one
ranked first with the CI below 0; with SHORT the CI crossed 0 on seed 4). The cubicles keep
SHORT: one more ED clinician comes within 3-13% of one more cubicle (paired t from -0.6 to
-4.6), and with a 10-day warm-up, or 4 replications, the clinician ranked first or the CI crossed
0 on 3 of those 6 seeds (1 of 6 with SHORT). The default seed passes either way; the run is 40
days instead of 60 for the six P1 scenarios."""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("changes", "planted", "others", "days"),
    [
        (FEW_CUBICLES, "ed_cubicle", ["ed_clinician", "amu", "p1"], SHORT),
        (TINY_P1, "p1", ["ed_cubicle", "amu", "ward:surgery", "ward:general_medicine"], P1_DAYS),
    ],
)
def test_one_more_of_the_planted_constraint_ranks_first(
    changes: dict[str, object], planted: str, others: list[str], days: dict[str, float]
) -> None:
    plain = {"pressure": None, "seasons": None}  # the planted constraint alone, no responses
    worth = value_of_one_more(
        small_scenario({**changes, **plain}, **days),
        replications=6,
        workers=1,
        capacities=[planted, *others],
    )
    table = worth.table
    assert table.iloc[0]["resource"] == planted
    assert table.iloc[0]["waiting_hours_ci_high"] < 0  # clearly less waiting
    assert table.iloc[0]["sentence"].startswith("One more ")
    assert list(table["rank"]) == list(range(1, len(table) + 1))


def test_bottlenecks_command_prints_the_chain_and_writes_csvs(tmp_path: Path) -> None:
    scenario = tmp_path / "few.yaml"
    s = small_scenario(FEW_CUBICLES, horizon_days=6, warm_up_days=4)
    scenario.write_text(scenario_to_yaml(s), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            *("bottlenecks", str(scenario), "--replications", "2", "--workers", "1"),
            *("--no-value", "--out", str(out)),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Blocking chain: ed_cubicle → ambulance" in result.output
    assert "Primary constraint: ed_cubicle" in result.output
    for name in ("resources.csv", "attribution.csv", "chain.csv", "run.txt"):
        assert (out / name).is_file()
