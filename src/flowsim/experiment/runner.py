"""Replications of one scenario, run one after another or in worker processes.

Each replication is `flowsim.model.build.simulate` with its own replication number, so the logs
are the same whatever the number of workers: the model is deterministic for (scenario,
replication, seed). Workers are started with the ``spawn`` method, whatever the platform default
(safe with threads in the parent, such as a progress bar, and the same on Linux, macOS and
Windows). The scenario travels to them as plain data (``model_dump``) and is validated again
there: pydantic's parametrised generic models, such as ``ByFrailty[...]``, do not pickle.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from typing import Any

from flowsim.model.build import simulate
from flowsim.model.record import EventLog
from flowsim.scenario import scenario_from_dict
from flowsim.scenario.schema import Scenario

__all__ = ["default_workers", "iter_replications", "run_replications"]


def default_workers(replications: int) -> int:
    """One worker per replication, at most one per CPU this process may use."""
    try:
        cpus = len(os.sched_getaffinity(0))  # respects a container's or taskset's CPU set
    except AttributeError:  # macOS, Windows
        cpus = os.cpu_count() or 1
    return max(1, min(replications, cpus))


def run_replications(
    scenario: Scenario,
    replications: int,
    *,
    seed: int | None = None,
    horizon_days: float | None = None,
    warm_up_days: float | None = None,
    workers: int | None = 1,
    on_done: Callable[[int], None] | None = None,
) -> list[EventLog]:
    """Run replications ``0 .. replications-1`` and return their logs in replication order.

    ``seed``, ``horizon_days`` and ``warm_up_days`` default to the scenario's ``run`` settings.
    ``workers`` > 1 runs replications in that many processes; ``None`` means
    `default_workers`. ``on_done(i)`` is called in this process as replication ``i`` finishes
    (in completion order), e.g. to advance a progress bar.
    """
    return list(
        iter_replications(
            scenario,
            replications,
            seed=seed,
            horizon_days=horizon_days,
            warm_up_days=warm_up_days,
            workers=workers,
            on_done=on_done,
        )
    )


def iter_replications(
    scenario: Scenario,
    replications: int,
    *,
    seed: int | None = None,
    horizon_days: float | None = None,
    warm_up_days: float | None = None,
    workers: int | None = 1,
    on_done: Callable[[int], None] | None = None,
) -> Iterator[EventLog]:
    """`run_replications`, yielding each log in replication order as soon as it is available.

    A caller that reduces each log (KPIs, tables) and drops it holds at most the logs finished
    out of order, not all of them: a simulated year of the baseline is several hundred MB.
    """
    if replications < 1:
        raise ValueError(f"replications must be at least 1, got {replications}")
    workers = default_workers(replications) if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    args = (scenario, seed, horizon_days, warm_up_days)
    if workers == 1 or replications == 1:
        for i in range(replications):
            log = _simulate(i, *args)
            if on_done is not None:
                on_done(i)
            yield log
            del log  # not held while the next replication runs
        return
    yield from _in_processes(replications, min(workers, replications), args, on_done)


def _in_processes(
    replications: int,
    workers: int,
    args: tuple[Scenario, int | None, float | None, float | None],
    on_done: Callable[[int], None] | None,
) -> Iterator[EventLog]:
    scenario, *rest = args
    data = scenario.model_dump(mode="json", by_alias=True)
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
    try:
        replication_of = {
            executor.submit(_simulate_data, i, data, *rest): i for i in range(replications)
        }
        finished: dict[int, EventLog] = {}  # done, waiting for an earlier replication
        pending: set[Future[EventLog]] = set(replication_of)
        next_up = 0
        while next_up < replications:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for i, future in sorted((replication_of.pop(f), f) for f in done):
                finished[i] = future.result()  # a replication's error is raised here, at once
                if on_done is not None:
                    on_done(i)
            del done, future  # hold each log in one place only, so it is freed once yielded
            while next_up in finished:
                yield finished.pop(next_up)
                next_up += 1
    finally:
        # On an error (or a caller that stops early) drop the replications not yet started.
        executor.shutdown(wait=True, cancel_futures=True)


def _simulate(
    replication: int,
    scenario: Scenario,
    seed: int | None,
    horizon_days: float | None,
    warm_up_days: float | None,
) -> EventLog:
    """One replication (top level, so worker processes can import it)."""
    return simulate(
        scenario, replication, seed=seed, horizon_days=horizon_days, warm_up_days=warm_up_days
    )


def _simulate_data(
    replication: int,
    data: dict[str, Any],
    seed: int | None,
    horizon_days: float | None,
    warm_up_days: float | None,
) -> EventLog:
    """`_simulate` for a scenario given as the data of `Scenario.model_dump` (in a worker)."""
    scenario = scenario_from_dict(data, source=f"scenario {data.get('name')!r}")
    return _simulate(replication, scenario, seed, horizon_days, warm_up_days)
