"""Hypothesis profiles for the property and fuzz tests.

``ci`` (the default) is derandomized and keeps no example database: every run of the suite, on
any machine, tries the same examples, so a failure reproduces anywhere and nothing is written
under .hypothesis/. ``dev`` explores new examples on each run and remembers failures; use it to
hunt for bugs:
``HYPOTHESIS_PROFILE=dev .venv/bin/python -m pytest tests/properties/test_properties.py``.
Each test sets its own ``max_examples``.

Derandomized is not quite context-free: Hypothesis also draws literal constants harvested from
the project's modules imported so far, so one test run alone may try other examples than the same
test in the full suite. The full suite, which CI runs, tries the same examples every time:
every pytest-xdist worker collects every test module, and `pytest_collection_finish` below
imports every flowsim module before the first test, so the harvested constants do not depend on
which tests a worker happened to run first.
"""

from __future__ import annotations

import importlib
import os
import pkgutil

import pytest
from hypothesis import settings

import flowsim
from flowsim.experiment.executors import CPUS_VARIABLE

os.environ.setdefault(CPUS_VARIABLE, "1")
"""Runs in tests start no worker processes of their own unless a test asks for them by number:
pytest-xdist already keeps every core busy, and each spawned worker costs 2-3 s of CPU to import
flowsim (about a fifth of a 10-replication CLI test)."""
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Import all of flowsim up front (see the module docstring); the Streamlit script is not a
    module to import."""
    for module in pkgutil.walk_packages(flowsim.__path__, "flowsim."):
        if module.name != "flowsim.app.main":
            importlib.import_module(module.name)


SHARED_FIXTURE_FILES = frozenset(
    {
        "test_scenario_library.py",  # the library direction runs: minutes of full-size runs
        "test_report.py",
        "test_figures.py",
        "test_batch.py",
        "test_run_cli.py",
        "test_fit.py",
        "test_compare.py",
        "test_export.py",
        "test_experiment_executors.py",
        "test_app_browser.py",  # one Streamlit server
        "test_report_browser.py",
        "test_stress_curve.py",  # runs a demand curve once for its tests
    }
)
"""Files whose tests share a module-scoped fixture that takes long to build. Under pytest-xdist
each worker would build it again; `make test` runs ``--dist loadgroup``, and each of these files
is one group, so one worker builds the fixture once and runs the file's tests."""


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's hook, which turns the mark into a group
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in SHARED_FIXTURE_FILES:
            item.add_marker(pytest.mark.xdist_group(item.path.stem))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: object, ids: list[str]) -> None:
    """Stop when pytest-xdist ignores the groups: each worker would build every shared
    fixture again (pytest 9.2 does so silently, pytest-xdist#1386, and doubled the suite)."""
    config = getattr(node, "config", None)
    if config is None or config.getoption("dist", default=None) != "loadgroup":
        return
    lost = [
        nodeid
        for nodeid in ids
        if nodeid.split("::", 1)[0].rsplit("/", 1)[-1] in SHARED_FIXTURE_FILES
        and "@" not in nodeid.rsplit("]", 1)[-1]
    ]
    if lost:
        pytest.exit(
            f"pytest-xdist is not grouping tests under --dist loadgroup ({lost[0]} has no "
            "group): use the pytest pinned in pyproject.toml (make test reinstalls it)",
            returncode=4,
        )
