"""The app's scenario library and uploads: where the library is, its files with their titles,
an uploaded file read safely, and the short hash that names a scenario's content in caches.

Apart from `flowsim.app.engine` (which re-exports them) to keep each module short; nothing here
imports Streamlit.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from flowsim.errors import ScenarioError
from flowsim.scenario import Scenario, load_scenario
from flowsim.scenario.library import read_entry

__all__ = ["MAX_UPLOAD_BYTES", "library", "load_upload", "scenario_key", "scenarios_folder"]

MAX_UPLOAD_BYTES = 256_000
"""Largest scenario file the app accepts. The baseline, written out in full, is about 20 kB; a
file ten times that size is not a scenario someone wrote by hand."""


def scenarios_folder() -> Path:
    """Where the library is: ``FLOWSIM_SCENARIOS``, else ./scenarios, else the repository's."""
    given = os.environ.get("FLOWSIM_SCENARIOS")
    if given:
        return Path(given)
    here = Path.cwd() / "scenarios"
    if (here / "baseline.yaml").is_file():
        return here
    return Path(__file__).resolve().parents[3] / "scenarios"


def library(folder: Path) -> dict[str, tuple[Path, str]]:
    """Scenario files of ``folder`` by file stem, baseline first: (path, one-line title)."""
    out: dict[str, tuple[Path, str]] = {}
    paths = sorted(folder.glob("*.yaml"), key=lambda p: (p.stem != "baseline", p.stem))
    for path in paths:
        if path.stem.endswith("_warm"):
            continue
        try:
            title = read_entry(path).title
        except (ScenarioError, OSError, ValueError):
            title = ""
        short = title.split(":")[0].strip().rstrip(".")  # the name before the details
        out[path.stem] = (path, short or path.stem.replace("_", " "))
    return out


def load_upload(name: str, data: bytes, folder: Path) -> Scenario:
    """An uploaded scenario file, read with the same safe, size-limited loader as the command
    line. ``extends:`` may name only a file of the library folder (``extends: baseline.yaml``;
    no path, no symlink out of it), and errors never quote another file, so an upload cannot
    read the server's files. Problems are a `ScenarioError` naming the uploaded file.
    """
    shown = Path(name).name or "uploaded.yaml"
    if len(data) > MAX_UPLOAD_BYTES:
        raise ScenarioError(
            shown,
            "",
            f"is {len(data) / 1000:.0f} kB; the app takes scenario files up to "
            f"{MAX_UPLOAD_BYTES // 1000} kB. Upload a short file that extends baseline.yaml "
            "with only the settings you change",
        )
    with tempfile.TemporaryDirectory(prefix="flowsim-upload-") as tmp:
        upload = Path(tmp) / "upload.yaml"
        upload.write_bytes(data)
        return load_scenario(upload, library_only=folder, shown=shown)


def scenario_key(scenario: Scenario) -> str:
    """A short hash of the scenario's canonical JSON: equal settings, equal key."""
    text = scenario.model_dump_json(by_alias=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
