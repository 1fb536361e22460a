"""Executors: the same replications give the same event log, bit for bit, wherever they run."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from flowsim.analysis import compute_kpis
from flowsim.errors import ModelError
from flowsim.experiment import (
    DaskExecutor,
    ExecutorError,
    ProcessExecutor,
    SerialExecutor,
    run_replications,
)
from flowsim.experiment.store import EventArrays
from flowsim.model.build import simulate
from flowsim.scenario import Scenario, apply_changes
from helpers.model_helpers import small_scenario

REPLICATIONS = 3


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return small_scenario(horizon_days=10, warm_up_days=3)


@pytest.fixture(scope="module")
def processes() -> Iterator[ProcessExecutor]:
    with ProcessExecutor(2) as executor:
        yield executor


def assert_same_events(a: EventArrays, b: EventArrays) -> None:
    assert a.places == b.places
    for column in ("time", "patient", "kind", "place"):
        x, y = getattr(a, column), getattr(b, column)
        assert x.dtype == y.dtype and np.array_equal(x, y), column  # exact, not approximate


@pytest.mark.slow
def test_event_logs_identical_serial_processes_and_dask(
    scenario: Scenario, processes: ProcessExecutor
) -> None:
    direct = [EventArrays.from_log(simulate(scenario, r)) for r in range(REPLICATIONS)]
    runs = {
        "1 worker": run_replications(
            scenario, REPLICATIONS, executor=SerialExecutor(), reduce=EventArrays.from_log
        ),
        "2 local workers": run_replications(
            scenario, REPLICATIONS, executor=processes, reduce=EventArrays.from_log
        ),
    }
    with DaskExecutor(local_workers=2) as dask:
        assert dask.slots == 2
        runs["Dask LocalCluster"] = run_replications(
            scenario, REPLICATIONS, executor=dask, reduce=EventArrays.from_log
        )
    for name, logs in runs.items():
        assert len(logs) == REPLICATIONS, name
        for r in range(REPLICATIONS):
            assert_same_events(logs[r], direct[r])
    assert len(direct[0].time) != len(direct[1].time)  # replications differ from each other


def test_reduce_runs_in_the_worker_and_results_come_back_in_order(
    scenario: Scenario, processes: ProcessExecutor
) -> None:
    done: list[int] = []

    kpis = run_replications(
        scenario, REPLICATIONS, executor=processes, reduce=compute_kpis, on_done=done.append
    )

    assert sorted(done) == list(range(REPLICATIONS))
    for r, table in enumerate(kpis):
        assert isinstance(table, pd.DataFrame)
        pd.testing.assert_frame_equal(table, compute_kpis(simulate(scenario, r)))


def test_workers_argument_still_runs_local_processes_from_any_first_replication(
    scenario: Scenario,
) -> None:
    done: list[int] = []

    logs = run_replications(scenario, 2, workers=2, first_replication=1, on_done=done.append)

    assert sorted(done) == [1, 2]
    for r, log in zip([1, 2], logs, strict=True):
        assert log.meta["replication"] == r
        assert_same_events(EventArrays.from_log(log), EventArrays.from_log(simulate(scenario, r)))


def test_a_replication_error_reaches_the_caller(processes: ProcessExecutor) -> None:
    broken = apply_changes(small_scenario(horizon_days=2, warm_up_days=0), {"ed.cubicles": 0})

    with pytest.raises(ModelError, match=r"ed\.cubicles"):
        run_replications(broken, 2, executor=processes)


def test_map_unordered_gives_every_index_once() -> None:
    results = dict(SerialExecutor().map_unordered(pow, [(2, 3), (3, 2), (5, 0)]))

    assert results == {0: 8, 1: 9, 2: 1}


def test_unreachable_scheduler_says_what_to_check() -> None:
    with pytest.raises(ExecutorError, match=r"cannot reach the Dask scheduler at tcp://127\.0"):
        DaskExecutor("tcp://127.0.0.1:9", timeout=1)
