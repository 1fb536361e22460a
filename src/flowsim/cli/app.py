"""``flowsim app``: start the workshop app (Streamlit) in a browser."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from flowsim.cli import common


def app_command(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on.")] = 8501,
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on: localhost for this computer only; 0.0.0.0 to let "
            "others on the network open it."
        ),
    ] = "localhost",
    scenarios: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Folder of the scenario library. [default: ./scenarios, else flowsim's own]",
            show_default=False,
        ),
    ] = None,
    replications: Annotated[
        int | None,
        typer.Option(min=2, help="Default replications per scenario. [default: 4]"),
    ] = None,
    days: Annotated[
        float | None,
        typer.Option(min=1, help="Default days measured per replication. [default: 21]"),
    ] = None,
    browser: Annotated[bool, typer.Option(help="Open a browser tab once the app is ready.")] = True,
) -> None:
    """Start the workshop app: compare scenarios in a browser, with levers, KPI cards,
    figures, an animated day at the front door and facilitator presets.

    Runs `streamlit run` on the app until you press Ctrl+C. The defaults answer a comparison in
    seconds; raise --replications or --days for narrower intervals.
    """
    try:
        import streamlit  # noqa: F401
    except ImportError:
        common.stderr.print(
            "The app needs Streamlit, which is not installed; install it with: "
            "pip install 'flowsim[app]'"
        )
        raise typer.Exit(1) from None
    from flowsim.app import MAIN_SCRIPT

    env = dict(os.environ)
    if scenarios is not None:
        if not (scenarios / "baseline.yaml").is_file():
            common.stderr.print(
                f"{scenarios} has no baseline.yaml; give the folder of the library."
            )
            raise typer.Exit(2)
        env["FLOWSIM_SCENARIOS"] = str(scenarios.resolve())
    if replications is not None:
        env["FLOWSIM_APP_REPLICATIONS"] = str(replications)
    if days is not None:
        env["FLOWSIM_APP_DAYS"] = str(days)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(MAIN_SCRIPT),
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--server.headless",
        "false" if browser else "true",
        "--server.maxUploadSize",
        "1",
        "--server.fileWatcherType",
        "none",
        "--client.showErrorDetails",
        "false",
        "--client.toolbarMode",
        "viewer",
        "--browser.gatherUsageStats",
        "false",
        "--theme.base",
        "light",
    ]
    try:
        code = subprocess.call(command, env=env)
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


COMMANDS = {"app": app_command}
