"""One direction of imports: the model runs on SimPy and numpy alone.

Checked in a fresh interpreter, since this test process has long since imported pandas.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import flowsim.model

HEAVY = ("pandas", "matplotlib", "streamlit", "scipy.stats", "pyarrow")
"""Analysis, plotting and app libraries the model must never pull in."""


def model_modules() -> list[str]:
    return sorted(f"flowsim.model.{m.name}" for m in pkgutil.iter_modules(flowsim.model.__path__))


def imported_after(modules: list[str]) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(out.stdout))


def test_every_model_module_is_found() -> None:
    names = model_modules()
    assert "flowsim.model.build" in names and "flowsim.model.kernel" in names
    assert len(names) >= 10


def test_model_imports_no_analysis_or_plotting() -> None:
    loaded = imported_after(model_modules())
    assert "simpy" in loaded and "flowsim.model.build" in loaded
    heavy = sorted(m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert not heavy, f"importing flowsim.model loads {heavy}"


def test_the_check_would_notice() -> None:
    """The subprocess really reports what it imported (guards against a vacuous pass)."""
    assert "pandas" in imported_after(["flowsim.analysis"])
