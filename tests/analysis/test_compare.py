"""Paired comparison on common random numbers, warm-up by MSER-5, and the replications
algorithm: the statistics a learning set's conclusions rest on."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

import flowsim
from flowsim.analysis.compare import paired_comparison, verdict
from flowsim.analysis.warmup import mser
from flowsim.cli import app
from flowsim.experiment.replications import ReplicationsAlgorithm, relative_half_width
from flowsim.scenario import Scenario, scenario_to_yaml
from helpers.model_helpers import small_scenario

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def flowsim_cli(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, ANSI.sub("", result.stdout), ANSI.sub("", result.stderr)


def write(s: Scenario, path: Path) -> Path:
    path.write_text(scenario_to_yaml(s), encoding="utf-8")
    return path


# ---------------------------------------------------------------- paired comparison


def tidy(values: dict[str, list[float]], kpi: str = "los_mean", unit: str = "days") -> pd.DataFrame:
    return pd.DataFrame(
        [(name, r, kpi, unit, v) for name, vs in values.items() for r, v in enumerate(vs)],
        columns=["scenario", "replication", "kpi", "unit", "value"],
    )


def test_paired_difference_and_interval_by_hand() -> None:
    base, alt = [10.0, 12.0, 11.0, 13.0], [9.0, 11.5, 10.0, 12.0]
    row = paired_comparison(tidy({"base": base, "alt": alt}), "base").iloc[0]
    d = np.subtract(alt, base)
    half = 3.182446 * d.std(ddof=1) / 2  # t(0.975, 3) * sd / sqrt(4)
    assert row["difference"] == pytest.approx(d.mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((d.mean() - half, d.mean() + half))
    assert row["pct_change"] == pytest.approx(100 * d.mean() / np.mean(base))
    assert (row["verdict"], row["assessment"]) == ("shorter", "better")
    assert row["n"] == 4


def test_pairs_by_replication_not_by_row_order() -> None:
    df = tidy({"base": [1.0, 2.0, 3.0], "alt": [1.1, 2.1, 3.1]})
    shuffled = df.sample(frac=1.0, random_state=3)
    row = paired_comparison(shuffled, "base").iloc[0]
    assert row["difference"] == pytest.approx(0.1)
    assert row["ci_high"] - row["ci_low"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    ("kpi", "unit", "low", "high", "words"),
    [
        ("ed_within_4h", "%", 1.0, 2.0, ("higher", "better")),
        ("ed_within_4h", "%", -2.0, -1.0, ("lower", "worse")),
        ("handover_mean", "minutes", 1.0, 3.0, ("longer", "worse")),
        ("los_mean", "days", -0.8, -0.4, ("shorter", "better")),
        ("ed_attendances", "per day", 1.0, 2.0, ("higher", "")),
        ("los_mean", "days", -0.2, 0.3, ("no clear difference", "")),
        ("los_mean", "days", math.nan, math.nan, ("not enough data", "")),
    ],
)
def test_verdict_in_plain_words(
    kpi: str, unit: str, low: float, high: float, words: tuple[str, str]
) -> None:
    assert verdict(kpi, unit, low, high) == words


def test_unknown_baseline_is_named() -> None:
    with pytest.raises(ValueError, match="'nope' is not among the scenarios"):
        paired_comparison(tidy({"a": [1.0, 2.0]}), "nope")


@pytest.fixture(scope="module")
def crn_kpis() -> pd.DataFrame:
    """Six paired replications of the small baseline and of it with fewer care-of-elderly beds."""
    base = small_scenario(horizon_days=30, warm_up_days=20)
    fewer = small_scenario(
        {"wards.care_of_elderly.beds": 34, "name": "fewer beds"}, horizon_days=30, warm_up_days=20
    )
    return flowsim.run_kpis([base, fewer], 6)


def test_paired_intervals_are_narrower_than_unpaired_on_crn(crn_kpis: pd.DataFrame) -> None:
    base = crn_kpis["scenario"].iloc[0]
    paired = paired_comparison(crn_kpis, base).set_index("kpi")
    unpaired = paired_comparison(crn_kpis, base, paired=False).set_index("kpi")
    kpis = [
        "ed_within_4h",
        "handover_mean",
        "los_mean",
        "occupancy_mean_general_acute",
        "admissions",
        "ed_time_mean",
    ]
    width = {
        k: (
            paired.loc[k, "ci_high"] - paired.loc[k, "ci_low"],
            unpaired.loc[k, "ci_high"] - unpaired.loc[k, "ci_low"],
        )
        for k in kpis
    }
    assert all(p < u for p, u in width.values()), width
    assert all(
        paired.loc[k, "difference"] == pytest.approx(unpaired.loc[k, "difference"]) for k in kpis
    )


def test_fewer_beds_is_seen_as_worse(crn_kpis: pd.DataFrame) -> None:
    table = paired_comparison(crn_kpis, crn_kpis["scenario"].iloc[0]).set_index("kpi")
    assert table.loc["occupancy_mean_ward_care_of_elderly", "verdict"] == "higher"
    assert table.loc["occupancy_mean_general_acute", "assessment"] == "worse"
    assert table.loc["occupancy_mean_frailty_team", "verdict"] == "not measured"  # team is off


# ---------------------------------------------------------------- warm-up


def test_mser_finds_the_end_of_a_transient() -> None:
    rng = np.random.default_rng(7)
    days = np.arange(400)
    series = 100 * (1 - np.exp(-days / 20)) + rng.normal(0, 2, len(days))
    cut = mser(series)
    assert 40 <= cut <= 130  # 3-6 time constants: where the mean is within the noise
    assert mser(rng.normal(50, 2, 400)) <= 40  # stationary from the start: little or nothing


def test_mser_says_what_it_needs() -> None:
    with pytest.raises(ValueError, match="at least 20 points"):
        mser(np.ones(12))


def test_warmup_command_recommends_and_draws(tmp_path: Path) -> None:
    file = write(small_scenario(horizon_days=30, warm_up_days=0), tmp_path / "small.yaml")
    out = tmp_path / "wu"
    status, stdout, stderr = flowsim_cli(
        "warmup", file, "--days", 120, "--replications", 2, "--out", out
    )
    assert status == 0, stderr
    assert "Recommended warm-up:" in stdout and "too short" in stdout
    for unit in ("ed_cubicle", "general_acute", "p1"):
        assert unit in stdout
    assert Image.open(out / "warmup.png").size[0] > 500
    series = pd.read_csv(out / "warmup.csv")
    assert set(series.columns) == {"unit", "day", "occupied", "replication"}


# ---------------------------------------------------------------- replications


def test_relative_half_width() -> None:
    assert relative_half_width(np.array([1.0, 1.0, 1.0])) == 0.0
    assert relative_half_width(np.array([1.0])) == math.inf
    x = np.array([9.0, 10.0, 11.0])
    assert relative_half_width(x) == pytest.approx(4.302653 * 1.0 / math.sqrt(3) / 10.0)


def test_algorithm_waits_for_the_look_ahead() -> None:
    a = ReplicationsAlgorithm(["k"], 0.05, k_limit=5)
    for v in [100.0, 101.0, 99.0]:
        a.add({"k": v})
    assert a.solution == 3 and not a.done and a.still_needed() == 5
    for v in [100.0] * 4:
        a.add({"k": v})
    assert not a.done
    a.add({"k": 100.0})
    assert a.met and a.done and a.n == 8


def test_algorithm_restarts_when_precision_is_lost() -> None:
    a = ReplicationsAlgorithm(["k"], 0.05, max_replications=60)
    for v in [100.0, 101.0, 99.0, 60.0]:
        a.add({"k": v})
    assert a.solution is None
    while not a.done:
        a.add({"k": 100.0})
    assert a.met and a.solution is not None and a.solution > 4


@pytest.mark.slow
def test_auto_replications_reach_the_precision() -> None:
    s = small_scenario(horizon_days=15, warm_up_days=15)
    kpis = ("admissions", "occupancy_mean_general_acute")
    found = flowsim.auto_replications(s, precision=0.08, kpis=kpis, max_replications=20)
    a = found.algorithm
    assert a.met and a.n < 20, a.half_widths()
    assert all(w <= 0.08 for w in a.half_widths().values())
    assert a.solution is not None and a.n >= a.solution + 5  # the look-ahead confirmed it
    assert sorted(found.kpis["replication"].unique()) == list(range(a.n))


# ---------------------------------------------------------------- the command


def test_compare_command(tmp_path: Path) -> None:
    base = write(small_scenario(horizon_days=8, warm_up_days=5), tmp_path / "base.yaml")
    alt = write(
        small_scenario({"afu.beds": 10, "name": "bigger afu"}, horizon_days=8, warm_up_days=5),
        tmp_path / "alt.yaml",
    )
    out = tmp_path / "cmp"
    status, stdout, stderr = flowsim_cli("compare", base, alt, "--replications", 3, "--out", out)
    assert status == 0, stderr
    assert "against baseline" in stdout and "difference" in stdout and "verdict" in stdout
    table = pd.read_csv(out / "compare.csv")
    assert set(table["scenario"]) == {"bigger afu"}
    assert {"difference", "ci_low", "ci_high", "pct_change", "verdict"} <= set(table.columns)
    assert Image.open(out / "forest.png").size[0] > 500
    html = (out / "report.html").read_text(encoding="utf-8")
    for section in ("headline", "how-to-read", "changes-bigger-afu", "bottlenecks", "figures"):
        assert f'id="{section}"' in html, section
    assert "afu.beds" in html and html.count("data:image/png;base64,") == 3  # + trends
    kpis = pd.read_csv(out / "kpis.csv")
    assert sorted(kpis["replication"].unique()) == [0, 1, 2]


def test_compare_needs_two_replications(tmp_path: Path) -> None:
    base = write(small_scenario(horizon_days=5, warm_up_days=1), tmp_path / "b.yaml")
    status, _, stderr = flowsim_cli("compare", base, base, "--replications", 1)
    assert status == 2 and "--replications" in stderr


def test_run_with_auto_replications(tmp_path: Path) -> None:
    file = write(small_scenario(horizon_days=5, warm_up_days=3), tmp_path / "s.yaml")
    status, stdout, stderr = flowsim_cli(
        "run",
        file,
        "--replications",
        "auto",
        "--precision",
        0.5,
        "--max-replications",
        10,
        "--out",
        tmp_path / "out",
    )
    assert status == 0, stderr
    said = " ".join((stdout + stderr).split())
    assert "Precision ±50% reached at" in said or "Stopped at the cap of 10" in said
    n = int(re.search(r"mean of (\d+) replication", said).group(1))  # type: ignore[union-attr]
    kpis = pd.read_csv(tmp_path / "out" / "kpis.csv")
    assert sorted(kpis["replication"].unique()) == list(range(n))


def test_run_says_what_replications_must_be(tmp_path: Path) -> None:
    file = write(small_scenario(horizon_days=5, warm_up_days=1), tmp_path / "s.yaml")
    status, _, stderr = flowsim_cli("run", file, "--replications", "lots")
    said = " ".join(stderr.replace("│", " ").split())
    assert status == 2 and "or 'auto'" in said


@pytest.mark.slow
def test_run_with_value_of_one_more_adds_the_ranking_to_the_report(tmp_path: Path) -> None:
    file = write(small_scenario(horizon_days=5, warm_up_days=5), tmp_path / "s.yaml")
    out = tmp_path / "out"
    status, stdout, stderr = flowsim_cli("run", file, "--replications", 2, "--value", "--out", out)
    assert status == 0, stderr
    assert "One more" in stdout
    table = pd.read_csv(out / "value_of_one_more.csv")
    assert list(table["rank"]) == list(range(1, len(table) + 1)) and len(table) >= 8
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="value"' in html and "What one more unit would buy" in html


def test_run_without_replications_uses_the_scenarios_own(tmp_path: Path) -> None:
    s = small_scenario({"run.replications": 2}, horizon_days=5, warm_up_days=2)
    file = write(s, tmp_path / "s.yaml")
    status, stdout, stderr = flowsim_cli("run", file, "--out", tmp_path / "out")
    assert status == 0, stderr
    assert "2 replication(s)" in " ".join(stdout.split())
    kpis = pd.read_csv(tmp_path / "out" / "kpis.csv")
    assert sorted(kpis["replication"].unique()) == [0, 1]
