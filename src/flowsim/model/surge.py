"""Community surge: spot-purchased P1-P3 places bought in when a waiting list grows
(pressure.md X6, X7, X10).

Checked on the hour. Once the service's waiting list reaches ``open_when_waiting``, purchase is
started; the places open ``open_after_days`` later (commissioning and brokerage take time), if
the list is still longer than ``close_when_waiting`` then. They are given up once the list has
stayed at or below ``close_when_waiting`` for ``close_after_days``: each place as soon as it is
empty (a place held or reserved is paid for until its patient leaves), so the places open are
never fewer than those in use. The places open are recorded as
``spot:<service>`` in ``EventLog.pressure`` (their integral is the place-days bought).
"""

from __future__ import annotations

from flowsim.model.kernel import Unit, call_later
from flowsim.model.opel import PressureState
from flowsim.model.system import System
from flowsim.scenario.pressure import SpotPurchase


def schedule(system: System) -> None:
    state: PressureState = system.pressure
    surge = state.config.community_surge
    if surge is None:
        return
    for name, spot in surge.services():
        if spot.places > 0:
            _spot_purchase(system, state, getattr(system.units, name), spot)


def _spot_purchase(system: System, state: PressureState, unit: Unit, spot: SpotPurchase) -> None:
    env = system.env
    signal = f"spot:{unit.name}"
    opens_at: float | None = None
    bought = 0
    """Places bought in and not yet given up (held ones are given up as their patients leave)."""
    closing = False
    calm_hours = 0.0
    callbacks: list = []
    state.record(signal, 0)

    def check(_event: object) -> None:
        nonlocal opens_at, bought, closing, calm_hours
        waiting = len(unit.queue)
        if bought == 0 or closing:
            if opens_at is None and waiting >= spot.open_when_waiting:
                opens_at = env.now + spot.open_after_days * 24.0
            if opens_at is not None and env.now >= opens_at:
                opens_at = None
                if waiting > spot.close_when_waiting:
                    unit.set_capacity(unit.capacity - bought + spot.places)
                    bought, closing, calm_hours = spot.places, False, 0.0
                    state.record(signal, bought)
        if bought and not closing:
            calm_hours = calm_hours + 1.0 if waiting <= spot.close_when_waiting else 0.0
            closing = calm_hours >= max(spot.close_after_days * 24.0, 1.0)
        if closing:  # give up the places as they empty, never one still held or reserved
            free = min(bought, unit.capacity - unit.in_use)
            if free > 0:
                bought -= free
                unit.set_capacity(unit.capacity - free)
                state.record(signal, bought)
            closing = bought > 0
        call_later(env, 1.0, callbacks)

    callbacks.append(check)
    call_later(env, 1.0, callbacks)
