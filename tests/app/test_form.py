"""The "All settings" form: every key reachable, edits validated in plain words next to their
field, and the download a complete file that loads from any folder (and through the app's
upload loader) as the scenario that was edited."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from flowsim.app import MAIN_SCRIPT, form
from flowsim.scenario import Scenario, load_scenario
from flowsim.scenario.reference import reference_rows
from helpers.app_helpers import use_small_app_runs

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.fixture(scope="module")
def base() -> Scenario:
    return load_scenario(SCENARIOS / "baseline.yaml")


def test_every_key_of_the_scenario_reference_is_reachable(base: Scenario) -> None:
    specs = form.field_specs(base)
    reachable = form.reachable(specs)
    missing = [r.path for r in reference_rows() if r.path not in reachable]
    assert not missing, f"keys of docs/scenario-reference.md the form cannot reach: {missing}"
    # one field per ward group and frailty band, each with the reference's unit and range
    beds = next(s for s in specs if s.path == "wards.surgery.beds")
    assert (beds.pattern, beds.kind, beds.unit, beds.section) == (
        "wards.<ward>.beds",
        "int",
        "beds",
        "wards",
    )
    los = next(s for s in specs if s.path == "wards.care_of_elderly.los_days.severe")
    assert los.kind == "distribution" and "days" in los.help and "frailty band" in los.help
    share = next(s for s in specs if s.path == "ucr.eligible_share")
    assert "Allowed: 0 to 1" in share.help and "share" in share.help
    assert [s.path for s in form.search(specs, "handover minutes")][:1] == ["ed.handover_minutes"]


@pytest.mark.parametrize("name", ["baseline", "front_door_frailty", "winter_surge"])
def test_every_field_shown_as_it_is_changes_nothing(name: str) -> None:
    """Each widget's value, read back, is the scenario's own value (no drift from the form),
    for library scenarios (front_door_frailty switches on a group the baseline has off)."""
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    specs = form.field_specs(scenario)
    result = form.apply_form(scenario, {s.path: form.widget_value(s) for s in specs})
    assert result.ok, result.problems
    assert result.changes == []


def test_every_optional_group_switched_on_from_its_template(base: Scenario) -> None:
    """The templates, filled in, switch each optional group on; then every key of the result
    is a field of its own (or in its list's YAML box), and reads back unchanged."""
    template = {s.path: s.template for s in form.field_specs(base) if s.kind == "group"}
    edits = {
        "ed.front_door_frailty": template["ed.front_door_frailty"].replace(
            "admission_avoided_share:", "admission_avoided_share: 0.2"
        ),
        "ed.leave_before_seen": template["ed.leave_before_seen"],
        "warm_start": "amu: {occupied: 50}\nwards: {surgery: {occupied: 100}}\n",
        "pressure.electives": "admissions_by_weekday: {surgery: [10, 10, 10, 10, 10, 0, 0]}\n"
        "los_days: {dist: lognormal, median: 3, sigma: 0.8}\n",
        "pressure.community_surge.p2": template["pressure.community_surge.p2"]
        .replace("places:", "places: 10")
        .replace("open_when_waiting:", "open_when_waiting: 10"),
        "community_only": "p1: {referrals_per_day: [5, 6], repeat: true, occupied: 10}\n",
        "pressure.outlying.hosts": "surgery: [general_medicine]\n",
    }
    result = form.apply_form(base, edits)
    assert result.ok, result.problems
    assert result.scenario is not None and result.scenario.pressure is not None
    assert result.scenario.pressure.electives is not None
    specs = form.field_specs(result.scenario)
    paths = {s.path for s in specs}
    assert {"ed.leave_before_seen.patience_hours.3", "pressure.electives.los_days"} <= paths
    assert {"warm_start.wards.surgery.occupied", "community_only.p1.referrals_per_day"} <= paths
    again = form.apply_form(result.scenario, {s.path: form.widget_value(s) for s in specs})
    assert again.ok and again.changes == [], again.problems


def test_an_edit_round_trips_to_a_file_that_loads_from_any_folder(
    base: Scenario, tmp_path: Path
) -> None:
    edits = {
        "ed.cubicles": 130,
        "wards.surgery.beds": 250,
        "ed.handover_minutes": {"dist": "gamma", "mean": 13.0, "cv": 0.8},
        "demand_profile.growth": 1.05,
        "ucr.eligible_frailty": ["severe"],
        "seasons.attendance_multiplier.walk_in": ", ".join(["1.1"] * 6 + ["0.9"] * 6),
        "ed.front_door_frailty": next(
            s for s in form.field_specs(base) if s.path == "ed.front_door_frailty"
        ).template.replace("admission_avoided_share:", "admission_avoided_share: 0.2"),
    }
    result = form.apply_form(base, edits)
    assert result.ok, result.problems
    edited = result.scenario
    assert edited is not None
    assert (edited.ed.cubicles, edited.wards["surgery"].beds, edited.name) == (
        130,
        250,
        "baseline, edited",
    )
    text = form.form_yaml(base, result)
    assert "extends" not in yaml.safe_load(text)
    assert "#   ed.cubicles: 114 → 130" in text
    elsewhere = tmp_path / "Downloads" / "somewhere else"
    elsewhere.mkdir(parents=True)
    saved = elsewhere / form.file_name(edited)
    saved.write_text(text, encoding="utf-8")
    before = Path.cwd()
    try:
        os.chdir(tmp_path)  # neither the library's folder nor the file's
        assert load_scenario(saved) == edited
    finally:
        os.chdir(before)
    assert form.load_form_file(text, SCENARIOS) == edited  # as the app's upload reads it
    rows = {p: (a, b) for p, a, b in form.changed_fields(base, result)}
    assert rows["ed.handover_minutes"][1] == {"dist": "gamma", "mean": 13.0, "cv": 0.8}
    assert rows["ed.front_door_frailty"][0] is None


def test_a_table_edit_names_the_cells_that_changed(base: Scenario) -> None:
    """A place's segments are a table (a data editor's frame: numpy numbers, NaN when a cell
    is emptied); a changed cell is listed by itself, a bad one explained under the table."""
    import pandas as pd

    table = next(s for s in form.field_specs(base) if s.path == "population.places.1.segments")
    assert table.kind == "table" and table.columns[0][:3] == (
        "age_band",
        "choice",
        ("18-64", "65-74", "75-84", "85+"),
    )
    frame = pd.DataFrame(form.widget_value(table))
    frame.loc[2, "people"] = 900
    result = form.apply_form(base, {table.path: frame})
    assert result.ok, result.problems
    assert result.scenario is not None
    assert result.scenario.population.places[1].segments[2].people == 900
    was = base.population.places[1].segments[2].people
    assert result.fields == [("population.places.1.segments.2.people", was, 900)]
    frame.loc[3, "people"] = float("nan")  # an emptied cell: the key is missing
    problems = form.apply_form(base, {table.path: frame}).problems[table.path]
    assert any("population.places[1].segments[3].people" in p for p in problems), problems


@pytest.mark.parametrize(
    ("edits", "field", "words"),
    [
        ({"ed.cubicles": -3}, "ed.cubicles", "must be a whole number of 0 or more, got -3"),
        ({"ucr.eligible_share": 1.5}, "ucr.eligible_share", "must be a share between 0 and 1"),
        ({"ed.disposition.frail.home": 0.9}, "ed.disposition.frail", "must add up to 1"),
        ({"demand_profile.hourly": "1, 2, x"}, "demand_profile.hourly", "'x' is not a number"),
        ({"demand_profile.hourly": "1, 2"}, "demand_profile.hourly", "24"),
        ({"wards": "general_medicine: [beds"}, "wards", "cannot be read (line 1)"),
        (
            {"ed.handover_minutes": {"dist": "gamma", "mean": 13.0}},
            "ed.handover_minutes",
            "cv",
        ),
    ],
    ids=["negative", "share", "sum", "not-a-number", "length", "yaml", "distribution"],
)
def test_an_invalid_value_is_explained_next_to_its_field(
    base: Scenario, edits: dict[str, object], field: str, words: str
) -> None:
    result = form.apply_form(base, edits)
    assert not result.ok and result.scenario is None
    assert field in result.problems, result.problems
    message = " ".join(result.problems[field])
    assert words in message
    assert "Traceback" not in message and "pydantic" not in message.lower()


def test_an_empty_entry_of_a_mapping_is_removed_and_a_group_switched_off(base: Scenario) -> None:
    result = form.apply_form(base, {"seasons.beds_closed_share.all": "", "pressure.outlying": None})
    assert result.ok, result.problems
    assert result.scenario is not None
    assert "all" not in result.scenario.seasons.beds_closed_share
    assert result.scenario.pressure is not None and result.scenario.pressure.outlying is None
    paths = [s.path for s in form.field_specs(result.data)]
    assert "pressure.outlying" in paths and "pressure.outlying.after_hours" not in paths


# ---------------------------------------------------------------- the page


@pytest.fixture
def small_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    use_small_app_runs(monkeypatch, days=1)


def _edit_cubicles(at: AppTest) -> AppTest:
    """Open the ed section of the form, try a bad value, then set the cubicles to 130."""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(e.label.startswith("All settings") for e in at.expander)
    at.pills[0].set_value("ed").run()
    cubicles = next(w for w in at.number_input if str(w.key).endswith(":w:ed.cubicles"))
    cubicles.set_value(-2).run()
    assert any("ed.cubicles: must be a whole number" in e.value for e in at.error)
    cubicles = next(w for w in at.number_input if str(w.key).endswith(":w:ed.cubicles"))
    cubicles.set_value(130).run()
    assert not at.error, [e.value for e in at.error]
    assert any("`ed.cubicles`: 114 → 130" in m.value for m in at.markdown)
    assert any(str(b.key).endswith(":download") for b in at.download_button)
    return at


def test_the_app_form_builds_the_change_from_an_edited_setting(small_runs: None) -> None:
    at = _edit_cubicles(AppTest.from_file(str(MAIN_SCRIPT), default_timeout=120))
    offered = at.dataframe[-1].value  # the offered load of every scenario the run compares
    assert list(offered.columns) == ["baseline", "baseline, edited"]
    assert any("About 4 replications in total" in c.value for c in at.caption)
    # a reset brings the baseline back, and the change leaves the comparison
    next(b for b in at.button if str(b.key).endswith(":undo:ed.cubicles")).click().run()
    assert list(at.dataframe[-1].value.columns) == ["baseline"]
    assert any("Nothing changed" in c.value for c in at.caption)


@pytest.mark.slow
def test_the_app_runs_the_form_edit_as_the_change(small_runs: None) -> None:
    at = _edit_cubicles(AppTest.from_file(str(MAIN_SCRIPT), default_timeout=180))
    at.button(key="run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.subheader][:2] == ["baseline", "baseline, edited"]
