"""Replications of one scenario, run in this process, in worker processes or on Dask.

Each replication is `flowsim.model.build.simulate` with its own replication number, so the logs
are the same whatever runs them: the model is deterministic for (scenario, replication, seed).
The scenario travels to workers as plain data (``model_dump``) and is validated again there:
pydantic's parametrised generic models, such as ``ByFrailty[...]``, do not pickle. A ``reduce``
function, applied in the worker, turns each log into something compact (KPIs, say) before it
travels back: a simulated year of the baseline is several hundred MB as an `EventLog`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, TypeVar, overload

from flowsim.experiment.executors import Executor, ProcessExecutor, default_workers
from flowsim.log import EventLog
from flowsim.model.build import simulate
from flowsim.scenario import scenario_from_dict
from flowsim.scenario.schema import Scenario

__all__ = [
    "ReplicationTask",
    "default_workers",
    "iter_replications",
    "run_replication",
    "run_replications",
]

T = TypeVar("T")


@dataclass(frozen=True)
class ReplicationTask:
    """One replication, as plain data a worker anywhere can run.

    ``scenario`` is ``Scenario.model_dump(mode="json", by_alias=True)``; ``None`` settings
    mean the scenario's own ``run`` settings.
    """

    scenario: dict[str, Any]
    replication: int
    seed: int | None = None
    horizon_days: float | None = None
    warm_up_days: float | None = None

    @classmethod
    def of(
        cls,
        scenario: Scenario,
        replication: int,
        *,
        seed: int | None = None,
        horizon_days: float | None = None,
        warm_up_days: float | None = None,
    ) -> ReplicationTask:
        data = scenario.model_dump(mode="json", by_alias=True)
        return cls(data, replication, seed, horizon_days, warm_up_days)


def run_replication(task: ReplicationTask, reduce: Callable[[EventLog], Any] | None = None) -> Any:
    """Simulate ``task`` and return its log, or ``reduce(log)`` (top level, so workers can run
    it; ``reduce`` must be a top-level function or a `functools.partial` of one)."""
    name = task.scenario.get("name")
    scenario = scenario_from_dict(task.scenario, source=f"scenario {name!r}")
    log = simulate(
        scenario,
        task.replication,
        seed=task.seed,
        horizon_days=task.horizon_days,
        warm_up_days=task.warm_up_days,
    )
    return log if reduce is None else reduce(log)


@overload
def run_replications(
    scenario: Scenario,
    replications: int,
    *,
    seed: int | None = ...,
    horizon_days: float | None = ...,
    warm_up_days: float | None = ...,
    workers: int | None = ...,
    first_replication: int = ...,
    on_done: Callable[[int], None] | None = ...,
    executor: Executor | None = ...,
    reduce: None = ...,
) -> list[EventLog]: ...
@overload
def run_replications(
    scenario: Scenario,
    replications: int,
    *,
    seed: int | None = ...,
    horizon_days: float | None = ...,
    warm_up_days: float | None = ...,
    workers: int | None = ...,
    first_replication: int = ...,
    on_done: Callable[[int], None] | None = ...,
    executor: Executor | None = ...,
    reduce: Callable[[EventLog], T],
) -> list[T]: ...
def run_replications(
    scenario: Scenario,
    replications: int,
    *,
    seed: int | None = None,
    horizon_days: float | None = None,
    warm_up_days: float | None = None,
    workers: int | None = 1,
    first_replication: int = 0,
    on_done: Callable[[int], None] | None = None,
    executor: Executor | None = None,
    reduce: Callable[[EventLog], Any] | None = None,
) -> list[Any]:
    """Run ``replications`` replications, numbered from ``first_replication`` (so more can be
    added to a finished run), and return their logs in replication order.

    ``seed``, ``horizon_days`` and ``warm_up_days`` default to the scenario's ``run`` settings.
    ``workers`` > 1 runs replications in that many local processes; ``None`` means
    `default_workers`. ``executor`` runs them there instead (it is left open, for reuse).
    ``reduce(log)``, applied where each replication runs, is returned instead of the log.
    ``on_done(i)`` is called in this process as replication ``i`` finishes (in completion
    order), e.g. to advance a progress bar.
    """
    return list(
        iter_replications(
            scenario,
            replications,
            seed=seed,
            horizon_days=horizon_days,
            warm_up_days=warm_up_days,
            workers=workers,
            first_replication=first_replication,
            on_done=on_done,
            executor=executor,
            reduce=reduce,
        )
    )


@overload
def iter_replications(
    scenario: Scenario,
    replications: int,
    *,
    seed: int | None = ...,
    horizon_days: float | None = ...,
    warm_up_days: float | None = ...,
    workers: int | None = ...,
    first_replication: int = ...,
    on_done: Callable[[int], None] | None = ...,
    executor: Executor | None = ...,
    reduce: None = ...,
) -> Iterator[EventLog]: ...
@overload
def iter_replications(
    scenario: Scenario,
    replications: int,
    *,
    seed: int | None = ...,
    horizon_days: float | None = ...,
    warm_up_days: float | None = ...,
    workers: int | None = ...,
    first_replication: int = ...,
    on_done: Callable[[int], None] | None = ...,
    executor: Executor | None = ...,
    reduce: Callable[[EventLog], T],
) -> Iterator[T]: ...
def iter_replications(
    scenario: Scenario,
    replications: int,
    *,
    seed: int | None = None,
    horizon_days: float | None = None,
    warm_up_days: float | None = None,
    workers: int | None = 1,
    first_replication: int = 0,
    on_done: Callable[[int], None] | None = None,
    executor: Executor | None = None,
    reduce: Callable[[EventLog], Any] | None = None,
) -> Iterator[Any]:
    """`run_replications`, yielding each result in replication order as soon as it is available.

    A caller that reduces each log (KPIs, tables) and drops it holds at most the logs finished
    out of order, not all of them.
    """
    if replications < 1:
        raise ValueError(f"replications must be at least 1, got {replications}")
    if first_replication < 0:
        raise ValueError(f"first_replication must be 0 or more, got {first_replication}")
    numbers = range(first_replication, first_replication + replications)
    settings = {"seed": seed, "horizon_days": horizon_days, "warm_up_days": warm_up_days}
    if executor is None:
        workers = default_workers(replications) if workers is None else workers
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if workers == 1 or replications == 1:
            for i in numbers:  # no copy of the scenario, nor a second validation
                log = simulate(scenario, i, **settings)
                result = log if reduce is None else reduce(log)
                del log  # not held while the next replication runs
                if on_done is not None:
                    on_done(i)
                yield result
                del result
            return
        with ProcessExecutor(min(workers, replications)) as processes:
            yield from _in_order(processes, scenario, numbers, settings, on_done, reduce)
        return
    yield from _in_order(executor, scenario, numbers, settings, on_done, reduce)


def _in_order(
    executor: Executor,
    scenario: Scenario,
    numbers: range,
    settings: dict[str, Any],
    on_done: Callable[[int], None] | None,
    reduce: Callable[[EventLog], Any] | None,
) -> Iterator[Any]:
    first = ReplicationTask.of(scenario, numbers[0], **settings)
    calls = [(replace(first, replication=r), reduce) for r in numbers]
    finished: dict[int, Any] = {}  # done, waiting for an earlier replication
    next_up = 0
    for i, result in executor.map_unordered(run_replication, calls):
        finished[i] = result
        del result  # hold each result in one place only, so it is freed once yielded
        if on_done is not None:
            on_done(numbers[i])
        while next_up in finished:
            yield finished.pop(next_up)
            next_up += 1
