"""A real Streamlit server and browser: work asked for from a page is tied to its session
(`engine.streamlit_session`), which ends once the tab has been closed for the grace, so the
shared pool drops its queued work (issue 17, item 5). Checked on Streamlit's own runtime, not
AppTest's stand-in, so a Streamlit upgrade that changes how sessions are known fails here."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("FLOWSIM_REQUIRE_BROWSER"),
    reason="chromium is not installed (apt-get install chromium); under make test this fails",
)

PAGE = textwrap.dedent(
    """
    import threading, time
    import streamlit as st
    from flowsim.app import engine

    session = engine.streamlit_session()
    st.write(f"session: {session is not None}")
    if session is not None and not st.session_state.get("watching"):
        st.session_state["watching"] = True

        def watch():
            for _ in range(60):
                with open(LOG, "a") as out:
                    out.write(f"{time.time():.2f} {session.alive}\\n")
                time.sleep(0.5)

        threading.Thread(target=watch, daemon=True).start()
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _states(log: Path) -> list[tuple[float, bool]]:
    if not log.exists():
        return []
    rows = [line.split() for line in log.read_text().splitlines() if line.strip()]
    return [(float(t), alive == "True") for t, alive in rows]


def test_a_closed_tab_ends_its_session_after_the_grace(tmp_path: Path) -> None:
    assert CHROMIUM is not None, "FLOWSIM_REQUIRE_BROWSER is set but chromium is missing"
    from playwright.sync_api import sync_playwright

    log = tmp_path / "alive.log"
    page_file = tmp_path / "page.py"
    page_file.write_text(PAGE.replace("LOG", repr(str(log))), encoding="utf-8")
    port = _free_port()
    with (tmp_path / "server.log").open("w") as out:
        server = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", str(page_file),
                "--server.port", str(port), "--server.address", "127.0.0.1",
                "--server.headless", "true", "--browser.gatherUsageStats", "false",
                "--server.fileWatcherType", "none",
            ],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    text = (tmp_path / "server.log").read_text()
                    pytest.fail(f"streamlit did not start:\n{text}")
                time.sleep(0.3)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                page = browser.new_page()
                page.goto(url)
                page.get_by_text("session: True").wait_for(timeout=60_000)
                time.sleep(2.0)
                closed = time.time()
                page.close()
                end = time.monotonic() + 40
                while time.monotonic() < end and not any(not alive for _, alive in _states(log)):
                    time.sleep(0.5)
            finally:
                browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    states = _states(log)
    assert any(alive for t, alive in states if t < closed), states  # alive while connected
    ended = [t for t, alive in states if not alive]
    assert ended, f"the session never ended after its tab closed: {states}"
    assert all(not alive for t, alive in states if t >= ended[0])  # and stays ended
    assert 8.0 <= ended[0] - closed <= 25.0, ended[0] - closed  # the 10 s grace, then ended
