"""A persistent pool of worker processes, shared by every user of a long-lived process (the
workshop app's sessions).

Started once, a run costs only the simulation, never the seconds each new process takes to
import pandas; requests from several sessions share the workers, so ten facilitators cannot
start forty processes on a laptop. A pool whose worker died (out of memory) is replaced and the
run retried once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from flowsim.experiment.executors import Executor, choose_executor, usable_cpus
from flowsim.experiment.runner import Reduce, ReplicationTask, run_paired, run_replication
from flowsim.experiment.settings import RunSettings
from flowsim.log import EventLog
from flowsim.scenario.schema import Scenario

__all__ = ["WorkerPool"]

T = TypeVar("T")


class WorkerPool:
    """``workers`` processes (default: every usable CPU; 1 runs in this process), started on
    first use and kept until `close`."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers if workers is not None else usable_cpus()
        self._lock = threading.Lock()
        self._executor: Executor | None = None

    def _get(self) -> Executor:
        with self._lock:
            if self._executor is None:
                self._executor = choose_executor(self.workers)
                # start every worker now (a pool starts one per waiting call), so the first
                # run does not wait for processes to import flowsim
                list(self._executor.map_unordered(os.getpid, [()] * self.workers))
            return self._executor

    def _reset(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.close()
            self._executor = None

    def _retried(self, run: Callable[[Executor], T]) -> T:
        for attempt in (1, 2):
            try:
                return run(self._get())
            except BrokenProcessPool:
                self._reset()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def map(
        self,
        tasks: Sequence[ReplicationTask],
        reduce: Reduce,
        on_done: Callable[[int], None] | None = None,
    ) -> list[Any]:
        """``reduce(log)`` of every task, in task order; ``on_done(i)`` as each finishes."""
        calls = [(t, reduce) for t in tasks]

        def run(executor: Executor) -> list[Any]:
            out: dict[int, Any] = {}
            for i, result in executor.map_unordered(run_replication, calls):
                out[i] = result
                if on_done is not None:
                    on_done(i)
            return [out[i] for i in range(len(tasks))]

        return self._retried(run)

    def run_paired(
        self,
        scenarios: Sequence[Scenario],
        settings: RunSettings,
        reduce: Callable[[EventLog], T],
        on_done: Callable[[int, int], None] | None = None,
    ) -> dict[tuple[int, int], T]:
        """`flowsim.experiment.runner.run_paired` on this pool's workers."""
        return self._retried(
            lambda executor: run_paired(
                scenarios, settings, reduce, on_done=on_done, executor=executor
            )
        )

    def close(self) -> None:
        """End the workers."""
        self._reset()
