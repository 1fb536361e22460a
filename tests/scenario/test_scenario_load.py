"""Loading scenario files: extends chains, deep merge, YAML round trip, diff and changes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from flowsim.errors import Problem, ScenarioError
from flowsim.scenario import (
    MISSING,
    Scenario,
    apply_changes,
    diff_scenarios,
    load_scenario,
    load_scenario_data,
    scenario_from_dict,
    scenario_to_yaml,
)

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
BASELINE = SCENARIOS / "baseline.yaml"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    return load_scenario(BASELINE)


def test_baseline_loads(baseline: Scenario) -> None:
    assert isinstance(baseline, Scenario)
    assert baseline.name == "baseline"
    assert set(baseline.wards) >= {"care_of_elderly"}


def test_load_scenario_data_resolves_extends_and_drops_the_key(tmp_path: Path) -> None:
    write(tmp_path / "base.yaml", "a: {x: 1, y: [1, 2]}\nb: 1\n")
    child = write(tmp_path / "child.yaml", "extends: base.yaml\na: {y: [3]}\nc: 2\n")

    assert load_scenario_data(child) == {"a": {"x": 1, "y": [3]}, "b": 1, "c": 2}


def test_deep_merge_merges_mappings_and_replaces_lists_and_values(tmp_path: Path) -> None:
    write(tmp_path / "base.yaml", "m: {a: {b: 1, c: 2}, l: [1, 2, 3], s: x, n: null}\nkeep: 5\n")
    child = write(
        tmp_path / "child.yaml",
        """
        extends: base.yaml
        m:
          a: {c: 20, d: 30}
          l: [9]
          s: {now: a mapping}
          n: {switched: yes please}
        """,
    )

    assert load_scenario_data(child) == {
        "m": {
            "a": {"b": 1, "c": 20, "d": 30},
            "l": [9],
            "s": {"now": "a mapping"},
            "n": {"switched": "yes please"},
        },
        "keep": 5,
    }


def test_deep_merge_on_a_real_scenario(tmp_path: Path, baseline: Scenario) -> None:
    child = write(
        tmp_path / "child.yaml",
        f"""
        extends: {BASELINE}
        afu: {{beds: 36}}
        demand_profile: {{weekday: [1, 1, 1, 1, 1, 1, 2]}}
        wards: {{surgery: {{beds: 10}}}}
        ed: {{front_door_frailty: {{admission_avoided_share: 0.3}}}}
        sdec: {{stay_hours: {{dist: gamma, mean: 6, cv: 0.5}}}}
        amu: {{stay_hours: {{median: 30}}}}
        """,
    )

    s = load_scenario(child)

    assert s.afu.beds == 36
    assert s.afu.stay_hours == baseline.afu.stay_hours  # the rest of afu comes from the base
    assert s.demand_profile.weekday == [1, 1, 1, 1, 1, 1, 2]  # lists replace
    assert s.wards["surgery"].beds == 10
    assert s.wards["surgery"].los_days == baseline.wards["surgery"].los_days
    assert set(s.wards) == set(baseline.wards)  # ward groups merge, none lost
    assert baseline.ed.front_door_frailty is None
    assert s.ed.front_door_frailty is not None
    assert s.ed.front_door_frailty.admission_avoided_share == 0.3
    # a distribution naming its dist replaces the base's whole; without dist it updates it
    assert s.sdec.stay_hours.model_dump(by_alias=True) == {"dist": "gamma", "mean": 6, "cv": 0.5}
    assert s.amu.stay_hours == baseline.amu.stay_hours.model_copy(update={"median": 30})


def test_three_level_extends_chain_resolves_relative_to_each_file(
    tmp_path: Path, baseline: Scenario
) -> None:
    write(tmp_path / "c.yaml", f"extends: {BASELINE}\nname: level c\nafu: {{beds: 30}}\n")
    write(tmp_path / "sub" / "b.yaml", "extends: ../c.yaml\namu: {beds: 50}\n")
    a = write(tmp_path / "other" / "a.yaml", "extends: ../sub/b.yaml\nafu: {max_stay_hours: 48}\n")

    s = load_scenario(a)

    assert (s.name, s.afu.beds, s.afu.max_stay_hours, s.amu.beds) == ("level c", 30, 48, 50)
    assert s.sdec == baseline.sdec
    assert "extends" not in load_scenario_data(a)


def test_round_trip_of_baseline(baseline: Scenario) -> None:
    text = scenario_to_yaml(baseline)

    assert scenario_from_dict(yaml.safe_load(text)) == baseline


def test_yaml_is_readable_schema_order_aliases_and_no_unused_parameters(
    baseline: Scenario,
) -> None:
    text = scenario_to_yaml(baseline)
    top_keys = [line.split(":")[0] for line in text.splitlines() if line[:1].isalpha()]

    assert top_keys == [k for k in Scenario.model_fields if k in top_keys]
    assert top_keys[:3] == ["name", "description", "run"]
    assert "mean_" not in text
    assert "sd: null" not in text and "mean: null" not in text
    assert "  stay_hours: {dist: lognormal" in text  # short groups on one line
    assert "front_door_frailty: null" in text  # an optional section that is off stays visible


def test_round_trip_with_other_parameterisations_and_sections(baseline: Scenario) -> None:
    changed = apply_changes(
        baseline,
        {
            "description": "two\nlines\n",
            "name": "a: name with a colon",
            "afu.stay_hours": {"dist": "lognormal", "mean": 30, "sd": 12},
            "amu.stay_hours": {"dist": "empirical", "values": [1, 2, 3], "weights": [1, 1, 2]},
            "ed.front_door_frailty": {"admission_avoided_share": 0.2},
            "ed.max_handover_minutes": 45,
        },
    )
    text = scenario_to_yaml(changed)

    assert "mean: 30" in text
    assert scenario_from_dict(yaml.safe_load(text)) == changed


def test_diff_of_baseline_and_afu_expansion_is_exactly_afu_beds(baseline: Scenario) -> None:
    afu = load_scenario(SCENARIOS / "afu_expansion.yaml")

    assert diff_scenarios(baseline, afu) == [
        ("name", baseline.name, afu.name),
        ("description", baseline.description, afu.description),
        ("afu.beds", baseline.afu.beds, 36),
    ]


def test_diff_of_equal_scenarios_is_empty(baseline: Scenario) -> None:
    assert diff_scenarios(baseline, load_scenario(BASELINE)) == []


def test_diff_shows_missing_keys_whole_lists_and_sections(baseline: Scenario) -> None:
    changed = apply_changes(
        baseline,
        {
            "afu.stay_hours": {"dist": "lognormal", "mean": 30, "sd": 12},
            "demand_profile.weekday": [1, 1, 1, 1, 1, 1, 2],
            "ed.front_door_frailty": {"admission_avoided_share": 0.2},
        },
    )
    rows = {path: (a, b) for path, a, b in diff_scenarios(baseline, changed)}
    before = baseline.afu.stay_hours

    assert rows["afu.stay_hours.median"] == (getattr(before, "median", None), MISSING)
    assert rows["afu.stay_hours.mean"] == (MISSING, 30)
    assert rows["demand_profile.weekday"] == (baseline.demand_profile.weekday, [1] * 6 + [2])
    assert rows["ed.front_door_frailty"][0] is None
    assert rows["ed.front_door_frailty"][1]["admission_avoided_share"] == 0.2
    assert list(rows) == [
        "demand_profile.weekday",
        "ed.front_door_frailty",
        "afu.stay_hours.median",
        "afu.stay_hours.sigma",
        "afu.stay_hours.mean",
        "afu.stay_hours.sd",
    ]


def test_apply_changes_gives_a_new_validated_scenario(baseline: Scenario) -> None:
    changed = apply_changes(
        baseline,
        {
            "afu.beds": 36,
            "wards.care_of_elderly.beds": 400,
            "population.places[0].segments[3].people": 1000,
            "afu": {"max_stay_hours": 48},  # a mapping merges, as with extends
        },
    )

    assert changed.afu.beds == 36 and changed.afu.max_stay_hours == 48
    assert changed.wards["care_of_elderly"].beds == 400
    assert changed.population.places[0].segments[3].people == 1000
    assert baseline.afu.beds != 36  # the original is untouched
    afu = load_scenario(SCENARIOS / "afu_expansion.yaml")
    named = {"name": afu.name, "description": afu.description}
    assert apply_changes(baseline, {"afu.beds": 36, **named}) == afu
    assert apply_changes(baseline, {}) == baseline


@pytest.mark.parametrize(
    ("changes", "key_path", "words"),
    [
        ({"afu.beds": -1}, "afu.beds", "must be a whole number of 0 or more, got -1"),
        ({"afu.bedz": 30}, "afu.bedz", "did you mean 'beds'?"),
        ({"wards.care_of_elderly.beds": "many"}, "wards.care_of_elderly.beds", "got 'many'"),
        ({"population.places[9].name": "x"}, "population.places[9].name", "has 4 items"),
        ({"afu.beds.size": 1}, "afu.beds.size", "afu.beds is a single value"),
        ({"afu[0]": 1}, "afu[0]", "afu is not a list"),
        ({"afu..beds": 1}, "afu..beds", "is not a key path"),
        ({"ed.disposition.fit.home": 0.5}, "ed.disposition.fit", "must add up to 1, got 0.76"),
    ],
)
def test_apply_changes_names_the_dotted_path(
    baseline: Scenario, changes: dict[str, object], key_path: str, words: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        apply_changes(baseline, changes)

    assert caught.value.key_path == key_path
    assert caught.value.file == "changes to scenario 'baseline'"
    assert words in str(caught.value)


def test_scenario_from_dict_names_its_source() -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict({"name": "x", "bedz": 1}, source="workshop form")

    assert str(caught.value).startswith("workshop form: ")
    assert "bedz: unknown key 'bedz'" in str(caught.value)


def test_scenario_from_dict_refuses_extends_and_non_mappings() -> None:
    with pytest.raises(ScenarioError, match="extends: only works in a scenario file"):
        scenario_from_dict({"extends": "baseline.yaml"})
    with pytest.raises(ScenarioError, match="must be a mapping"):
        scenario_from_dict([1, 2])  # type: ignore[arg-type]


def test_scenario_error_formats_one_line_per_problem() -> None:
    one = ScenarioError("a.yaml", "wards.x.beds", "must be a whole number of 0 or more, got -4", 12)
    assert str(one) == "a.yaml:12: wards.x.beds: must be a whole number of 0 or more, got -4"
    assert (one.file, one.key_path, one.line) == ("a.yaml", "wards.x.beds", 12)
    assert str(ScenarioError("a.yaml", "", "the file is empty")) == "a.yaml: the file is empty"

    two = ScenarioError.from_problems(
        [Problem("a.yaml", "x", "bad", 1), Problem("b.yaml", "y", "worse")]
    )
    assert str(two) == "a.yaml:1: x: bad\nb.yaml: y: worse"
    assert [p.key_path for p in two.problems] == ["x", "y"]
    assert two.message == "bad"


def test_scenario_package_imports_no_other_part_of_flowsim() -> None:
    code = (
        "import sys, flowsim.scenario\n"
        "print(sorted(m for m in sys.modules if m.startswith('flowsim.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    modules = {m.strip(" '") for m in out.strip().strip("[]").split(",")}

    # flowsim._version is the package's own __init__ (the version string), not another layer.
    others = {m for m in modules if not m.startswith("flowsim.scenario")}
    assert others - {"flowsim._version"} == {"flowsim.errors"}
