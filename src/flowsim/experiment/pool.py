"""A persistent pool of worker processes, shared by every user of a long-lived process (the
workshop app's sessions).

Started once, a run costs only the simulation, never the seconds each new process takes to
import pandas; requests from several sessions share the workers, so ten facilitators cannot
start forty processes on a laptop.

Work waits in the pool's own queue, not in the processes': each worker takes one call at a
time, in turn from each session (round robin, so one long request cannot hold up the room). So
work a session no longer wants can be dropped before it starts: a caller that stops iterating,
or whose `Session` has ended (a closed browser tab), leaves nothing queued. Each worker is a
pool of one process of its own, so a worker that dies (out of memory) is replaced and its call
run again without disturbing the others.

Two more things let the app answer while the room watches. Work may be *background* (the app
runs the baseline's replications when the page first loads): it runs only when no other work
waits, and on at most all workers but one, so a comparison asked for meanwhile finds a worker
free at once. And work may carry a *key* (a replication's scenario, settings and number): a
call asking for a key already queued or running waits for that job instead of running it again,
and a queued background job it asks for becomes its own (no longer background).
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flowsim.experiment.executors import Executor, ProcessExecutor, choose_executor, usable_cpus
from flowsim.experiment.runner import Reduce, ReplicationTask, run_paired, run_replication
from flowsim.experiment.settings import RunSettings
from flowsim.log import EventLog
from flowsim.scenario.schema import Scenario

__all__ = ["Session", "SessionClosed", "WorkerPool"]

T = TypeVar("T")


class SessionClosed(Exception):
    """The session that asked for this work has ended; its queued work was dropped."""


class Session:
    """A token tying work to one user's session, so the pool can drop the work once the user
    has gone.

    ``alive`` is asked whether the session still exists (for the app: is its browser still
    connected). A session that has answered no for ``grace_seconds`` in a row is over for good
    (a page reload reconnects within it); `close` ends it at once. Without ``alive``, only
    `close` ends it.
    """

    def __init__(
        self, alive: Callable[[], bool] | None = None, *, grace_seconds: float = 10.0
    ) -> None:
        self._check = alive
        self.grace_seconds = grace_seconds
        self._closed = False
        self._gone_since: float | None = None

    def close(self) -> None:
        """End the session: its queued work is dropped and its waiting calls stop."""
        self._closed = True

    @property
    def alive(self) -> bool:
        """False once the session has ended."""
        if self._closed:
            return False
        if self._check is None:
            return True
        try:
            here = bool(self._check())
        except Exception:  # a check that fails cannot vouch for the session
            here = False
        if here:
            self._gone_since = None
            return True
        now = time.monotonic()
        if self._gone_since is None:
            self._gone_since = now
        if now - self._gone_since >= self.grace_seconds:
            self._closed = True
            return False
        return True


@dataclass
class _Call:
    """One request (a `WorkerPool.map` or `WorkerPool.run_paired`): its results as they come."""

    session: Session | None
    results: queue.SimpleQueue[tuple[int, Any, BaseException | None]] = field(
        default_factory=queue.SimpleQueue
    )
    abandoned: bool = False

    @property
    def wanted(self) -> bool:
        return not self.abandoned and (self.session is None or self.session.alive)


@dataclass
class _Job:
    """One call of ``fn``, and every request waiting for it: (the request, its index there)."""

    listeners: list[tuple[_Call, int]]
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    key: Hashable | None = None
    background: bool = False
    running: bool = False
    counted: bool = False
    """Counted among the background jobs running (it started as background)."""
    hooks: list[Callable[[Any], None]] = field(default_factory=list)
    """Called with a successful result in the worker's thread, even when every listener has
    stopped waiting (the app keeps results so finished work is never lost)."""

    @property
    def wanted(self) -> bool:
        self.listeners = [(c, i) for c, i in self.listeners if c.wanted]
        return bool(self.listeners)


class WorkerPool:
    """``workers`` processes (default: every usable CPU; 1 runs in this process, in a thread
    of its own), started on first use and kept until `close`.

    ``session_of`` names the `Session` of the caller when a call is not given one (the app
    reads it from Streamlit), so every request of a session is tied to it without the callers
    passing it along. ``poll_seconds`` is how often a waiting call checks its session.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        session_of: Callable[[], Session | None] | None = None,
        poll_seconds: float = 0.25,
    ) -> None:
        self.workers = workers if workers is not None else usable_cpus()
        self.session_of = session_of
        self.poll_seconds = poll_seconds
        self._cond = threading.Condition()
        self._lanes: OrderedDict[int | None, deque[_Job]] = OrderedDict()
        self._background: OrderedDict[int | None, deque[_Job]] = OrderedDict()
        self._by_key: dict[Hashable, _Job] = {}
        self._background_running = 0
        self._threads: list[threading.Thread] = []
        self._stopping = False

    # ---------------------------------------------------------------- workers

    def start(self) -> None:
        """Start every worker now and wait until each is ready (a process has imported
        flowsim), so the first run does not wait for them."""
        with self._cond:
            if self._threads:
                return
            ready = [threading.Event() for _ in range(self.workers)]
            self._threads = [
                threading.Thread(
                    target=self._work, args=(e,), name=f"flowsim-worker-{n}", daemon=True
                )
                for n, e in enumerate(ready)
            ]
            for thread in self._threads:
                thread.start()
        for event in ready:
            event.wait(120)

    _get = start  # the name a server calls to start the workers before any session runs

    def _executor(self) -> Executor:
        # a pool of one runs in this process (no start-up to pay); otherwise each worker is a
        # process of its own, so one that dies breaks only its own call
        return choose_executor(1) if self.workers == 1 else ProcessExecutor(1)

    def _work(self, ready: threading.Event) -> None:
        """A worker's thread: take the next wanted job, run it on its own process, hand back
        the result; a broken process is replaced and the job tried once more."""
        executor = self._executor()
        try:
            list(executor.map_unordered(os.getpid, [()]))
        except Exception:  # a process that cannot start fails its first job instead
            pass
        finally:
            ready.set()
        try:
            while (job := self._take()) is not None:
                for attempt in (1, 2):
                    try:
                        [(_, value)] = list(executor.map_unordered(job.fn, [job.args]))
                    except BrokenProcessPool as error:
                        executor.close()
                        executor = self._executor()
                        if attempt == 2:
                            self._finish(job, None, error)
                        continue
                    except Exception as error:  # the caller raises it, in its own thread
                        self._finish(job, None, error)
                    else:
                        self._finish(job, value, None)
                        del value
                    break
                del job
        finally:
            executor.close()

    def _finish(self, job: _Job, value: Any, error: BaseException | None) -> None:
        """Hand ``job``'s result to its hooks, then to every request still waiting for it."""
        if error is None:
            for hook in job.hooks:  # a hook (a cache) that fails costs only a rerun later
                with contextlib.suppress(Exception):
                    hook(value)
        with self._cond:
            if job.key is not None and self._by_key.get(job.key) is job:
                del self._by_key[job.key]
            if job.counted:
                self._background_running -= 1
                self._cond.notify_all()  # a background slot is free
            listeners = list(job.listeners)
        for call, index in listeners:
            call.results.put((index, value, error))

    def _next_in(self, lanes: OrderedDict[int | None, deque[_Job]]) -> _Job | None:
        """The next wanted job of ``lanes``, taken in turn; unwanted ones are dropped."""
        while lanes:
            key, lane = next(iter(lanes.items()))
            job = lane.popleft()
            if lane:
                lanes.move_to_end(key)
            else:
                del lanes[key]
            if job.wanted:
                return job
            if job.key is not None and self._by_key.get(job.key) is job:
                del self._by_key[job.key]
        return None

    def _take(self) -> _Job | None:
        """The next job, taking lanes (sessions) in turn, dropping any no longer wanted; None
        when the pool is closing. Background work only when no other waits, on at most all
        workers but one."""
        with self._cond:
            while not self._stopping:
                job = self._next_in(self._lanes)
                if job is None and self._background_running < max(1, self.workers - 1):
                    job = self._next_in(self._background)
                    if job is not None:
                        job.counted = True
                        self._background_running += 1
                if job is not None:
                    job.running = True
                    return job
                self._cond.wait()
            return None

    def _drop(self, call: _Call) -> None:
        with self._cond:
            for lanes in (self._lanes, self._background):
                for key in list(lanes):
                    kept: deque[_Job] = deque()
                    for job in lanes[key]:
                        job.listeners = [(c, i) for c, i in job.listeners if c is not call]
                        if job.listeners:
                            kept.append(job)
                        elif job.key is not None and self._by_key.get(job.key) is job:
                            del self._by_key[job.key]
                    if kept:
                        lanes[key] = kept
                    else:
                        del lanes[key]
            for job in self._by_key.values():  # running: its result is no longer wanted here
                job.listeners = [(c, i) for c, i in job.listeners if c is not call]

    def queued(self) -> int:
        """Calls waiting for a worker (not yet started)."""
        with self._cond:
            lanes = (*self._lanes.values(), *self._background.values())
            return sum(len(lane) for lane in lanes)

    def _promote(self, job: _Job, lane: deque[_Job]) -> None:
        """A queued background job someone now waits for: move it to that caller's lane."""
        for key in list(self._background):
            waiting = self._background[key]
            if job in waiting:
                waiting.remove(job)
                if not waiting:
                    del self._background[key]
        job.background = False
        lane.append(job)

    # ---------------------------------------------------------------- running work

    def map_unordered(
        self,
        fn: Callable[..., T],
        calls: Sequence[tuple[Any, ...]],
        *,
        session: Session | None = None,
        keys: Sequence[Hashable | None] | None = None,
        background: bool = False,
        on_result: Callable[[int, T], None] | None = None,
    ) -> Iterator[tuple[int, T]]:
        """``(i, fn(*calls[i]))`` in completion order, as `Executor.map_unordered`. Queued
        calls are dropped when the caller stops iterating, when a call fails (raised here), or
        when ``session`` (default: `session_of`) ends, which raises `SessionClosed`.

        ``keys[i]`` names what call *i* computes (equal keys, equal results): one already
        queued or running, from any caller, is waited for rather than run again. ``background``
        work runs only when no other waits (see the module's docstring). ``on_result(i,
        value)`` is called in the worker's thread as each call succeeds, even after this caller
        has stopped iterating, so work that was running when it stopped is not lost."""
        if session is None and self.session_of is not None:
            session = self.session_of()
        call = _Call(session)
        if not calls:
            return
        self.start()
        key = None if session is None else id(session)
        lanes = self._background if background else self._lanes
        with self._cond:
            if key not in lanes:  # never served while waiting: first in turn
                lanes[key] = deque()
                lanes.move_to_end(key, last=False)
            lane = lanes[key]
            for i, args in enumerate(calls):
                name = None if keys is None else keys[i]
                hook = None if on_result is None else functools.partial(on_result, i)
                found = None if name is None else self._by_key.get(name)
                if found is not None:
                    found.listeners.append((call, i))
                    if hook is not None:
                        found.hooks.append(hook)
                    if found.background and not background and not found.running:
                        self._promote(found, lane)
                    continue
                job = _Job([(call, i)], fn, args, name, background, hooks=[hook] if hook else [])
                if name is not None:
                    self._by_key[name] = job
                lane.append(job)
            if not lane:
                del lanes[key]
            self._cond.notify_all()
        left = len(calls)
        try:
            while left:
                try:
                    i, value, error = call.results.get(timeout=self.poll_seconds)
                except queue.Empty:
                    if session is not None and not session.alive:
                        raise SessionClosed(
                            "the session that asked for this run has ended; its queued "
                            "replications were dropped"
                        ) from None
                    continue
                if error is not None:
                    raise error
                left -= 1
                yield i, value
                del value
        finally:
            call.abandoned = True
            self._drop(call)

    def map(
        self,
        tasks: Sequence[ReplicationTask],
        reduce: Reduce,
        on_done: Callable[[int], None] | None = None,
        *,
        session: Session | None = None,
        keys: Sequence[Hashable | None] | None = None,
        background: bool = False,
    ) -> list[Any]:
        """``reduce(log)`` of every task, in task order; ``on_done(i)`` as each finishes (in
        the caller's thread). ``keys`` and ``background`` as for `map_unordered`."""
        out: dict[int, Any] = {}
        calls = [(t, reduce) for t in tasks]
        # closed here, not when an error's traceback lets go: queued calls drop at once
        with contextlib.closing(
            self.map_unordered(
                run_replication, calls, session=session, keys=keys, background=background
            )
        ) as done:
            for i, result in done:
                out[i] = result
                if on_done is not None:
                    on_done(i)
        return [out[i] for i in range(len(tasks))]

    def run_paired(
        self,
        scenarios: Sequence[Scenario],
        settings: RunSettings,
        reduce: Callable[[EventLog], T],
        on_done: Callable[[int, int], None] | None = None,
        *,
        session: Session | None = None,
    ) -> dict[tuple[int, int], T]:
        """`flowsim.experiment.runner.run_paired` on this pool's workers."""
        if session is None and self.session_of is not None:
            session = self.session_of()
        executor = _PoolExecutor(self, session)
        return run_paired(scenarios, settings, reduce, on_done=on_done, executor=executor)

    def close(self) -> None:
        """End the workers (each finishes the call it is running); queued calls fail."""
        with self._cond:
            self._stopping = True
            for lane in (*self._lanes.values(), *self._background.values()):
                for job in lane:
                    for call, index in job.listeners:
                        call.results.put((index, None, SessionClosed("the pool was closed")))
            self._lanes.clear()
            self._background.clear()
            self._by_key.clear()
            self._cond.notify_all()
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join()
        with self._cond:
            self._stopping = False


class _PoolExecutor(Executor):
    """A `WorkerPool` seen as an `Executor`, for one session's calls."""

    def __init__(self, pool: WorkerPool, session: Session | None) -> None:
        self.pool, self.session = pool, session
        self.description = f"a shared pool of {pool.workers} worker(s)"

    @property
    def slots(self) -> int:
        return self.pool.workers

    def map_unordered(
        self, fn: Callable[..., T], calls: Sequence[tuple[Any, ...]]
    ) -> Iterator[tuple[int, T]]:
        return self.pool.map_unordered(fn, calls, session=self.session)
