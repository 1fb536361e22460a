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

This module draws the page from its parts: `flowsim.app.sidebar` (presets, scenarios, levers,
run settings), `flowsim.app.results_view` (the run and its results' tabs),
`flowsim.app.watch_view` (the animated day) and `flowsim.app.form_view` (every setting, as a
form); what they share across sessions is in `flowsim.app.page_cache`.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from flowsim.app import engine, form_view, page_cache, results_view, sidebar
from flowsim.errors import ModelError, ScenarioError
from flowsim.scenario import Scenario, apply_changes

YOUR_CHANGE = "your change"


def main() -> None:
    """Draw the page."""
    st.set_page_config(page_title="flowsim workshop", layout="wide")
    st.title("flowsim: what if we changed the pathway?")
    page_cache.warm_imports()
    folder = engine.scenarios_folder()
    try:
        lib = page_cache.library(str(folder))
    except OSError:
        lib = {}
    if "baseline" not in lib:
        st.error(
            f"Cannot find the scenario library (looked for baseline.yaml in {folder}). Start "
            "the app from the flowsim folder, or give the folder: flowsim app --scenarios DIR."
        )
        return

    default = engine.default_settings()
    start = page_cache.library_scenario("baseline").model_copy(update={"warm_start": None})
    with st.spinner("Preparing the starting census of the baseline (once per baseline)…"):
        section = page_cache.census(page_cache.scenario_json(start), default.census_day, start)
    page_cache.prefetch_baseline(page_cache.scenario_json(start), default, start, section)

    sidebar.exercise()
    chosen = sidebar.choose_scenarios(lib)
    if chosen is None:
        return
    base_choice, base = chosen.base_choice, chosen.base
    with st.sidebar:
        st.header("Your change")
        st.caption("Move a lever to add 'your change' (the baseline with these settings).")
        values = sidebar.lever_widgets(base)
        with st.expander("Run settings"):
            settings = sidebar.settings_widgets()
    changes = engine.lever_changes(base, values)
    downloads: dict[str, Any] = {}
    choices: list[tuple[str, Scenario]] = [(base.name, base), *chosen.alts]  # type: ignore[list-item]
    if changes:
        try:
            mine = apply_changes(base, changes).model_copy(update={"name": YOUR_CHANGE})
        except ScenarioError as error:
            sidebar.problems(error)
            return
        choices.append((YOUR_CHANGE, mine))
        from flowsim.app.views import change_yaml

        extends = None if base_choice == sidebar.UPLOADED else f"{base_choice}.yaml"
        downloads["yaml"] = change_yaml(base, changes, YOUR_CHANGE, extends)
        st.markdown("**Your change:** " + ", ".join(f"`{k}` → {v}" for k, v in changes.items()))

    if (edited := form_view.all_settings(base)) is not None:  # every key, as a form
        choices.append((edited.name, edited))
    # drawn last, into its place here: a scenario's offered load takes about a second the first
    # time, which must not delay the replications of a Run click
    offered = st.empty()
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
                st.session_state["result"] = results_view.run(choices, settings)
            except ScenarioError as error:
                sidebar.problems(error)
            except ModelError as error:
                st.error(f"The simulation stopped: {error}. Please report this scenario.")
            except (MemoryError, OSError) as error:
                st.error(
                    f"The computer ran out of room for this run ({type(error).__name__}). "
                    "Try fewer replications or days under Run settings."
                )
    with (
        offered.container(),
        st.expander("Offered load before anything runs (from the scenarios, no simulation)"),
    ):
        results_view.offered_load(choices)
    result = st.session_state.get("result")
    if result is not None:
        results_view.show_results(
            result, downloads, engine.stale_reason(result.key, engine.run_key(choices, settings))
        )
    else:
        st.markdown(
            "Choose a **baseline** and what to **compare with** (or move a lever), then press "
            "**Run comparison**. A facilitator preset sets up a ready-made exercise."
        )


if __name__ == "__main__":  # Streamlit runs the page as __main__; a worker process started
    main()  # with spawn imports it as __mp_main__ and must not draw the page
