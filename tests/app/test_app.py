"""The workshop app through Streamlit's AppTest: load, presets, a lever, a run, a comparison and
bad uploads. Runs tiny comparisons (2 replications of 2 days from a 10-day census) in this
process, so the page's logic is tested, not the simulation's speed."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from flowsim.app import MAIN_SCRIPT, engine, presets
from flowsim.errors import ScenarioError
from flowsim.scenario import load_scenario
from helpers.app_helpers import use_small_app_runs

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.fixture(autouse=True)
def small_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    use_small_app_runs(monkeypatch, days=2)


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
    # A change every discharge feels, so even 2 days from a day-10 census show an effect.
    at.multiselect(key="alts").set_value(["discharge_earlier_in_day"]).run()
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


# ---------------------------------------------------------------- stale and no-effect results


def test_moving_a_lever_marks_the_results_on_screen_stale() -> None:
    at = page()
    at.multiselect(key="alts").set_value(["afu_expansion"]).run()
    at.button(key="run").click().run()
    assert not at.warning, [w.value for w in at.warning]
    lever(at, "amu.beds").set_value(lever(at, "amu.beds").value + 5).run()
    stale = " ".join(w.value for w in at.warning)
    assert "Stale results" in stale and "your change added" in stale
    assert any("stale: from other settings" in m.value for m in at.markdown)
    at.button(key="run").click().run()
    assert not any("Stale" in w.value for w in at.warning)
    assert "your change" in [s.value for s in at.subheader]


def test_a_change_that_sets_nothing_says_it_made_no_difference() -> None:
    at = page()
    text = b"extends: baseline.yaml\nname: same again\n"
    at.sidebar.file_uploader(key="upload").upload("same.yaml", text, "text/yaml").run()
    at.multiselect(key="alts").set_value(["(uploaded file)"]).run()
    at.button(key="run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    info = at.info[-1].value
    assert "made no difference to any patient" in info and "no setting differs" in info
    assert "more precision" not in info
    captions = [c.value for c in at.caption]
    assert any("no difference to any patient" in c for c in captions)
    assert not any(c.startswith("**no clear difference") for c in captions)


def test_stale_reason_says_what_changed() -> None:
    base = load_scenario(SCENARIOS / "baseline.yaml")
    from flowsim.scenario import apply_changes

    settings = engine.ComparisonSettings(replications=2)
    mine = apply_changes(base, {"afu.beds": 30})
    shown = engine.run_key([("baseline", base), ("your change", mine)], settings)
    assert engine.stale_reason(shown, shown) is None
    assert engine.stale_reason(None, shown) is None
    more = apply_changes(base, {"afu.beds": 31})
    now = engine.run_key([("baseline", base), ("your change", more)], settings)
    assert engine.stale_reason(shown, now) == "the settings of your change changed"
    dropped = engine.run_key([("baseline", base)], settings)
    assert "your change removed" in str(engine.stale_reason(shown, dropped))
    longer = engine.run_key(
        [("baseline", base), ("your change", mine)], engine.ComparisonSettings(replications=3)
    )
    assert engine.stale_reason(shown, longer) == "the run settings changed"


def test_paired_replications_with_identical_logs_are_called_no_difference() -> None:
    """The digest of every patient's journey: equal for a renamed copy (the same patients,
    event for event), different for a real change; ``no_difference`` words both."""
    from flowsim.scenario import apply_changes

    base = load_scenario(SCENARIOS / "baseline.yaml")
    renamed = base.model_copy(update={"name": "copy"})
    no_afu = apply_changes(base, {"afu.beds": 0, "afu.divert_to_amu_when_full": True})
    settings = engine.ComparisonSettings(replications=1, horizon_days=1.0, warm_up_days=0.0)
    pool = engine.WorkerPool(1)
    results = [engine.run_scenario(s, settings, pool) for s in (base, renamed, no_afu)]
    digests = [r[0]["digest"] for r in results]
    assert digests[0] == digests[1] != digests[2]
    # a setting differs but no patient noticed: identical logs
    p3 = apply_changes(base, {"community.p3.capacity": base.community.p3.capacity + 1})
    why = engine.no_difference(base, p3, results[0], results[1])
    assert why is not None and "event for event" in why and "community.p3.capacity" in why
    assert engine.no_difference(base, no_afu, results[0], results[2]) is None
    assert "no setting differs" in str(engine.no_difference(base, renamed, results[0], results[1]))


def test_stream_comparison_lands_replication_by_replication_and_caches_each(
    tmp_path: Path,
) -> None:
    base = load_scenario(SCENARIOS / "baseline.yaml").model_copy(update={"warm_start": None})
    from flowsim.scenario import apply_changes

    alt = apply_changes(base, {"afu.beds": base.afu.beds + 10})
    settings = engine.ComparisonSettings(replications=2, horizon_days=1.0, warm_up_days=0.0)
    pool, cache = engine.WorkerPool(1), engine.ResultCache(folder=tmp_path)
    seen = list(engine.stream_comparison([base, alt], ["baseline", "alt"], settings, pool, cache))
    assert [r.replications for r in seen] == [1, 2]
    assert not seen[0].complete and seen[-1].complete
    assert "intervals need a second replication" in engine.precision_note(seen[0])
    assert "2 of 2 paired replications" in engine.precision_note(seen[-1])
    assert seen[-1].cached == [False, False]
    # the same again, and one more replication: only the new one runs
    again = list(engine.stream_comparison([base, alt], ["baseline", "alt"], settings, pool, cache))
    assert len(again) == 1 and again[0].cached == [True, True]
    more = dataclasses.replace(settings, replications=3)
    ran = []
    found = list(
        engine.stream_comparison(
            [base, alt], ["baseline", "alt"], more, pool, cache, on_done=ran.append
        )
    )
    assert [r.replications for r in found] == [2, 3] and len(ran) == 2
    assert found[-1].kpis.equals(found[-1].kpis)  # complete table
    assert found[0].table.equals(seen[-1].table)


# ---------------------------------------------------------------- watch a day


def test_day_clock_counts_days_and_hours_from_the_animated_window() -> None:
    from flowsim.app.views import day_clock

    assert day_clock(24 * 60) == "Day 1, 00:00"
    assert day_clock(24 * 60 + 1695) == "Day 2, 04:15"


def test_front_door_stages_are_stacked_without_overlap() -> None:
    from flowsim.app import views

    base = load_scenario(SCENARIOS / "baseline.yaml")
    places = views.animated_places(base)
    pos = views.front_door_positions(places).set_index("event")
    for column in (
        ["ward_wait", "ed_cubicle_begins", "ed_cubicle_wait"],
        ["afu_begins", "afu_wait", "amu_begins", "amu_wait", "sdec_begins", "sdec_wait"],
    ):
        for below, above in itertools.pairwise(column):
            resource = pos.loc[below, "resource"]
            # vidigi builds upwards: rows of 30 places 20 apart, or 3 queue rows and "+ n more"
            tall = -(-places[resource] // 30) * 20 if isinstance(resource, str) else 4 * 26
            assert pos.loc[above, "y"] - pos.loc[below, "y"] >= tall + 20, (below, above)
    assert pos.loc["amu_begins", "label"] == f"AMU beds: {base.amu.beds}"
    assert pos.loc["ed_cubicle_wait", "label"] == "Waiting for an ED cubicle"
    assert len(set(pos["label"])) == len(pos)


def test_side_by_side_animation_has_one_clock_a_legend_and_a_panel_each() -> None:
    from flowsim.app import views
    from flowsim.experiment import run_replication
    from flowsim.scenario import apply_changes

    base = load_scenario(SCENARIOS / "baseline.yaml")
    alt = apply_changes(base, {"afu.beds": base.afu.beds + 10})
    events, places = {}, {}
    for label, s in (("baseline", base), ("more AFU", alt)):
        log = run_replication(views.animation_task(s, 1))
        events[label] = views.front_door_log(log, views.ANIMATION_START_HOURS, 2.0)
        places[label] = views.animated_places(s)
    fig = views.animation_figure(events, places, "2025-04-04", views.ANIMATION_START_HOURS, 2.0)
    steps = fig.layout.sliders[0].steps
    assert steps[0].label == "Day 1, 00:00" and steps[-1].label == "Day 1, 02:00"
    assert fig.layout.sliders[0].currentvalue.prefix == "Clock: "
    legend = {t.name for t in fig.data if t.showlegend}
    assert legend <= set(views.frailty_names().values()) and "fit (CFS 1-4)" in legend
    assert fig.layout.showlegend
    assert [a.text for a in fig.layout.annotations] == ["<b>baseline</b>", "<b>more AFU</b>"]


def test_watch_a_day_animates_side_by_side_and_stays_on_its_tab() -> None:
    at = page()
    at.multiselect(key="alts").set_value(["afu_expansion"]).run()
    at.button(key="run").click().run()
    at.session_state["view"] = "Watch a day"
    at.run()
    at.button(key="animate").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["view"] == "Watch a day"
    shown = at.session_state["_animation"]
    assert len(shown[0][0]) == 2  # baseline and the change
    assert '"Clock: "' in shown[1] and "Day 1, 00:00" in shown[1]


# ---------------------------------------------------------------- the pressure map


def planted_bottlenecks():
    """AMU full and blocking ED (the chain AMU -> ED cubicles -> ambulance handover)."""
    import pandas as pd

    from flowsim.analysis.bottlenecks import Bottlenecks

    resources = pd.DataFrame(
        {
            "resource": ["ed_cubicle", "amu", "ward:general_medicine"],
            "capacity_mean": [100.0, 50.0, 400.0],
            "occupied_mean": [90.0, 49.0, 300.0],
            "blocked_hours_per_day": [240.0, 0.0, 0.0],
        }
    )
    attribution = pd.DataFrame(
        {
            "cause": ["ed_cubicle", "amu", "discharge_referral"],
            "location": ["ambulance", "ed_cubicle", "ward:general_medicine"],
            "patient_hours_per_day": [48.0, 240.0, 24.0],
        }
    )
    return Bottlenecks(resources, attribution, ["amu", "ed_cubicle", "ambulance"], "amu", {})


def test_pressure_map_sizes_boxes_by_places_and_fills_them_by_occupancy() -> None:
    from flowsim.app.pressure import pressure_nodes

    nodes = pressure_nodes(planted_bottlenecks()).set_index("name")
    assert list(nodes.index[:2]) == ["ambulance", "ed_cubicle"]  # the front door first
    assert nodes.loc["amu", "fill"] == pytest.approx(0.98)
    assert nodes.loc["ed_cubicle", "blocked"] == pytest.approx(10.0)
    tall = nodes["y1"] - nodes["y0"]
    assert tall["ward:general_medicine"] > tall["ed_cubicle"] > tall["amu"]
    assert nodes["column"].is_monotonic_increasing
    for _, col in nodes.groupby("column"):  # no two boxes of a column overlap
        ordered = col.sort_values("y1", ascending=False)
        assert (ordered["y0"].to_numpy()[:-1] >= ordered["y1"].to_numpy()[1:]).all()
    # drawn on a shared scale, the same unit is as tall in baseline and change
    scaled = pressure_nodes(planted_bottlenecks(), scale_places=800.0).set_index("name")
    assert (scaled["y1"] - scaled["y0"])["amu"] < tall["amu"]


def test_pressure_map_draws_waiting_on_the_links_and_the_chain_in_red() -> None:
    from flowsim.app.pressure import pressure_map

    fig = pressure_map(planted_bottlenecks(), "baseline")
    texts = [a.text for a in fig.layout.annotations]
    assert "10.0 waiting" in texts and "2.0 waiting" in texts
    assert any("49 of 50 (98%)" in t for t in texts)
    assert any("10 blocked" in t for t in texts)
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    red = [a for a in arrows if a.arrowcolor == "#c0392b"]
    assert len(arrows) == 3 and len(red) == 2  # ambulance -> ED -> AMU; the referral grey
    assert "AMU" in fig.layout.title.text


def test_the_app_shows_a_pressure_map_for_baseline_and_change() -> None:
    at = page()
    at.multiselect(key="alts").set_value(["afu_expansion"]).run()
    at.button(key="run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    specs = [str(c.proto.spec) for c in at.get("plotly_chart")]
    maps = [s for s in specs if "blocking chain" in s]
    assert len(maps) == 2 and "baseline" in maps[0] and "afu expansion" in maps[1]


def test_a_prefetched_baseline_is_not_run_again(tmp_path: Path) -> None:
    from flowsim.scenario import apply_changes

    base = load_scenario(SCENARIOS / "baseline.yaml").model_copy(update={"warm_start": None})
    alt = apply_changes(base, {"afu.beds": base.afu.beds + 10})
    settings = engine.ComparisonSettings(replications=2, horizon_days=1.0, warm_up_days=0.0)
    pool, cache = engine.WorkerPool(1), engine.ResultCache(folder=tmp_path)
    engine.prefetch(base, "baseline", settings, pool, cache).join(timeout=300)
    ran: list[int] = []
    *_, last = engine.stream_comparison(
        [base.model_copy(update={"name": "baseline"}), alt],
        ["baseline", "alt"],
        settings,
        pool,
        cache,
        on_done=ran.append,
    )
    assert last.cached == [True, False] and len(ran) == 2 and last.complete


def test_stopping_a_stream_keeps_what_landed(tmp_path: Path) -> None:
    """Stop (or any click, which reruns the page) abandons the stream after a batch: the
    replications that landed stay cached and a new run does only the rest."""
    base = load_scenario(SCENARIOS / "baseline.yaml").model_copy(update={"warm_start": None})
    settings = engine.ComparisonSettings(replications=3, horizon_days=1.0, warm_up_days=0.0)
    pool, cache = engine.WorkerPool(1), engine.ResultCache(folder=tmp_path)
    stream = engine.stream_comparison([base], ["baseline"], settings, pool, cache)
    first = next(stream)
    stream.close()
    assert first.replications == 1 and not first.complete
    ran: list[int] = []
    *_, last = engine.stream_comparison(
        [base], ["baseline"], settings, pool, cache, on_done=ran.append
    )
    assert last.complete and len(ran) == 2
