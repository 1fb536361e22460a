"""``flowsim run`` streams each replication's events and patients to disk as it finishes
(issue 17, item 2): the files read as before, hold the same tables as the in-memory path, and a
run stopped half-way leaves no file that looks complete."""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from flowsim.cli import app
from flowsim.model.build import simulate
from flowsim.report import RunResults
from flowsim.report.outputs import reduce_replication
from flowsim.scenario import scenario_to_yaml
from helpers.model_helpers import small_scenario

DAYS, WARM_UP, REPLICATIONS = 3, 1, 3


@pytest.fixture(scope="module")
def logs() -> list:
    scenario = small_scenario()
    return [
        simulate(scenario, r, horizon_days=DAYS, warm_up_days=WARM_UP) for r in range(REPLICATIONS)
    ]


def test_streamed_files_equal_the_in_memory_tables(logs: list, tmp_path: Path) -> None:
    in_memory = RunResults()
    streamed = RunResults(stream_to=tmp_path / "out")
    reduce = functools.partial(reduce_replication, parts=tmp_path / "out" / ".parts")
    for log in logs:
        in_memory.add(log)
        streamed.add_reduced(reduce(log))
    assert not list((tmp_path / "out" / ".parts").iterdir())  # every part appended and deleted
    pd.testing.assert_frame_equal(streamed.events(), in_memory.events())
    pd.testing.assert_frame_equal(streamed.patients(), in_memory.patients())
    pd.testing.assert_frame_equal(streamed.kpis, in_memory.kpis)
    for a, b in zip(streamed.figures().values(), in_memory.figures().values(), strict=True):
        assert type(a) is type(b)


def test_a_stream_stopped_half_way_leaves_no_complete_looking_file(
    logs: list, tmp_path: Path
) -> None:
    results = RunResults(stream_to=tmp_path)
    results.add(logs[0])
    assert not (tmp_path / "events.parquet").exists()
    assert (tmp_path / "events.parquet.partial").exists()


def test_flowsim_run_writes_one_readable_file_with_a_row_group_per_replication(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "small.yaml"
    scenario.write_text(scenario_to_yaml(small_scenario()), encoding="utf-8")
    out = tmp_path / "out"
    args = ["run", scenario, "--days", DAYS, "--warm-up", WARM_UP]
    args += ["--replications", REPLICATIONS, "--workers", 2, "--out", out]
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    assert not (out / ".parts").exists()
    assert not list(out.glob("*.partial"))
    for name in ("events.parquet", "patients.parquet"):
        assert (out / name).is_file()
        assert pq.ParquetFile(out / name).num_row_groups >= REPLICATIONS
        table = pd.read_parquet(out / name)
        assert sorted(table["replication"].unique()) == list(range(REPLICATIONS))
        assert table["replication"].is_monotonic_increasing  # in replication order
    events = pd.read_parquet(out / "events.parquet")
    assert isinstance(events["event"].dtype, pd.CategoricalDtype)
    assert list(events.columns) == ["replication", "time_hours", "patient", "event", "place"]
