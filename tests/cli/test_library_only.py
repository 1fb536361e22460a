"""``--library-only`` on the command line (issue 17, item 1): ``validate``, ``show`` and ``run``
load a file as the app loads an upload, so a hosted service that passes other people's files to
the command line cannot be made to read, or quote, a file outside the scenario library."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowsim.cli import app
from flowsim.scenario.load import LIBRARY_ONLY_MESSAGE

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
SECRET_KEY = "db_password"
SECRET_VALUE = "hunter2-s3cret"
SECRET_FILE = f"{SECRET_KEY}: {SECRET_VALUE}\nname: {SECRET_VALUE}\nafu: {{beds: {SECRET_VALUE}}}\n"
COMMANDS = {
    "validate": ["validate"],
    "show": ["show"],
    "run": ["run", "--replications", "2", "--days", "1", "--warm-up", "0", "--out", "out"],
}


@pytest.fixture()
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A library folder (baseline.yaml), a secret file next to it, and FLOWSIM_SCENARIOS."""
    folder = tmp_path / "library"
    folder.mkdir()
    shutil.copy(SCENARIOS / "baseline.yaml", folder / "baseline.yaml")
    (tmp_path / "secrets.yaml").write_text(SECRET_FILE, encoding="utf-8")
    monkeypatch.setenv("FLOWSIM_SCENARIOS", str(folder))
    monkeypatch.delenv("FLOWSIM_LIBRARY_ONLY", raising=False)
    monkeypatch.chdir(tmp_path)
    return folder


def flowsim(*args: object, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Exit status and everything printed (stdout and stderr, colour codes removed)."""
    result = CliRunner().invoke(app, [str(a) for a in args], env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, ANSI.sub("", result.stdout + result.stderr)


def escapes(library: Path) -> dict[str, str]:
    """Each way out of the library, as the ``extends:`` of a file the user gives."""
    secret = library.parent / "secrets.yaml"
    os.symlink(secret, library / "innocent.yaml")
    return {
        "absolute path": str(secret),
        "dot dot": "../secrets.yaml",
        "symlink out": "innocent.yaml",
    }


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_escape_is_refused_plainly_and_quotes_nothing(library: Path, command: str) -> None:
    for how, target in escapes(library).items():
        mine = library.parent / f"mine_{how.replace(' ', '_')}.yaml"
        mine.write_text(f"extends: {target}\n", encoding="utf-8")
        status, text = flowsim(*COMMANDS[command], mine, "--library-only")
        assert status == 2, (how, text)
        assert LIBRARY_ONLY_MESSAGE in text, (how, text)
        assert SECRET_KEY not in text and SECRET_VALUE not in text, (how, text)
        assert not (library.parent / "out").exists()  # refused before anything ran


def test_without_the_switch_the_same_file_loads_as_before(library: Path) -> None:
    mine = library.parent / "mine.yaml"
    mine.write_text("extends: library/baseline.yaml\nname: y\n", encoding="utf-8")
    assert flowsim("validate", mine)[0] == 0
    status, text = flowsim("validate", mine, "--library-only")
    assert status == 2 and LIBRARY_ONLY_MESSAGE in text


def test_a_file_extending_a_library_scenario_still_works(library: Path) -> None:
    mine = library.parent / "mine.yaml"
    mine.write_text("extends: baseline.yaml\nafu: {beds: 31}\n", encoding="utf-8")
    assert flowsim("validate", mine, "--library-only")[0] == 0
    status, text = flowsim("show", mine, "--library-only")
    assert status == 0 and "beds: 31" in text


def test_the_environment_turns_it_on_for_every_command(library: Path) -> None:
    mine = library.parent / "mine.yaml"
    mine.write_text("extends: ../secrets.yaml\n", encoding="utf-8")
    status, text = flowsim("show", mine, env={"FLOWSIM_LIBRARY_ONLY": "1"})
    assert status == 2 and LIBRARY_ONLY_MESSAGE in text and SECRET_VALUE not in text


def test_a_missing_library_folder_says_how_to_set_it(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWSIM_SCENARIOS", str(library.parent / "nowhere"))
    mine = library.parent / "mine.yaml"
    mine.write_text("extends: baseline.yaml\n", encoding="utf-8")
    status, text = flowsim("validate", mine, "--library-only")
    assert status == 2 and "FLOWSIM_SCENARIOS" in text and "not a folder" in text
