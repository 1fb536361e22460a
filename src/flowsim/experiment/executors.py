"""Where replications run: in this process, in local worker processes, or on a Dask cluster.

An executor runs calls of one top-level function and yields ``(index, result)`` as each call
finishes, in completion order. Callers that want replication order (`iter_replications`) put
the results back in order; callers that store results as they come (`run_batch`) do not wait
for the slowest one. The choice of executor never changes a result: the model is
deterministic for (scenario, replication, seed), and every executor runs the same function on
the same plain data.

Functions and arguments must pickle: workers are separate processes, local (started with
``spawn``, the same on Linux, macOS and Windows, and safe with a progress bar's thread in the
parent) or on other machines (Dask). A Dask cluster's workers need flowsim installed, at the same
version.
"""

from __future__ import annotations

import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from types import TracebackType
from typing import Any, Final, TypeVar

__all__ = [
    "DaskExecutor",
    "Executor",
    "ExecutorError",
    "ProcessExecutor",
    "SerialExecutor",
    "choose_executor",
    "default_workers",
    "usable_cpus",
    "workers_for",
]

T = TypeVar("T")


class ExecutorError(Exception):
    """Replications cannot be started where they were asked to run (Dask missing, a scheduler
    that does not answer). The message says what to do."""


CPUS_VARIABLE: Final = "FLOWSIM_CPUS"
"""Caps `usable_cpus` on a shared machine, and in the test suite, whose pytest-xdist workers
already use every core: a run there that started its own processes would only add their
start-up."""


def usable_cpus() -> int:
    """CPUs this process may use: a container's or taskset's CPU set, not the machine's count,
    and at most ``FLOWSIM_CPUS`` when that is set."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cpus = os.cpu_count() or 1
    cap = os.environ.get(CPUS_VARIABLE, "").strip()
    if not cap:
        return cpus
    if not cap.isdigit() or int(cap) < 1:
        raise ExecutorError(
            f"{CPUS_VARIABLE}={cap!r} is not a number of CPUs: set it to a whole number of at "
            f"least 1 (e.g. {CPUS_VARIABLE}=2), or unset it to use all {cpus}."
        )
    return min(cpus, int(cap))


def default_workers(replications: int) -> int:
    """One worker per replication, at most one per CPU this process may use."""
    return max(1, min(replications, usable_cpus()))


def workers_for(tasks: int, workers: int | None = None) -> int:
    """``workers`` capped at the ``tasks`` that can run at once, or `default_workers`."""
    return default_workers(tasks) if workers is None else min(workers, tasks)


class Executor(ABC):
    """Runs calls of one function somewhere, yielding results as they finish.

    Use it as a context manager (or call `close`) so worker processes or cluster connections
    end with the work; one executor may run several `map_unordered` in turn, reusing its
    workers.
    """

    description: str = ""
    """Where the work runs, in words, e.g. ``2 local processes``."""

    @property
    @abstractmethod
    def slots(self) -> int:
        """How many calls run at once."""

    @abstractmethod
    def map_unordered(
        self, fn: Callable[..., T], calls: Sequence[tuple[Any, ...]]
    ) -> Iterator[tuple[int, T]]:
        """``(i, fn(*calls[i]))`` for every call, in completion order.

        An error in a call is raised here as soon as it arrives; calls not yet started are then
        dropped, and so they are if the caller stops iterating early.
        """

    def close(self) -> None:  # noqa: B027  (optional: executors without resources need nothing)
        """End the workers or the connection. Results already yielded stay valid."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class SerialExecutor(Executor):
    """Every call in this process, one after another: no start-up cost, easiest to debug."""

    description = "this process"

    @property
    def slots(self) -> int:
        return 1

    def map_unordered(
        self, fn: Callable[..., T], calls: Sequence[tuple[Any, ...]]
    ) -> Iterator[tuple[int, T]]:
        for i, args in enumerate(calls):
            yield i, fn(*args)


class ProcessExecutor(Executor):
    """Calls in ``workers`` local processes (``spawn``), started on first use."""

    def __init__(self, workers: int | None = None) -> None:
        workers = usable_cpus() if workers is None else workers
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self.description = f"{workers} local process{'es' if workers > 1 else ''}"
        self._pool: ProcessPoolExecutor | None = None
        self.rebuilds = 0
        """Times a broken pool (a worker killed) was replaced."""

    @property
    def slots(self) -> int:
        return self.workers

    def map_unordered(
        self, fn: Callable[..., T], calls: Sequence[tuple[Any, ...]]
    ) -> Iterator[tuple[int, T]]:
        """As `Executor.map_unordered`; a worker that dies (killed, out of memory) breaks the
        pool, which is then replaced and every call not yet yielded is run again, up to
        `MAX_POOL_REBUILDS` times a map (each call is yielded once: the model is deterministic,
        so a rerun gives the result the lost one would have)."""
        left = dict(enumerate(calls))  # not yet yielded
        rebuilds = 0
        while left:
            try:
                for i, result in self._map_once(fn, left):
                    del left[i]
                    yield i, result
                    del result
            except BrokenProcessPool:
                rebuilds += 1
                self._discard_pool()
                if rebuilds > MAX_POOL_REBUILDS:
                    raise
                self.rebuilds += 1

    def _map_once(
        self, fn: Callable[..., T], calls: Mapping[int, tuple[Any, ...]]
    ) -> Iterator[tuple[int, T]]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=get_context("spawn"),
                initializer=_exit_with_parent,
                initargs=(os.getpid(),),
            )
        index_of = {self._pool.submit(fn, *args): i for i, args in calls.items()}
        pending: set[Future[T]] = set(index_of)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for i, future in sorted((index_of.pop(f), f) for f in done):
                    yield i, future.result()
                del done  # a result is held by the caller only, so it is freed once dropped
        finally:
            for future in pending:
                future.cancel()

    def _discard_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


MAX_POOL_REBUILDS: Final = 3
"""Broken pools one `ProcessExecutor.map_unordered` replaces before giving up: a call that
itself kills its worker (out of memory each time) must not loop forever."""


def _exit_with_parent(parent: int) -> None:
    """In a worker: end when the parent process has gone (a batch killed with SIGKILL), rather
    than wait forever for work that will never come."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def choose_executor(workers: int) -> Executor:
    """The one choice between this process and local processes: a pool of one is not worth a
    process's start-up (a second or two to import pandas and the model)."""
    return ProcessExecutor(workers) if workers > 1 else SerialExecutor()


class DaskExecutor(Executor):
    """Calls on a Dask cluster: an existing one (``scheduler="tcp://host:8786"``) or a
    `LocalCluster` of ``local_workers`` processes started here and stopped by `close`.

    Start a cluster's workers with one thread each (``dask worker tcp://host:8786 --nthreads 1
    --nworkers auto``): a simulation is pure Python, so threads in one process only take turns.
    """

    def __init__(
        self,
        scheduler: str | None = None,
        *,
        local_workers: int | None = None,
        timeout: float = 10.0,
    ) -> None:
        if (scheduler is None) == (local_workers is None):
            raise ValueError("give either a scheduler address or a number of local workers")
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ExecutorError(
                "Dask is not installed, so replications cannot run on a Dask cluster; install "
                "it with: pip install 'dask[distributed]' (or run without --scheduler and "
                "--dask-local to use local processes)"
            ) from None
        self._cluster: Any = None
        if local_workers is not None:
            if local_workers < 1:
                raise ValueError(f"local_workers must be at least 1, got {local_workers}")
            self._cluster = LocalCluster(
                n_workers=local_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self.description = f"a local Dask cluster of {local_workers} worker(s)"
            self._client = Client(self._cluster, set_as_default=False)
        else:
            assert scheduler is not None
            try:
                self._client = Client(scheduler, timeout=timeout, set_as_default=False)
            except (OSError, TimeoutError, ValueError) as error:
                raise ExecutorError(
                    f"cannot reach the Dask scheduler at {scheduler} ({error}); check that "
                    "'dask scheduler' is running there and that the address and port are right, "
                    "e.g. tcp://192.0.2.10:8786"
                ) from None
            self.description = f"the Dask cluster at {scheduler}"

    @property
    def slots(self) -> int:
        return max(1, sum(self._client.nthreads().values()))

    def map_unordered(
        self, fn: Callable[..., T], calls: Sequence[tuple[Any, ...]]
    ) -> Iterator[tuple[int, T]]:
        from distributed import as_completed

        pending: dict[str, tuple[int, Any]] = {}  # key -> (index, future) until it finishes
        finished = as_completed(loop=self._client.loop, with_results=True)
        for i, args in enumerate(calls):
            future = self._client.submit(fn, *args, pure=False)
            pending[future.key] = (i, future)
            finished.add(future)
        del future  # only `pending` holds futures, so each result is freed once yielded
        try:
            for done, result in finished:
                i, _ = pending.pop(done.key)
                del done
                yield i, result
        finally:
            if pending:
                self._client.cancel([future for _, future in pending.values()])

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
