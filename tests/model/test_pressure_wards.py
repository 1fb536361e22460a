"""Hospital pressure responses: the OPEL level, outlying and OPEL-driven escalation.

Each mechanism is shown acting (on against off, on common random numbers) and, where it only
observes, shown to leave the run untouched.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from flowsim.errors import ScenarioError
from flowsim.log import EventLog
from flowsim.model.build import simulate
from flowsim.scenario import Scenario, apply_changes
from helpers.log_contract import assert_conserved
from helpers.model_helpers import DEPART, END, OPTIMISED, QUEUE, START, run, small_scenario

UNBALANCED = {"wards.general_medicine.beds": 45, "wards.surgery.beds": 50}
"""General medicine short of beds, surgery with some to spare: outlying has somewhere to go."""


def scenario(pressure: dict[str, Any] | None, **changes: Any) -> Scenario:
    # The baseline has its own seasons and pressure responses: start from none, so each test
    # shows one mechanism against a plain system.
    plain = small_scenario({"pressure": None, "seasons": None}, horizon_days=40, warm_up_days=15)
    return apply_changes(plain, {**UNBALANCED, **changes, "pressure": pressure})


def signal_rows(log: EventLog, prefix: str) -> list[tuple[float, str, int]]:
    return [row for row in log.pressure if row[1].split(":")[0] == prefix]


def amu_blocked_hours(log: EventLog) -> np.ndarray:
    """For each patient who waited in an AMU bed for a ward: QUEUE at a ward to START at one."""
    names = log.places
    amu = names.index("amu")
    last_start: dict[int, int] = {}
    queued: dict[int, float] = {}
    waits = []
    for t, p, k, place in log.events:
        ward = names[place].startswith("ward:")
        if k == START:
            if ward and p in queued:
                waits.append(t - queued.pop(p))
            last_start[p] = place
        elif k == QUEUE and ward and last_start.get(p) == amu and p not in queued:
            queued[p] = t
    return np.asarray(waits)


# ---------------------------------------------------------------- OPEL


def test_no_pressure_section_writes_no_pressure_rows() -> None:
    assert run(scenario(None), seed=4).pressure == []


@pytest.mark.parametrize("pressure", [{}, dict.fromkeys(("opel", "outlying", "electives"))])
def test_a_pressure_section_with_nothing_on_changes_nothing(pressure: dict[str, Any]) -> None:
    off = run(scenario(None), seed=4)
    empty = simulate(scenario(pressure), seed=4)
    assert empty.events == off.events
    assert empty.patients == off.patients
    assert empty.capacity == off.capacity
    assert empty.pressure == []


def test_opel_only_observes_the_run_it_measures() -> None:
    """Working out the level (with no response switched on it) changes no patient's journey."""
    off = run(scenario(None), seed=4)
    on = run(scenario({"opel": {"ed_boarding": [1, 3, 6]}}), seed=4)
    assert on.events == off.events
    assert on.patients == off.patients
    levels = [v for _, _, v in signal_rows(on, "opel")]
    assert levels[0] == 1 and set(levels) > {1}


def test_opel_level_follows_its_thresholds_and_steps_down_slowly() -> None:
    always = simulate(scenario({"opel": {"occupancy": [0.0, 0.0, 0.0]}}), seed=4)
    assert [(t, v) for t, _, v in signal_rows(always, "opel")] == [(0.0, 1), (1.0, 4)]
    never = simulate(scenario({"opel": {"occupancy": None}}), seed=4)
    assert [v for _, _, v in signal_rows(never, "opel")] == [1]

    slow = run(scenario({"opel": {"ed_boarding": [1, 3, 6], "step_down_after_hours": 6}}), seed=4)
    rows = signal_rows(slow, "opel")
    times = np.array([t for t, _, _ in rows])
    levels = np.array([v for _, _, v in rows])
    falls = np.flatnonzero(np.diff(levels) < 0) + 1
    assert len(falls) > 0
    # a level lasts at least the step-down time before it falls (it rose at once)
    assert np.all(times[falls] - times[falls - 1] >= 6.0)


# ---------------------------------------------------------------- outlying


def test_outlying_cuts_amu_head_of_line_blocking() -> None:
    off = run(scenario(None), seed=4)
    on = run(scenario({"outlying": {"after_hours": 2}}), seed=4)
    blocked_off, blocked_on = amu_blocked_hours(off), amu_blocked_hours(on)
    assert blocked_off.mean() > 1.0, "the test needs a full general-medicine ward"
    assert blocked_on.mean() < 0.5 * blocked_off.mean()
    outliers = signal_rows(on, "outlier")
    assert outliers, "nobody was outlied"
    assert_conserved(on, scenario({"outlying": {"after_hours": 2}}))


def test_outliers_wait_at_least_after_hours_for_their_own_ward() -> None:
    log = run(scenario({"outlying": {"after_hours": 2}}), seed=4)
    names = log.places
    queued_at: dict[int, float] = {}
    for t, p, k, place in log.events:
        if k == QUEUE and names[place].startswith("ward:"):
            queued_at.setdefault(p, t)
    for t, name, pid in signal_rows(log, "outlier"):
        assert t - queued_at[pid] >= 2.0 - 1e-9
        assert name != "outlier:" + first_ward_queue(log)[pid]


def first_ward_queue(log: EventLog) -> dict[int, str]:
    """Each patient's own ward group: where they first queued for a ward bed."""
    names = log.places
    out: dict[int, str] = {}
    for _, p, k, place in log.events:
        if k == QUEUE and names[place].startswith("ward:"):
            out.setdefault(p, names[place])
    return out


def test_ring_fenced_beds_stop_outlying() -> None:
    fenced = {w: 1000 for w in ("general_medicine", "care_of_elderly", "surgery")}
    log = simulate(scenario({"outlying": {"after_hours": 2, "ring_fenced_beds": fenced}}), seed=4)
    assert signal_rows(log, "outlier") == []


def test_host_lists_say_where_outliers_may_go() -> None:
    hosts = {"general_medicine": [], "care_of_elderly": ["surgery"], "surgery": []}
    log = simulate(scenario({"outlying": {"after_hours": 2, "hosts": hosts}}), seed=4)
    home = first_ward_queue(log)
    for _, name, pid in signal_rows(log, "outlier"):
        assert home[pid] == "ward:care_of_elderly" and name == "outlier:ward:surgery"


def test_outlying_waits_for_its_opel_level() -> None:
    never = {"opel": {"occupancy": None}, "outlying": {"after_hours": 2, "from_level": 3}}
    assert signal_rows(simulate(scenario(never), seed=4), "outlier") == []
    with pytest.raises(ScenarioError, match=r"no pressure\.opel"):
        scenario({"outlying": {"from_level": 3}})


def test_outlier_length_of_stay_multiplier() -> None:
    """With every stay fixed at 5 days, an outlier's stay to medically optimised is 5 x 1.5."""
    five = {"dist": "fixed", "value": 5.0}
    fixed = {
        f"wards.{w}.los_days": {"fit": five, "frail": five, "severe": five}
        for w in ("general_medicine", "care_of_elderly", "surgery")
    }
    fixed["community.virtual_ward.step_down_share"] = {"fit": 0.0, "frail": 0.0, "severe": 0.0}
    fixed["wards.general_medicine.beds"] = 25  # short stays: few beds, so some patients outlie
    s = scenario({"outlying": {"after_hours": 2, "los_multiplier": 1.5}}, **fixed)
    log = simulate(s, seed=4)
    names = log.places
    start: dict[int, float] = {}
    stays: dict[int, float] = {}
    for t, p, k, place in log.events:
        if k == START and names[place].startswith("ward:"):
            start[p] = t
        elif k == OPTIMISED:
            stays[p] = t - start[p]
    outliers = {pid for _, _, pid in signal_rows(log, "outlier")} & set(stays)
    assert outliers
    assert {round(stays[p], 6) for p in outliers} == {5 * 24 * 1.5}
    assert {round(h, 6) for p, h in stays.items() if p not in outliers} == {5 * 24.0}


# ---------------------------------------------------------------- escalation on OPEL


def test_escalation_can_follow_the_opel_level() -> None:
    own = run(scenario(None), seed=4)
    by_level = simulate(
        scenario({"opel": {"occupancy": [0.0, 0.0, 0.0], "escalation_at_level": 4}}), seed=4
    )
    ward_names = [n for n in by_level.places if n.startswith("ward:") or n in ("amu", "afu")]
    codes = {by_level.places.index(n) for n in ward_names}
    opened = {c for t, c, _ in by_level.capacity if c in codes and t <= 6.0}
    assert opened, "escalation beds did not open within hours of OPEL 4"
    assert len(by_level.capacity) != len(own.capacity)


def test_the_documented_example_is_a_valid_pressure_section() -> None:
    import textwrap

    import yaml

    from flowsim.scenario import pressure as module

    example = yaml.safe_load(textwrap.dedent(module.__doc__.split("::", 1)[1]))
    section = module.Pressure.model_validate(example["pressure"])
    assert all(getattr(section, name) is not None for name in ("opel", "outlying", "electives"))
    s = scenario(example["pressure"])
    assert s.pressure == section


def test_delayed_discharges_as_an_opel_indicator() -> None:
    """The level follows the share of ward beds held by medically optimised patients, as the
    log counts them (OPTIMISED .. END at a ward), hour by hour."""
    no_escalation = {
        f"wards.{w}.escalation.beds": 0 for w in ("general_medicine", "care_of_elderly", "surgery")
    }
    thresholds = [0.04, 0.08, 0.12]
    opel = {"occupancy": None, "delayed_share": thresholds, "step_down_after_hours": 0}
    log = simulate(scenario({"opel": opel}, **no_escalation), seed=4)
    names = log.places
    beds = sum(n for u, n in log.capacities.items() if u.startswith("ward:"))
    changes: list[tuple[float, int]] = []
    delayed: set[int] = set()
    for t, p, k, place in log.events:
        if k == OPTIMISED:
            delayed.add(p)
            changes.append((t, +1))
        elif k == END and p in delayed and names[place].startswith("ward:"):
            delayed.discard(p)
            changes.append((t, -1))
    times = np.array([t for t, _ in changes])
    counts = np.cumsum([d for _, d in changes])
    levels = signal_rows(log, "opel")
    level_times = np.array([t for t, _, _ in levels])
    assert len(levels) > 3
    for hour in range(1, int(log.end_hours)):
        # the check may fall between events of this very instant: any count they pass through
        lo, hi = np.searchsorted(times, hour, side="left"), np.searchsorted(times, hour, "right")
        during = [counts[i - 1] if i > 0 else 0 for i in range(lo, hi + 1)]
        level = levels[np.searchsorted(level_times, hour, side="right") - 1][2]
        expected = {1 + sum(n / beds >= x for x in thresholds) for n in during}
        assert level in expected, f"hour {hour}: level {level}, expected {expected}"


def test_outlier_death_multiplier() -> None:
    def outlier_deaths(multiplier: float) -> tuple[int, int]:
        outlying = {"after_hours": 2, "death_multiplier": multiplier}
        log = simulate(scenario({"outlying": outlying}), seed=4)
        outliers = {pid for _, _, pid in signal_rows(log, "outlier")}
        died = log.places.index("died")
        dead = {p for _, p, k, place in log.events if k == DEPART and place == died}
        return len(outliers & dead), len(outliers)

    none_die, n = outlier_deaths(0.0)
    assert none_die == 0 and n > 0
    usual, _ = outlier_deaths(1.0)
    many_die, _ = outlier_deaths(8.0)
    assert many_die > max(2 * usual, 2)
