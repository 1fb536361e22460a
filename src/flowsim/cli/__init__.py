"""The ``flowsim`` command: thin wrappers around `flowsim.api` and `flowsim.experiment`.

`flowsim.cli.common` holds the typer app, consoles, shared options and error handling; each
command group is a module (run, scenarios, compare, bottlenecks, batch, export, fit, app) whose
``COMMANDS`` are registered here, so no module imports another's commands and none imports this
package back. To add a command: write it in its group's module and list it in ``COMMANDS``.

Commands import the experiment, analysis and report layers (pandas, matplotlib) when they run,
so ``flowsim --help`` and the quick commands start quickly.
"""

from __future__ import annotations

from flowsim.cli import app as _app_group
from flowsim.cli import (
    batch,
    bottlenecks,
    compare,
    export,
    fit,
    ipacs,
    project,
    run,
    scenarios,
    target,
)
from flowsim.cli.common import app

__all__ = ["app", "main"]

for _group in (
    scenarios,
    run,
    compare,
    bottlenecks,
    batch,
    export,
    fit,
    target,
    ipacs,
    project,
    _app_group,
):
    for _name, _command in _group.COMMANDS.items():
        app.command(_name)(_command)


def main() -> None:
    """Entry point of the ``flowsim`` console script."""
    app()
