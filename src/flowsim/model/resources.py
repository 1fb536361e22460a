"""Units with a capacity that can change during a run (rotas, escalation beds)."""

from __future__ import annotations

import simpy


class Unit(simpy.PriorityResource):
    """A pool of cubicles, beds, chairs, teams or packages.

    Requests are served by priority (lower first), then first come first served.
    When capacity falls, people already in a place keep it until they leave:
    nobody is turned out of a bed because a shift ended. When it rises, waiting
    requests are granted at once.
    """

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        code: int,
        capacity: int,
        record_capacity,
        turnaround_hours: float = 0.0,
    ) -> None:
        super().__init__(env, capacity=max(capacity, 1))
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
