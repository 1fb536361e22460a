"""The shared pool's background work (the app's baseline prefetch) leaves a worker free for a
comparison asked for meanwhile, and work asked for twice by key runs once (issue 16, item 4)."""

from __future__ import annotations

import threading
import time

import pytest

from flowsim.experiment.executors import Executor, choose_executor
from flowsim.experiment.pool import WorkerPool

ran: list[str] = []
running: list[str] = []
peak: list[int] = [0]
lock = threading.Lock()


def job(name: str, seconds: float) -> str:
    with lock:
        running.append(name)
        peak[0] = max(peak[0], sum(1 for r in running if r.startswith("bg")))
    time.sleep(seconds)
    with lock:
        running.remove(name)
        ran.append(name)
    return name


class ThreadPool(WorkerPool):
    """Two workers in threads of this process (a pool of processes would not see ``ran``)."""

    def _executor(self) -> Executor:
        return choose_executor(1)


@pytest.fixture()
def pool():
    ran.clear()
    running.clear()
    peak[0] = 0
    pool = ThreadPool(2, poll_seconds=0.05)
    yield pool
    pool.close()


def test_background_work_never_takes_every_worker(pool: WorkerPool) -> None:
    calls = [(f"bg{i}", 0.3) for i in range(4)]
    background = threading.Thread(
        target=lambda: list(pool.map_unordered(job, calls, background=True))
    )
    background.start()
    time.sleep(0.1)
    started = time.perf_counter()
    assert list(pool.map_unordered(job, [("fg", 0.1)])) == [(0, "fg")]
    assert time.perf_counter() - started < 0.25  # a worker was free: no wait for a bg job
    background.join()
    assert peak[0] == 1, "background work ran on both workers"
    assert sorted(ran) == ["bg0", "bg1", "bg2", "bg3", "fg"]


def test_work_already_running_for_another_caller_is_waited_for(pool: WorkerPool) -> None:
    kept: list[str] = []
    background = threading.Thread(
        target=lambda: list(pool.map_unordered(job, [("bg-a", 0.3)], keys=["a"], background=True))
    )
    background.start()
    time.sleep(0.1)
    found = list(
        pool.map_unordered(
            job,
            [("bg-a", 0.3), ("fg-b", 0.1)],
            keys=["a", "b"],
            on_result=lambda i, v: kept.append(v),
        )
    )
    background.join()
    assert sorted(found) == [(0, "bg-a"), (1, "fg-b")]
    assert ran.count("bg-a") == 1
    assert sorted(kept) == ["bg-a", "fg-b"]


def test_a_queued_background_job_asked_for_becomes_the_callers(pool: WorkerPool) -> None:
    calls = [(f"bg{i}", 0.3) for i in range(3)]
    background = threading.Thread(
        target=lambda: list(pool.map_unordered(job, calls, keys=["0", "1", "2"], background=True))
    )
    background.start()
    time.sleep(0.1)  # bg0 runs; bg1, bg2 wait for the one background slot
    started = time.perf_counter()
    assert list(pool.map_unordered(job, [("bg2", 0.3)], keys=["2"])) == [(0, "bg2")]
    assert time.perf_counter() - started < 0.5  # run at once on the free worker, not third
    background.join()
    assert sorted(ran) == ["bg0", "bg1", "bg2"]
