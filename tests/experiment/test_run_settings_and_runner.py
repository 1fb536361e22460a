"""Run settings resolved once, the one paired runner, the persistent pool and the one
auto-replication loop: each behaves the same whoever calls it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pytest

from flowsim.experiment import (
    ProcessExecutor,
    RunSettings,
    SerialExecutor,
    choose_executor,
    default_workers,
    replications_in_order,
    run_paired,
)
from flowsim.experiment import pool as pool_module
from flowsim.experiment.executors import Executor, ExecutorError
from flowsim.experiment.pool import WorkerPool
from flowsim.experiment.replications import ReplicationsAlgorithm, run_until_precise
from flowsim.log import EventLog
from flowsim.model.build import simulate
from flowsim.scenario import Scenario
from helpers.model_helpers import small_scenario


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return small_scenario(horizon_days=2, warm_up_days=1)


def digest(log: EventLog) -> tuple[int, int, float]:
    """A small fingerprint of a log, computed where it is made."""
    return int(log.meta["replication"]), len(log.events), sum(t for t, *_ in log.events)


def replication_of(log: EventLog) -> int:
    return int(log.meta["replication"])


# ---------------------------------------------------------------- RunSettings


def test_unset_options_are_the_scenarios_run_settings(scenario: Scenario) -> None:
    run = scenario.run
    s = RunSettings.resolve(scenario, workers=1)
    assert (s.seed, s.horizon_days, s.warm_up_days, s.replications, s.workers) == (
        run.seed,
        run.horizon_days,
        run.warm_up_days,
        run.replications,
        1,
    )


def test_given_options_win_by_keyword_or_in_field_order(scenario: Scenario) -> None:
    by_keyword = RunSettings.resolve(
        scenario, seed=7, horizon_days=3.0, warm_up_days=0.5, replications=4, workers=2
    )
    assert by_keyword == RunSettings.resolve(scenario, 7, 3.0, 0.5, 4, 2)
    assert by_keyword == RunSettings(7, 3.0, 0.5, 4, 2)
    assert by_keyword.model == {"seed": 7, "horizon_days": 3.0, "warm_up_days": 0.5}
    assert by_keyword.but(replications=9).replications == 9


def test_workers_are_capped_at_the_replications_that_can_run_at_once(scenario: Scenario) -> None:
    assert RunSettings.resolve(scenario, replications=2, workers=8).workers == 2
    assert RunSettings.resolve(scenario, replications=2, workers=8, scenarios=3).workers == 6
    assert RunSettings.resolve(scenario, replications=3).workers == default_workers(3)


def test_flowsim_cpus_caps_the_default_workers_and_says_what_it_must_be(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FLOWSIM_CPUS", raising=False)
    every = default_workers(8)
    monkeypatch.setenv("FLOWSIM_CPUS", "1")
    assert default_workers(8) == 1
    monkeypatch.setenv("FLOWSIM_CPUS", "500")
    assert default_workers(8) == every
    monkeypatch.setenv("FLOWSIM_CPUS", "two")
    with pytest.raises(ExecutorError, match=r"FLOWSIM_CPUS='two' is not a number of CPUs"):
        default_workers(8)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"replications": 0}, "replications must be at least 1, got 0"),
        ({"replications": 2, "workers": 0}, "workers must be at least 1, got 0"),
    ],
)
def test_impossible_settings_are_refused(
    scenario: Scenario, options: dict[str, int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        RunSettings.resolve(scenario, **options)


def test_a_paired_comparison_needs_two_replications(scenario: Scenario) -> None:
    with pytest.raises(ValueError, match=r"a comparison needs at least 2 replications .* got 1"):
        RunSettings.resolve(scenario, replications=1).require_paired("a comparison")
    RunSettings.resolve(scenario, replications=2).require_paired("a comparison")


def test_one_worker_runs_here_and_more_in_processes() -> None:
    assert isinstance(choose_executor(1), SerialExecutor)
    with choose_executor(2) as processes:  # no process starts before work arrives
        assert isinstance(processes, ProcessExecutor) and processes.slots == 2


# ---------------------------------------------------------------- the paired runner


def test_paired_runner_gives_every_scenario_x_replication_as_simulate_does(
    scenario: Scenario,
) -> None:
    other = scenario.model_copy(update={"name": "other"})
    settings = RunSettings.resolve(scenario, replications=2, workers=1)
    done: list[tuple[int, int]] = []
    found = run_paired(
        [scenario, other], settings, digest, on_done=lambda i, r: done.append((i, r))
    )
    assert sorted(found) == sorted(done) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    for (i, r), value in found.items():
        assert value == digest(simulate([scenario, other][i], r, **settings.model))
    assert found[0, 1] == found[1, 1]  # the same structure on the same numbers: paired


def test_paired_runner_gives_the_same_results_in_worker_processes(scenario: Scenario) -> None:
    settings = RunSettings.resolve(scenario, replications=2, workers=2)
    here = run_paired([scenario], settings, digest, executor=SerialExecutor())
    assert run_paired([scenario], settings, digest) == here


def test_results_in_replication_order_from_any_first_replication(scenario: Scenario) -> None:
    settings = RunSettings.resolve(scenario, replications=3, workers=1)
    done: list[int] = []
    got = list(
        replications_in_order(
            scenario, settings, replication_of, first_replication=2, on_done=done.append
        )
    )
    assert got == done == [2, 3, 4]
    with pytest.raises(ValueError, match="first_replication must be 0 or more"):
        list(replications_in_order(scenario, settings, replication_of, first_replication=-1))


# ---------------------------------------------------------------- the pool


class BreaksOnce(Executor):
    """An executor whose first use fails as a pool does when a worker dies."""

    breaks = 1

    @property
    def slots(self) -> int:
        return 1

    def map_unordered(
        self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]]
    ) -> Iterator[tuple[int, Any]]:
        if BreaksOnce.breaks > 0 and fn is not __import__("os").getpid:
            BreaksOnce.breaks -= 1
            raise BrokenProcessPool("a worker died")
        yield from SerialExecutor().map_unordered(fn, calls)


def test_pool_runs_paired_replications_as_the_runner_does(scenario: Scenario) -> None:
    settings = RunSettings.resolve(scenario, replications=2, workers=1)
    pool = WorkerPool(1)
    try:
        assert pool.run_paired([scenario], settings, digest) == run_paired(
            [scenario], settings, digest
        )
    finally:
        pool.close()


def test_pool_replaces_a_broken_pool_and_retries_once(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool_module, "choose_executor", lambda workers: BreaksOnce())
    settings = RunSettings.resolve(scenario, replications=1, workers=1)
    pool = WorkerPool(1)
    BreaksOnce.breaks = 1
    assert pool.run_paired([scenario], settings, replication_of) == {(0, 0): 0}
    BreaksOnce.breaks = 2
    with pytest.raises(BrokenProcessPool):
        pool.run_paired([scenario], settings, replication_of)
    pool.close()


# ---------------------------------------------------------------- the auto-replication loop


def run_loop(
    scenario: Scenario, values: list[float], workers: int, cap: int
) -> tuple[ReplicationsAlgorithm, list[int]]:
    """The loop on real replications, with KPI values chosen by replication number, batched as
    ``workers`` would batch them but run here."""
    algorithm = ReplicationsAlgorithm(["k"], 0.05, max_replications=cap)
    seen: list[int] = []

    def record(r: int) -> dict[str, float]:
        seen.append(r)
        return {"k": values[r]}

    settings = RunSettings.resolve(scenario, replications=cap, workers=1).but(workers=workers)
    run_until_precise(
        scenario, settings, algorithm, record, replication_of, executor=SerialExecutor()
    )
    return algorithm, seen


def test_loop_stops_once_the_precision_is_met_and_confirmed(scenario: Scenario) -> None:
    algorithm, seen = run_loop(scenario, [100.0, 101.0, 99.0] + [100.0] * 20, 1, 20)
    assert algorithm.met and algorithm.solution == 3
    assert seen == list(range(3 + 5))  # the minimum of 3, then the look-ahead of 5
    assert [h["replications"] for h in algorithm.history] == list(range(1, 9))


def test_loop_keeps_every_replication_a_batch_ran(scenario: Scenario) -> None:
    algorithm, seen = run_loop(scenario, [100.0, 101.0, 99.0] + [100.0] * 20, 6, 20)
    # batches of 6: met at 3 within the first, confirmed by 8 within the second, which runs
    # to 12; all 12 count
    assert algorithm.met and algorithm.solution == 3
    assert seen == list(range(12)) and algorithm.n == 12


def test_loop_stops_at_the_cap_when_the_precision_is_never_met(scenario: Scenario) -> None:
    algorithm, seen = run_loop(scenario, [1.0, 100.0] * 10, 2, 7)
    assert not algorithm.met and algorithm.done
    assert seen == list(range(7))
