"""The run and comparison reports in a real browser: Debian's chromium, headless (`.ci/run`
installs it).

The report is one self-contained file that facilitators e-mail and print, so it must open in a
browser on its own: every section present, every embedded figure decoding to an image. Its first
printed page is for a board: the finding in words, the national targets with a RAG status and
the trends, all on that page (laid out as printed, A4), and no interval past what is possible.
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
    "board",
    "run",
    "offered-load",
    "headline",
    "how-to-read",
    "targets",
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


SHORT = ["--days", "10", "--warm-up", "10", "--replications", "2"]
A4_CONTENT_PX = (round((210 - 26) / 25.4 * 96), (297 - 28) / 25.4 * 96)
"""The printed page's content box in CSS pixels: A4 less the report's @page margins."""


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
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
    return base, change


@pytest.fixture(scope="module")
def report(files: tuple[Path, Path]) -> Path:
    out = files[1].parent / "out"
    result = CliRunner().invoke(app, ["run", str(files[1]), *SHORT, "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    return out / "report.html"


@pytest.fixture(scope="module")
def compare_report(files: tuple[Path, Path]) -> Path:
    out = files[1].parent / "compare"
    args = ["compare", *map(str, files), *SHORT, "--out", str(out)]
    result = CliRunner().invoke(app, args)
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
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and pdf.stat().st_size > 50_000
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    print(f"the run report prints on {pages} A4 pages")
    assert pages >= 2


_FIRST_PAGE = """() => {
  const board = document.querySelector('main > section');
  const box = board.getBoundingClientRect();
  const rows = [...board.querySelectorAll('table.targets tbody tr')].map(tr => ({
    name: tr.cells[0].innerText,
    rag: [...tr.querySelectorAll('.rag')].map(b => b.innerText.trim()),
  }));
  const img = board.querySelector('figure.trends img');
  const mainTop = document.querySelector('main').getBoundingClientRect().top;
  return {
    id: board.id,
    breakAfter: getComputedStyle(board).breakAfter,
    bottom: box.bottom - mainTop,
    lead: [...board.querySelectorAll('p.lead')].map(p => p.innerText),
    rule: board.querySelector('p.rule') ? board.querySelector('p.rule').innerText : '',
    rows: rows,
    trends: img ? [img.complete, img.naturalWidth, img.getBoundingClientRect().bottom - mainTop]
                : null,
    images: [...document.images].map(i => (i.complete && i.naturalWidth > 0) ? i.naturalWidth : 0),
    intervals: [...document.querySelectorAll('tr')].map(tr => [...tr.cells].map(c => c.innerText)),
  };
}"""

_NUMBER = r"-?[0-9][0-9,]*(?:\.[0-9]+)?"


def _printed(path: Path) -> dict:
    """The report laid out as printed (print media, the A4 content width)."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None, "FLOWSIM_REQUIRE_BROWSER is set but chromium is missing"
    width, height = A4_CONTENT_PX
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": width, "height": round(height)})
            page.emulate_media(media="print")
            page.goto(path.as_uri())
            return page.evaluate(_FIRST_PAGE)
        finally:
            browser.close()


def _check_first_page(found: dict, columns: int) -> None:
    assert found["id"] == "board" and found["breakAfter"] == "page"
    assert found["lead"] and all(found["lead"])
    assert "RAG rule" in found["rule"] and "Green" in found["rule"]
    names = [r["name"] for r in found["rows"]]
    assert names == [
        "4-hour standard",
        "Over 12 hours in ED",
        "Ambulance handover, mean",
        "G&A bed occupancy",
    ]
    for row in found["rows"]:
        assert len(row["rag"]) == columns and set(row["rag"]) <= {"Green", "Amber", "Red"}, row
    complete, width, bottom = found["trends"]
    assert complete and width > 500
    height = A4_CONTENT_PX[1]
    assert found["bottom"] <= height and bottom <= height, (found["bottom"], height)
    assert found["images"] and all(w > 0 for w in found["images"]), found["images"]


def _check_intervals_clipped(cells: list[list[str]]) -> int:
    """Every level interval (a 'low – high' cell beside its unit) within what is possible."""
    checked = 0
    for row in cells:
        text = " ".join(row)
        for low, high in re.findall(rf"({_NUMBER}) – ({_NUMBER})", text):
            lo, hi = (float(x.replace(",", "")) for x in (low, high))
            assert lo >= 0, row
            if any(c.strip() == "%" or re.fullmatch(r"[≥≤] [0-9.]+%", c.strip()) for c in row):
                assert hi <= 100, row
            checked += 1
    return checked


def test_first_page_holds_the_finding_targets_and_trends(report: Path) -> None:
    found = _printed(report)
    _check_first_page(found, columns=1)
    assert found["lead"][0].startswith("This run meets ")
    assert "day by day" in found["lead"][1].lower() or "week by week" in found["lead"][1].lower()
    assert _check_intervals_clipped(found["intervals"]) > 50


def test_comparison_first_page_says_what_the_change_does(compare_report: Path) -> None:
    found = _printed(compare_report)
    _check_first_page(found, columns=2)
    assert found["lead"][0].startswith("more beds against base")
    assert _check_intervals_clipped(found["intervals"]) >= 4
    text = " ".join(" ".join(r) for r in found["intervals"])
    assert "excludes 0" not in text and "points" in text
    assert not re.search(r"[+-][0-9.]+ \([+-][0-9.]+%\)", text)  # never points with percent
