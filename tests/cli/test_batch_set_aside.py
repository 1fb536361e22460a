"""``flowsim batch`` says which stored files it found damaged, set aside and ran again
(issue 17, item 4): a truncated KPI file is named, with where it went, and redone."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from typer.testing import CliRunner

from flowsim.cli import app
from flowsim.experiment.store import ResultStore
from flowsim.scenario import scenario_to_yaml
from helpers.model_helpers import small_scenario

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def flowsim(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, ANSI.sub("", result.stdout + result.stderr)


def test_batch_reports_each_damaged_file_it_set_aside_and_redoes_it(tmp_path: Path) -> None:
    (tmp_path / "small.yaml").write_text(scenario_to_yaml(small_scenario()), encoding="utf-8")
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        textwrap.dedent(
            """
            name: tiny
            scenarios: [small.yaml]
            replications: 2
            seed: 3
            horizon_days: 2
            warm_up_days: 0
            """
        ),
        encoding="utf-8",
    )
    out = tmp_path / "store"
    status, text = flowsim("batch", sweep, "--out", out, "--workers", "1")
    assert status == 0 and "Stored 2 replication(s)" in text, text
    assert "Set aside" not in text
    store = ResultStore(out)
    before = store.load().sort_values(["replication", "kpi"], ignore_index=True)
    damaged = sorted(store.kpis_dir.glob("*.parquet"))[0]
    damaged.write_bytes(damaged.read_bytes()[:100])  # cut short, as by a full disk

    status, text = flowsim("batch", sweep, "--out", out, "--workers", "1")
    assert status == 0, text
    lines = [line for line in text.splitlines() if line.startswith("Set aside")]
    assert lines == [
        f"Set aside damaged {damaged} as .{damaged.name}.broken; its replication runs again."
    ], text
    assert "Skipping 1 replication(s)" in text and "Stored 1 replication(s)" in text
    after = store.load().sort_values(["replication", "kpi"], ignore_index=True)
    cols = ["scenario_hash", "replication", "kpi", "unit", "value"]
    assert after[cols].equals(before[cols])

    status, text = flowsim("batch", sweep, "--out", out, "--workers", "1")
    assert "Set aside" not in text and "Nothing left to run" in text
