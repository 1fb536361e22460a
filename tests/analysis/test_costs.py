"""Cost KPIs: each is its quantity times its unit cost, the totals add up, and costs change no
behaviour."""

from __future__ import annotations

import pytest

from flowsim.analysis import EventFrame, compute_kpis
from flowsim.model.build import simulate
from flowsim.scenario import apply_changes
from flowsim.scenario.costs import COST_SOURCES, Costs
from helpers.model_helpers import small_scenario


@pytest.fixture(scope="module")
def run():
    s = small_scenario(horizon_days=20, warm_up_days=20)
    log = simulate(s, 0)
    return s, log, EventFrame(log)


def _kpis(ef: EventFrame, costs: Costs | None = None) -> dict[str, float]:
    table = compute_kpis(ef, costs)
    return dict(zip(table["kpi"], table["value"], strict=True))


def test_defaults_are_the_cited_unit_costs() -> None:
    c = Costs()
    assert (c.acute_delayed_day, c.p1_day, c.p2_day, c.p3_day) == (346, 125, 150, 164)
    assert set(COST_SOURCES) == {f for f in Costs.model_fields if f != "community_charged_for"}
    for field, source in COST_SOURCES.items():
        assert source.confidence in {"H", "M", "L"}, field
        assert source.price_year, field


def test_each_cost_is_its_quantity_times_its_unit_cost(run) -> None:
    _, _, ef = run
    k = _kpis(ef)
    c = Costs()
    assert k["cost_delayed_discharges"] == pytest.approx(k["delayed_patients_mean"] * 346)
    assert k["cost_ambulance_handover"] == pytest.approx(k["ambulance_hours_lost"] * 150)
    assert k["cost_ed_attendances"] == pytest.approx(k["ed_attendances"] * 282)
    places = ef.capacity_steps("p1").mean(ef.warm_up, ef.end)
    assert k["cost_community_p1"] == pytest.approx(places * c.p1_day)
    community = sum(v for name, v in k.items() if name.startswith("cost_community_"))
    assert k["cost_community"] == pytest.approx(community)
    assert k["cost_delay_and_community"] == pytest.approx(
        k["cost_delayed_discharges"] + k["cost_community"]
    )
    parts = [
        "cost_delayed_discharges",
        "cost_acute_treatment",
        "cost_escalation_beds",
        "cost_ambulance_handover",
        "cost_ed_attendances",
        "cost_community",
    ]
    assert k["cost_total"] == pytest.approx(sum(k[p] for p in parts))


def test_prices_scale_their_costs_only(run) -> None:
    _, _, ef = run
    base = _kpis(ef)
    dearer = _kpis(ef, Costs(acute_delayed_day=692))
    assert dearer["cost_delayed_discharges"] == pytest.approx(2 * base["cost_delayed_discharges"])
    assert dearer["cost_community"] == pytest.approx(base["cost_community"])


def test_occupied_charging_costs_only_the_places_used(run) -> None:
    _, _, ef = run
    by_places = _kpis(ef)
    by_use = _kpis(ef, Costs(community_charged_for="occupied"))
    used = ef.occupancy_steps("p2").area(ef.warm_up, ef.end) / (ef.end - ef.warm_up)
    assert by_use["cost_community_p2"] == pytest.approx(used * 150)
    assert by_use["cost_community_p2"] <= by_places["cost_community_p2"] + 1e-9


def test_costs_change_no_behaviour(run) -> None:
    s, log, _ = run
    other = apply_changes(s, {"costs.p1_day": 999.0, "costs.community_charged_for": "occupied"})
    again = simulate(other, 0)
    assert again.events == log.events


def test_a_run_is_priced_at_its_own_scenarios_costs(run) -> None:
    """`flowsim run`/`compare` compute KPIs from the log alone: the log carries its scenario's
    prices, so a scenario's own ``costs`` section is what its cost KPIs use."""
    s, log, ef = run
    other = apply_changes(s, {"costs.acute_delayed_day": 692.0})
    dearer = EventFrame(simulate(other, 0))
    assert _kpis(dearer)["cost_delayed_discharges"] == pytest.approx(
        2 * _kpis(ef)["cost_delayed_discharges"]
    )
    assert log.meta["costs"]["acute_delayed_day"] == 346
