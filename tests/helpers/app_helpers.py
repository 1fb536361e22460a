"""Settings for tests that drive the workshop app's engine or page."""

from __future__ import annotations

from pathlib import Path

import pytest

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def use_small_app_runs(monkeypatch: pytest.MonkeyPatch, days: float) -> None:
    """The app's engine on runs small enough for a test (2 replications of ``days`` after a
    day's warm-up from a day-10 census, one worker, the repository's scenarios), with a fresh
    worker pool so the settings take effect."""
    from flowsim.app import engine

    for key, value in {
        "FLOWSIM_APP_REPLICATIONS": "2",
        "FLOWSIM_APP_DAYS": f"{days:g}",
        "FLOWSIM_APP_WARM_UP": "1",
        "FLOWSIM_APP_CENSUS_DAY": "10",
        "FLOWSIM_APP_WORKERS": "1",
        "FLOWSIM_SCENARIOS": str(SCENARIOS),
    }.items():
        monkeypatch.setenv(key, value)
    engine.shared_pool.cache_clear()
