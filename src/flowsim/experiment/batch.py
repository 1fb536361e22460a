"""Batches: every point of a sweep × replications, run on any executor into a result store.

A batch is resumable by construction: each replication is stored (atomically) as soon as it
comes back, keyed by (scenario hash, replication), and a batch started again runs only the keys
the store lacks. Workers compute KPIs themselves, with the function the caller passes in (this
layer never imports the analysis layer), and send back only the KPI rows and, when logs are kept,
the compact event arrays.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from flowsim.errors import ScenarioError
from flowsim.experiment.executors import Executor
from flowsim.experiment.runner import ReplicationTask, run_replication
from flowsim.experiment.store import EventArrays, Provenance, ResultStore, scenario_hash
from flowsim.log import EventLog
from flowsim.scenario.sweep import SweepPlan, SweepPoint

__all__ = ["Batch", "BatchTask", "StoredResult", "reduce_for_store"]

KpiFunction = Callable[[EventLog], pd.DataFrame]
"""A log's KPIs as rows ``kpi, unit, value``, e.g. `flowsim.analysis.compute_kpis`."""


@dataclass(frozen=True)
class StoredResult:
    """What a worker sends back for one replication."""

    kpis: pd.DataFrame
    events: EventArrays | None


def reduce_for_store(log: EventLog, *, kpis: KpiFunction, keep_log: bool) -> StoredResult:
    """A log reduced, in the worker, to what the store keeps (top level, so it pickles)."""
    table = kpis(log)[["kpi", "unit", "value"]]
    return StoredResult(table, EventArrays.from_log(log) if keep_log else None)


@dataclass(frozen=True)
class BatchTask:
    """One replication of one sweep point."""

    point: SweepPoint
    replication: int
    hash: str

    @property
    def key(self) -> tuple[str, int]:
        return self.hash, self.replication


class Batch:
    """A sweep's work against a store: what there is to do, what is done, and running the rest.

    ``replications`` and ``keep_logs`` override the sweep file's.
    """

    def __init__(
        self,
        plan: SweepPlan,
        store: ResultStore,
        *,
        replications: int | None = None,
        keep_logs: bool | None = None,
    ) -> None:
        self.plan, self.store = plan, store
        self.keep_logs = plan.keep_logs if keep_logs is None else keep_logs
        self.tasks = _tasks(plan, replications)
        self.broken = store.set_aside_broken()
        """Stored files found damaged and set aside; their replications run again."""
        done = store.done(with_events=self.keep_logs)
        self.pending = [task for task in self.tasks if task.key not in done]

    @property
    def skipped(self) -> int:
        """Replications already in the store, not run again."""
        return len(self.tasks) - len(self.pending)

    def run(
        self,
        executor: Executor,
        kpis: KpiFunction,
        on_done: Callable[[BatchTask], None] | None = None,
    ) -> int:
        """Run the pending replications on ``executor``, storing each as it finishes (in any
        order); ``on_done(task)`` follows each store. Returns how many were run."""
        if not self.pending:
            return 0
        self.store.remove_stale_temp_files()
        reduce = functools.partial(reduce_for_store, kpis=kpis, keep_log=self.keep_logs)
        data: dict[int, dict[str, Any]] = {}  # per point: dumped once, shared by its tasks
        calls = []
        for task in self.pending:
            scenario = data.setdefault(
                id(task.point), task.point.scenario.model_dump(mode="json", by_alias=True)
            )
            calls.append((ReplicationTask(scenario, task.replication), reduce))
        ran = 0
        for i, result in executor.map_unordered(run_replication, calls):
            task = self.pending[i]
            self.store.write(self._provenance(task), result.kpis, result.events)
            del result
            ran += 1
            if on_done is not None:
                on_done(task)
        done = self.store.done(with_events=self.keep_logs)
        self.pending = [task for task in self.tasks if task.key not in done]
        return ran

    def _provenance(self, task: BatchTask) -> Provenance:
        point = task.point
        return Provenance(
            scenario=point.scenario,
            replication=task.replication,
            sweep=self.plan.name,
            scenario_file=point.scenario_file,
            scenario_index=point.scenario_index,
            point=point.label,
            point_index=point.point_index,
            parameters=point.parameters,
            hash=task.hash,
        )


def _tasks(plan: SweepPlan, replications: int | None) -> list[BatchTask]:
    """Every (point, replication), replication 0 of every point first: a batch stopped half way
    then has the same replications of every point, ready to compare. Two points that would run
    the same scenario are refused, since their results could not be told apart."""
    seen: dict[str, SweepPoint] = {}
    tasks = []
    for point in plan.points:
        h = scenario_hash(point.scenario)
        if h in seen:
            raise ScenarioError(
                plan.file,
                "grid" if point.parameters else "scenarios",
                f"{_describe(seen[h])} and {_describe(point)} are the same scenario, so they "
                "would run the same simulation twice; remove one of them (or change its name:)",
            )
        seen[h] = point
        count = point.replications if replications is None else replications
        tasks.extend(BatchTask(point, r, h) for r in range(count))
    return sorted(tasks, key=lambda task: task.replication)  # stable: points stay in order


def _describe(point: SweepPoint) -> str:
    return f"{point.scenario_file}" + (f" at {point.label}" if point.parameters else "")
