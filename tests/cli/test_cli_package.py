"""The command line is a package without an import cycle, and the API a thin façade over the
experiment and analysis layers."""

from __future__ import annotations

import ast
import importlib
import tomllib
from pathlib import Path

import flowsim
from flowsim.cli import app
from flowsim.cli.common import Commands

SRC = Path(flowsim.__file__).resolve().parent
ROOT = SRC.parents[1]


def imported(path: Path) -> set[str]:
    """Every flowsim module ``path`` imports, function-level imports included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("flowsim"):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("flowsim")}
    return found


def test_command_modules_import_only_the_common_module_of_the_cli() -> None:
    cli = SRC / "cli"
    groups = sorted(p for p in cli.glob("*.py") if p.name not in ("__init__.py", "common.py"))
    assert {"app", "batch", "bottlenecks", "compare", "export", "fit", "run", "scenarios"} <= {
        p.stem for p in groups
    }
    assert not {m for m in imported(cli / "common.py") if m.startswith("flowsim.cli")}
    for path in groups:
        wrong = {
            m
            for m in imported(path)
            if m.startswith("flowsim.cli")
            and m not in ("flowsim.cli", "flowsim.cli.common")
            and not m.startswith("flowsim.cli.common.")
        }
        assert not wrong, f"{path.name} imports {sorted(wrong)}: share it through cli/common.py"


def test_every_command_is_registered_once_and_the_listed_ones_exist() -> None:
    names = [c.name for c in app.registered_commands]
    assert len(names) == len(set(names))
    assert set(Commands.ORDER) <= set(names)


def test_the_console_script_still_points_at_flowsim_cli_main() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]
    module, _, name = scripts["flowsim"].partition(":")
    assert callable(getattr(importlib.import_module(module), name))


def test_api_chooses_no_executor_computes_no_statistics_and_draws_no_report() -> None:
    path = SRC / "api.py"
    text = path.read_text(encoding="utf-8")
    names = imported(path)
    assert not {m for m in names if m.startswith("flowsim.report")}
    for forbidden in ("ProcessExecutor", "SerialExecutor", "choose_executor", "default_workers"):
        assert forbidden not in text, forbidden
    for statistics in ("scipy", "np.std", "stats.t"):
        assert statistics not in text, statistics
    assert text.count("\n") < 600


def test_the_package_offers_the_api_lazily() -> None:
    for name in ("compare", "run_kpis", "warmup", "auto_replications"):
        assert callable(getattr(flowsim, name))
