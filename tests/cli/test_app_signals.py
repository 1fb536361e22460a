"""``flowsim app`` stops cleanly on a signal: the Streamlit server and the worker processes it
started end, and the port is free again (issue 17, item 3)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
if not hasattr(os, "killpg") or not Path("/proc").is_dir():
    pytest.skip("process groups and /proc needed", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def _start(command: list[str], port: int) -> tuple[subprocess.Popen[bytes], set[int]]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not _wait(lambda: _listening(port) or process.poll() is not None, 90):
        process.kill()
        pytest.fail("the server did not start listening within 90 s")
    assert process.poll() is None, "the server ended on its own"
    return process, _descendants(process.pid)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_streamlit_and_frees_the_port(sig: signal.Signals) -> None:
    port = _free_port()
    flowsim = str(Path(sys.executable).with_name("flowsim"))
    command = [flowsim, "app", "--port", str(port), "--no-browser"]
    process, children = _start(command, port)
    assert children, "Streamlit runs as a child process"

    process.send_signal(sig)
    assert process.wait(30) == 0
    assert _wait(lambda: not any(_alive(p) for p in children), 15), "orphans left"
    assert _wait(lambda: _port_free(port), 10)


FAKE_SERVER = textwrap.dedent(
    """
    import socket, sys, time
    from flowsim.experiment.pool import WorkerPool

    if __name__ == "__main__":
        pool = WorkerPool(2)
        pool._get()  # start the workers, as a session's first run does
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", int(sys.argv[1])))
        server.listen()
        time.sleep(600)
    """
)


def test_signal_stops_the_servers_worker_pool(tmp_path: Path) -> None:
    """The worker pool the app starts for its sessions ends with it (same process group)."""
    port = _free_port()
    script = tmp_path / "server.py"
    script.write_text(FAKE_SERVER, encoding="utf-8")
    runner = (
        "import sys; from flowsim.cli.app import serve; "
        "sys.exit(serve([sys.executable, sys.argv[1], sys.argv[2]]))"
    )
    command = [sys.executable, "-c", runner, str(script), str(port)]
    process, _ = _start(command, port)
    assert _wait(lambda: len(_descendants(process.pid)) >= 3, 60)  # server and two workers
    children = _descendants(process.pid)

    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    assert _wait(lambda: not any(_alive(p) for p in children), 15), "orphans left"
    assert _wait(lambda: _port_free(port), 10)
