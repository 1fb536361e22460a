"""The one runner: replications of one or more scenarios, in this process, in worker
processes or on Dask, paired on common random numbers.

Each replication is `flowsim.model.build.simulate` with its own replication number, so the logs
are the same whatever runs them: the model is deterministic for (scenario, replication, seed).
The scenario travels to workers as plain data (``model_dump``) and is validated again there:
pydantic's parametrised generic models, such as ``ByFrailty[...]``, do not pickle. A ``reduce``
function, applied in the worker, turns each log into something compact (KPIs, say) before it
travels back: a simulated year of the baseline is several hundred MB as an `EventLog`.

Every scenario of a paired run shares the run's seed, horizon and warm-up, so replication r of
each meets the same patients wherever the pathway is unchanged; all of them run in one pool
(no second start-up per scenario: what a workshop waits for).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from flowsim.experiment.executors import Executor, SerialExecutor, choose_executor
from flowsim.experiment.settings import RunSettings
from flowsim.log import EventLog
from flowsim.model.build import simulate
from flowsim.scenario import scenario_from_dict
from flowsim.scenario.schema import Scenario

__all__ = [
    "ReplicationTask",
    "iter_paired",
    "iter_replications",
    "replications_in_order",
    "run_paired",
    "run_replication",
    "run_replications",
]

T = TypeVar("T")
Reduce = Callable[[EventLog], Any] | None
"""Applied to each log where it is made (top level, or a `functools.partial` of one, so it
pickles); None returns the log itself."""


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


def run_replication(task: ReplicationTask, reduce: Reduce = None) -> Any:
    """Simulate ``task`` and return its log, or ``reduce(log)`` (top level, so workers can run
    it)."""
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


def iter_paired(
    scenarios: Sequence[Scenario],
    settings: RunSettings,
    reduce: Reduce = None,
    *,
    first_replication: int = 0,
    on_done: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
) -> Iterator[tuple[int, int, Any]]:
    """``(scenario index, replication, reduce(log))`` for replications ``first_replication``
    onwards (``settings.replications`` of them) of every scenario, in completion order.

    Without an ``executor``, `choose_executor` picks this process or ``settings.workers``
    local processes (ended with the run); a given one is left open, for reuse.
    ``on_done(scenario index, replication)`` is called here as each finishes.
    """
    if first_replication < 0:
        raise ValueError(f"first_replication must be 0 or more, got {first_replication}")
    numbers = range(first_replication, first_replication + settings.replications)
    keys = [(i, r) for i in range(len(scenarios)) for r in numbers]
    if executor is None:
        with choose_executor(min(settings.workers, len(keys))) as executor:
            yield from _run(executor, scenarios, settings, keys, reduce, on_done)
    else:
        yield from _run(executor, scenarios, settings, keys, reduce, on_done)


def _run(
    executor: Executor,
    scenarios: Sequence[Scenario],
    settings: RunSettings,
    keys: list[tuple[int, int]],
    reduce: Reduce,
    on_done: Callable[[int, int], None] | None,
) -> Iterator[tuple[int, int, Any]]:
    if isinstance(executor, SerialExecutor):  # no copy of the scenario, nor a second validation
        for i, r in keys:
            log = simulate(scenarios[i], r, **settings.model)
            result = log if reduce is None else reduce(log)
            del log  # not held while the next replication runs
            if on_done is not None:
                on_done(i, r)
            yield i, r, result
            del result
        return
    data = [s.model_dump(mode="json", by_alias=True) for s in scenarios]
    s = settings
    calls = [
        (ReplicationTask(data[i], r, s.seed, s.horizon_days, s.warm_up_days), reduce)
        for i, r in keys
    ]
    for k, result in executor.map_unordered(run_replication, calls):
        i, r = keys[k]
        if on_done is not None:
            on_done(i, r)
        yield i, r, result
        del result  # hold each result in one place only, so it is freed once used


def run_paired(
    scenarios: Sequence[Scenario],
    settings: RunSettings,
    reduce: Callable[[EventLog], T],
    *,
    first_replication: int = 0,
    on_done: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
) -> dict[tuple[int, int], T]:
    """`iter_paired`'s results keyed by (scenario index, replication)."""
    found = iter_paired(
        scenarios,
        settings,
        reduce,
        first_replication=first_replication,
        on_done=on_done,
        executor=executor,
    )
    return {(i, r): result for i, r, result in found}


def replications_in_order(
    scenario: Scenario,
    settings: RunSettings,
    reduce: Reduce = None,
    *,
    first_replication: int = 0,
    on_done: Callable[[int], None] | None = None,
    executor: Executor | None = None,
) -> Iterator[Any]:
    """`iter_paired` of one scenario, yielding each result in replication order as soon as it
    is available: a caller that reduces each log and drops it holds at most the logs finished
    out of order, not all of them. ``on_done(replication)`` as each finishes."""
    finished: dict[int, Any] = {}  # done, waiting for an earlier replication
    next_up = first_replication
    done = None if on_done is None else (lambda _i, r: on_done(r))
    for _, r, result in iter_paired(
        [scenario],
        settings,
        reduce,
        first_replication=first_replication,
        on_done=done,
        executor=executor,
    ):
        finished[r] = result
        del result
        while next_up in finished:
            yield finished.pop(next_up)
            next_up += 1


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
    reduce: Reduce = None,
) -> Iterator[Any]:
    """`replications_in_order` with the settings as keywords, each defaulting to the
    scenario's ``run`` settings (``workers`` None: `default_workers`)."""
    settings = RunSettings.resolve(
        scenario,
        seed=seed,
        horizon_days=horizon_days,
        warm_up_days=warm_up_days,
        replications=replications,
        workers=workers,
    )
    return replications_in_order(
        scenario,
        settings,
        reduce,
        first_replication=first_replication,
        on_done=on_done,
        executor=executor,
    )


def run_replications(scenario: Scenario, replications: int, **options: Any) -> list[Any]:
    """`iter_replications` (the same keywords) as a list, in replication order: the logs, or
    ``reduce(log)``."""
    return list(iter_replications(scenario, replications, **options))
