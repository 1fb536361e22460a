"""The run report in a real browser: Debian's chromium, headless (`.ci/run` installs it).

The report is one self-contained file that facilitators e-mail and print, so it must open in a
browser on its own: every section present, every embedded figure decoding to an image.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowsim.cli import app
from flowsim.scenario import scenario_to_yaml
from helpers.model_helpers import small_scenario

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SECTIONS = [
    "run",
    "offered-load",
    "headline",
    "how-to-read",
    "changes",
    "bottlenecks",
    "figures",
    "all-results",
    "sources",
    "stress-des",
]
PROBE = (
    "<script>window.addEventListener('load', () => {"
    "document.body.setAttribute('data-images', [...document.images].map("
    "i => (i.complete && i.naturalWidth > 0) ? i.naturalWidth : 0).join(','));"
    "document.body.setAttribute('data-sections', [...document.querySelectorAll('section[id]')]"
    ".map(s => s.id).join(','));});</script>"
)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("FLOWSIM_REQUIRE_BROWSER"),
    reason="chromium is not installed (apt-get install chromium); under make test this fails",
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    base = folder / "base.yaml"
    base.write_text(
        "# a small system [A1] (H)\n" + scenario_to_yaml(small_scenario()), encoding="utf-8"
    )
    change = folder / "more_beds.yaml"
    change.write_text(
        "extends: base.yaml\nname: more beds\namu: {beds: 20}  # a test [T1] (L)\n",
        encoding="utf-8",
    )
    out = folder / "out"
    args = ["run", str(change), "--days", "10", "--warm-up", "10", "--replications", "2"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    return out / "report.html"


def test_report_opens_in_chromium_with_every_section_and_image(report: Path) -> None:
    assert CHROMIUM is not None, "FLOWSIM_REQUIRE_BROWSER is set but chromium is missing"
    probed = report.with_name("probed.html")
    probed.write_text(report.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"))
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=10000",
            "--dump-dom",
            probed.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    sections = re.search(r'data-sections="([^"]*)"', dom)
    images = re.search(r'data-images="([^"]*)"', dom)
    assert sections and images, "the page did not finish loading"
    assert sections.group(1).split(",") == SECTIONS
    widths = [int(w) for w in images.group(1).split(",")]
    assert len(widths) >= 7 and all(w > 500 for w in widths), widths
    for text in ("amu.beds", "Primary constraint", "STRESS-DES", "a test [T1] (L)"):
        assert text in dom, text


def test_report_prints_to_pdf(report: Path) -> None:
    assert CHROMIUM is not None
    pdf = report.with_name("report.pdf")
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--print-to-pdf={pdf}",
            "--no-pdf-header-footer",
            report.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 50_000
