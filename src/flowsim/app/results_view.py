"""The comparison on the page: running it with its cards streaming in, then the results'
tabs (KPI cards, figures, bottlenecks, the pressure map, the animated day, downloads), and the
offered load shown before anything runs.

The cards of a run in progress are drawn in a placeholder that each landed batch redraws; the
results of the last run are kept in the session and drawn again (marked stale when the choices
have moved on) by `show_results`.
"""

from __future__ import annotations

import math
import time
from typing import Any

import streamlit as st

from flowsim.api import scenario_labels
from flowsim.app import engine, page_cache, watch_view
from flowsim.app.engine import Comparison, ComparisonSettings
from flowsim.scenario import Scenario

__all__ = ["SHORT_UNITS", "cards", "figures_of", "number", "offered_load", "run", "show_results"]

SHORT_UNITS = {"minutes": "min", "hours": "h", "days": "days", "per day": "a day", "%": "%"}
"""Units as a card writes them after a number."""


def run(choices: list[tuple[str, Scenario]], settings: ComparisonSettings) -> Comparison:
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
    section = page_cache.census(page_cache.scenario_json(base), settings.census_day, base)
    warmed = [engine.with_warm_start(s, section) for s in scenarios]
    named = [s.model_copy(update={"name": n}) for s, n in zip(warmed, labels, strict=True)]
    bar.progress(0.0, text="Running the first paired replication…")
    result = None
    for result in engine.stream_comparison(
        named, labels, settings, engine.shared_pool(), page_cache.results_cache()
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
            cards(result)
    assert result is not None
    live.empty()
    bar.empty()
    stop.empty()
    return result


def number(value: float, unit: str) -> str:
    from flowsim.report import format_value

    if not math.isfinite(value):
        return "–"
    return f"{format_value(value, unit)} {SHORT_UNITS.get(unit, unit)}".strip()


def cards(result: Comparison, stale: bool = False) -> None:
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
                        st.metric(kpi_label(kpi), number(float(r["mean"]), unit))
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
                        number(float(c["scenario_mean"]), unit),
                        delta,
                        delta_color=colour,
                    )
                    if label in result.identical:
                        st.caption("**no difference to any patient** · exactly the baseline's")
                        continue
                    dci = format_ci(float(c["ci_low"]), float(c["ci_high"]), unit, like=diff)
                    verdict = str(c["verdict"]) + (f", {assessment}" if assessment else "")
                    st.caption(f"**{verdict}** · difference 95% CI {dci}")


def figures_of(result: Comparison) -> dict[str, bytes]:
    if st.session_state.get("_figures_for") is not result:
        from flowsim.app.views import comparison_figures, report_html
        from flowsim.report.figures import figure_png

        figures = comparison_figures(result)
        st.session_state["_figures"] = {c: figure_png(f) for c, f in figures.items()}
        st.session_state["_report"] = report_html(result, figures)
        st.session_state["_figures_for"] = result
    return st.session_state["_figures"]


def show_results(result: Comparison, downloads: dict[str, Any], stale: str | None = None) -> None:
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
        cards(result, stale=bool(stale))
        st.caption(
            "Each card: the mean over the replications. Under a change: the paired difference "
            "from the baseline with its 95% confidence interval; 'no clear difference' when "
            "the interval includes zero. Green better, red worse, grey no clear difference."
        )
    figures = figures_of(result)
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
        pressure(result)
    with tabs[4]:
        watch_view.watch(result)
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
def pressure(result: Comparison) -> None:
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
    # drawn once per result and change (a few seconds of plotly), not on every rerun of the
    # page: a lever moved, a tab chosen
    drawn = st.session_state.get("_pressure_maps")
    if drawn is None or drawn[0] is not result:
        drawn = (result, {})
        st.session_state["_pressure_maps"] = drawn
    for x in shown:  # one above the other: a map needs the page's width to be read
        if (x, top) not in drawn[1]:
            drawn[1][(x, top)] = pressure_map(result.chains[x], x, scale_places=top)
        st.plotly_chart(drawn[1][(x, top)], width="stretch", key=f"pressure:{x}")


def offered_load(choices: list[tuple[str, Scenario]]) -> None:
    """Each unit's offered load (arrivals x mean stay / places) in each scenario, and where a
    unit is at 95% or more, why that matters (`flowsim.api.offered_load`)."""
    import pandas as pd

    columns, warnings = {}, []
    for name, scenario in choices:
        table = page_cache.offered_load(engine.scenario_key(scenario), scenario)
        table = table[(table["places"] > 0) | (table["busy_places"] > 0)]
        columns[name] = (100 * table.set_index("label")["load"]).map(lambda v: f"{v:.0f}%")
        warnings += [f"{name}: {w}" for w in table["warning"] if w]
    st.dataframe(pd.DataFrame(columns))
    for warning in warnings:
        st.markdown(f":red[{warning}]")
