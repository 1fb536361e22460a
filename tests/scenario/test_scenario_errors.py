"""Bad scenario files: each problem names the file, line and key, the rule and the bad value."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from flowsim.errors import ScenarioError
from flowsim.scenario import load_scenario

BASELINE = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.yaml"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def error_for(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    error = caught.value
    for wording in ("Traceback", "Input should", "pydantic", "Field required"):
        assert wording not in str(error)  # written for clinicians, not programmers
    return error


# Each case: the lines after 'extends: <baseline>' (line 1), the line and key path of the
# problem, and words the message must contain (the rule and the bad value).
BAD_VALUES = {
    "negative beds": (
        "wards:\n  care_of_elderly:\n    beds: -4\n",
        4,
        "wards.care_of_elderly.beds",
        ["must be a whole number of 0 or more, got -4"],
    ),
    "negative community capacity": (
        "community:\n  p1: {capacity: -1}\n",
        3,
        "community.p1.capacity",
        ["must be a whole number of 0 or more, got -1"],
    ),
    "unknown key": (
        "afu:\n  bedz: 36\n",
        3,
        "afu.bedz",
        ["unknown key 'bedz'", "did you mean 'beds'?"],
    ),
    "unknown top-level key": (
        "wardz: {}\n",
        2,
        "wardz",
        ["did you mean 'wards'?"],
    ),
    "unknown frailty band": (
        "ed:\n  disposition:\n    frial: {home: 1}\n",
        4,
        "ed.disposition.frial",
        ["did you mean 'frail'?"],
    ),
    "unknown key in a named ward group": (
        "wards:\n  care_of_elderly:\n    bedz: 400\n",
        4,
        "wards.care_of_elderly.bedz",
        ["did you mean 'beds'?"],
    ),
    "unknown key in a distribution": (
        "afu:\n  stay_hours: {dist: lognormal, median: 26, sigmaa: 0.7}\n",
        3,
        "afu.stay_hours.sigmaa",
        ["did you mean 'sigma'?"],
    ),
    "unknown key with no close match": (
        "afu:\n  colour: blue\n",
        3,
        "afu.colour",
        ["the keys allowed here are beds, eligible_frailty"],
    ),
    "unknown route": (
        "population:\n  acuity_weights:\n    ambulanse: [1, 1, 1, 1, 1]\n",
        4,
        "population.acuity_weights.ambulanse",
        ["did you mean 'ambulance'?"],
    ),
    "text for a whole number": (
        "afu:\n  beds: lots\n",
        3,
        "afu.beds",
        ["must be a whole number of 0 or more, got 'lots'"],
    ),
    "fraction for a whole number": (
        "amu:\n  beds: 36.5\n",
        3,
        "amu.beds",
        ["must be a whole number", "got 36.5"],
    ),
    "not true or false": (
        "sdec:\n  open_weekends: maybe\n",
        3,
        "sdec.open_weekends",
        ["must be true or false, got 'maybe'"],
    ),
    "not a date": (
        "run:\n  start_date: next monday\n",
        3,
        "run.start_date",
        ["must be a date written YYYY-MM-DD", "got 'next monday'"],
    ),
    "a number for a section": (
        "afu: 36\n",
        2,
        "afu",
        ["must be a group of 'name: value' settings", "got 36"],
    ),
    "text for a list": (
        "afu:\n  eligible_frailty: frail\n",
        3,
        "afu.eligible_frailty",
        ["must be a list", "got 'frail'"],
    ),
    "misspelt value": (
        "afu:\n  min_age_band: 65-75\n",
        3,
        "afu.min_age_band",
        ["must be one of 18-64, 65-74, 75-84, 85+", "got '65-75'", "did you mean '65-74'?"],
    ),
    "unknown distribution": (
        "afu:\n  stay_hours: {dist: lognormel, median: 26, sigma: 0.7}\n",
        3,
        "afu.stay_hours.dist",
        ["must be one of fixed, exponential, lognormal", "did you mean 'lognormal'?"],
    ),
    "number for a distribution": (
        "sdec:\n  stay_hours: 5\n",
        3,
        "sdec.stay_hours",
        ["must be a distribution", "{dist: fixed, value: 5}", "got 5"],
    ),
    "new distribution without dist": (
        "ed:\n  front_door_frailty:\n    admission_avoided_share: 0.2\n"
        "    assessment_hours: {median: 3}\n",
        5,
        "ed.front_door_frailty.assessment_hours",
        ["needs 'dist:' to say which distribution it is"],
    ),
    "distribution parameter out of range": (
        "afu:\n  stay_hours: {dist: gamma, mean: -2, cv: 1}\n",
        3,
        "afu.stay_hours.mean",
        ["must be a number of more than 0, got -2"],
    ),
    "probability above 1": (
        "ed:\n  disposition:\n    fit: {home: 1.2}\n",
        4,
        "ed.disposition.fit.home",
        ["must be a share between 0 and 1", "got 1.2"],
    ),
    "probability below 0": (
        "sdec:\n  admit_share: {fit: -0.1}\n",
        3,
        "sdec.admit_share.fit",
        ["must be a share between 0 and 1", "got -0.1"],
    ),
    "shares not adding up to 1": (
        "ed:\n  disposition:\n    fit: {home: 0.7}\n",
        4,
        "ed.disposition.fit",
        ["the shares must add up to 1, got 0.96", "home=0.7"],
    ),
    "discharge pathways not adding up to 1": (
        "discharge:\n  pathway:\n    severe: {P0: 0.5}\n",
        4,
        "discharge.pathway.severe",
        ["the shares must add up to 1, got 1.1"],
    ),
    "ward routing not adding up to 1": (
        "ward_routing:\n  frail: {general_medicine: 0.5}\n",
        3,
        "ward_routing.frail",
        ["the shares must add up to 1, got 1.15"],
    ),
    "ward routing to no ward": (
        "ward_routing:\n  frail: {coe: 0.1}\n",
        3,
        "ward_routing.frail",
        ["no ward group called ['coe']"],
    ),
    "hour outside the day": (
        "sdec:\n  open_hour: 25\n",
        3,
        "sdec.open_hour",
        ["must be an hour of the day between 0 and 24, got 25"],
    ),
    "wrong number of values": (
        "demand_profile:\n  weekday: [1, 1, 1]\n",
        3,
        "demand_profile.weekday",
        ["must have exactly 7 values", "got 3"],
    ),
    "missing setting of a section switched on": (
        "ed:\n  front_door_frailty: {assessors: 3}\n",
        3,
        "ed.front_door_frailty.admission_avoided_share",
        ["is missing; add it"],
    ),
    "bad value deep in a list": (
        """\
population:
  places:
    - name: X
      segments:
        - {age_band: 85+, frailty: fit, people: 10, ambulance_per_person_year: 0.1,
           walk_in_per_person_year: 0.1, gp_referral_per_person_year: 0.1}
        - {age_band: 85+, frailty: frail, people: many, ambulance_per_person_year: 0.1,
           walk_in_per_person_year: 0.1, gp_referral_per_person_year: 0.1}
""",
        8,
        "population.places[0].segments[1].people",
        ["must be a whole number of 0 or more, got 'many'"],
    ),
}


@pytest.mark.parametrize(
    ("lines", "line", "key_path", "words"), BAD_VALUES.values(), ids=BAD_VALUES
)
def test_bad_value_names_file_line_key_rule_and_value(
    tmp_path: Path, lines: str, line: int, key_path: str, words: list[str]
) -> None:
    path = tmp_path / "change.yaml"
    path.write_text(f"extends: {BASELINE}\n{lines}", encoding="utf-8")

    error = error_for(path)

    assert (error.file, error.line, error.key_path) == (str(path), line, key_path)
    assert str(error).startswith(f"{path}:{line}: {key_path}: ")
    for word in words:
        assert word in error.message


def test_every_problem_is_reported_in_line_order(tmp_path: Path) -> None:
    path = write(
        tmp_path / "many.yaml",
        f"""
        extends: {BASELINE}
        sdec: {{chairs: -1}}
        afu: {{bedz: 3}}
        amu: {{beds: many}}
        """,
    )

    error = error_for(path)

    assert [(p.line, p.key_path) for p in error.problems] == [
        (2, "sdec.chairs"),
        (3, "afu.bedz"),
        (4, "amu.beds"),
    ]
    assert str(error).splitlines() == [str(p) for p in error.problems]


def test_a_standalone_file_names_missing_sections(tmp_path: Path) -> None:
    path = write(tmp_path / "alone.yaml", "name: on its own\n")

    error = error_for(path)
    missing = {p.key_path for p in error.problems if "is missing" in p.message}

    assert {"population", "ed", "afu", "wards", "community"} <= missing
    assert all(p.file == str(path) for p in error.problems)


def test_value_set_in_a_base_file_names_that_file_and_line(tmp_path: Path) -> None:
    write(tmp_path / "mid" / "mid.yaml", f"extends: {BASELINE}\nname: mid\nafu:\n  beds: -1\n")
    top = write(tmp_path / "top.yaml", "extends: mid/mid.yaml\namu: {beds: 50}\n")

    error = error_for(top)

    assert str(error) == (
        f"{tmp_path / 'mid' / 'mid.yaml'}:4: afu.beds: must be a whole number of 0 or more, got -1"
    )


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("name: x\nafu:\n  beds: 3\n   stay: 4\n", 4, ["mapping values are not allowed here"]),
        ("name: x\nafu:\n\tbeds: 3\n", 3, ["indent with spaces, not tabs"]),
        ("name: x\nafu: {beds: 3\namu: {beds: 4}\n", 2, ["every { has its }"]),
        ("name: x\nafu\namu: 3\n", 2, ["needs a colon after its name"]),
        ("name: 'unfinished\nafu: 3\n", 1, ["quote", "never closed"]),
    ],
)
def test_yaml_syntax_error_names_the_line(
    tmp_path: Path, text: str, line: int, words: list[str]
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")

    error = error_for(path)

    assert (error.file, error.line, error.key_path) == (str(path), line, "")
    assert str(error).startswith(f"{path}:{line}: YAML syntax error: ")
    for word in words:
        assert word in error.message


@pytest.mark.parametrize("text", ["", "\n\n", "# just a comment\n", "---\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text(text, encoding="utf-8")

    error = error_for(path)

    assert str(error).startswith(f"{path}: the file is empty")


@pytest.mark.parametrize(
    ("text", "kind"), [("- afu\n- amu\n", "a list"), ("just some text\n", "a single piece of text")]
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    path = tmp_path / "flat.yaml"
    path.write_text(text, encoding="utf-8")

    error = error_for(path)

    assert error.line == 1
    assert "the top level must be 'key: value' lines" in error.message
    assert error.message.endswith(kind)


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system",
        "!!python/object/apply:subprocess.call",
        "!!python/object/new:os.system",
    ],
)
def test_python_tags_are_refused_and_never_run(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "tag-ran"
    argument = f'["touch {marker}"]' if "system" in tag else f'[["touch", "{marker}"]]'
    path = write(
        tmp_path / "evil.yaml",
        f"""
        extends: {BASELINE}
        afu:
          beds: {tag} {argument}
        """,
    )

    error = error_for(path)

    assert not marker.exists()
    assert (error.file, error.line) == (str(path), 3)
    assert f"the YAML tag {tag} is not allowed" in error.message


def test_a_tag_in_a_base_file_is_refused_too(tmp_path: Path) -> None:
    marker = tmp_path / "tag-ran"
    write(tmp_path / "base.yaml", f'name: !!python/object/apply:os.system ["touch {marker}"]\n')
    child = write(tmp_path / "child.yaml", "extends: base.yaml\n")

    error = error_for(child)

    assert not marker.exists()
    assert (error.file, error.line) == (str(tmp_path / "base.yaml"), 1)


def test_a_key_set_twice_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path / "twice.yaml", f"extends: {BASELINE}\nafu: {{beds: 3}}\nafu: {{beds: 4}}\n"
    )

    error = error_for(path)

    assert str(error) == f"{path}:3: afu: is set twice (lines 2 and 3); delete one of them"


def test_circular_extends_shows_the_chain(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "extends: b.yaml\n")
    write(tmp_path / "b.yaml", "name: b\nextends: a.yaml\n")

    error = error_for(tmp_path / "a.yaml")

    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    assert (error.file, error.line, error.key_path) == (str(b), 2, "extends")
    assert f"goes round in a circle: {a} -> {b} -> {a}" in error.message


def test_circular_extends_through_three_files_and_to_itself(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "extends: sub/b.yaml\n")
    write(tmp_path / "sub" / "b.yaml", "extends: ../c.yaml\n")
    write(tmp_path / "c.yaml", "extends: a.yaml\n")
    write(tmp_path / "self.yaml", "extends: self.yaml\n")

    chain = error_for(tmp_path / "a.yaml").message
    itself = error_for(tmp_path / "self.yaml").message

    names = [tmp_path / "a.yaml", tmp_path / "sub" / "b.yaml", tmp_path / "c.yaml"]
    assert " -> ".join(str(n) for n in [*names, names[0]]) in chain
    assert f"{tmp_path / 'self.yaml'} -> {tmp_path / 'self.yaml'}" in itself


def test_missing_base_names_the_path_tried(tmp_path: Path) -> None:
    write(tmp_path / "baseline.yaml", "name: the real one\n")
    path = write(tmp_path / "sub" / "child.yaml", "# a comment\nextends: baselin.yaml\n")

    error = error_for(path)

    assert (error.file, error.line, error.key_path) == (str(path), 2, "extends")
    tried = tmp_path / "sub" / "baselin.yaml"
    assert f"cannot find the base scenario 'baselin.yaml' (looked for {tried})" in error.message


def test_missing_base_suggests_a_close_name(tmp_path: Path) -> None:
    write(tmp_path / "baseline.yaml", "name: the real one\n")
    path = write(tmp_path / "child.yaml", "extends: baselin.yaml\n")

    assert error_for(path).message.endswith("did you mean 'baseline.yaml'?")


def test_extends_must_name_a_file(tmp_path: Path) -> None:
    path = write(tmp_path / "child.yaml", "name: x\nextends: [baseline.yaml]\n")

    error = error_for(path)

    assert (error.line, error.key_path) == (2, "extends")
    assert "must name another scenario file" in error.message


def test_missing_file_folder_and_binary_file(tmp_path: Path) -> None:
    binary = tmp_path / "picture.yaml"
    binary.write_bytes(b"\xff\xfe\x00\x81")

    assert str(error_for(tmp_path / "nope.yaml")) == (
        f"{tmp_path / 'nope.yaml'}: file not found; check the file name and folder"
    )
    assert "is a folder" in error_for(tmp_path).message
    assert "is not a text file" in error_for(binary).message
