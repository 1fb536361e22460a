"""The workshop app through Streamlit's AppTest: load, presets, a lever, a run, a comparison and
bad uploads. Runs tiny comparisons (2 replications of 2 days from a 10-day census) in this
process, so the page's logic is tested, not the simulation's speed."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from flowsim.app import MAIN_SCRIPT, engine, presets
from flowsim.errors import ScenarioError
from flowsim.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.fixture(autouse=True)
def small_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "FLOWSIM_APP_REPLICATIONS": "2",
        "FLOWSIM_APP_DAYS": "2",
        "FLOWSIM_APP_WARM_UP": "1",
        "FLOWSIM_APP_CENSUS_DAY": "10",
        "FLOWSIM_APP_WORKERS": "1",
        "FLOWSIM_SCENARIOS": str(SCENARIOS),
    }.items():
        monkeypatch.setenv(key, value)
    engine.shared_pool.cache_clear()


def page() -> AppTest:
    at = AppTest.from_file(str(MAIN_SCRIPT), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def lever(at: AppTest, key: str):
    return next(w for w in [*at.slider, *at.toggle] if str(w.key).endswith(f":{key}"))


def test_page_loads_with_library_levers_and_presets() -> None:
    at = page()
    assert at.title[0].value.startswith("flowsim")
    assert at.selectbox(key="base").value == "baseline"
    assert any("AFU" in o for o in at.multiselect(key="alts").options)
    assert lever(at, "afu.beds").value == load_scenario(SCENARIOS / "baseline.yaml").afu.beds
    assert len(at.selectbox(key="preset").options) == len(presets.PRESETS) + 1


def test_a_lever_makes_your_change_and_its_yaml() -> None:
    at = page()
    lever(at, "afu.beds").set_value(32).run()
    assert any("afu.beds" in m.value for m in at.markdown)
    at.button(key="run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "your change" in [s.value for s in at.subheader]
    yaml_text = next(c.value for c in at.code)
    assert "extends: baseline.yaml" in yaml_text and "beds: 32" in yaml_text


def test_run_compares_library_scenario_and_shows_cards_with_verdicts() -> None:
    at = page()
    at.multiselect(key="alts").set_value(["afu_expansion"]).run()
    at.button(key="run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    cards = at.metric
    assert len(cards) == 2 * 7, [m.label for m in cards]
    assert any("4 hours" in m.label for m in cards)
    captions = " ".join(c.value for c in at.caption)
    assert "95% CI" in captions
    assert "no clear difference" in captions or "better" in captions or "worse" in captions
    info = at.info[-1].value
    assert "2 paired replications of 2 days" in info and "more precision" in info
    # the same comparison again is answered from the cache
    at.button(key="run").click().run()
    assert "reused earlier runs" in at.info[-1].value


def test_nothing_to_compare_says_what_to_do() -> None:
    at = page()
    at.button(key="run").click().run()
    assert "Nothing to compare" in at.warning[0].value


def test_preset_sets_up_the_exercise() -> None:
    at = page()
    at.selectbox(key="preset").set_value(presets.PRESETS[0].title).run()
    base = load_scenario(SCENARIOS / "baseline.yaml")
    assert lever(at, "ed.cubicles").value == base.ed.cubicles + 20
    assert any("Ask the room" in i.value for i in at.info)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"extends: baseline.yaml\nafu: {bedz: 30}\n", "did you mean"),
        (b"extends: baseline.yaml\nafu: {beds: -4}\n", "afu.beds"),
        (b"afu: [beds: 30\n", "bad.yaml"),
        (b"\xff\xfe not text", "not a text file"),
        (b"extends: baseline.yaml\n# " + b"x" * 300_000 + b"\n", "kB"),
    ],
    ids=["unknown-key", "negative", "syntax", "binary", "too-big"],
)
def test_a_bad_upload_is_explained_in_plain_words(text: bytes, expected: str) -> None:
    at = page()
    at.sidebar.file_uploader(key="upload").upload("bad.yaml", text, "text/yaml").run()
    assert not at.exception, [e.value for e in at.exception]
    message = at.error[0].value
    assert "What to fix" in message and expected in message
    assert "Traceback" not in message and "/tmp" not in message


def test_a_good_upload_can_be_compared() -> None:
    at = page()
    text = b"extends: baseline.yaml\nname: more p1\ncommunity: {p1: {capacity: 330}}\n"
    at.sidebar.file_uploader(key="upload").upload("more_p1.yaml", text, "text/yaml").run()
    assert "uploaded: more_p1.yaml" in at.multiselect(key="alts").options
    at.multiselect(key="alts").set_value(["(uploaded file)"]).run()
    at.button(key="run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "more_p1.yaml" in [s.value for s in at.subheader]


def test_lever_changes_only_what_moved() -> None:
    base = load_scenario(SCENARIOS / "baseline.yaml")
    values = engine.lever_values(base)
    assert engine.lever_changes(base, values) == {}
    moved = {**values, "afu.open": False, "sdec.hours": (8, 22), "demand_profile.growth": 1.05}
    changes = engine.lever_changes(base, moved)
    assert changes == {
        "afu.beds": 0,
        "afu.divert_to_amu_when_full": True,
        "sdec.open_hour": 8,
        "sdec.close_hour": 22,
        "demand_profile.growth": 1.05,
    }


def test_warm_start_is_cut_to_each_scenarios_places() -> None:
    base = load_scenario(SCENARIOS / "baseline.yaml")
    section = {
        "afu": {"occupied": 20, "elapsed_days": {"dist": "empirical", "values": [1.0] * 20}},
        "wards": {"nowhere": {"occupied": 3}},
    }
    from flowsim.scenario import apply_changes

    small = apply_changes(base, {"afu.beds": 5})
    warmed = engine.with_warm_start(small, section)
    assert warmed.warm_start is not None and warmed.warm_start.afu is not None
    assert warmed.warm_start.afu.occupied == 5 and not warmed.warm_start.wards


def test_upload_errors_name_the_uploaded_file() -> None:
    with pytest.raises(ScenarioError) as caught:
        engine.load_upload("mine.yaml", b"extends: baseline.yaml\nedd: {}\n", SCENARIOS)
    assert caught.value.file == "mine.yaml" and "ed" in str(caught.value)
