"""Properties of every run, on generated scenarios (Hypothesis).

Each test draws small valid scenarios from `scenario_strategies` (every setting varies: a few
places and segments, capacities from 0 up, every distribution type, splits that add up to 1,
opening hours, escalation, front-door frailty, ED crowding rules, corridor boarding and the
maximum handover time on or off) and runs the real model for a few days:

- the whole event-log contract holds (`log_contract.check_log`): patients are conserved, no time
  goes backwards, one place at a time, no unit above the capacity in force; and the capacity in
  force is the scenario's (read from the scenario, not from the model's log);
- the same seed gives the same log, bit for bit;
- adding beds to a unit never lengthens its wait, exactly where that is a theorem and on average
  (with explicit statistics) where it is not; see the docstrings of the last two tests.

A scenario the model refuses to run (no ED cubicles, no clinicians at any hour, admissions sent
to a ward with no beds) must fail with a `ModelError` naming the setting to change.
"""

from __future__ import annotations

import copy
import math
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from scipy import stats

from flowsim.errors import ModelError
from flowsim.log import EventLog
from flowsim.model.build import simulate
from flowsim.scenario import Scenario, apply_changes, scenario_from_dict
from flowsim.scenario.schema import FRAILTY_BANDS, PATHWAYS
from helpers.log_contract import check_log
from helpers.model_helpers import QUEUE, RESERVE, START, small_scenario
from helpers.scenario_strategies import Data, scenario_data

_DOTTED_KEY = re.compile(r"\b[a-z_]+(?:\.[a-z_]+)+")


def run_or_refuse(s: Scenario, **kwargs: Any) -> EventLog | None:
    """`simulate`, or None if the model refuses the scenario with a `ModelError` that names a
    setting of the scenario (``ed.cubicles``, ``wards.surgery.beds``...)."""
    try:
        return simulate(s, **kwargs)
    except ModelError as error:
        data = s.model_dump(by_alias=True)
        named = [m.group(0) for m in _DOTTED_KEY.finditer(str(error))]
        assert any(_resolves(data, key) for key in named), (
            f"the ModelError names no setting of the scenario: {error}"
        )
        event(f"refused: {named[0]}")
        return None


def _resolves(data: Any, dotted: str) -> bool:
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


# ---------------------------------------------------------------- the log contract


@settings(max_examples=150, deadline=None)
@given(scenario_data())
def test_every_run_keeps_the_event_log_contract(data: Data) -> None:
    s = scenario_from_dict(data)
    log = run_or_refuse(s)
    if log is None:
        return
    rep = check_log(log, s)
    assert rep.arrived == len(log.patients)
    assert rep.arrived == rep.departed + rep.in_system
    assert rep.departed == sum(rep.outcomes.values())
    event("patients: " + ("none" if not rep.arrived else "<50" if rep.arrived < 50 else "50+"))


@settings(max_examples=40, deadline=None)
@given(scenario_data(), st.integers(0, 3))
def test_same_seed_gives_the_same_log(data: Data, replication: int) -> None:
    """Twice from the same data, validated separately: no state survives between runs."""
    first = run_or_refuse(scenario_from_dict(data), replication=replication)
    if first is None:
        return
    again = simulate(scenario_from_dict(data), replication=replication)
    assert again.events == first.events
    assert again.patients == first.patients
    assert again.capacity == first.capacity
    assert again.meta == first.meta


# ---------------------------------------------------------------- more beds, shorter waits


def waits(log: EventLog, unit: str, since: float = 0.0) -> dict[int, tuple[float, float]]:
    """``patient: (queued, got a place)`` at ``unit`` for everyone who queued there from
    ``since``; a place still not given at the end of the run counts as given then (censored).

    The place is given at START, except in P1-P3, where it is given at RESERVE (the patient
    STARTs at the next discharge window)."""
    code = log.places.index(unit)
    granted_kind = RESERVE if unit in ("p1", "p2", "p3") else START
    queued: dict[int, float] = {}
    out: dict[int, tuple[float, float]] = {}
    for t, pid, kind, place in log.events:
        if place != code:
            continue
        if kind == QUEUE:
            assert pid not in queued and pid not in out, f"patient {pid} queued twice at {unit}"
            queued[pid] = t
        elif kind == granted_kind and pid in queued:
            out[pid] = (queued.pop(pid), t)
    out.update({pid: (q, log.end_hours) for pid, q in queued.items()})
    return {pid: (q, g) for pid, (q, g) in out.items() if q >= since}


def mean_wait(log: EventLog, unit: str, since: float = 0.0) -> float:
    w = waits(log, unit, since)
    return float(np.mean([g - q for q, g in w.values()])) if w else 0.0


AMPLE = 10_000
"""Beds enough that nobody ever waits: a unit that cannot be a bottleneck."""

POOLS = {
    "amu": "amu.beds",
    "afu": "afu.beds",
    "ward": "wards.{ward}.beds",
    "p1": "community.p1.capacity",
    "p2": "community.p2.capacity",
    "p3": "community.p3.capacity",
}


def isolate(data: Data, pool: str, ward: str) -> tuple[Data, str, str]:
    """``data`` changed so that ``pool`` is a first-come-first-served pool whose arrivals and
    holding times do not depend on its own capacity; returns the data, the unit's name in the
    log and the dotted key of its capacity.

    Every other bed pool gets ample beds (ED cubicles, SDEC chairs if the pool is AMU, AMU, AFU,
    wards, P1-P3), so nobody upstream is ever blocked by the pool: who queues there, and when,
    is decided by arrival times, fates and the exogenous queues for clinicians, the frailty team,
    UCR and the virtual ward. Escalation is off (it would change the capacity with the
    occupancy), so are ED crowding rules (patients boarding in ED for the pool would change
    who is admitted), ward patients are never stepped down to the virtual ward (that would make its
    occupancy, and so later routing, depend on ward stays), and nobody is readmitted after
    AMU, AFU or a ward (a readmission's arrival time would depend on the stay). A patient then
    holds the place until a time that is a non-decreasing function of when they got it: stay,
    cleaning, the next discharge window, never anyone else's progress.
    """
    d = copy.deepcopy(data)
    d["ed"]["cubicles"] = AMPLE
    d["ed"]["crowding"] = None
    if pool == "amu":
        d["sdec"]["chairs"] = AMPLE
    for section in ("amu", "afu"):
        d[section]["beds"] = AMPLE
        d[section]["escalation"] = {"beds": 0}
    for w in d["wards"].values():
        w["beds"] = AMPLE
        w["escalation"] = {"beds": 0}
    for p in PATHWAYS[1:]:
        d["community"][p.lower()]["capacity"] = AMPLE
    d["community"]["virtual_ward"]["step_down_share"] = dict.fromkeys(FRAILTY_BANDS, 0.0)
    readmission = d["community"]["readmission"]["probability"]
    for key in PATHWAYS:
        readmission.pop(key, None)
    # Traffic: half of each ED decision goes to the pool (or to the ward, for a ward); a
    # community pool gets every discharge and a week more to fill.
    if pool in ("amu", "afu", "ward"):
        for band in FRAILTY_BANDS:
            d["ed"]["disposition"][band] = _half_to(d["ed"]["disposition"][band], pool)
    if pool == "ward":
        for band in FRAILTY_BANDS:
            d["ward_routing"][band] = _half_to(d["ward_routing"][band], ward)
    if pool == "afu":  # a queue, not a loss system, and open to everyone
        d["afu"].update(divert_to_amu_when_full=False, eligible_frailty=list(FRAILTY_BANDS))
        d["afu"]["min_age_band"] = "18-64"
    if pool.startswith("p"):
        d["discharge"]["pathway"] = {band: {pool.upper(): 1.0} for band in FRAILTY_BANDS}
        d["run"]["horizon_days"] += 7
    unit = f"ward:{ward}" if pool == "ward" else pool
    return d, unit, POOLS[pool].format(ward=ward)


def _half_to(shares: dict[str, float], key: str) -> dict[str, float]:
    """The same split, halved, with the other half going to ``key``."""
    out = {k: v / 2 for k, v in shares.items()}
    out[key] = out.get(key, 0.0) + 0.5
    return out


@pytest.mark.parametrize("pool", sorted(POOLS))
@settings(max_examples=20, deadline=None)
@given(data=scenario_data(), beds=st.integers(1, 4), extra=st.integers(1, 3), draw=st.data())
def test_more_beds_in_an_isolated_pool_never_delay_anyone(
    pool: str, data: Data, beds: int, extra: int, draw: st.DataObject
) -> None:
    """Exact: in a first-come-first-served pool of c places whose arrivals do not depend on c
    and where each patient, once given a place at time g, keeps it until f(g) for some
    non-decreasing f, giving the pool more places never makes anyone get a place later.

    Why: the pool's state before the n-th arrival is the sorted vector of times at which its c
    places next fall free (Kiefer-Wolfowitz). The patient gets a place at g = max(arrival,
    earliest free time) and that place is next free at f(g). If one system's vector is below
    another's entry by entry, so is every later one (replacing the smallest entry by a larger
    value in each keeps them ordered), and c + k places are c places plus k that are free from
    the start. Fates are drawn at arrival, so on common random numbers each patient brings the
    same stay to both systems: patient by patient, the one with more beds is never later, so its
    mean wait is never longer.

    Checked per patient, after checking that the pool's arrivals really are identical in both
    runs (bit for bit), which is the isolation `isolate` is built to give.
    """
    ward = draw.draw(st.sampled_from(sorted(data["wards"])), label="ward")
    isolated, unit, key = isolate(data, pool, ward)
    base = apply_changes(scenario_from_dict(isolated), {key: beds})
    more = apply_changes(base, {key: beds + extra})
    fewer_log, more_log = simulate(base), simulate(more)
    fewer, after = waits(fewer_log, unit), waits(more_log, unit)
    assert {p: q for p, (q, _) in fewer.items()} == {p: q for p, (q, _) in after.items()}, (
        "the pool's arrivals changed with its capacity: it is not isolated"
    )
    later = {p: (fewer[p][1], g) for p, (_, g) in after.items() if g > fewer[p][1] + 1e-9}
    assert not later, f"{len(later)} patients got a place later with more beds: {later}"
    if fewer:
        assert mean_wait(more_log, unit) <= mean_wait(fewer_log, unit) + 1e-9
    faster = sum(g < fewer[p][1] for p, (_, g) in after.items())
    event("no one queued" if not fewer else "someone got a place sooner" if faster else "same")


BOTTLENECKS: dict[str, dict[str, Any]] = {
    # A twentieth of the baseline on slightly less capacity: AMU (5 beds) is the bottleneck
    # and boards patients in ED cubicles.
    "amu": {},
    # The same with AMU opened up and surgery cut to 10 beds: surgery is the bottleneck and
    # blocks AMU beds and ED cubicles behind it.
    "surgery": {"amu.beds": 12, "wards.surgery.beds": 10},
}
REPLICATIONS = 8
EXTRA_BEDS = (0, 1, 2, 4)
ONE_SIDED = 0.99


def bed_pools(s: Scenario) -> dict[str, str]:
    """Unit name in the log -> dotted key of its capacity, for every bed pool."""
    pools = {"amu": "amu.beds", "afu": "afu.beds"}
    pools.update({f"ward:{w}": f"wards.{w}.beds" for w in s.wards})
    pools.update({p: f"community.{p}.capacity" for p in ("p1", "p2", "p3")})
    return pools


@pytest.mark.parametrize("name", sorted(BOTTLENECKS))
def test_more_beds_at_the_bottleneck_never_lengthen_its_wait_on_average(name: str) -> None:
    """Statistical: across the whole network, more beds at the bottleneck do not lengthen its
    mean wait, beyond what noise allows; and enough of them shorten it.

    Not a sample-path property here, so not asserted patient by patient. With blocking, a unit's
    arrivals depend on its capacity: more ward beds free AMU beds and ED cubicles sooner, so
    patients reach the ward queue earlier and in a different order (and AFU diverts, SDEC
    streaming, corridor boarding and virtual-ward step-downs all react to occupancy), and one
    patient's wait can grow when a bed is added. What holds is the average, so it is tested
    as one: the bottleneck is the bed pool with the longest mean wait on replication 0; for each
    of 8 replications on common random numbers, the mean wait there (patients queueing after
    warm-up; a wait still open at the end counts up to the end) is measured at 0, 1, 2 and 4
    extra beds. For each step up, the paired difference (more beds minus fewer) must not be
    significantly positive: mean <= t(0.99, 7) x standard error. The step from 0 to 4 extra beds
    must also be significantly negative, so the test could see an effect if there were one.
    """
    s = small_scenario(
        BOTTLENECKS[name], scale=0.05, capacity_scale=0.045, horizon_days=30, warm_up_days=20
    )
    pools = bed_pools(s)
    probe = simulate(s, 0)
    since = probe.warm_up_hours
    unit = max(pools, key=lambda u: mean_wait(probe, u, since))
    assert mean_wait(probe, unit, since) > 5.0, "the scenario should have a real bottleneck"
    key = pools[unit]
    beds = math.floor(_get(s, key))
    table = np.array(
        [
            [
                mean_wait(simulate(apply_changes(s, {key: beds + extra}), r), unit, since)
                for extra in EXTRA_BEDS
            ]
            for r in range(REPLICATIONS)
        ]
    )
    t = stats.t.ppf(ONE_SIDED, REPLICATIONS - 1)

    def bound(d: np.ndarray) -> tuple[float, float]:
        return float(d.mean()), float(t * d.std(ddof=1) / math.sqrt(len(d)))

    for i in range(len(EXTRA_BEDS) - 1):
        mean, half = bound(table[:, i + 1] - table[:, i])
        assert mean <= half, (
            f"{unit}: {EXTRA_BEDS[i + 1]} extra beds wait {mean:.2f} h longer on average than "
            f"{EXTRA_BEDS[i]} (noise allows {half:.2f} h); table:\n{table}"
        )
    mean, half = bound(table[:, -1] - table[:, 0])
    assert mean + half < 0, f"{unit}: 4 more beds did not shorten the wait; table:\n{table}"


def _get(s: Scenario, dotted: str) -> Any:
    value: Any = s
    for part in dotted.split("."):
        value = value[part] if isinstance(value, dict) else getattr(value, part)
    return value


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"ed.cubicles": 0}, "ed.cubicles"),
        ({"ed.clinicians_by_hour": [0] * 24}, "ed.clinicians_by_hour"),
        ({"wards.surgery.beds": 0}, "wards.surgery.beds"),
    ],
    ids=["no cubicles", "no clinicians", "no beds on a ward admissions go to"],
)
def test_an_unrunnable_scenario_is_refused_naming_the_setting(
    changes: dict[str, Any], key: str
) -> None:
    s = small_scenario(changes, horizon_days=1, warm_up_days=0)
    with pytest.raises(ModelError, match=re.escape(key)):
        simulate(s)
