"""The command line on scenario files: validate, show, diff; bad input exits 2, no traceback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from flowsim.cli import app
from flowsim.scenario import load_scenario, scenario_from_dict

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
BASELINE = SCENARIOS / "baseline.yaml"
AFU = SCENARIOS / "afu_expansion.yaml"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def flowsim(*args: object) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``flowsim ARGS`` (colour codes removed)."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, ANSI.sub("", result.stdout), ANSI.sub("", result.stderr)


# Bad files: text, then what stderr must say (file:line: key: ...) after the file name.
BAD_FILES = {
    "yaml syntax": ("name: x\nafu:\n  beds: 3\n   stay: 4\n", ":4: YAML syntax error"),
    "empty": ("# nothing here\n", ": the file is empty"),
    "not a mapping": ("- a\n- b\n", ":1: the top level must be"),
    "unknown key": (
        f"extends: {BASELINE}\nafu: {{bedz: 3}}\n",
        ":2: afu.bedz: unknown key 'bedz'; did you mean 'beds'?",
    ),
    "wrong type": (f"extends: {BASELINE}\nafu: {{beds: lots}}\n", ":2: afu.beds: must be"),
    "negative capacity": (
        f"extends: {BASELINE}\nwards:\n  surgery: {{beds: -4}}\n",
        ":3: wards.surgery.beds: must be a whole number of 0 or more, got -4",
    ),
    "probability above 1": (
        f"extends: {BASELINE}\nsdec: {{admit_share: {{fit: 1.5}}}}\n",
        ":2: sdec.admit_share.fit: must be a share between 0 and 1",
    ),
    "shares not adding up": (
        f"extends: {BASELINE}\ned:\n  disposition:\n    frail: {{home: 0.5}}\n",
        ":4: ed.disposition.frail: the shares must add up to 1, got 1.05",
    ),
    "missing base": ("extends: nowhere.yaml\n", ":1: extends: cannot find the base scenario"),
    "python tag": ("name: !!python/object/apply:os.getcwd []\n", ":1: the YAML tag"),
}


@pytest.fixture(params=BAD_FILES.values(), ids=list(BAD_FILES))
def bad_file(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    text, expected = request.param
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return path, f"{path}{expected}"


def test_validate_good_files() -> None:
    status, out, err = flowsim("validate", BASELINE, AFU)

    assert status == 0
    assert out.splitlines() == [f"✓ {BASELINE}", f"✓ {AFU}"]
    assert err == ""


def test_validate_bad_file(bad_file: tuple[Path, str]) -> None:
    path, expected = bad_file

    status, out, err = flowsim("validate", path)

    assert status == 2
    assert out.splitlines() == [f"✗ {path}"]
    assert err.splitlines()[0].startswith(expected)
    assert "Traceback" not in out + err


def test_validate_reports_each_file_and_fails_if_any_is_bad(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {BASELINE}\namu: {{beds: -1}}\nafu: {{beds: -2}}\n")

    status, out, err = flowsim("validate", BASELINE, bad, tmp_path / "missing.yaml")

    assert status == 2
    assert out.splitlines() == [
        f"✓ {BASELINE}",
        f"✗ {bad}",
        f"✗ {tmp_path / 'missing.yaml'}",
    ]
    assert err.splitlines() == [
        f"{bad}:2: amu.beds: must be a whole number of 0 or more, got -1",
        f"{bad}:3: afu.beds: must be a whole number of 0 or more, got -2",
        f"{tmp_path / 'missing.yaml'}: file not found; check the file name and folder",
    ]


def test_circular_extends_exits_2_with_the_chain(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"

    status, _, err = flowsim("validate", a)

    assert status == 2
    assert err.startswith(f"{b}:1: extends: goes round in a circle: {a} -> {b} -> {a}")
    assert "Traceback" not in err


def test_show_prints_the_resolved_scenario() -> None:
    status, out, err = flowsim("show", AFU)

    assert status == 0 and err == ""
    assert out.startswith(f"# {AFU}, resolved by 'flowsim show'")
    assert "extends" not in out.splitlines()[1:]
    shown = scenario_from_dict(yaml.safe_load(out))
    assert shown == load_scenario(AFU)
    assert shown.afu.beds == 36


def test_show_bad_file_exits_2_with_the_message_on_stderr(bad_file: tuple[Path, str]) -> None:
    path, expected = bad_file

    status, out, err = flowsim("show", path)

    assert (status, out) == (2, "")
    assert err.startswith(expected)
    assert "Traceback" not in err


def test_diff_shows_the_differing_setting() -> None:
    status, out, _ = flowsim("diff", BASELINE, AFU)
    row = next(line for line in out.splitlines() if "afu.beds" in line)

    assert status == 0
    assert "3 setting(s) differ" in out  # name, description and afu.beds
    assert re.search(rf"afu\.beds\W+{load_scenario(BASELINE).afu.beds}\W+36\W", row)


def test_diff_of_equal_scenarios() -> None:
    status, out, _ = flowsim("diff", BASELINE, BASELINE)

    assert status == 0
    assert out.strip() == f"no differences between {BASELINE} and {BASELINE}"


def test_diff_with_a_bad_file_exits_2(bad_file: tuple[Path, str]) -> None:
    path, expected = bad_file

    status, out, err = flowsim("diff", BASELINE, path)

    assert (status, out) == (2, "")
    assert err.startswith(expected)


def test_help_lists_the_commands() -> None:
    status, out, _ = flowsim("--help")

    assert status == 0
    for command in ("validate", "show", "diff"):
        assert re.search(rf"^\W*{command}\s+\w", out, re.MULTILINE)
    assert "extends: baseline.yaml" in out


def test_no_command_shows_help_and_a_bad_command_exits_2() -> None:
    assert "validate" in flowsim()[1] + flowsim()[2]
    assert flowsim("valdate", BASELINE)[0] == 2


def test_the_installed_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("flowsim")
    if not script.exists():
        pytest.skip("the flowsim console script is not installed next to this Python")
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {BASELINE}\nafu: {{beds: -4}}\n")

    result = subprocess.run(
        [script, "validate", bad], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 2
    assert f"{bad}:2: afu.beds: must be a whole number of 0 or more, got -4" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
