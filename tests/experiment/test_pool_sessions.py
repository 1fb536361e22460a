"""The shared worker pool drops a session's queued work once the session has ended (a closed
browser tab), or once its caller stops waiting, and takes sessions in turn (issue 17, item 5)."""

from __future__ import annotations

import os
import threading
import time

import pytest

from flowsim.experiment.pool import Session, SessionClosed, WorkerPool

ran: list[str] = []


def job(name: str, seconds: float) -> str:
    """Runs in the pool's thread (a pool of one works in this process), so ``ran`` records it."""
    time.sleep(seconds)
    ran.append(name)
    return name


@pytest.fixture()
def pool():
    ran.clear()
    pool = WorkerPool(1, poll_seconds=0.05)
    yield pool
    pool.close()


def _wait(condition, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_a_closed_sessions_queued_work_is_dropped(pool: WorkerPool) -> None:
    session = Session()
    calls = pool.map_unordered(job, [(f"a{i}", 0.2) for i in range(8)], session=session)
    assert next(calls) == (0, "a0")
    session.close()
    with pytest.raises(SessionClosed):
        list(calls)
    assert pool.queued() == 0
    time.sleep(0.5)  # what was running when it closed may finish; nothing queued starts
    assert len(ran) <= 2, ran


def test_the_next_session_gets_the_worker_at_once(pool: WorkerPool) -> None:
    gone = Session()
    errors: list[BaseException] = []

    def closed_tab() -> None:
        try:
            list(pool.map_unordered(job, [(f"gone{i}", 0.5) for i in range(10)], session=gone))
        except SessionClosed as error:
            errors.append(error)

    thread = threading.Thread(target=closed_tab)
    thread.start()
    assert _wait(lambda: ran, 5)
    gone.close()
    started = time.monotonic()
    assert pool.map_unordered(job, [("next", 0.0)], session=Session()).__next__() == (0, "next")
    assert time.monotonic() - started < 2.5  # not the 4.5 s the closed session had queued
    thread.join(5)
    assert errors and not thread.is_alive()
    assert sum(1 for name in ran if name.startswith("gone")) <= 2, ran


def test_a_session_whose_browser_has_gone_ends_after_its_grace() -> None:
    connected = [True]
    session = Session(lambda: connected[0], grace_seconds=0.2)
    assert session.alive
    connected[0] = False
    assert session.alive  # a reload reconnects within the grace
    connected[0] = True
    assert session.alive
    connected[0] = False
    assert session.alive
    time.sleep(0.25)
    assert not session.alive
    connected[0] = True
    assert not session.alive  # over for good


def test_a_failing_check_cannot_keep_a_session_alive() -> None:
    def broken() -> bool:
        raise RuntimeError("the server has gone")

    session = Session(broken, grace_seconds=0.0)
    assert not session.alive


def test_work_of_a_session_gone_quiet_is_dropped_by_the_pool(pool: WorkerPool) -> None:
    connected = [True]
    session = Session(lambda: connected[0], grace_seconds=0.1)
    calls = pool.map_unordered(job, [(f"q{i}", 0.2) for i in range(8)], session=session)
    next(calls)
    connected[0] = False
    with pytest.raises(SessionClosed):
        list(calls)
    assert pool.queued() == 0 and len(ran) <= 3, ran


def test_a_caller_that_stops_waiting_leaves_nothing_queued(pool: WorkerPool) -> None:
    calls = pool.map_unordered(job, [(f"s{i}", 0.2) for i in range(8)])
    next(calls)
    calls.close()
    assert pool.queued() == 0
    time.sleep(0.5)
    assert len(ran) <= 2, ran


def test_sessions_take_the_workers_in_turn(pool: WorkerPool) -> None:
    """A table asking for many replications does not hold up one asking for a few."""
    busy, quick = Session(), Session()
    long_run = pool.map_unordered(job, [(f"busy{i}", 0.1) for i in range(6)], session=busy)
    next(long_run)  # the busy table's work is queued and running
    assert list(pool.map_unordered(job, [("quick", 0.0)], session=quick)) == [(0, "quick")]
    assert ran.index("quick") <= 2, ran
    assert sorted(name for _, name in long_run) == [f"busy{i}" for i in range(1, 6)]


def test_an_error_in_one_call_drops_the_rest_of_that_call(pool: WorkerPool) -> None:
    with pytest.raises(TypeError):
        list(pool.map_unordered(job, [("x", 0.1), ("y", "not seconds"), ("z", 0.1)]))
    assert pool.queued() == 0
    assert list(pool.map_unordered(job, [("after", 0.0)])) == [(0, "after")]


def test_a_closed_pool_fails_queued_work_and_can_start_again(pool: WorkerPool) -> None:
    results: list[object] = []

    def caller() -> None:
        try:
            results.extend(pool.map_unordered(job, [(f"c{i}", 0.2) for i in range(5)]))
        except SessionClosed as error:
            results.append(error)

    thread = threading.Thread(target=caller)
    thread.start()
    assert _wait(lambda: ran, 10)  # the first has run, the rest are queued or running
    pool.close()
    thread.join(10)
    assert not thread.is_alive() and isinstance(results[-1], SessionClosed), results
    assert len(ran) < 5, ran
    assert list(pool.map_unordered(job, [("again", 0.0)])) == [(0, "again")]


def test_worker_processes_drop_a_closed_sessions_queue() -> None:
    """The same with two worker processes: queued calls never reach a process."""
    pool = WorkerPool(2, poll_seconds=0.05)
    try:
        pool.start()
        session = Session()
        calls = pool.map_unordered(time.sleep, [(1.0,)] * 12, session=session)
        next(calls)
        session.close()
        with pytest.raises(SessionClosed):
            list(calls)
        assert pool.queued() == 0
        started = time.monotonic()
        pids = {pid for _, pid in pool.map_unordered(os.getpid, [()] * 2)}
        assert time.monotonic() - started < 3.0 and os.getpid() not in pids  # not 5 s more
    finally:
        pool.close()


def test_outside_a_streamlit_server_there_is_no_session() -> None:
    from flowsim.app import engine

    assert engine.streamlit_session() is None
