"""Exported event logs: vidigi's animation log and the process-mining log load back, have the
columns their tools need, one arrival per patient and times that never go backwards."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from flowsim.analysis.export import (
    PROCESS_MINING_COLUMNS,
    VIDIGI_COLUMNS,
    process_mining_log,
    vidigi_log,
)
from flowsim.cli import app
from flowsim.log import EventLog
from helpers.model_helpers import run, small_scenario

SHORT = {"horizon_days": 4, "warm_up_days": 2}


@pytest.fixture(scope="module")
def logs() -> list[EventLog]:
    scenario = small_scenario(**SHORT)
    return [run(scenario, r) for r in (0, 1)]


def test_vidigi_log_has_vidigi_columns_and_one_arrival_per_patient(logs: list[EventLog]) -> None:
    df = vidigi_log(logs)
    assert tuple(df.columns) == VIDIGI_COLUMNS
    assert set(df["event_type"].cat.categories) == {
        "arrival_departure",
        "queue",
        "resource_use",
        "resource_use_end",
    }
    assert set(df["run_number"]) == {0, 1}
    arrivals = df[df["event"] == "arrival"].groupby(["run_number", "entity_id"]).size()
    assert (arrivals == 1).all()
    assert len(arrivals) == sum(len(log.patients) for log in logs)
    departs = df[df["event"] == "depart"].groupby(["run_number", "entity_id"]).size()
    assert (departs == 1).all()
    first = df.groupby(["run_number", "entity_id"])["event"].first()
    assert (first == "arrival").all()
    assert (df.groupby(["run_number", "entity_id"])["time"].diff().dropna() >= 0).all()
    uses = df[df["event_type"].isin(["resource_use", "resource_use_end"])]
    assert uses["resource_id"].notna().all() and (uses["resource_id"] >= 1).all()


def test_vidigi_places_are_never_double_booked(logs: list[EventLog]) -> None:
    df = vidigi_log(logs[0])
    uses = df[df["event_type"].isin(["resource_use", "resource_use_end"])].copy()
    uses["unit"] = uses["event"].astype(str).str.rsplit("_", n=1).str[0]
    uses["delta"] = np.where(uses["event_type"] == "resource_use", 1, -1)
    uses = uses.sort_values(["time", "delta"], kind="stable")  # a place is freed before reuse
    held = uses.groupby(["unit", "resource_id"])["delta"].cumsum()
    assert held.max() == 1 and held.min() >= 0


def test_process_mining_log_has_real_times_in_case_order(logs: list[EventLog]) -> None:
    df = process_mining_log(logs)
    assert tuple(df.columns) == PROCESS_MINING_COLUMNS
    assert pd.api.types.is_datetime64_any_dtype(df["timestamp"])
    start = pd.Timestamp(logs[0].meta["start_date"])
    assert df["timestamp"].min() >= start
    assert df["timestamp"].max() <= start + pd.Timedelta(hours=logs[0].end_hours)
    assert (df.groupby("case_id")["timestamp"].diff().dropna() >= pd.Timedelta(0)).all()
    arrivals = df[df["activity"].astype(str).str.startswith("arrival: ")]
    assert arrivals.groupby("case_id").size().max() == 1
    assert df.groupby("case_id")["activity"].first().astype(str).str.startswith("arrival").all()
    assert set(df["lifecycle"].cat.categories) <= {"schedule", "assign", "start", "complete"}
    assert len(df) == sum(len(log.events) for log in logs)


@pytest.mark.parametrize(("fmt", "kind"), [("vidigi", "csv"), ("process-mining", "parquet")])
def test_export_log_command_writes_a_file_pandas_reads(tmp_path: Path, fmt: str, kind: str) -> None:
    out = tmp_path / f"log.{kind}"
    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.yaml"
    result = CliRunner().invoke(
        app,
        [
            "export-log",
            str(scenario),
            "--format",
            fmt,
            "--as",
            kind,
            "--days",
            "1",
            "--warm-up",
            "0",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    df = pd.read_csv(out) if kind == "csv" else pd.read_parquet(out)
    case = "entity_id" if fmt == "vidigi" else "case_id"
    assert len(df) > 1000 and df[case].nunique() > 100
    assert "Wrote" in result.output


def test_pm4py_reads_the_process_mining_log(logs: list[EventLog]) -> None:
    import pm4py  # in the test extra, so this test runs under make test

    df = process_mining_log(logs[0])
    done = df[df["lifecycle"] == "complete"]
    formatted = pm4py.format_dataframe(
        done, case_id="case_id", activity_key="activity", timestamp_key="timestamp"
    )
    dfg, starts, _ends = pm4py.discover_dfg(formatted)
    assert dfg and set(starts) <= {"arrival: ambulance", "arrival: walk-in", "arrival: GP referral"}


def test_vidigi_animates_the_log(logs: list[EventLog]) -> None:
    from vidigi.animation import animate_activity_log

    df = vidigi_log(logs[0])
    events = [e for e in df["event"].cat.categories if not e.endswith("_ends")]
    positions = pd.DataFrame(
        {
            "event": events,
            "x": [50 + 40 * i for i in range(len(events))],
            "y": [50 + 30 * (i % 5) for i in range(len(events))],
            "label": events,
            "resource": [f"n_{e}" if e.endswith("_begins") else None for e in events],
        }
    )
    begins = df[df["event_type"] == "resource_use"].groupby("event", observed=True)
    places = {f"n_{e}": int(n) for e, n in begins["resource_id"].max().items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # vidigi's own advice, not ours
        fig = animate_activity_log(
            df,
            positions,
            scenario=places,
            limit_duration=12 * 60,
            every_x_time_units=60,
            run_col_name=None,
        )
    assert len(fig.frames) >= 10
