"""The workshop app in a real browser: `streamlit run` on localhost, driven by Playwright on
Debian's chromium (`.ci/run` installs it; never a browser a test tool downloads).

Choose a library scenario, run the comparison, see the KPI cards (printing the seconds from
Run to the first card and to the final ones), look at the pressure maps, animate the baseline
and the change side by side, and keep screenshots in test-artifacts/ (git-ignored) for a
person to look at.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowsim.app import MAIN_SCRIPT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("FLOWSIM_REQUIRE_BROWSER"),
    reason="chromium is not installed (apt-get install chromium); under make test this fails",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    small = {  # set any of these to time the app at other settings (e.g. its defaults)
        "FLOWSIM_APP_REPLICATIONS": "2",
        "FLOWSIM_APP_DAYS": "3",
        "FLOWSIM_APP_WARM_UP": "1",
        "FLOWSIM_APP_CENSUS_DAY": "20",
    }
    env = {**small, **os.environ, "FLOWSIM_SCENARIOS": str(ROOT / "scenarios")}
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", str(MAIN_SCRIPT),
                "--server.port", str(port), "--server.address", "127.0.0.1",
                "--server.headless", "true", "--browser.gatherUsageStats", "false",
                "--server.fileWatcherType", "none", "--client.showErrorDetails", "false",
            ],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not start:\n{log.read_text()}")
                time.sleep(0.3)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()


def test_choose_run_see_kpi_cards_and_watch_side_by_side(app_url: str, tmp_path: Path) -> None:
    assert CHROMIUM is not None, "FLOWSIM_REQUIRE_BROWSER is set but chromium is missing"
    from playwright.sync_api import expect, sync_playwright

    shot = tmp_path / "app_comparison.png"
    animation = tmp_path / "app_side_by_side.png"
    pressure = tmp_path / "app_pressure_map.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1300})
            page.goto(app_url)
            page.get_by_text("Compare with").first.wait_for(timeout=240_000)  # the census
            page.locator('[data-testid="stMultiSelect"]').first.click()
            page.get_by_role("option", name="Acute frailty unit (AFU) expansion").click()
            page.keyboard.press("Escape")
            started = time.perf_counter()
            page.get_by_role("button", name="Run comparison").click()
            cards = page.locator('[data-testid="stMetric"]')
            cards.first.wait_for(timeout=90_000)
            first = time.perf_counter() - started
            expect(page.get_by_role("tab", name="KPI cards")).to_be_visible(timeout=90_000)
            expect(cards).to_have_count(14, timeout=90_000)
            final = time.perf_counter() - started
            print(f"\nRun to first KPI card {first:.1f} s, to the final cards {final:.1f} s")
            expect(page.get_by_role("heading", name="afu expansion")).to_be_visible()
            expect(page.get_by_text("95% CI").first).to_be_visible()
            page.screenshot(path=str(shot), full_page=True)
            page.get_by_role("tab", name="Pressure map").click()
            maps = page.locator('[data-testid="stPlotlyChart"]')
            expect(maps).to_have_count(2, timeout=30_000)
            expect(page.get_by_text("blocking chain (red)").first).to_be_visible()
            page.screenshot(path=str(pressure), full_page=True)
            page.get_by_role("tab", name="Watch a day").click()
            clicked = time.perf_counter()
            page.get_by_role("button", name="Animate").click()
            chart = page.locator('[data-testid="stPlotlyChart"]').last
            expect(page.locator('[data-testid="stPlotlyChart"]')).to_have_count(3, timeout=120_000)
            expect(page.get_by_text("Clock: Day 1").first).to_be_visible(timeout=30_000)
            print(f"Animate to the side-by-side day {time.perf_counter() - clicked:.1f} s")
            expect(page.get_by_role("tab", name="Watch a day")).to_have_attribute(
                "aria-selected", "true"
            )
            chart.scroll_into_view_if_needed()
            chart.screenshot(path=str(animation))
            # a lever moves: the results on screen are marked stale straight away
            moved = time.perf_counter()
            page.get_by_text("AFU open").first.click()
            expect(page.get_by_text("Stale results").first).to_be_visible(timeout=30_000)
            print(f"Lever moved to the stale mark {time.perf_counter() - moved:.1f} s")
        finally:
            browser.close()
    assert shot.stat().st_size > 20_000 and animation.stat().st_size > 20_000
    ARTIFACTS.mkdir(exist_ok=True)
    for png in (shot, pressure, animation):
        shutil.copy(png, ARTIFACTS / png.name)
