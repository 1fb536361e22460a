"""The wards' full-capacity protocol (``pressure.full_capacity_protocol``): at the top OPEL level
each routed ward group takes a share of its beds in extra patients, closed when calm.

On the tenth-size baseline (`helpers.model_helpers.small_scenario`) without its seasons, pressure
responses or the wards' own escalation beds, so every ward capacity row is the protocol's. The
capacity log is checked against the OPEL rows of ``EventLog.pressure``; null is the old model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from flowsim.errors import ScenarioError
from flowsim.log import EventLog
from flowsim.model.build import simulate
from flowsim.scenario import Scenario, apply_changes
from helpers.model_helpers import QUEUE, START, run, small_scenario

WARDS = ("general_medicine", "care_of_elderly", "surgery")
OPEL = {"ed_boarding": [1, 3, 6]}
PROTOCOL = {
    "extra_share_of_beds": 0.1,
    "from_level": 4,
    "after_hours": 4.0,
    "close_below_occupancy": 0.95,
}
SEED = 4


def scenario(pressure: dict[str, Any] | None) -> Scenario:
    plain = small_scenario({"pressure": None, "seasons": None}, horizon_days=40, warm_up_days=15)
    no_escalation = {f"wards.{w}.escalation.beds": 0 for w in WARDS}
    short = {"wards.general_medicine.beds": 45, "wards.surgery.beds": 50}
    return apply_changes(plain, {**no_escalation, **short, "pressure": pressure})


def with_protocol(**protocol: Any) -> Scenario:
    return scenario({"opel": OPEL, "full_capacity_protocol": {**PROTOCOL, **protocol}})


def opel_level_at(log: EventLog, t: float) -> int:
    """The OPEL level in force at ``t`` (its hourly update comes before the protocol's check)."""
    rows = [(when, v) for when, signal, v in log.pressure if signal == "opel"]
    return [v for when, v in rows if when <= t][-1]


def ward_capacity(log: EventLog, ward: str) -> list[tuple[float, int]]:
    code = log.places.index(f"ward:{ward}")
    return [(t, c) for t, p, c in log.capacity if p == code]


def ward_waits_hours(log: EventLog) -> np.ndarray:
    """QUEUE at a ward group to START in it (boarding in ED or waiting in AMU/AFU)."""
    names = log.places
    queued: dict[int, float] = {}
    waits = []
    for t, p, kind, where in log.events:
        if not names[where].startswith("ward:"):
            continue
        if kind == QUEUE:
            queued.setdefault(p, t)
        elif kind == START and p in queued:
            waits.append(t - queued.pop(p))
    return np.asarray(waits)


def test_each_ward_group_takes_its_share_only_at_the_opel_level() -> None:
    s = with_protocol()
    log = run(s, seed=SEED)
    levels = [v for _, signal, v in log.pressure if signal == "opel"]
    assert 4 in levels and min(levels) < 4, "the test needs OPEL 4 to come and go"
    for ward in WARDS:
        beds = s.wards[ward].beds
        extra = round(0.1 * beds)
        changes = ward_capacity(log, ward)
        assert extra > 0 and {c for _, c in changes} == {beds, beds + extra}, ward
        opened = [t for t, c in changes if c == beds + extra]
        closed = [t for t, c in changes if c == beds]
        assert len(opened) >= 2, ward
        for t in opened:  # four hourly checks in a row at OPEL 4
            assert t == pytest.approx(round(t))
            for k in range(4):
                assert opel_level_at(log, t - k) >= 4, (ward, t, k)
        for t in closed:  # never while OPEL is 4
            assert opel_level_at(log, t) < 4, (ward, t)
        assert all(a < b for a, b in zip(opened, closed, strict=False))


def test_the_protocol_cuts_waits_for_a_ward_bed() -> None:
    off = ward_waits_hours(run(scenario({"opel": OPEL}), seed=SEED))
    on = ward_waits_hours(run(with_protocol(), seed=SEED))
    assert off.mean() > 1.0, "the test needs patients waiting for ward beds"
    assert on.mean() < 0.9 * off.mean()


def test_no_protocol_is_the_old_model_exactly() -> None:
    without = run(scenario({"opel": OPEL}), seed=SEED)
    null = simulate(scenario({"opel": OPEL, "full_capacity_protocol": None}), seed=SEED)
    assert null.events == without.events
    assert null.patients == without.patients
    assert null.capacity == without.capacity
    assert null.pressure == without.pressure
    # A share too small to round to a place on any ward: nothing opens either.
    tiny = simulate(with_protocol(extra_share_of_beds=0.001), seed=SEED)
    assert tiny.events == without.events and tiny.capacity == without.capacity


def test_the_protocol_never_opens_below_its_level() -> None:
    """OPEL rises to 3 but never to 4: the protocol's checks change nothing."""
    below = {"occupancy": None, "ed_boarding": [1, 3, 100_000]}
    calm = simulate(scenario({"opel": below, "full_capacity_protocol": PROTOCOL}), seed=SEED)
    assert max(v for _, signal, v in calm.pressure if signal == "opel") == 3
    without = simulate(scenario({"opel": below}), seed=SEED)
    assert calm.events == without.events
    assert calm.capacity == without.capacity
    assert not any(ward_capacity(calm, w) for w in WARDS)


def test_the_protocol_needs_an_opel_level() -> None:
    with pytest.raises(ScenarioError, match=r"full_capacity_protocol.*pressure\.opel"):
        scenario({"full_capacity_protocol": PROTOCOL})
