"""Faults a long batch must survive (issue 17, item 4): a local worker process killed with
SIGKILL, a Dask worker killed mid-run, and a damaged file in the result store. Each time every
(scenario, point, replication) is stored exactly once and the results equal a clean run's."""

from __future__ import annotations

import os
import signal
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from flowsim.analysis import compute_kpis
from flowsim.experiment import SerialExecutor
from flowsim.experiment.batch import Batch, BatchTask
from flowsim.experiment.executors import DaskExecutor, Executor, ProcessExecutor
from flowsim.experiment.store import ResultStore
from flowsim.scenario import scenario_to_yaml
from flowsim.scenario.sweep import SweepPlan, load_sweep
from helpers.model_helpers import small_scenario

COMPARED = ["scenario_hash", "point", "replication", "kpi", "unit", "value"]


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> SweepPlan:
    """Four points of the tenth-size system, three replications each, a few days long."""
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "small.yaml").write_text(scenario_to_yaml(small_scenario()), encoding="utf-8")
    sweep = folder / "beds.yaml"
    sweep.write_text(
        textwrap.dedent(
            """
            name: beds
            scenarios: [small.yaml]
            grid:
              afu.beds: [2, 4]
              amu.beds: [3, 5]
            replications: 3
            seed: 11
            horizon_days: 4
            warm_up_days: 1
            """
        ),
        encoding="utf-8",
    )
    return load_sweep(sweep)


def _results(store: ResultStore) -> pd.DataFrame:
    return store.load()[COMPARED].sort_values(COMPARED[:4], ignore_index=True)


@pytest.fixture(scope="module")
def clean(plan: SweepPlan, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    store = ResultStore(tmp_path_factory.mktemp("clean"))
    Batch(plan, store).run(SerialExecutor(), compute_kpis)
    return _results(store)


def _run_killing_a_worker(
    plan: SweepPlan, store: ResultStore, executor: Executor, worker_pids: object
) -> list[BatchTask]:
    """Run the batch, SIGKILLing one worker as soon as the first replication is stored."""
    stored: list[BatchTask] = []

    def on_done(task: BatchTask) -> None:
        stored.append(task)
        if len(stored) == 1:
            pids = worker_pids()  # type: ignore[operator]
            assert pids, "no worker to kill"
            os.kill(pids[0], signal.SIGKILL)

    batch = Batch(plan, store)
    batch.run(executor, compute_kpis, on_done=on_done)
    assert not batch.pending
    return stored


def _exactly_once(stored: list[BatchTask], plan: SweepPlan, store: ResultStore) -> None:
    keys = [task.key for task in stored]
    assert len(keys) == len(set(keys)) == len(plan.points) * 3
    assert store.done() == set(keys)


def test_a_local_worker_killed_mid_batch_is_replaced_and_its_work_rerun(
    plan: SweepPlan, clean: pd.DataFrame, tmp_path: Path
) -> None:
    store = ResultStore(tmp_path)
    with ProcessExecutor(2) as executor:

        def pids() -> list[int]:
            pool = executor._pool
            return [] if pool is None else list(pool._processes)  # type: ignore[attr-defined]

        stored = _run_killing_a_worker(plan, store, executor, pids)
        assert executor.rebuilds >= 1
    _exactly_once(stored, plan, store)
    pd.testing.assert_frame_equal(_results(store), clean)


def test_a_dask_worker_killed_mid_batch_loses_nothing(
    plan: SweepPlan, clean: pd.DataFrame, tmp_path: Path
) -> None:
    pytest.importorskip("distributed")
    store = ResultStore(tmp_path)
    with DaskExecutor(local_workers=2) as executor:

        def pids() -> list[int]:
            return sorted(executor._client.run(os.getpid).values())

        stored = _run_killing_a_worker(plan, store, executor, pids)
    _exactly_once(stored, plan, store)
    pd.testing.assert_frame_equal(_results(store), clean)


def test_a_truncated_or_damaged_store_file_is_set_aside_and_redone(
    plan: SweepPlan, clean: pd.DataFrame, tmp_path: Path
) -> None:
    store = ResultStore(tmp_path)
    Batch(plan, store).run(SerialExecutor(), compute_kpis)
    files = sorted(store.kpis_dir.glob("*.parquet"))
    truncated, damaged = files[0], files[1]
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    data = bytearray(damaged.read_bytes())
    data[8:40] = bytes(32)  # the first data page, past the magic bytes
    damaged.write_bytes(bytes(data))
    assert len(store.load()) < len(clean)  # never read as a result

    batch = Batch(plan, store)
    assert sorted(p.name for p in batch.broken) == sorted(
        f".{p.name}.broken" for p in (truncated, damaged)
    )
    assert len(batch.pending) == 2
    assert batch.run(SerialExecutor(), compute_kpis) == 2
    pd.testing.assert_frame_equal(_results(store), clean)
    assert Batch(plan, store).pending == []


def test_a_damaged_event_log_is_redone_when_logs_are_kept(plan: SweepPlan, tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    Batch(plan, store, replications=1, keep_logs=True).run(SerialExecutor(), compute_kpis)
    events = sorted(store.events_dir.glob("*.parquet"))[0]
    before = pd.read_parquet(events)
    events.write_bytes(events.read_bytes()[:100])

    batch = Batch(plan, store, replications=1, keep_logs=True)
    assert len(batch.pending) == 1
    batch.run(SerialExecutor(), compute_kpis)
    pd.testing.assert_frame_equal(pd.read_parquet(events), before)


def test_work_queued_by_a_caller_that_stops_is_cancelled() -> None:
    """A session closed while its replications queue (Streamlit stops its script, so the
    iteration ends early) leaves no queued work behind for the shared workers."""

    with ProcessExecutor(1) as executor:
        list(executor.map_unordered(os.getpid, [()]))  # the worker started
        calls = executor.map_unordered(time.sleep, [(1.0,)] * 8)
        next(calls)
        calls.close()  # the caller went away after the first result
        started = time.perf_counter()
        assert list(executor.map_unordered(os.getpid, [()]))
        assert time.perf_counter() - started < 4.0  # not the 7 s the queued calls would take
