"""The app's sidebar: the facilitator presets, the scenarios to compare (library or uploaded),
the levers of "your change" and the run settings.

A preset sets the widgets' values in the session before they are drawn (`apply_preset`, a
callback), so the page then reads as if the facilitator had moved them by hand.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import streamlit as st

from flowsim.app import engine, page_cache, presets
from flowsim.app.engine import ComparisonSettings
from flowsim.errors import ScenarioError
from flowsim.scenario import Scenario

__all__ = [
    "UPLOADED",
    "Choice",
    "apply_preset",
    "choose_scenarios",
    "exercise",
    "lever_key",
    "lever_widgets",
    "problems",
    "settings_widgets",
    "uploaded",
]

UPLOADED = "(uploaded file)"


def problems(error: ScenarioError) -> None:
    """A scenario's problems as a list of what to fix."""
    lines = "\n".join(f"- {p}" for p in error.problems)
    st.error(f"This scenario cannot be used. What to fix:\n\n{lines}")


def uploaded() -> tuple[Scenario | None, str | None]:
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
            problems(found)
        return None, file.name
    return found, file.name


def lever_key(base: Scenario, key: str) -> str:
    """The session key of a lever's widget: one per baseline, so each keeps its own values."""
    return f"lever:{engine.scenario_key(base)}:{key}"


def apply_preset() -> None:
    """Set the page to a preset's exercise (called before the widgets are drawn)."""
    title = st.session_state.get("preset")
    preset = next((p for p in presets.PRESETS if p.title == title), None)
    if preset is None:
        return
    lib = page_cache.library(str(engine.scenarios_folder()))
    st.session_state["base"] = "baseline" if "baseline" in lib else next(iter(lib))
    st.session_state["alts"] = [s for s in preset.library if s in lib]
    base = page_cache.library_scenario(st.session_state["base"])
    current = engine.lever_values(base)
    for key, value in current.items():
        st.session_state[lever_key(base, key)] = value
    for key, value in preset.values(current).items():
        st.session_state[lever_key(base, key)] = value
    st.session_state.pop("result", None)


def lever_widgets(base: Scenario) -> dict[str, Any]:
    """A widget for each lever of ``base``; their values by lever key."""
    values = engine.lever_values(base)
    out: dict[str, Any] = {}
    for lever in engine.levers(base):
        key = lever_key(base, lever.key)
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


def settings_widgets() -> ComparisonSettings:
    """The run settings a room may change (replications and days; the rest as the defaults)."""
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


def exercise() -> None:
    """The sidebar's first part: the facilitator presets (with the question a chosen one asks)
    and the upload of a scenario file."""
    with st.sidebar:
        st.header("Exercise")
        st.selectbox(
            "Facilitator presets",
            ["(none)", *(p.title for p in presets.PRESETS)],
            key="preset",
            on_change=apply_preset,
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


@dataclass
class Choice:
    """What the sidebar's scenario widgets chose."""

    base_choice: str
    """The baseline's library stem, or `UPLOADED`."""
    base: Scenario
    alts: list[tuple[str, Scenario]]
    """The scenarios to compare with: (name, scenario)."""


def choose_scenarios(lib: dict[str, tuple[str, str]]) -> Choice | None:
    """The baseline and what to compare it with, from the library ``lib`` and an upload; None
    (problems shown) when a chosen scenario cannot be read."""
    found, upload_name = uploaded()
    bases = list(lib) + ([UPLOADED] if found is not None else [])

    def shown(k: str) -> str:
        return f"uploaded: {upload_name}" if k == UPLOADED else lib[k][1]

    with st.sidebar:
        base_choice = st.selectbox("Baseline", bases, key="base", format_func=shown)
        others = [k for k in bases if k != base_choice]
        st.session_state["alts"] = [k for k in st.session_state.get("alts", []) if k in others]
        alts = st.multiselect("Compare with", others, key="alts", format_func=shown)
    try:
        base = found if base_choice == UPLOADED else page_cache.library_scenario(base_choice)
        chosen_alts = [
            (upload_name or "uploaded", found)
            if k == UPLOADED
            else (page_cache.library_scenario(k).name, page_cache.library_scenario(k))
            for k in alts
        ]
    except ScenarioError as error:
        problems(error)
        return None
    assert base is not None
    return Choice(base_choice, base, chosen_alts)  # type: ignore[arg-type]
