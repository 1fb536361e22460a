"""ED escalation spaces (``ed.escalation``): corridor trolleys, chairs and doubled cubicles opened
like escalation beds when every cubicle stays taken with a queue, closed when ED is calm.

In the style of `test_mechanisms`: an isolated system (`validation.helpers.isolated_system`) whose
only constraint is a few cubicles, busy afternoons and quiet nights, so the spaces open and close
every day. The setting's values are checked from the log (capacity rows against the cubicle queue
and occupancy at each hourly check), and ``beds: 0`` is shown to be the old model exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from flowsim.log import EventLog
from flowsim.model.build import simulate
from flowsim.scenario import apply_changes, scenario_from_dict
from helpers import model_helpers
from helpers.model_helpers import HANDOVER, QUEUE
from validation.helpers import isolated_system

CUBICLES = 6
SPACES = 3
ESCALATION = {
    "beds": SPACES,
    "open_above_occupancy": 1.0,
    "open_when_waiting": 2,
    "open_after_hours": 3.0,
    "close_below_occupancy": 0.5,
}


def busy_afternoons_ed(escalation: dict[str, Any] | None) -> dict[str, Any]:
    """Ambulances only, 6 cubicles and an hour's treatment: overloaded 08:00-16:00, empty at night.

    ``escalation`` None leaves the key out of the data (the model's default, no spaces).
    """
    data = isolated_system("ED escalation", 2.7, route="ambulance", horizon_days=20,
                           warm_up_days=0)  # fmt: skip
    data["demand_profile"]["hourly"] = [0.1] * 8 + [3.0] * 8 + [0.1] * 8
    data["ed"].update(cubicles=CUBICLES, treatment_hours={"dist": "exponential", "mean": 1.0})
    data["ed"]["crowding"] = None
    data["ed"].pop("escalation", None)
    if escalation is not None:
        data["ed"]["escalation"] = escalation
    return data


def run(data: dict[str, Any], seed: int = 1) -> EventLog:
    return simulate(scenario_from_dict(data, "ED escalation test"), 0, seed=seed)


def cubicle_state(log: EventLog, t: float) -> tuple[int, int]:
    """(cubicles taken, patients waiting for one) just before ``t``."""
    return model_helpers.held_and_waiting(log, "ed_cubicle", t)


def handover_waits_hours(log: EventLog) -> np.ndarray:
    """Arrival at ED (QUEUE at the cubicles) to the crew's release, for every ambulance."""
    cubicle = log.places.index("ed_cubicle")
    queued: dict[int, float] = {}
    waits = []
    for t, p, kind, where in log.events:
        if kind == QUEUE and where == cubicle:
            queued[p] = t
        elif kind == HANDOVER and p in queued:
            waits.append(t - queued.pop(p))
    return np.asarray(waits)


def cubicle_capacity(log: EventLog) -> list[tuple[float, int]]:
    cubicle = log.places.index("ed_cubicle")
    return [(t, c) for t, p, c in log.capacity if p == cubicle]


def test_ed_escalation_spaces_open_under_pressure_and_close_when_calm() -> None:
    log = run(busy_afternoons_ed(ESCALATION))
    changes = cubicle_capacity(log)
    opened = [t for t, c in changes if c == CUBICLES + SPACES]
    closed = [t for t, c in changes if c == CUBICLES]
    assert {c for _, c in changes} <= {CUBICLES, CUBICLES + SPACES}
    assert len(opened) >= 10 and len(closed) >= 10
    for t in opened:  # 3 hourly checks in a row found every cubicle taken and 2 or more waiting
        assert t == pytest.approx(round(t)) and t >= 3.0
        for k in range(3):
            occupied, waiting = cubicle_state(log, t - k)
            assert occupied >= CUBICLES and waiting >= 2, (t, k, occupied, waiting)
    for t in closed:  # nobody waiting and under half the cubicles taken
        occupied, waiting = cubicle_state(log, t)
        assert waiting == 0 and occupied < CUBICLES / 2, (t, occupied, waiting)
    # ... and they closed at the first hourly check that was calm.
    for t_open, t_close in zip(opened, closed, strict=False):
        assert t_close > t_open
        for h in np.arange(t_open + 1, t_close):
            occupied, waiting = cubicle_state(log, h)
            assert waiting > 0 or occupied >= CUBICLES / 2, (t_open, h)
    # The spaces were used: more than 6 patients in cubicles at some time.
    assert max(cubicle_state(log, t + 0.5)[0] for t in opened) > CUBICLES


def test_ed_escalation_spaces_cut_handover_waits() -> None:
    off = handover_waits_hours(run(busy_afternoons_ed(None)))
    on = handover_waits_hours(run(busy_afternoons_ed(ESCALATION)))
    assert len(on) == len(off) > 500  # common random numbers: the same ambulances
    assert off.mean() > 0.5, "the test needs an ED where ambulances queue"
    assert on.mean() < 0.8 * off.mean()
    assert np.quantile(on, 0.9) < np.quantile(off, 0.9)


@pytest.mark.parametrize(
    "escalation",
    [{"beds": 0}, {**ESCALATION, "beds": 0}],
    ids=["beds_0", "beds_0_with_triggers"],
)
def test_no_ed_escalation_spaces_is_the_old_model_exactly(escalation: dict[str, Any]) -> None:
    without = run(busy_afternoons_ed(None))
    with_none = run(busy_afternoons_ed(escalation))
    assert with_none.events == without.events
    assert with_none.patients == without.patients
    assert with_none.capacity == without.capacity
    assert cubicle_capacity(without) == []


def test_ed_escalation_needs_a_full_ed_to_open() -> None:
    """A queue threshold no afternoon reaches: the spaces never open and nothing changes."""
    never = run(busy_afternoons_ed({**ESCALATION, "open_when_waiting": 10_000}))
    without = run(busy_afternoons_ed(None))
    assert cubicle_capacity(never) == []
    assert never.events == without.events


def test_the_small_baseline_keeps_its_ed_escalation(monkeypatch: pytest.MonkeyPatch) -> None:
    """`small_scenario` scales the spaces with the capacities and the queue that opens them with
    the population, so a baseline with ED escalation keeps it at a tenth of its size."""
    full = apply_changes(
        model_helpers.baseline(),
        {"ed.escalation": {**ESCALATION, "beds": 30, "open_when_waiting": 10}},
    )
    monkeypatch.setattr(model_helpers, "baseline", lambda: full)
    small = model_helpers.small_scenario()
    assert small.ed.escalation.beds == round(30 * model_helpers.CAPACITY_SLACK * 0.1) == 3
    assert small.ed.escalation.open_when_waiting == 1
    assert small.ed.escalation.open_after_hours == ESCALATION["open_after_hours"]
    assert small.ed.cubicles == model_helpers.scaled(full.ed.cubicles, 0.115)
