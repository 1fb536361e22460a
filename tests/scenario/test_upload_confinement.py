"""Uploads are confined to the scenario library: an uploaded ``extends:`` can name only a library
file, and no error shows a key or value of a file the user did not upload (issue 17, item 1)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from flowsim.app import engine
from flowsim.errors import ScenarioError
from flowsim.scenario import load_scenario
from flowsim.scenario.load import LIBRARY_ONLY_MESSAGE

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

SECRET_KEY = "db_password"
SECRET_VALUE = "hunter2-s3cret"
# A value under a key the schema knows, to catch "got '...'" echoes as well as unknown keys.
SECRET_FILE = f"{SECRET_KEY}: {SECRET_VALUE}\nname: {SECRET_VALUE}\nafu: {{beds: {SECRET_VALUE}}}\n"


@pytest.fixture()
def places(tmp_path: Path) -> tuple[Path, Path]:
    """A library folder (a copy of baseline.yaml) and a secret file just outside it."""
    library = tmp_path / "library"
    library.mkdir()
    shutil.copy(SCENARIOS / "baseline.yaml", library / "baseline.yaml")
    secret = tmp_path / "secrets.yaml"
    secret.write_text(SECRET_FILE, encoding="utf-8")
    return library, secret


def _refused(upload: bytes, library: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        engine.load_upload("mine.yaml", upload, library)
    text = str(caught.value)
    assert SECRET_KEY not in text and SECRET_VALUE not in text, text
    return caught.value


def test_absolute_path_is_refused(places: tuple[Path, Path]) -> None:
    library, secret = places
    error = _refused(f"extends: {secret}\n".encode(), library)
    assert LIBRARY_ONLY_MESSAGE in str(error) and error.file == "mine.yaml"


def test_dot_dot_is_refused(places: tuple[Path, Path]) -> None:
    library, _ = places
    for name in ("../secrets.yaml", "./../secrets.yaml", "sub/../../secrets.yaml"):
        error = _refused(f"extends: {name}\n".encode(), library)
        assert LIBRARY_ONLY_MESSAGE in str(error)


def test_symlink_out_of_the_library_is_refused(places: tuple[Path, Path]) -> None:
    library, secret = places
    os.symlink(secret, library / "innocent.yaml")
    error = _refused(b"extends: innocent.yaml\n", library)
    assert LIBRARY_ONLY_MESSAGE in str(error)


def test_symlinked_folder_out_of_the_library_is_refused(places: tuple[Path, Path]) -> None:
    library, secret = places
    os.symlink(secret.parent, library / "up")
    error = _refused(b"extends: up/secrets.yaml\n", library)
    assert LIBRARY_ONLY_MESSAGE in str(error)


def test_a_broken_library_file_is_named_not_quoted(places: tuple[Path, Path]) -> None:
    library, _ = places
    (library / "broken.yaml").write_text(SECRET_FILE, encoding="utf-8")
    error = _refused(b"extends: broken.yaml\n", library)
    assert "broken.yaml" in str(error) and "person hosting" in str(error)


def test_library_files_still_extend_each_other(places: tuple[Path, Path]) -> None:
    library, _ = places
    (library / "more_afu.yaml").write_text("extends: baseline.yaml\nafu: {beds: 31}\n")
    scenario = engine.load_upload("mine.yaml", b"extends: more_afu.yaml\nname: x\n", library)
    assert scenario.afu.beds == 31 and scenario.name == "x"


def test_the_uploads_own_mistakes_are_still_quoted(places: tuple[Path, Path]) -> None:
    library, _ = places
    with pytest.raises(ScenarioError) as caught:
        engine.load_upload("mine.yaml", b"extends: baseline.yaml\nafu: {beds: -4}\n", library)
    assert caught.value.file == "mine.yaml" and "-4" in str(caught.value)


def test_the_command_line_loader_is_unconfined_by_default(places: tuple[Path, Path]) -> None:
    library, _ = places
    mine = library.parent / "mine.yaml"
    mine.write_text("extends: library/baseline.yaml\nname: y\n")
    assert load_scenario(mine).name == "y"
    with pytest.raises(ScenarioError, match="only extend a library"):
        load_scenario(mine, library_only=library)
