"""The "Watch a day" tab: the front door of baseline and a change animated side by side on one
clock, simulated and drawn in a worker (`flowsim.app.views.animation_to_json`) while a progress
bar moves, and kept for every session (`flowsim.app.page_cache.animations`).
"""

from __future__ import annotations

import time

import streamlit as st

from flowsim.app import engine, page_cache
from flowsim.app.engine import Comparison
from flowsim.scenario import Scenario

__all__ = ["DRAW_SECONDS", "animate", "watch"]


# rough seconds to simulate and draw one panel of a day or a week, for the progress bar;
# updated as animations are drawn (a comment: Streamlit would print a bare string)
DRAW_SECONDS = {1: 6.0, 7: 15.0}


def animate(scenarios: list[Scenario], days: int) -> str:
    """The animation of ``scenarios`` side by side (plotly JSON), with a progress bar while
    a worker simulates and draws the day (waited for in a thread, so the bar keeps moving)."""
    from concurrent.futures import ThreadPoolExecutor

    from flowsim.app.views import animation_task, animation_to_json

    key = (tuple(engine.scenario_key(s) for s in scenarios), days)
    found = page_cache.animations().get(key)
    if found is not None:
        return found

    def work() -> str:
        task = animation_task(scenarios[0], days)
        return engine.shared_pool().map([task], animation_to_json(scenarios, days))[0]

    expected = DRAW_SECONDS.get(days, 10.0) * len(scenarios)
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
    DRAW_SECONDS[days] = (time.perf_counter() - started) / len(scenarios)
    bar.empty()
    page_cache.animations().put(key, found)
    return found


@st.fragment
def watch(result: Comparison) -> None:
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
        st.session_state["_animation"] = (wanted, animate(scenarios, days))
    shown = st.session_state.get("_animation")
    if shown and shown[0] == wanted:
        st.plotly_chart(pio.from_json(shown[1]), width="stretch", key="animation")
