"""Units with a capacity that can change during a run (rotas, escalation beds).

Beds and community places are first come, first served (a plain SimPy resource, the cheaper
kind); ED cubicles, clinicians and the frailty team serve by clinical priority."""

from __future__ import annotations

import simpy


class _Adjustable:
    """Capacity that can change during a run, on top of a SimPy resource.

    When capacity falls, people already in a place keep it until they leave:
    nobody is turned out of a bed because a shift ended. When it rises, waiting
    requests are granted at once.
    """

    _capacity: int
    _env: simpy.Environment

    def _setup(
        self, name: str, code: int, capacity: int, record_capacity, turnaround_hours: float
    ) -> None:
        self._capacity = capacity
        self.name = name
        self.code = code
        self.base_capacity = capacity
        self.turnaround_hours = turnaround_hours
        self._record_capacity = record_capacity

    def set_capacity(self, capacity: int) -> None:
        if capacity == self._capacity:
            return
        self._capacity = capacity
        self._record_capacity(self._env.now, self.code, capacity)
        while self.put_queue and len(self.users) < capacity:
            self._trigger_put(None)

    @property
    def free(self) -> int:
        """Places free now (never negative)."""
        return max(self._capacity - len(self.users), 0)

    def leave(self, request: simpy.resources.resource.Request) -> None:
        """Give the place back, after cleaning if the unit turns beds around."""
        if self.turnaround_hours > 0:
            self._env.timeout(self.turnaround_hours).callbacks.append(
                lambda _event: self.release(request)
            )
        else:
            self.release(request)


class Unit(_Adjustable, simpy.Resource):
    """A pool of beds, chairs, teams or packages, served first come first served."""

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        code: int,
        capacity: int,
        record_capacity,
        turnaround_hours: float = 0.0,
    ) -> None:
        simpy.Resource.__init__(self, env, capacity=max(capacity, 1))
        self._setup(name, code, capacity, record_capacity, turnaround_hours)


class PriorityUnit(_Adjustable, simpy.PriorityResource):
    """A pool served by clinical priority (lower first), then first come first served."""

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        code: int,
        capacity: int,
        record_capacity,
        turnaround_hours: float = 0.0,
    ) -> None:
        simpy.PriorityResource.__init__(self, env, capacity=max(capacity, 1))
        self._setup(name, code, capacity, record_capacity, turnaround_hours)
