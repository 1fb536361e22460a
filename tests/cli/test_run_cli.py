"""`flowsim run` end to end on short horizons, and the replication runner behind it."""

from __future__ import annotations

import base64
import io
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from flowsim.analysis import PRIMARY_KPIS
from flowsim.cli import app
from flowsim.experiment import run_replications
from flowsim.log import Kind
from flowsim.model.build import simulate
from flowsim.report import OUTPUT_FILES, kpi_label
from flowsim.scenario import load_scenario, scenario_from_dict

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
BASELINE = SCENARIOS / "baseline.yaml"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
SHORT = ("--days", 10, "--warm-up", 3, "--replications", 2)
DAYS, WARM_UP = 10, 3


def flowsim(*args: object) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``flowsim ARGS`` (colour codes removed)."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, ANSI.sub("", result.stdout), ANSI.sub("", result.stderr)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[Path, str]]:
    """Output folder and stdout of the same short run with 1 and with 2 worker processes."""
    out = {}
    for workers in (1, 2):
        folder = tmp_path_factory.mktemp(f"workers{workers}") / "out"
        status, stdout, stderr = flowsim(
            "run", BASELINE, *SHORT, "--workers", workers, "--out", folder
        )
        assert status == 0, stderr
        out[workers] = folder, stdout
    return out


@pytest.fixture(scope="module")
def folder(runs: dict[int, tuple[Path, str]]) -> Path:
    return runs[2][0]


def test_run_writes_every_file_and_lists_it(runs: dict[int, tuple[Path, str]]) -> None:
    folder, stdout = runs[2]

    for name in OUTPUT_FILES:
        assert (folder / name).is_file(), name
        assert str(folder / name) in stdout
    for kpi in PRIMARY_KPIS:
        assert kpi_label(kpi) in stdout


def test_kpis_csv_is_tidy_with_every_replication(folder: Path) -> None:
    kpis = pd.read_csv(folder / "kpis.csv")

    assert list(kpis.columns) == ["kpi", "unit", "replication", "value"]
    assert sorted(kpis["replication"].unique()) == [0, 1]
    per_replication = kpis.groupby("replication")["kpi"].apply(list)
    assert per_replication[0] == per_replication[1]
    assert set(PRIMARY_KPIS) <= set(kpis["kpi"])


def test_summary_csv_has_intervals_around_the_mean(folder: Path) -> None:
    summary = pd.read_csv(folder / "summary.csv").set_index("kpi")
    kpis = pd.read_csv(folder / "kpis.csv")

    assert list(summary.columns) == ["unit", "mean", "ci_low", "ci_high", "n"]
    primary = summary.loc[list(PRIMARY_KPIS)]
    assert (primary["n"] == 2).all()
    assert (primary["ci_low"] <= primary["mean"]).all()
    assert (primary["mean"] <= primary["ci_high"]).all()
    means = kpis.groupby("kpi")["value"].mean()
    assert primary["mean"].to_numpy() == pytest.approx(means[list(PRIMARY_KPIS)].to_numpy())


def test_events_parquet_holds_every_event_of_every_replication(folder: Path) -> None:
    events = pd.read_parquet(folder / "events.parquet")
    scenario = load_scenario(BASELINE)

    assert list(events.columns) == ["replication", "time_hours", "patient", "event", "place"]
    assert isinstance(events["event"].dtype, pd.CategoricalDtype)
    assert isinstance(events["place"].dtype, pd.CategoricalDtype)
    for r in (0, 1):
        log = simulate(scenario, r, horizon_days=DAYS, warm_up_days=WARM_UP)
        mine = events[events["replication"] == r]
        expected = [(t, p, Kind(k).name, log.places[u]) for t, p, k, u in log.events]
        got = list(
            zip(
                mine["time_hours"],
                mine["patient"],
                mine["event"].astype(str),
                mine["place"].astype(str),
                strict=True,
            )
        )
        assert got == expected


def test_patients_parquet_is_decoded(folder: Path) -> None:
    patients = pd.read_parquet(folder / "patients.parquet")
    events = pd.read_parquet(folder / "events.parquet")

    assert {"replication", "patient", "frailty", "route", "arrival_hours", "outcome"} <= set(
        patients.columns
    )
    assert set(patients["frailty"].astype(str)) <= {"fit", "frail", "severe"}
    for r in (0, 1):
        ids = set(patients.loc[patients["replication"] == r, "patient"])
        assert ids == set(events.loc[events["replication"] == r, "patient"])


def test_scenario_yaml_reloads_to_the_scenario_run(folder: Path) -> None:
    data = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))

    assert scenario_from_dict(data) == load_scenario(BASELINE)
    assert load_scenario(folder / "scenario.yaml") == load_scenario(BASELINE)


def test_report_has_its_sections_and_images_that_decode(folder: Path) -> None:
    html = (folder / "report.html").read_text(encoding="utf-8")

    sections = ("run", "headline", "how-to-read", "bottlenecks", "figures", "all-results")
    for section in (*sections, "sources", "stress-des"):
        assert f'id="{section}"' in html, section
    assert "<h1>baseline</h1>" in html
    assert "20261128" in html  # the seed
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 8  # the trends, six figures and the blocking chain
    for data in images:
        with Image.open(io.BytesIO(base64.b64decode(data, validate=True))) as image:
            image.load()
            assert image.width > 500 and image.height > 300
    assert "http://" not in html and "https://" not in html  # self-contained


def test_the_number_of_workers_does_not_change_the_results(
    runs: dict[int, tuple[Path, str]],
) -> None:
    (one, _), (two, _) = runs[1], runs[2]

    assert (one / "kpis.csv").read_bytes() == (two / "kpis.csv").read_bytes()
    pd.testing.assert_frame_equal(
        pd.read_parquet(one / "events.parquet"), pd.read_parquet(two / "events.parquet")
    )


def test_default_folder_is_named_after_the_scenario(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    status, _, err = flowsim("run", BASELINE, "--days", 2, "--warm-up", 1, "--replications", 1)

    assert status == 0, err
    assert (tmp_path / "results" / "baseline" / "summary.csv").is_file()


def test_bad_options_exit_2() -> None:
    assert flowsim("run", BASELINE, "--days", 0)[0] == 2
    assert flowsim("run", BASELINE, "--replications", 0)[0] == 2
    assert flowsim("run", BASELINE, "--workers", 0)[0] == 2


def _unrunnable(tmp_path: Path) -> Path:
    path = tmp_path / "no_cubicles.yaml"
    path.write_text(f"extends: {BASELINE}\ned: {{cubicles: 0}}\n", encoding="utf-8")
    return path


def test_a_model_error_exits_2_with_the_message(tmp_path: Path) -> None:
    status, _, err = flowsim(
        "run", _unrunnable(tmp_path), "--days", 2, "--replications", 1, "--out", tmp_path / "o"
    )

    assert status == 2
    assert "ed.cubicles is 0" in err
    assert "Traceback" not in err


def test_a_model_error_in_a_worker_process_exits_2_without_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("flowsim")
    if not script.exists():
        pytest.skip("the flowsim console script is not installed next to this Python")
    args = ["run", _unrunnable(tmp_path), "--days", "2", "--replications", "2", "--workers", "2"]

    result = subprocess.run(
        [script, *args, "--out", tmp_path / "o"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 2
    assert "cannot run the scenario: ed.cubicles is 0" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


# ---------------------------------------------------------------- the runner


def test_run_replications_in_order_and_alike_for_any_number_of_workers() -> None:
    scenario = load_scenario(BASELINE)
    done: list[int] = []

    serial = run_replications(scenario, 3, horizon_days=2, warm_up_days=1)
    parallel = run_replications(
        scenario, 3, horizon_days=2, warm_up_days=1, workers=2, on_done=done.append
    )

    assert [log.meta["replication"] for log in parallel] == [0, 1, 2]
    assert [a.events == b.events for a, b in zip(serial, parallel, strict=True)] == [True] * 3
    assert serial[0].events != serial[1].events
    assert sorted(done) == [0, 1, 2]


def test_the_experiment_layer_imports_no_pandas_or_matplotlib() -> None:
    code = (
        "import sys, flowsim.experiment; "
        "print(sorted(m for m in ('pandas', 'matplotlib') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
