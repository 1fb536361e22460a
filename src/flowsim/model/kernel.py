"""Units with a capacity that can change during a run (rotas, escalation beds), and the lean
process driver the patient journeys run on.

A unit behaves exactly as a SimPy ``Resource`` (beds, chairs, community places: first come,
first served) or ``PriorityResource`` (ED cubicles, clinicians, the frailty team: by clinical
priority, then first come first served), event for event, but costs fewer scheduler events:

- a request granted at once, when nothing else is due at this instant, lets the patient carry
  on without a trip through the scheduler (SimPy would schedule the granted request and resume
  the patient straight after it, with nothing in between);
- a release frees the place at once and checks the waiting line where SimPy processes its
  ``Release`` event, as a bare scheduled callback (`Wake`) instead of an event object with its
  own queue; with nobody waiting, that check is only given its place in the schedule (an event
  id), and scheduled there only if someone starts waiting before its turn comes;
- a request granted by a release is processed at once when it would be the next event anyway.

`Process` drives the patient journeys the same way (a delay that ends before anything else is
due just moves the clock on), and `Environment` has the tighter run loop that tells units which
event is being processed. The scheduler still decides the order of everything that happens at
one instant, so a run is the same, bit for bit, as on SimPy's own processes, timeouts and
resources: tests/model/test_kernel_vs_simpy.py runs small models on both and compares their logs.

This is the only module in flowsim that touches SimPy's private state (``_now``, ``_queue``,
``_eid``, ``_ok``, ``_value``; tests/architecture checks it), which is why SimPy is pinned to
4.1.x. Where it costs nothing measurable, it goes through SimPy's public API: the run's end is
scheduled with ``Environment.schedule``. The paths that run for a large share of all events
read and write the scheduler directly (requests are a lean `Request`, not a SimPy event), because
each public call (``schedule``, ``peek``, the ``now`` property) is one more Python call there,
about 0.7% of the tandem benchmark's instructions for ``schedule`` in `call_later` and
`Unit.release` alone, and because nothing public can hold an event id for later: the run loop,
a process's delay, the "is anything else due now?" checks, `call_later`, a release's turn, the
releases not yet scheduled, and the event log's clock (`recorder`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from heapq import heappop, heappush
from itertools import count
from typing import Any

import simpy
from simpy.events import PENDING

from flowsim.log import KIND_SHIFT, Events

URGENT = 0
NORMAL = 1
"""SimPy's event priorities (``simpy.events.URGENT`` / ``NORMAL``)."""


class Environment(simpy.Environment):
    """SimPy's environment with a tighter ``run`` loop that knows which event it is processing.

    ``current`` is the scheduler entry ``(time, priority, event id, event)`` of the event being
    processed, or of the event a process skipped by carrying on at once; units use it to tell
    whether a release they did not schedule would already have been processed (see
    `Unit.release`). ``steps`` counts the events actually processed.
    """

    def __init__(self) -> None:
        super().__init__()
        self.current: tuple[float, int, int, object] = (0.0, URGENT, -1, None)
        self.steps = 0

    def run(self, until: Any = None) -> None:  # type: ignore[override]
        """Process events until the clock reaches ``until`` (a time), as SimPy's ``run``."""
        if until is None or isinstance(until, simpy.Event):  # pragma: no cover - unused here
            simpy.Environment.run(self, until)
            return
        at = float(until)
        if at <= self._now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        stop = Wake([])
        self.schedule(stop, URGENT, at - self._now)  # type: ignore[arg-type]
        queue = self._queue
        steps = 0
        try:
            while True:
                self.current = entry = heappop(queue)
                self._now, _, _, event = entry
                if event is stop:
                    return
                callbacks, event.callbacks = event.callbacks, None
                for callback in callbacks:
                    callback(event)
                if not event._ok and not hasattr(event, "_defused"):  # pragma: no cover
                    raise event._value
                steps += 1
        finally:
            self.steps += steps

    def skip(self, priority: int = NORMAL) -> None:
        """Account for an event SimPy would process next, which the caller handles itself."""
        self.current = (self._now, priority, next(self._eid), None)


class Wake:
    """The cheapest thing SimPy's scheduler can process: a list of callbacks and nothing else.

    ``Environment.step`` reads ``callbacks`` (setting it to None) and ``_ok``; nobody can wait
    for a `Wake`, so a callback list may be shared between many of them.
    """

    __slots__ = ("callbacks",)
    _ok = True
    _value = None

    def __init__(self, callbacks: list[Callable[[Any], None]]) -> None:
        self.callbacks = callbacks


def call_later(
    env: Environment,
    delay: float,
    callbacks: list[Callable[[Any], None]],
    priority: int = NORMAL,
) -> None:
    """Run ``callbacks`` after ``delay`` hours, where SimPy would process a ``Timeout``."""
    heappush(env._queue, (env._now + delay, priority, next(env._eid), Wake(callbacks)))


def recorder(env: Environment, events: Events) -> Callable[[int, int, int], None]:
    """``record(patient, kind, place)``: append one event at the current instant to ``events``.

    It runs for every event of a run, so it reads the clock as the scheduler does: SimPy's
    ``now`` property would add about a tenth to each write.
    """
    add_time, add_patient, add_code = (
        events.times.append,
        events.patients.append,
        events.codes.append,
    )

    def record(patient: int, kind: int, place: int) -> None:
        add_time(env._now)
        add_patient(patient)
        add_code(kind << KIND_SHIFT | place)

    return record


class Process:
    """Runs a generator as a SimPy process does, with fewer scheduler events.

    The generator yields a delay in hours (scheduled exactly as ``env.timeout(delay)`` would
    be, the process itself standing in for the timeout) or a SimPy event to wait for. A delay
    that ends before anything else is due just moves the clock on, and a process is started at
    once where SimPy would schedule an urgent ``Initialize`` event to run next; in both cases
    nothing could have happened in between, so the order of events is SimPy's own. Values sent
    into the generator are always None, and the process is not itself an event: nobody waits for
    a journey to end.
    """

    __slots__ = ("_eid", "_env", "_queue", "_send", "callbacks")
    _ok = True
    _value = None

    def __init__(self, env: Environment, generator: Generator[Any, None, Any]) -> None:
        self._env = env
        self._queue = env._queue
        self._eid = env._eid
        self._send = generator.send
        self.callbacks: list | None = None

    def resume(self, _event: object = None) -> None:
        """Run the generator up to the next thing it has to wait for."""
        send = self._send
        try:
            step = send(None)
            while True:
                if step.__class__ is float or isinstance(step, (int, float)):
                    if step < 0:
                        raise ValueError(f"negative delay {step}")
                    env, queue = self._env, self._queue
                    at = env._now + step
                    if queue and queue[0][0] > at:
                        env._now = at  # nothing is due before: go on
                        env.current = (at, NORMAL, next(self._eid), None)
                        step = send(None)
                        continue
                    self.callbacks = _RESUME  # the scheduler calls Process.resume(self)
                    heappush(queue, (at, NORMAL, next(self._eid), self))
                    return
                callbacks = step.callbacks
                if callbacks is None:  # already processed
                    step = send(None)
                    continue
                callbacks.append(self.resume)
                return
        except StopIteration:
            return


_RESUME = [Process.resume]
"""Callbacks of a process waiting out a delay: the scheduler passes the process itself as the
event, so one shared list serves them all (and no process refers back to itself)."""


def start(env: Environment, generator: Generator[Any, None, Any]) -> None:
    """Start a process now: what SimPy's ``Initialize`` event would do as the next event.

    Call it only where nothing else is due before that event: from a callback or process step
    that does nothing more at this instant after starting it.
    """
    env.skip(URGENT)
    Process(env, generator).resume()


class FirstOf:
    """``event | env.timeout(delay_hours)``, SimPy's ``AnyOf`` of a request and a delay, without
    its objects: the delay is scheduled, the condition triggered and then processed with the
    event ids SimPy's ``Timeout`` and ``Condition`` would take, at the same moments (at once when
    it would be the next event anyway), and a delay that is no longer needed stays in the
    schedule doing nothing, as SimPy's does. A process yields it and is resumed with None either
    way (nobody reads the condition's value).

    ``event``: a `Request` of this environment (a SimPy event would do as well).
    """

    __slots__ = ("_done", "_env", "_event", "_timer", "callbacks")
    _ok = True
    _value = None

    def __init__(self, env: Environment, event: Request, delay_hours: float) -> None:
        if delay_hours < 0:
            raise ValueError(f"Negative delay {delay_hours}")
        self._env = env
        self._done = False
        self._timer = timer = Wake([self._fire])
        heappush(env._queue, (env._now + delay_hours, NORMAL, next(env._eid), timer))
        self._event = event
        self.callbacks: list | None = [self._detach]
        if event.callbacks is None:  # processed already: the condition holds, not yet waited on
            self._done = True
            heappush(env._queue, (env._now, NORMAL, next(env._eid), self))
        else:
            event.callbacks.append(self._fire)

    def _fire(self, _event: object) -> None:
        """SimPy's ``Condition._check``: the first of the two triggers the condition.

        It is processed at once when nothing else is due at this instant, as it would be next:
        this is the only callback of the event being processed (the delay, or the request, which
        is processed when its grant is, see `Unit._serve`).
        """
        if self._done:
            return
        self._done = True
        _process_next(self._env, self)

    def _detach(self, _event: object) -> None:
        """SimPy's ``Condition._build_value``: the other one no longer calls back."""
        callbacks = self._event.callbacks
        if callbacks and self._fire in callbacks:
            callbacks.remove(self._fire)
        if self._timer.callbacks is not None:
            self._timer.callbacks = _NOTHING


def _process_next(env: Environment, event: FirstOf | Request) -> None:
    """Process ``event`` (triggered at this instant) where SimPy would: at once when nothing else
    is due now, as it would be the next event (the caller is the only callback of the event
    being processed), else in its turn in the schedule."""
    queue = env._queue
    if queue and queue[0][0] <= env._now:
        heappush(queue, (env._now, NORMAL, next(env._eid), event))
        return
    env.skip()
    callbacks, event.callbacks = event.callbacks, None
    for callback in callbacks:  # type: ignore[union-attr]
        callback(event)


_NOTHING: list = []
"""Callbacks of a delay no longer waited for (never appended to: nobody waits for a `Wake`)."""


def first_of(env: Environment, event: Request, delay_hours: float) -> FirstOf:
    """What to yield to wait for ``event`` or ``delay_hours``, whichever comes first."""
    return FirstOf(env, event, delay_hours)


class Request:
    """A place asked for: what the scheduler, `Process` and the model read of a SimPy ``Event``.

    A request is made for every patient who cannot go straight into a place, so it is not a
    ``simpy.Event`` (whose constructor and ``succeed`` are Python calls of their own); it is
    granted as ``Event.succeed`` would grant it (`_grant`): scheduled at this instant.
    """

    __slots__ = ("_ok", "_value", "callbacks")

    def __init__(self) -> None:
        self.callbacks: list | None = []
        self._ok = True
        self._value: object = PENDING

    @property
    def triggered(self) -> bool:
        """Granted (processed or not), as ``simpy.Event.triggered``."""
        return self._value is not PENDING


def _grant(env: Environment, request: Request) -> None:
    """``request.succeed()``: granted now, processed in its turn at this instant."""
    request._value = None
    heappush(env._queue, (env._now, NORMAL, next(env._eid), request))


def _granted(env: Environment) -> Request:
    request = Request()
    _grant(env, request)
    return request


class Unit:
    """A pool of beds, chairs, teams or packages, served first come first served.

    Capacity can change during a run. When it falls, people already in a place keep it until
    they leave: nobody is turned out of a bed because a shift ended. When it rises, waiting
    requests are granted at once.
    """

    __slots__ = (
        "_env",
        "_record_capacity",
        "_release_cbs",
        "_trigger_cbs",
        "_unscheduled",
        "_unscheduled_at",
        "base_capacity",
        "capacity",
        "code",
        "in_use",
        "name",
        "queue",
        "turnaround_hours",
    )

    def __init__(
        self,
        env: Environment,
        name: str,
        code: int,
        capacity: int,
        record_capacity: Callable[[float, int, int], None],
        turnaround_hours: float = 0.0,
    ) -> None:
        self._env = env
        self.name = name
        self.code = code
        self.capacity = capacity
        self.base_capacity = capacity
        self.turnaround_hours = turnaround_hours
        self._record_capacity = record_capacity
        self.in_use = 0
        """Places held now (a place granted to a patient not yet resumed counts)."""
        self.queue: Any = self._new_queue()
        """Requests waiting, in the order they will be granted."""
        self._trigger_cbs = [self._serve]
        self._unscheduled: list[int] = []
        """Event ids of releases not scheduled (nobody was waiting), all at `_unscheduled_at`."""
        self._unscheduled_at = -1.0
        self._release_cbs = [self._release_after_turnaround]

    def _new_queue(self) -> Any:
        return deque()

    @property
    def free(self) -> int:
        """Places free now (never negative)."""
        return max(self.capacity - self.in_use, 0)

    def request(self, priority: int = 0) -> Request | None:
        """Ask for a place. None: the place is the caller's now, carry on. Otherwise an event
        to yield straight away, processed when the place is granted.

        The caller must be a process step with nothing else to do at this instant before it
        yields the event (so that carrying on at once is what SimPy would do next).
        """
        env = self._env
        if self.in_use < self.capacity and not self.queue:
            self.in_use += 1
            queue = env._queue
            if not queue or queue[0][0] > env._now:
                env.skip()
                return None
            return _granted(env)
        if self._unscheduled:
            self._schedule_releases()
        event = Request()
        self._enqueue(event, priority)
        self._trigger(None)
        return event

    def _enqueue(self, event: Request, priority: int) -> None:
        self.queue.append(event)

    def _head(self) -> Request:
        return self.queue.popleft()

    def _trigger(self, _event: object) -> None:
        """SimPy's ``_trigger_put``: grant the head of the line if there is room."""
        if self.queue and self.in_use < self.capacity:
            self.in_use += 1
            _grant(self._env, self._head())

    def _serve(self, _event: object) -> None:
        """The release's turn in the schedule: grant the head of the line if there is room.

        The granted request is processed at once when nothing else is due at this instant, as
        it would be next (this is the only callback of the event being processed).
        """
        if self.queue and self.in_use < self.capacity:
            event = self._head()
            self.in_use += 1
            event._ok = True
            event._value = None
            _process_next(self._env, event)

    def release(self, last: bool = False) -> None:
        """Give a place back now; the line is served where SimPy processes its ``Release``.

        ``last``: the caller does nothing more at this instant (a callback of its own), so when
        nothing else is due now the line is served at once, as SimPy would do next.

        With nobody waiting, that check would find nobody unless someone starts waiting at this
        instant before it is processed. So it is only given its place in the schedule (an event
        id), and scheduled there if someone does (`_schedule_releases`).
        """
        self.in_use -= 1
        env = self._env
        if self.queue:
            queue = env._queue
            if last and (not queue or queue[0][0] > env._now):
                env.skip()
                self._serve(None)
                return
            heappush(queue, (env._now, NORMAL, next(env._eid), Wake(self._trigger_cbs)))
            return
        if self._unscheduled and self._unscheduled_at != env._now:
            self._unscheduled.clear()
        self._unscheduled_at = env._now
        self._unscheduled.append(next(env._eid))

    def _schedule_releases(self) -> None:
        """Someone is about to wait: schedule the releases of this instant not yet passed."""
        env = self._env
        now = env._now
        if self._unscheduled_at == now:
            _, priority, eid, _ = env.current
            for release_eid in self._unscheduled:
                if priority == URGENT or eid < release_eid:
                    heappush(env._queue, (now, NORMAL, release_eid, Wake(self._trigger_cbs)))
        self._unscheduled.clear()

    def _release_after_turnaround(self, _event: object) -> None:
        self.release(last=True)

    def leave(self) -> None:
        """Give the place back, after cleaning if the unit turns beds around."""
        if self.turnaround_hours > 0:
            call_later(self._env, self.turnaround_hours, self._release_cbs)
        else:
            self.release()

    def set_capacity(self, capacity: int) -> None:
        if capacity == self.capacity:
            return
        self.capacity = capacity
        self._record_capacity(self._env.now, self.code, capacity)
        while self.queue and self.in_use < capacity:
            self._trigger(None)


class PriorityUnit(Unit):
    """A pool served by clinical priority (lower first), then first come first served."""

    __slots__ = ("_arrivals",)

    def _new_queue(self) -> Any:
        self._arrivals = count()
        return []

    def _enqueue(self, event: Request, priority: int) -> None:
        heappush(self.queue, (priority, next(self._arrivals), event))

    def _head(self) -> Request:
        return heappop(self.queue)[2]
