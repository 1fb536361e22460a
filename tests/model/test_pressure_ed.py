"""ED pressure mechanisms (issue 14): leaving before being seen, a cap on corridor spaces, and the
admission-threshold rule bounded by the evidence (pressure.md W, C, A). Each is shown acting,
and switched off (or neutral) it gives the old log exactly.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from flowsim.analysis.kpis import compute_kpis
from flowsim.errors import ScenarioError
from flowsim.log import EventLog
from flowsim.model import ed
from flowsim.model.build import simulate
from flowsim.scenario import Scenario, apply_changes, load_scenario
from flowsim.scenario import pressure as pressure_module
from flowsim.scenario.schema import MAX_EVIDENCED_ADMISSION_REDUCTION, Crowding
from flowsim.scenario.seasons import EXAMPLE
from helpers.log_contract import assert_conserved
from helpers.model_helpers import ARRIVE, DEPART, END, START, small_scenario

GOLDEN_BASELINE = Path(__file__).resolve().parents[1] / "golden" / "scenarios" / "baseline.yaml"
"""A scenario saved with the old ``ed.crowding`` keys (boarding_threshold 140, share 0.5)."""


NO_OLD_FORM = {"boarding_threshold": None, "admission_avoided_share": None}


def scenario(**changes: Any) -> Scenario:
    return small_scenario(changes, horizon_days=40, warm_up_days=10)


def crowding(**settings: Any) -> dict[str, Any]:
    """``ed.crowding`` in the new form (its defaults unless given), over a baseline with the old
    one (whose resolved form has no steps and counts boarders: the changes are merged into it)."""
    new = Crowding().model_dump(include={"measure", "steps"})
    return {"ed.crowding": {**NO_OLD_FORM, **new, **settings}}


def kpi(log: EventLog, name: str) -> float:
    k = compute_kpis(log)
    return float(k.loc[k["kpi"] == name, "value"].iloc[0])


def leavers(log: EventLog) -> dict[int, float]:
    """Patient id -> time they left before being seen."""
    lwbs = log.places.index("left_before_seen")
    return {p: t for t, p, k, c in log.events if k == DEPART and c == lwbs}


# ---------------------------------------------------------------- leaving before being seen


def test_nobody_leaves_without_the_section_or_with_no_route() -> None:
    off = simulate(scenario(), 0, seed=4)
    no_route = simulate(scenario(**{"ed.leave_before_seen": {"routes": []}}), 0, seed=4)
    assert no_route.events == off.events and no_route.patients == off.patients
    assert leavers(off) == {}
    assert kpi(off, "ed_left_before_seen_share") == 0.0


def test_low_acuity_walk_ins_leave_unseen_and_the_log_stays_whole() -> None:
    s = scenario(**{"ed.leave_before_seen": {}})
    log = simulate(s, 0, seed=4)
    left = leavers(log)
    assert left
    rows = {r[0]: r for r in log.patients}
    assert {rows[p][5] for p in left} <= {3, 4, 5}  # acuity
    assert {rows[p][6] for p in left} == {1}  # route index of walk_in
    clinician = log.places.index("ed_clinician")
    arrived = {p: t for t, p, k, _c in log.events if k == ARRIVE}
    seen = {p for _t, p, k, c in log.events if k == START and c == clinician}
    assert not seen & set(left)
    assert all(left[p] > arrived[p] for p in left)
    rep = assert_conserved(log, s)
    assert rep.outcomes["left_before_seen"] == len(left)


def test_leavers_from_a_cubicle_give_it_up_as_they_go() -> None:
    s = scenario(**{"ed.leave_before_seen": {}, "ed.clinicians_by_hour": [1] * 24})
    log = simulate(s, 0, seed=6)
    cubicle = log.places.index("ed_cubicle")
    ended = {(p, t) for t, p, k, c in log.events if k == END and c == cubicle}
    from_cubicle = [p for p, t in leavers(log).items() if (p, t) in ended]
    assert from_cubicle  # clinicians are the bottleneck: patients wait in cubicles
    assert_conserved(log, s)


def test_more_leave_as_waits_grow_within_the_range_of_english_trusts() -> None:
    shares, four_hours = [], []
    for growth in (1.0, 1.08):
        changes = {"ed.leave_before_seen": {}, "demand_profile.growth": growth}
        log = simulate(scenario(**changes), 0, seed=11)
        shares.append(kpi(log, "ed_left_before_seen_share"))
        four_hours.append(kpi(log, "ed_within_4h"))
    assert four_hours[1] < four_hours[0]
    assert shares[1] > shares[0]
    assert 0.4 <= shares[0] <= 6.7  # W2: 0.4-6.7% across English trusts (W1-W4: about 2-3%)


def test_patients_heading_for_a_bed_do_not_leave_unless_allowed() -> None:
    s = scenario(**{"ed.leave_before_seen": {}, "ed.clinicians_by_hour": [1] * 24})
    allowed = apply_changes(s, {"ed.leave_before_seen.admitted_may_leave": True})
    assert len(leavers(simulate(allowed, 0, seed=6))) > len(leavers(simulate(s, 0, seed=6)))


def test_leavers_come_back_as_walk_ins_within_the_window() -> None:
    lbs = {"re_attend_share": 1.0, "re_attend_within_hours": 12.0}
    log = simulate(scenario(**{"ed.leave_before_seen": lbs}), 0, seed=4)
    left = leavers(log)
    arrived = {p: t for t, p, k, _c in log.events if k == ARRIVE}
    back = {r[7]: r[0] for r in log.patients if r[7] in left}
    for p, t in left.items():
        if t < log.end_hours - 12.0:
            assert p in back, f"leaver {p} did not come back"
            assert 0 <= arrived[back[p]] - t <= 12.0


# ---------------------------------------------------------------- corridor cap


def corridor_in_use(log: EventLog) -> int:
    corridor = log.places.index("corridor")
    level = most = 0
    for _t, _p, k, c in log.events:
        if c == corridor and k in (START, END):
            level += 1 if k == START else -1
            most = max(most, level)
    return most


def boarding(**changes: Any) -> Scenario:
    return scenario(**{"ed.corridor_boarding_after_hours": 1.0, "amu.beds": 8, **changes})


def test_corridor_spaces_cap_the_corridor_and_unlimited_is_the_old_log() -> None:
    unlimited = simulate(boarding(), 0, seed=5)
    assert corridor_in_use(unlimited) > 3
    capped_s = boarding(**{"ed.corridor_spaces": 3})
    capped = simulate(capped_s, 0, seed=5)
    assert 0 < corridor_in_use(capped) <= 3
    assert_conserved(capped, capped_s)
    huge = simulate(boarding(**{"ed.corridor_spaces": 10**6}), 0, seed=5)
    assert huge.events == unlimited.events


# ---------------------------------------------------------------- admission threshold


def test_crowding_refuses_more_than_the_evidence_unless_an_experiment() -> None:
    with pytest.raises(ScenarioError, match=r"above the 0\.1 the evidence supports"):
        scenario(**crowding(steps=[{"at_least": 1.0, "admission_reduction": 0.3}]))
    s = scenario(**crowding(steps=[{"at_least": 1.0, "admission_reduction": 0.3}], experiment=True))
    assert s.ed.crowding is not None and s.ed.crowding.steps[0].admission_reduction == 0.3
    defaults = Crowding()
    assert max(st.admission_reduction for st in defaults.steps) <= MAX_EVIDENCED_ADMISSION_REDUCTION
    with pytest.raises(ScenarioError, match="ascending"):
        scenario(
            **crowding(
                steps=[
                    {"at_least": 1.0, "admission_reduction": 0.05},
                    {"at_least": 0.9, "admission_reduction": 0.02},
                ]
            )
        )


def test_old_crowding_keys_still_load_round_trip_and_keep_their_meaning() -> None:
    s = load_scenario(GOLDEN_BASELINE)
    c = s.ed.crowding
    assert c is not None and c.is_old_form
    assert (c.boarding_threshold, c.admission_avoided_share) == (140, 0.5)
    assert Crowding.model_validate(c.model_dump()) == c
    with pytest.raises(ScenarioError, match="not both"):
        apply_changes(s, {"ed.crowding.steps": [{"at_least": 1, "admission_reduction": 0.05}]})


def fake_system(in_use: int, beds: int, boarding: int, crowding: Crowding) -> Any:
    unit = SimpleNamespace(in_use=in_use, capacity=beds)
    empty = SimpleNamespace(in_use=0, capacity=0)
    return SimpleNamespace(
        scenario=SimpleNamespace(ed=SimpleNamespace(crowding=crowding)),
        boarding=boarding,
        units=SimpleNamespace(amu=empty, afu=empty, wards=[unit]),
    )


def patient(acuity: int, u: float) -> Any:
    return SimpleNamespace(fate=SimpleNamespace(acuity=acuity, crowding_u=u))


def test_crowding_steps_follow_bed_pressure_and_spare_urgent_patients() -> None:
    c = Crowding()  # A1 steps: 95% 1.9%, 100% 5.1%, 105% 8.9%
    calm, full, over = (
        fake_system(90, 100, 0, c),
        fake_system(100, 100, 0, c),
        fake_system(100, 100, 6, c),
    )
    assert ed.bed_pressure(over) == pytest.approx(1.06)
    assert not ed.crowding_turns_home(calm, patient(4, 0.0), "amu")
    assert ed.crowding_turns_home(full, patient(4, 0.05), "ward")
    assert not ed.crowding_turns_home(full, patient(4, 0.06), "ward")
    assert ed.crowding_turns_home(over, patient(3, 0.08), "afu")
    assert not ed.crowding_turns_home(over, patient(2, 0.0), "amu")  # category 2: never
    assert not ed.crowding_turns_home(over, patient(4, 0.0), "home")  # not an admission


def test_evidence_bounded_rule_removes_at_most_a_tenth_of_admissions() -> None:
    tight = {"wards.general_medicine.beds": 50, "wards.care_of_elderly.beds": 36}
    off = simulate(scenario(**{**tight, "ed.crowding": None}), 0, seed=9)
    on = simulate(scenario(**tight, **crowding()), 0, seed=9)
    admitted_off, admitted_on = kpi(off, "admissions"), kpi(on, "admissions")
    assert admitted_on < admitted_off
    assert admitted_on > (1 - MAX_EVIDENCED_ADMISSION_REDUCTION) * admitted_off


def test_every_season_and_ed_mechanism_at_once_keeps_the_log_contract() -> None:
    doc = pressure_module.__doc__ or ""
    pressure = yaml.safe_load(textwrap.dedent(doc.split("::", 1)[1]))["pressure"]
    pressure["outlying"].pop("ring_fenced_beds", None)
    changes = {
        **yaml.safe_load(EXAMPLE),
        "pressure": {k: v for k, v in pressure.items() if k in ("opel", "outlying")},
        **crowding(),
        "ed.leave_before_seen": {"re_attend_share": 0.3},
        "ed.corridor_boarding_after_hours": 2.0,
        "ed.corridor_spaces": 4,
        "run.start_date": dt.date(2024, 11, 20),
        "demand_profile.growth": 1.05,
    }
    s = scenario(**changes)
    log = simulate(s, 0, seed=12)
    rep = assert_conserved(log, s)
    assert rep.outcomes["left_before_seen"] > 0
    assert rep.corridor_boarders > 0 and corridor_in_use(log) <= 4


def test_settings_survive_the_runners_round_trip_through_json() -> None:
    """Workers get the scenario as JSON-mode data: triage-category keys come back as text."""
    s = scenario(**{"ed.leave_before_seen": {"re_attend_share": 0.2}, **crowding()})
    again = Scenario.model_validate(s.model_dump(mode="json", by_alias=True))
    assert again == s
    assert Scenario.model_validate_json(s.model_dump_json()) == s
    with pytest.raises(ScenarioError, match="patience_hours"):
        apply_changes(
            s, {"ed.leave_before_seen.patience_hours": {6: {"dist": "fixed", "value": 1}}}
        )
