"""The flowsim workshop app: a Streamlit page a facilitator puts on a projector.

Run it with ``flowsim app`` (or ``streamlit run`` on this file). Choose a baseline and the
changes to compare with it (library scenarios, an uploaded file, or "your change": the
baseline with levers moved), press Run, and read the KPI cards: each change's effect with its
95% confidence interval and a verdict in words. The simulation runs in worker processes shared
by every session (`flowsim.app.engine.shared_pool`). The cards appear after the first paired
replication and tighten as the rest land (`flowsim.app.engine.stream_comparison`), with a
precision line and a Stop that keeps what has landed. Each replication is cached by the
scenario's canonical JSON, the run settings and its number, so a second comparison that reuses
the baseline, or asks for more replications, runs only what is new.

Results on screen are marked stale as soon as a lever, a choice or a run setting moves away
from what produced them; a change that made no difference to any patient says so.

Nothing a user uploads or sets can end in a traceback: scenario problems are listed in plain
words, anything else in one sentence with what to try.
"""

from __future__ import annotations

import hashlib
import math
import time
from pathlib import Path
from typing import Any

import streamlit as st

from flowsim.api import scenario_labels
from flowsim.app import engine, form_view, presets
from flowsim.app.engine import Comparison, ComparisonSettings
from flowsim.errors import ModelError, ScenarioError
from flowsim.scenario import Scenario, apply_changes, load_scenario

UPLOADED = "(uploaded file)"
YOUR_CHANGE = "your change"
_SHORT_UNITS = {"minutes": "min", "hours": "h", "days": "days", "per day": "a day", "%": "%"}


# ---------------------------------------------------------------- cached work


@st.cache_data(max_entries=32, show_spinner=False)
def _library(folder: str) -> dict[str, tuple[str, str]]:
    return {k: (str(p), t) for k, (p, t) in engine.library(Path(folder)).items()}


@st.cache_resource(max_entries=64, show_spinner=False)
def _load(path: str, mtime: float) -> Scenario:
    """A library file, read once per version (scenarios are immutable, so shared safely)."""
    return load_scenario(path)


@st.cache_data(max_entries=16, show_spinner=False)
def _census(scenario_json: str, census_day: float, _scenario: Scenario) -> dict[str, Any]:
    settings = ComparisonSettings(census_day=census_day)
    return engine.census(_scenario, settings, engine.shared_pool())


@st.cache_resource(show_spinner=False)
def _results_cache() -> engine.ResultCache:
    """Each replication by scenario hash, run settings and number, shared by every session. Not
    st.cache_data: that replays the progress bar's updates made inside the cached call."""
    return engine.ResultCache(max_entries=1024)


@st.cache_resource(max_entries=4, show_spinner=False)
def _prefetch_baseline(
    scenario_json: str,
    settings: ComparisonSettings,
    _scenario: Scenario,
    _section: dict[str, Any],
) -> bool:
    """Once per baseline and server: run the library baseline's replications at the default
    settings in the background (`engine.prefetch`), labelled as `_run` labels a baseline, so
    the first comparison finds them cached."""
    label = scenario_labels([_scenario], [_scenario.name])[0]
    warmed = engine.with_warm_start(_scenario, _section)
    engine.prefetch(warmed, label, settings, engine.shared_pool(), _results_cache())
    return True


@st.cache_resource(show_spinner=False)
def _animations() -> engine.ResultCache:
    """Drawn animations (plotly JSON) by scenario hashes and days, shared by every session."""
    return engine.ResultCache(max_entries=16)


# rough seconds to simulate and draw one panel of a day or a week, for the progress bar;
# updated as animations are drawn (a comment: Streamlit would print a bare string)
_DRAW_SECONDS = {1: 6.0, 7: 15.0}


def _animate(scenarios: list[Scenario], days: int) -> str:
    """The animation of ``scenarios`` side by side (plotly JSON), with a progress bar while
    a worker simulates and draws the day (waited for in a thread, so the bar keeps moving)."""
    from concurrent.futures import ThreadPoolExecutor

    from flowsim.app.views import animation_task, animation_to_json

    key = (tuple(engine.scenario_key(s) for s in scenarios), days)
    found = _animations().get(key)
    if found is not None:
        return found

    def work() -> str:
        task = animation_task(scenarios[0], days)
        return engine.shared_pool().map([task], animation_to_json(scenarios, days))[0]

    expected = _DRAW_SECONDS.get(days, 10.0) * len(scenarios)
    bar = st.progress(0.0, text="Simulating the day…")
    started = time.perf_counter()
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(work)
        while not future.done():
            elapsed = time.perf_counter() - started
            bar.progress(
                min(elapsed / expected, 0.97),
                text=f"Simulating and drawing {len(scenarios)} panel(s): {elapsed:.0f} s "
                f"of about {expected:.0f} s",
            )
            time.sleep(0.25)
        found = future.result()
    _DRAW_SECONDS[days] = (time.perf_counter() - started) / len(scenarios)
    bar.empty()
    _animations().put(key, found)
    return found


def _key(scenario: Scenario) -> str:
    return scenario.model_dump_json(by_alias=True)


# ---------------------------------------------------------------- helpers


def _problems(error: ScenarioError) -> None:
    lines = "\n".join(f"- {p}" for p in error.problems)
    st.error(f"This scenario cannot be used. What to fix:\n\n{lines}")


def _library_scenario(stem: str) -> Scenario:
    lib = _library(str(engine.scenarios_folder()))
    path = lib[stem][0]
    return _load(path, Path(path).stat().st_mtime)


def _uploaded() -> tuple[Scenario | None, str | None]:
    """The uploaded scenario, if one was given and it is valid (problems shown otherwise)."""
    file = st.session_state.get("upload")
    if file is None:
        return None, None
    data = file.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    cache = st.session_state.setdefault("_uploads", {})
    if digest not in cache:
        try:
            cache[digest] = engine.load_upload(file.name, data, engine.scenarios_folder())
        except ScenarioError as error:
            cache[digest] = error
    found = cache[digest]
    if isinstance(found, ScenarioError):
        with st.sidebar:
            _problems(found)
        return None, file.name
    return found, file.name


def _lever_key(base: Scenario, key: str) -> str:
    return f"lever:{engine.scenario_key(base)}:{key}"


def _apply_preset() -> None:
    """Set the page to a preset's exercise (called before the widgets are drawn)."""
    title = st.session_state.get("preset")
    preset = next((p for p in presets.PRESETS if p.title == title), None)
    if preset is None:
        return
    lib = _library(str(engine.scenarios_folder()))
    st.session_state["base"] = "baseline" if "baseline" in lib else next(iter(lib))
    st.session_state["alts"] = [s for s in preset.library if s in lib]
    base = _library_scenario(st.session_state["base"])
    current = engine.lever_values(base)
    for key, value in current.items():
        st.session_state[_lever_key(base, key)] = value
    for key, value in preset.values(current).items():
        st.session_state[_lever_key(base, key)] = value
    st.session_state.pop("result", None)


def _lever_widgets(base: Scenario) -> dict[str, Any]:
    values = engine.lever_values(base)
    out: dict[str, Any] = {}
    for lever in engine.levers(base):
        key = _lever_key(base, lever.key)
        if key not in st.session_state:
            st.session_state[key] = values[lever.key]
        if lever.kind == "bool":
            out[lever.key] = st.toggle(lever.label, key=key, help=lever.help)
        elif lever.kind == "hours":
            out[lever.key] = st.slider(lever.label, 0, 24, key=key, help=lever.help, format="%d:00")
        elif lever.kind == "float":
            out[lever.key] = st.slider(
                lever.label, lever.low, lever.high, step=lever.step, key=key, help=lever.help
            )
        else:
            out[lever.key] = st.slider(
                lever.label, int(lever.low), int(lever.high), key=key, help=lever.help
            )
    return out


def _settings_widgets() -> ComparisonSettings:
    default = engine.default_settings()
    reps = st.number_input(
        "Replications (more: narrower intervals, longer wait)",
        min_value=2,
        max_value=30,
        value=default.replications,
        key="replications",
    )
    days = st.number_input(
        "Days measured per replication",
        min_value=1,
        max_value=365,
        value=int(default.horizon_days),
        key="days",
    )
    return ComparisonSettings(
        replications=int(reps),
        horizon_days=float(days),
        warm_up_days=default.warm_up_days,
        census_day=default.census_day,
    )


# ---------------------------------------------------------------- running


def _run(choices: list[tuple[str, Scenario]], settings: ComparisonSettings) -> Comparison:
    """Run the comparison, showing the cards after the first paired replication and again as
    each batch lands (`engine.stream_comparison`). Each partial result is kept in the session
    as it lands, so Stop (or any click, which makes Streamlit rerun the page) keeps what has
    been run so far."""
    started = time.perf_counter()
    key = engine.run_key(choices, settings)
    scenarios = [s for _, s in choices]
    labels = scenario_labels(
        [s.model_copy(update={"name": n}) for n, s in choices], [n for n, _ in choices]
    )
    stop = st.empty()
    stop.button("Stop", key="stop", help="Keep the replications run so far and stop.")
    bar = st.progress(0.0, text="Preparing the starting census…")
    live = st.empty()
    base = scenarios[0].model_copy(update={"warm_start": None})
    section = _census(_key(base), settings.census_day, base)
    warmed = [engine.with_warm_start(s, section) for s in scenarios]
    named = [s.model_copy(update={"name": n}) for s, n in zip(warmed, labels, strict=True)]
    bar.progress(0.0, text="Running the first paired replication…")
    result = None
    for result in engine.stream_comparison(
        named, labels, settings, engine.shared_pool(), _results_cache()
    ):
        result.key = key
        result.wall_seconds = time.perf_counter() - started
        st.session_state["result"] = result
        if result.complete:
            break
        bar.progress(
            result.replications / settings.replications,
            text=f"{engine.precision_note(result)} · {result.wall_seconds:.1f} s so far",
        )
        with live.container():
            _cards(result)
    assert result is not None
    live.empty()
    bar.empty()
    stop.empty()
    return result


# ---------------------------------------------------------------- showing results


def _number(value: float, unit: str) -> str:
    from flowsim.report import format_value

    if not math.isfinite(value):
        return "–"
    return f"{format_value(value, unit)} {_SHORT_UNITS.get(unit, unit)}".strip()


def _cards(result: Comparison, stale: bool = False) -> None:
    """One column of KPI cards per scenario; under a change, its paired difference. A change
    that made no difference to any patient says so on each card; ``stale`` marks every column
    as results of other settings."""
    from flowsim.report import format_ci, kpi_label

    summary = result.summary()
    headline = result.headline
    columns = st.columns(len(result.labels))
    for i, (column, label) in enumerate(zip(columns, result.labels, strict=True)):
        with column:
            st.subheader(label if i or label == "baseline" else f"{label} (baseline)")
            if stale:
                st.markdown(":orange-badge[stale: from other settings]")
            elif i and label in result.identical:
                st.markdown(":gray-badge[no difference to any patient]")
            for kpi in [k for k in dict.fromkeys(headline["kpi"])]:
                with st.container(border=True):
                    row = summary[(summary["scenario"] == label) & (summary["kpi"] == kpi)]
                    if row.empty:
                        continue
                    r = row.iloc[0]
                    unit = str(r["unit"])
                    ci = format_ci(float(r["ci_low"]), float(r["ci_high"]), unit, like=r["mean"])
                    if i == 0:
                        st.metric(kpi_label(kpi), _number(float(r["mean"]), unit))
                        st.caption(f"95% CI {ci}")
                        continue
                    d = headline[(headline["scenario"] == label) & (headline["kpi"] == kpi)]
                    c = d.iloc[0]
                    diff = float(c["difference"])
                    pct = float(c["pct_change"])
                    assessment = str(c["assessment"])
                    colour = "off"
                    if assessment in ("better", "worse"):
                        good_up = (assessment == "better") == (diff > 0)
                        colour = "normal" if good_up else "inverse"
                    delta = f"{diff:+.3g} ({pct:+.1f}%)" if math.isfinite(pct) else f"{diff:+.3g}"
                    st.metric(
                        kpi_label(kpi),
                        _number(float(c["scenario_mean"]), unit),
                        delta,
                        delta_color=colour,
                    )
                    if label in result.identical:
                        st.caption("**no difference to any patient** · exactly the baseline's")
                        continue
                    dci = format_ci(float(c["ci_low"]), float(c["ci_high"]), unit, like=diff)
                    verdict = str(c["verdict"]) + (f", {assessment}" if assessment else "")
                    st.caption(f"**{verdict}** · difference 95% CI {dci}")


def _figures(result: Comparison) -> dict[str, bytes]:
    if st.session_state.get("_figures_for") is not result:
        from flowsim.app.views import comparison_figures, report_html
        from flowsim.report.figures import figure_png

        figures = comparison_figures(result)
        st.session_state["_figures"] = {c: figure_png(f) for c, f in figures.items()}
        st.session_state["_report"] = report_html(result, figures)
        st.session_state["_figures_for"] = result
    return st.session_state["_figures"]


def _results(result: Comparison, downloads: dict[str, Any], stale: str | None = None) -> None:
    """The results of a comparison: what was run, then tabs of cards, figures, bottlenecks,
    the animation and downloads. ``stale``: why they are not the current settings' results."""
    s = result.settings
    if stale:
        st.warning(
            f"**Stale results: these are from other settings.** Since they were run, {stale}. "
            "Press **Run comparison** to see the current settings' results.",
            icon=":material/history:",
        )
    reused = [label for label, hit in zip(result.labels, result.cached, strict=True) if hit]
    ran = (
        f"Ran {s.describe()}"
        if result.complete
        else f"Stopped after {result.replications} of {s.replications} paired replications "
        f"({s.describe()})"
    )
    changes = len(result.labels) - 1
    nothing = [f"**{label}**: {why}." for label, why in result.identical.items()]
    more = (
        ""
        if len(nothing) == changes
        else " For more precision, raise the replications or the days under Run settings, or "
        "run `flowsim compare` with the saved scenario files (e.g. 10 replications of 90 days)."
    )
    st.info(
        f"{ran}, in {result.wall_seconds:.1f} s"
        + (f" (reused earlier runs of {', '.join(reused)})" if reused else "")
        + f". Precision: {engine.precision_note(result)}."
        + more
        + ("\n\n" + "\n\n".join(nothing) if nothing else "")
    )
    tabs = st.tabs(
        ["KPI cards", "Figures", "Bottlenecks", "Pressure map", "Watch a day", "Downloads"],
        key="view",
        on_change="rerun",
    )
    with tabs[0]:
        _cards(result, stale=bool(stale))
        st.caption(
            "Each card: the mean over the replications. Under a change: the paired difference "
            "from the baseline with its 95% confidence interval; 'no clear difference' when "
            "the interval includes zero. Green better, red worse, grey no clear difference."
        )
    figures = _figures(result)
    with tabs[1]:
        for caption, png in figures.items():
            if "blocking chain" not in caption:
                st.image(png, caption=caption)
    with tabs[2]:
        for label, b in result.chains.items():
            st.markdown(
                f"**{label}**: primary constraint **{b.primary_words() or 'none'}**. "
                f"Waiting travels upstream: {b.chain_words() or 'no waiting for capacity'}."
            )
            st.markdown(b.verdict_text())
            if rows := b.share_rows():
                heads = ("Primary constraint", "Replications", "Share", "Waiting kept h/day (CI)")
                st.table(dict(zip(heads, map(list, zip(*rows, strict=True)), strict=True)))
        for caption, png in figures.items():
            if "blocking chain" in caption:
                st.image(png, caption=caption)
    with tabs[3]:
        _pressure(result)
    with tabs[4]:
        _watch(result)
    with tabs[5]:
        st.download_button(
            "Download the HTML report",
            st.session_state["_report"],
            file_name="flowsim_comparison.html",
            mime="text/html",
            key="download_report",
        )
        if downloads.get("yaml"):
            st.download_button(
                "Download your change as a scenario file (YAML)",
                downloads["yaml"],
                file_name="your_change.yaml",
                mime="text/yaml",
                key="download_yaml",
            )
            st.code(downloads["yaml"], language="yaml")


@st.fragment
def _pressure(result: Comparison) -> None:
    """The pressure map of the baseline and one change, on one scale."""
    from flowsim.app.pressure import pressure_map

    st.markdown(
        "The pathway as a network, averaged over the replications: each box is a unit, as "
        "tall as its places and filled to its mean occupancy (green, amber from 85%, red from "
        "95%); arrows run from where patients wait to what they wait for, with how many wait "
        "there on average; the blocking chain is red. Read it from the front door inwards."
    )
    label = result.labels[0]
    if len(result.labels) > 2:
        label = st.selectbox("Change", result.labels[1:], key="pressure_change")
    elif len(result.labels) == 2:
        label = result.labels[1]
    shown = list(dict.fromkeys([result.labels[0], label]))
    top = max(
        (
            float(result.chains[x].resources["capacity_mean"].max())
            for x in shown
            if not result.chains[x].resources.empty
        ),
        default=1.0,
    )
    for x in shown:  # one above the other: a map needs the page's width to be read
        st.plotly_chart(
            pressure_map(result.chains[x], x, scale_places=top),
            width="stretch",
            key=f"pressure:{x}",
        )


@st.fragment
def _watch(result: Comparison) -> None:
    """The animated day or week, baseline and a change side by side on one clock. A fragment:
    its widgets rerun only this part of the page, so the tabs stay where they are."""
    import plotly.io as pio

    st.markdown(
        "One simulated day (or week) at the front door: patients arrive, wait for a cubicle, "
        "are seen, and wait in ED for a bed. Every scenario meets the same patients at the "
        "same moments (common random numbers), so side by side only the change differs. "
        "Colour: frailty band (legend above the picture); the clock shows day and time."
    )
    options = result.labels[1:] or result.labels
    label = st.selectbox(
        "Beside the baseline",
        options,
        key="watch_scenario",
        help="The change drawn next to the baseline, on the same clock.",
    )
    alone = st.toggle("Only this scenario", key="watch_alone", value=len(result.labels) < 2)
    days = (
        1
        if st.radio("Show", ["a day", "a week"], key="watch_span", horizontal=True) == ("a day")
        else 7
    )
    chosen = [label] if alone else list(dict.fromkeys([result.labels[0], label]))
    scenarios = [result.scenarios[result.labels.index(x)] for x in chosen]
    wanted = (tuple(engine.scenario_key(s) for s in scenarios), days)
    if st.button("Animate", key="animate"):
        st.session_state["_animation"] = (wanted, _animate(scenarios, days))
    shown = st.session_state.get("_animation")
    if shown and shown[0] == wanted:
        st.plotly_chart(pio.from_json(shown[1]), width="stretch", key="animation")


# ---------------------------------------------------------------- the page


def _offered_load(choices: list[tuple[str, Scenario]]) -> None:
    """Each unit's offered load (arrivals x mean stay / places) in each scenario, and where a
    unit is at 95% or more, why that matters (`flowsim.api.offered_load`)."""
    import pandas as pd

    from flowsim.api import offered_load

    columns, warnings = {}, []
    for name, scenario in choices:
        table = offered_load(scenario)
        table = table[(table["places"] > 0) | (table["busy_places"] > 0)]
        columns[name] = (100 * table.set_index("label")["load"]).map(lambda v: f"{v:.0f}%")
        warnings += [f"{name}: {w}" for w in table["warning"] if w]
    st.dataframe(pd.DataFrame(columns))
    for warning in warnings:
        st.markdown(f":red[{warning}]")


def main() -> None:
    """Draw the page."""
    st.set_page_config(page_title="flowsim workshop", layout="wide")
    st.title("flowsim: what if we changed the pathway?")
    folder = engine.scenarios_folder()
    try:
        lib = _library(str(folder))
    except OSError:
        lib = {}
    if "baseline" not in lib:
        st.error(
            f"Cannot find the scenario library (looked for baseline.yaml in {folder}). Start "
            "the app from the flowsim folder, or give the folder: flowsim app --scenarios DIR."
        )
        return

    default = engine.default_settings()
    start = _library_scenario("baseline").model_copy(update={"warm_start": None})
    with st.spinner("Preparing the starting census of the baseline (once per baseline)…"):
        section = _census(_key(start), default.census_day, start)
    _prefetch_baseline(_key(start), default, start, section)

    with st.sidebar:
        st.header("Exercise")
        st.selectbox(
            "Facilitator presets",
            ["(none)", *(p.title for p in presets.PRESETS)],
            key="preset",
            on_change=_apply_preset,
        )
        chosen = next(
            (p for p in presets.PRESETS if p.title == st.session_state.get("preset")), None
        )
        if chosen is not None:
            st.info(f"**Ask the room:** {chosen.question}\n\n**Look for:** {chosen.look_for}")
        st.header("Scenarios")
        st.file_uploader(
            f"Upload a scenario file (YAML, up to {engine.MAX_UPLOAD_BYTES // 1000} kB)",
            type=["yaml", "yml"],
            key="upload",
            help="A file that extends baseline.yaml with the settings you change.",
        )
    uploaded, upload_name = _uploaded()
    bases = list(lib) + ([UPLOADED] if uploaded is not None else [])
    with st.sidebar:
        base_choice = st.selectbox(
            "Baseline",
            bases,
            key="base",
            format_func=lambda k: f"uploaded: {upload_name}" if k == UPLOADED else lib[k][1],
        )
        others = [k for k in bases if k != base_choice]
        st.session_state["alts"] = [k for k in st.session_state.get("alts", []) if k in others]
        alts = st.multiselect(
            "Compare with",
            others,
            key="alts",
            format_func=lambda k: f"uploaded: {upload_name}" if k == UPLOADED else lib[k][1],
        )
    try:
        base = uploaded if base_choice == UPLOADED else _library_scenario(base_choice)
        chosen_alts = [
            (upload_name or "uploaded", uploaded)
            if k == UPLOADED
            else (_library_scenario(k).name, _library_scenario(k))
            for k in alts
        ]
    except ScenarioError as error:
        _problems(error)
        return
    assert base is not None
    with st.sidebar:
        st.header("Your change")
        st.caption("Move a lever to add 'your change' (the baseline with these settings).")
        values = _lever_widgets(base)
        with st.expander("Run settings"):
            settings = _settings_widgets()
    changes = engine.lever_changes(base, values)
    downloads: dict[str, Any] = {}
    choices: list[tuple[str, Scenario]] = [(base.name, base), *chosen_alts]  # type: ignore[list-item]
    if changes:
        try:
            mine = apply_changes(base, changes).model_copy(update={"name": YOUR_CHANGE})
        except ScenarioError as error:
            _problems(error)
            return
        choices.append((YOUR_CHANGE, mine))
        from flowsim.app.views import change_yaml

        downloads["yaml"] = change_yaml(
            base, changes, YOUR_CHANGE, None if base_choice == UPLOADED else f"{base_choice}.yaml"
        )
        st.markdown("**Your change:** " + ", ".join(f"`{k}` → {v}" for k, v in changes.items()))

    if (edited := form_view.all_settings(base)) is not None:  # every key, as a form
        choices.append((edited.name, edited))
    with st.expander("Offered load before anything runs (from the scenarios, no simulation)"):
        _offered_load(choices)
    st.caption(
        f"Will run {settings.describe()}. About "
        f"{settings.replications * len(choices)} replications in total."
    )
    if st.button("Run comparison", type="primary", key="run"):
        if len(choices) < 2:
            st.warning(
                "Nothing to compare yet: choose a scenario under 'Compare with', or move a "
                "lever under 'Your change'."
            )
        else:
            try:
                st.session_state["result"] = _run(choices, settings)
            except ScenarioError as error:
                _problems(error)
            except ModelError as error:
                st.error(f"The simulation stopped: {error}. Please report this scenario.")
            except (MemoryError, OSError) as error:
                st.error(
                    f"The computer ran out of room for this run ({type(error).__name__}). "
                    "Try fewer replications or days under Run settings."
                )
    result = st.session_state.get("result")
    if result is not None:
        _results(
            result, downloads, engine.stale_reason(result.key, engine.run_key(choices, settings))
        )
    else:
        st.markdown(
            "Choose a **baseline** and what to **compare with** (or move a lever), then press "
            "**Run comparison**. A facilitator preset sets up a ready-made exercise."
        )


if __name__ == "__main__":  # Streamlit runs the page as __main__; a worker process started
    main()  # with spawn imports it as __mp_main__ and must not draw the page
