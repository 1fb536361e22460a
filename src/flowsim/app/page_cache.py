"""The app's work shared by every session of one server (Streamlit caches): the library, the
scenarios read from it, the starting census, the result caches and the background prefetch.

Kept in one module so every page module asks the same caches (a second copy of a cached
function would be a second cache).
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from pathlib import Path
from typing import Any

import streamlit as st

from flowsim.api import scenario_labels
from flowsim.app import engine
from flowsim.app.engine import ComparisonSettings
from flowsim.scenario import Scenario, load_scenario

__all__ = [
    "animations",
    "census",
    "library",
    "library_scenario",
    "offered_load",
    "prefetch_baseline",
    "results_cache",
    "scenario_json",
]


@st.cache_data(max_entries=32, show_spinner=False)
def library(folder: str) -> dict[str, tuple[str, str]]:
    """`flowsim.app.engine.library` of ``folder``, paths as text."""
    return {k: (str(p), t) for k, (p, t) in engine.library(Path(folder)).items()}


@st.cache_resource(max_entries=64, show_spinner=False)
def _load(path: str, mtime: float) -> Scenario:
    """A library file, read once per version (scenarios are immutable, so shared safely)."""
    return load_scenario(path)


def library_scenario(stem: str) -> Scenario:
    """The library scenario of file stem ``stem``, read once per version of its file."""
    lib = library(str(engine.scenarios_folder()))
    path = lib[stem][0]
    return _load(path, Path(path).stat().st_mtime)


def scenario_json(scenario: Scenario) -> str:
    """The scenario's canonical JSON: the cache key of what depends on its content."""
    return scenario.model_dump_json(by_alias=True)


@st.cache_resource(max_entries=16, show_spinner=False)
def census(scenario_json: str, census_day: float, _scenario: Scenario) -> engine.Census:
    """The starting census of ``_scenario`` (`flowsim.app.engine.census`, itself kept on disk).
    A resource, not data: it is only read, so every rerun need not unpickle a copy."""
    settings = ComparisonSettings(census_day=census_day)
    return engine.census(_scenario, settings, engine.shared_pool())


@st.cache_resource(show_spinner=False)
def results_cache() -> engine.ResultCache:
    """Each replication by scenario hash, run settings and number, shared by every session. Not
    st.cache_data: that replays the progress bar's updates made inside the cached call."""
    return engine.ResultCache(max_entries=1024)


@st.cache_resource(max_entries=4, show_spinner=False)
def prefetch_baseline(
    scenario_json: str,
    settings: ComparisonSettings,
    _scenario: Scenario,
    _section: Any,
) -> bool:
    """Once per baseline and server: run the library baseline's replications at the default
    settings in the background (`engine.prefetch`), labelled as a comparison labels its
    baseline, so the first comparison finds them cached (or running: it waits for those
    rather than running them again)."""
    label = scenario_labels([_scenario], [_scenario.name])[0]
    warmed = engine.with_warm_start(_scenario, _section)
    engine.prefetch(warmed, label, settings, engine.shared_pool(), results_cache())
    return True


RESULT_MODULES = ("flowsim.report", "flowsim.app.views", "flowsim.app.watch_view")
"""What the results' tabs import when first drawn: the report's labels and figures, plotly."""


@st.cache_resource(show_spinner=False)
def warm_imports() -> threading.Thread:
    """Once per server, in the background while the census is prepared: import what the
    results need, which the first cards would otherwise wait for (about 1.6 s of the first
    cards' 4 s, measured through AppTest at the app's defaults)."""

    def work() -> None:
        for name in RESULT_MODULES:
            with contextlib.suppress(Exception):  # a failing import is reported where it is used
                importlib.import_module(name)

    thread = threading.Thread(target=work, name="flowsim-warm-imports", daemon=True)
    thread.start()
    return thread


@st.cache_resource(show_spinner=False)
def animations() -> engine.ResultCache:
    """Drawn animations (plotly JSON) by scenario hashes and days, shared by every session."""
    return engine.ResultCache(max_entries=16)


@st.cache_data(max_entries=64, show_spinner=False)
def offered_load(key: str, _scenario: Scenario) -> Any:
    """`flowsim.api.offered_load` of the scenario of `engine.scenario_key` ``key``: about a
    second of work, so once per scenario rather than on every rerun of the page (the Run
    click's rerun among them, before its replications start)."""
    from flowsim.api import offered_load as table

    return table(_scenario)
