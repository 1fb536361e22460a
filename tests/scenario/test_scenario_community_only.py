"""The ``community_only`` section: what it accepts, and errors that name the key and the fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from flowsim.errors import ScenarioError
from flowsim.scenario import apply_changes, load_scenario
from flowsim.scenario.community_only import CommunityOnly
from helpers.model_helpers import BASELINE, baseline


def problems(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "s.yaml"
    head = f"extends: {BASELINE}\nname: co\nrun: {{horizon_days: 10, warm_up_days: 0}}\n"
    path.write_text(head + textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return [str(p) for p in caught.value.problems]


def test_absent_by_default_and_baseline_unchanged() -> None:
    assert baseline().community_only is None


def test_a_valid_section_loads_with_its_defaults(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(
        f"extends: {BASELINE}\nname: ok\nrun: {{horizon_days: 20, warm_up_days: 0}}\n"
        "community_only:\n  p2: {referrals_per_day: [1, 2, 3, 4, 5, 6, 7], repeat: true}\n",
        encoding="utf-8",
    )
    s = load_scenario(path)
    section = s.community_only
    assert section is not None and section.remaining_stay == "length_biased"
    assert list(section.pathways()) == ["p2"]
    assert section.pathways()["p2"].occupied == 0 and section.pathways()["p2"].queued == 0


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("community_only: {}\n", ["s.yaml:4", "community_only", "no pathway given", "p1, p2"]),
        (
            "community_only:\n  p2: {referrals_per_day: [1], repeat: true, occupied: 500}\n",
            ["community_only", "p2.occupied is 500", "community.p2.capacity", "lower it"],
        ),
        (
            "community_only:\n  p1: {referrals_per_day: [1, 2, 3]}\n",
            ["p1.referrals_per_day gives 3 days", "lasts 10", "repeat: true"],
        ),
        (
            "community_only:\n  p3: {referrals_per_day: [1, -2], repeat: true}\n",
            ["s.yaml:5", "community_only.p3.referrals_per_day[1]", "0 or more, got -2"],
        ),
        (
            "community_only:\n  remaining_stay: uniformly\n  p2: {referrals_per_day: [1]}\n",
            ["community_only.remaining_stay", "length_biased, uniform", "did you mean 'uniform'"],
        ),
        (
            "community_only:\n  p4: {referrals_per_day: [1]}\n",
            ["community_only.p4", "unknown key 'p4'", "p1, p2, p3"],
        ),
        ("community_only:\n  p2: {referrals_per_day: []}\n", ["community_only.p2.referrals"]),
    ],
)
def test_errors_name_the_key_and_the_fix(tmp_path: Path, body: str, words: list[str]) -> None:
    text = "\n".join(problems(tmp_path, body))
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"
    for wording in ("Traceback", "Input should", "pydantic"):
        assert wording not in text


def test_the_check_follows_later_changes() -> None:
    """Fewer places after the section was set: the census no longer fits."""
    s = apply_changes(
        baseline(),
        {
            "run.horizon_days": 5,
            "run.warm_up_days": 0,
            "community_only": {"p1": {"referrals_per_day": [1.0] * 5, "occupied": 10}},
        },
    )
    with pytest.raises(ScenarioError, match=r"community\.p1\.capacity"):
        apply_changes(s, {"community.p1.capacity": 9})


def test_round_trips_as_data() -> None:
    section = CommunityOnly.model_validate(
        {"remaining_stay": "uniform", "p3": {"referrals_per_day": [0.5], "repeat": True}}
    )
    assert CommunityOnly.model_validate(section.model_dump(mode="json")) == section
