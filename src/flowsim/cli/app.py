"""``flowsim app``: start the workshop app (Streamlit) in a browser."""

from __future__ import annotations

import contextlib
import os
import signal
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

    Runs `streamlit run` on the app until you press Ctrl+C (or the process gets SIGTERM): then
    the server and its worker processes stop and the port is free. The defaults answer a
    comparison in seconds; raise --replications or --days for narrower intervals.
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
    raise typer.Exit(serve(command, env))


class _Stop(Exception):
    """A signal asked the app to stop."""


STOP_GRACE_SECONDS = 10.0
"""How long the server has to finish after SIGTERM before its process group is killed."""


def serve(command: list[str], env: dict[str, str] | None = None) -> int:
    """Run the server ``command`` in a process group of its own until it ends or this process is
    signalled (SIGTERM, SIGINT, SIGHUP): then stop the whole group, the server and the workers
    it started, so no process is left holding the port. Returns the server's exit status
    (0 when stopped by a signal)."""
    child = subprocess.Popen(command, env=env, start_new_session=True)

    def stop(signum: int, _frame: object) -> None:
        raise _Stop(signum)

    stoppers = [
        signal.SIGTERM,
        signal.SIGINT,
        *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else []),
    ]
    previous = {sig: signal.signal(sig, stop) for sig in stoppers}
    try:
        return child.wait()
    except (_Stop, KeyboardInterrupt):
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _stop_group(child)


def _stop_group(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the group, a grace period, then SIGKILL to whatever of it is left."""
    if not hasattr(os, "killpg"):  # Windows: no process groups to signal
        if child.poll() is None:
            child.terminate()
            child.wait()
        return
    try:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(STOP_GRACE_SECONDS)
        os.killpg(child.pid, signal.SIGKILL)  # workers still in the group, if any
    except ProcessLookupError:
        pass
    child.wait()


COMMANDS = {"app": app_command}
