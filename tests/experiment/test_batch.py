"""Sweeps, the result store and ``flowsim batch`` / ``flowsim results``: every point checked
before anything runs, every replication stored whole and exactly once, even across a kill."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from flowsim.analysis import PRIMARY_KPIS, compute_kpis
from flowsim.cli import app
from flowsim.errors import ScenarioError
from flowsim.experiment import SerialExecutor
from flowsim.experiment.batch import Batch
from flowsim.experiment.store import (
    KPI_COLUMNS,
    EventArrays,
    Provenance,
    ResultStore,
    scenario_hash,
)
from flowsim.model.build import simulate
from flowsim.report import kpi_label
from flowsim.scenario import apply_changes, load_scenario, scenario_to_yaml
from flowsim.scenario.sweep import load_sweep
from helpers.model_helpers import small_scenario

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ``small.yaml``: a tenth of the baseline (a full scenario, no extends)."""
    folder = tmp_path_factory.mktemp("scenarios")
    (folder / "small.yaml").write_text(scenario_to_yaml(small_scenario()), encoding="utf-8")
    return folder


def sweep_file(folder: Path, *, replications: int = 2, days: int = 5, more: str = "") -> Path:
    return write(
        folder / "sweeps" / "beds.yaml",
        f"""
        name: beds
        scenarios: [../small.yaml]
        grid:
          afu.beds: [2, 4]
          amu.beds: [3, 5]
        replications: {replications}
        seed: 7
        horizon_days: {days}
        warm_up_days: 1
        {more}
        """,
    )


def flowsim(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, ANSI.sub("", result.stdout), ANSI.sub("", result.stderr)


# ---------------------------------------------------------------- sweep files


def test_sweep_points_are_the_grid_product_with_run_settings_written_in(scenarios: Path) -> None:
    plan = load_sweep(sweep_file(scenarios))

    assert plan.name == "beds"
    assert [p.label for p in plan.points] == [
        "afu.beds=2, amu.beds=3",
        "afu.beds=2, amu.beds=5",
        "afu.beds=4, amu.beds=3",
        "afu.beds=4, amu.beds=5",
    ]
    first = plan.points[0].scenario
    assert (first.afu.beds, first.amu.beds) == (2, 3)
    assert (first.run.seed, first.run.horizon_days, first.run.warm_up_days) == (7, 5, 1)
    assert first.run.replications == 2
    assert plan.points[0].scenario_file == os.path.join(str(scenarios), "small.yaml")


# Each case: the sweep file, then the line, key path and words of the first problem.
BAD_SWEEPS = {
    "unknown key": (
        "scenarios: [small.yaml]\nreplicatoins: 3\n",
        2,
        "replicatoins",
        "'replications'",
    ),
    "missing scenarios": ("grid: {afu.beds: [1]}\n", None, "scenarios", "is missing"),
    "grid value not a list": (
        "scenarios: [small.yaml]\ngrid:\n  afu.beds: 8\n",
        3,
        "grid.afu.beds",
        "must be a list of the values to try",
    ),
    "bad value names the point": (
        "scenarios: [small.yaml]\ngrid:\n  afu.beds:\n    - 4\n    - -4\n",
        5,
        "grid.afu.beds[1]",
        "must be a whole number of 0 or more, got -4 (scenario",
    ),
    "unknown setting": (
        "scenarios: [small.yaml]\ngrid:\n  afu.bedz: [4]\n",
        3,
        "grid.afu.bedz",
        "unknown key 'bedz'; did you mean 'beds'?",
    ),
    "missing scenario file": (
        "scenarios: [small.yaml, nothere.yaml]\n",
        1,
        "scenarios[1]",
        "cannot find the scenario file 'nothere.yaml'",
    ),
    "value twice": (
        "scenarios: [small.yaml]\ngrid:\n  afu.beds: [4, 4]\n",
        3,
        "grid.afu.beds[1]",
        "lists 4 twice",
    ),
    "bad run setting": (
        "scenarios: [small.yaml]\nhorizon_days: 0\n",
        2,
        "horizon_days",
        "more than 0",
    ),
    "empty file": ("\n", None, "", "the file is empty; a sweep needs"),
}


@pytest.mark.parametrize("case", BAD_SWEEPS, ids=list(BAD_SWEEPS))
def test_bad_sweep_names_file_line_and_key(scenarios: Path, case: str) -> None:
    text, line, key, words = BAD_SWEEPS[case]
    path = scenarios / f"bad_{case.replace(' ', '_')}.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ScenarioError) as caught:
        load_sweep(path)

    problem = caught.value.problems[0]
    assert (problem.file, problem.line, problem.key_path) == (str(path), line, key)
    assert words in problem.message
    assert "Input should" not in str(caught.value)


def test_every_bad_key_and_value_is_listed_at_once(scenarios: Path) -> None:
    path = write(
        scenarios / "bad_many.yaml",
        """
        scenarios: [small.yaml]
        grid:
          afu.beds: [-1, 2]
          amu.bedz: [3]
          community.p1.capacity: [x]
        """,
    )

    with pytest.raises(ScenarioError) as caught:
        load_sweep(path)

    assert [(p.line, p.key_path) for p in caught.value.problems] == [
        (3, "grid.afu.beds[0]"),
        (4, "grid.amu.bedz"),
        (5, "grid.community.p1.capacity[0]"),
    ]


def test_two_points_running_the_same_scenario_are_refused(scenarios: Path, tmp_path: Path) -> None:
    (scenarios / "small_copy.yaml").write_text(
        (scenarios / "small.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    path = write(scenarios / "twice.yaml", "scenarios: [small.yaml, small_copy.yaml]\n")

    with pytest.raises(ScenarioError, match="are the same scenario"):
        Batch(load_sweep(path), ResultStore(tmp_path))


# ---------------------------------------------------------------- the store


def test_scenario_hash_changes_with_what_is_simulated_only(scenarios: Path) -> None:
    small = load_scenario(scenarios / "small.yaml")

    assert scenario_hash(small) == scenario_hash(load_scenario(scenarios / "small.yaml"))
    assert scenario_hash(small) == scenario_hash(apply_changes(small, {"run.replications": 9}))
    assert scenario_hash(small) != scenario_hash(apply_changes(small, {"afu.beds": 9}))
    assert scenario_hash(small) != scenario_hash(apply_changes(small, {"run.seed": 9}))


def test_store_keeps_kpis_events_and_provenance(scenarios: Path, tmp_path: Path) -> None:
    plan = load_sweep(sweep_file(scenarios, replications=2, days=3, more="keep_logs: true"))
    work = Batch(plan, ResultStore(tmp_path))
    finished = []

    ran = work.run(SerialExecutor(), compute_kpis, on_done=finished.append)

    assert ran == len(finished) == 8 and not work.pending
    assert [t.replication for t in finished] == [0, 0, 0, 0, 1, 1, 1, 1]  # rep 0 of all first
    store = ResultStore(tmp_path)
    kpis = store.load()
    assert list(kpis.columns) == [*KPI_COLUMNS, "afu.beds", "amu.beds"]
    point = plan.points[3]
    rows = kpis[(kpis["point"] == point.label) & (kpis["replication"] == 1)]
    expected = compute_kpis(simulate(point.scenario, 1))
    assert list(rows["kpi"]) == list(expected["kpi"])
    assert np.array_equal(rows["value"], expected["value"], equal_nan=True)
    assert set(rows["afu.beds"]) == {4} and set(rows["amu.beds"]) == {5}
    assert set(rows["seed"]) == {7} and set(rows["scenario_file"]) == {point.scenario_file}
    assert (tmp_path / "scenarios" / f"{scenario_hash(point.scenario)}.yaml").is_file()
    events = store.load_events(scenario_hash(point.scenario), 1)
    log = EventArrays.from_log(simulate(point.scenario, 1))
    assert np.array_equal(events["time_hours"], log.time)
    assert list(events["place"].astype(str)) == [log.places[i] for i in log.place]
    assert Batch(plan, store).pending == []  # started again: nothing to do


def test_half_written_files_are_never_read(scenarios: Path, tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    small = load_scenario(scenarios / "small.yaml")
    kpis = pd.DataFrame({"kpi": ["a"], "unit": ["%"], "value": [1.0]})
    store.write(Provenance(small, 0), kpis)
    dead = 2**22 + 12_345  # above Linux's default pid_max: no such process
    (store.kpis_dir / f".{scenario_hash(small)}-r1.parquet.{dead}.tmp").write_bytes(b"PAR1 cut")

    assert store.done() == {(scenario_hash(small), 0)}
    assert len(store.load()) == 1
    assert store.remove_stale_temp_files() == 1
    assert sorted(p.name for p in store.kpis_dir.iterdir()) == [
        f"{scenario_hash(small)}-r0.parquet"
    ]


def test_a_failed_write_leaves_nothing(
    scenarios: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ResultStore(tmp_path)
    kpis = pd.DataFrame({"kpi": ["a"], "unit": ["%"], "value": [1.0]})

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", fail)
    with pytest.raises(OSError, match="disk full"):
        store.write(Provenance(load_scenario(scenarios / "small.yaml"), 0), kpis)

    assert list(store.kpis_dir.iterdir()) == []
    assert store.done() == set()


# ---------------------------------------------------------------- the commands


def stored(out: Path) -> int:
    folder = out / "kpis"
    return len([p for p in folder.iterdir() if p.suffix == ".parquet"]) if folder.is_dir() else 0


@pytest.mark.slow
def test_batch_killed_mid_run_then_resumed_stores_everything_once(
    scenarios: Path, tmp_path: Path
) -> None:
    sweep = sweep_file(scenarios, replications=3, days=12)
    out = tmp_path / "store"
    total = 4 * 3
    command = [
        sys.executable,
        "-c",
        "from flowsim.cli import main; main()",
        "batch",
        str(sweep),
        "--out",
        str(out),
        "--workers",
        "1",
    ]
    first = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while stored(out) == 0 and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        os.killpg(first.pid, signal.SIGKILL)
    finally:
        first.wait(timeout=30)
    before = stored(out)
    assert first.returncode == -signal.SIGKILL
    assert 0 < before < total

    again = subprocess.run(command, capture_output=True, text=True, timeout=120)

    assert again.returncode == 0, again.stderr
    assert f"Skipping {before} replication(s) already in" in again.stdout
    assert f"Running {total - before} replication(s)" in again.stdout
    kpis = ResultStore(out).load()
    per_run = kpis.groupby(["scenario", "point", "replication"])["kpi"].agg(["count", "nunique"])
    assert len(per_run) == total
    assert (per_run["count"] == per_run["nunique"]).all()  # each KPI once per replication
    assert per_run["count"].nunique() == 1
    hidden = [p.name for p in (out / "kpis").iterdir() if p.name.startswith(".")]
    assert hidden == []
    status, stdout, _ = flowsim("batch", sweep, "--out", out, "--workers", 1)
    assert status == 0 and "Nothing left to run" in stdout


@pytest.fixture(scope="module")
def results_store(scenarios: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("results") / "store"
    status, stdout, stderr = flowsim(
        "batch", sweep_file(scenarios, replications=2, days=3), "--out", out, "--workers", 1
    )
    assert status == 0, stderr
    assert "Stored 8 replication(s)" in stdout
    return out


def test_results_prints_each_headline_measure_and_writes_tables(results_store: Path) -> None:
    status, stdout, stderr = flowsim("results", results_store)

    assert status == 0, stderr
    assert "4 scenario(s)/point(s), 2 replication(s) each" in stdout
    for kpi in PRIMARY_KPIS:
        assert kpi_label(kpi) in stdout
    assert stdout.count("baseline") >= len(PRIMARY_KPIS)
    summary = pd.read_csv(results_store / "summary.csv")
    assert list(summary.columns[:4]) == ["variant", "scenario", "point", "afu.beds"]
    assert summary["variant"].nunique() == 4
    assert set(summary.groupby("variant")["n"].max()) == {2}
    comparison = pd.read_csv(results_store / "comparison.csv")
    assert set(comparison["variant"]) == set(summary["variant"].unique()[1:])
    assert set(comparison["baseline"]) == {summary["variant"][0]}
    assert len(comparison) == 3 * summary["kpi"].nunique()


def test_results_baseline_by_number(results_store: Path) -> None:
    status, _, stderr = flowsim("results", results_store, "--baseline", 2)
    assert status == 0, stderr
    comparison = pd.read_csv(results_store / "comparison.csv")
    assert set(comparison["baseline"]) == {"baseline (afu.beds=2, amu.beds=5)"}

    status, _, stderr = flowsim("results", results_store, "--baseline", 9)
    assert status == 2 and "give a number from 1 to 4" in stderr


def test_results_of_an_empty_folder_says_what_to_give(tmp_path: Path) -> None:
    status, _, stderr = flowsim("results", tmp_path)

    assert status == 2 and "no results in" in stderr


def test_batch_refuses_a_bad_sweep_before_running(scenarios: Path, tmp_path: Path) -> None:
    bad = write(scenarios / "bad_cli.yaml", "scenarios: [small.yaml]\ngrid: {afu.beds: [-2]}\n")

    status, _, stderr = flowsim("batch", bad, "--out", tmp_path / "out")

    assert status == 2
    assert f"{bad}:2: grid.afu.beds[0]: must be a whole number of 0 or more" in stderr
    assert not (tmp_path / "out").exists()


def test_batch_takes_one_place_to_run(scenarios: Path, tmp_path: Path) -> None:
    status, _, stderr = flowsim(
        "batch", sweep_file(scenarios), "--scheduler", "tcp://127.0.0.1:9", "--dask-local", 2
    )

    assert status == 2 and "not both" in stderr
