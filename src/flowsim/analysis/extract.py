"""The extract format: one row per attendance, read, checked and written (docs/extract-format.md).

An extract is what a system's analysts already hold (ED attendances joined to admissions, ward
stays, discharge pathways and community services). This module reads one from CSV or Parquet and
checks it row by row, so a mistyped date or a stay that ends before it starts is reported by
column and row before anything is fitted; `extract_from_log` writes the same table from a
simulated event log, so users can see the format and tests can fit a known scenario back.

Times are wall-clock datetimes. A row whose admission or community stay had not ended when the
extract was taken leaves the end empty; the extract is taken to end at its latest recorded time
(`extract_end`), and stays still open then are right-censored there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from flowsim.analysis.eventframe import EventFrame
from flowsim.errors import Problem, ScenarioError
from flowsim.log import EventLog
from flowsim.scenario.schema import AGE_BANDS, CFS_BY_BAND, DISPOSITIONS, ROUTES
from flowsim.scenario.units import (
    ACUTE_UNITS,
    DISCHARGE_PATHWAY_UNITS,
    WARD_PREFIX,
    is_ward,
    ward_name,
)

__all__ = [
    "COLUMNS",
    "REQUIRED",
    "TIME_COLUMNS",
    "ExtractError",
    "extract_end",
    "extract_from_log",
    "extract_kpis",
    "log_extract_kpis",
    "read_extract",
    "validate_extract",
    "write_extract",
]


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    meaning: str


COLUMNS: tuple[Column, ...] = (
    Column("attendance_id", True, "unique id of the attendance"),
    Column("arrival_time", True, "arrival at ED (or at SDEC, for a direct GP referral)"),
    Column("age_band", True, "18-64, 65-74, 75-84 or 85+"),
    Column("cfs", True, "Clinical Frailty Scale, 1-9"),
    Column("arrival_mode", True, "ambulance, walk_in or gp_referral"),
    Column("place", True, "place of residence, as named in the base scenario"),
    Column("ed_departure_time", True, "left ED; empty for direct SDEC referrals or still in ED"),
    Column("disposition", True, "home, sdec, amu, afu, ward or virtual_ward"),
    Column("readmission", False, "true if a re-attendance within 30 days of a discharge"),
    Column("ward_group", False, "ward group of the ward stay, as named in the base scenario"),
    Column("ward_start_time", False, "start of the ward stay"),
    Column("optimised_time", False, "medically optimised (no criteria to reside)"),
    Column("discharge_time", False, "left hospital (end of the spell)"),
    Column("discharge_pathway", False, "P0, P1, P2, P3 or died"),
    Column("community_start_time", False, "start of the P1-P3 community service"),
    Column("community_end_time", False, "end of the P1-P3 community service"),
)
REQUIRED = tuple(c.name for c in COLUMNS if c.required)
TIME_COLUMNS = tuple(c.name for c in COLUMNS if c.name.endswith("_time"))
_CATEGORIES: dict[str, tuple[str, ...]] = {
    "age_band": AGE_BANDS,
    "arrival_mode": ROUTES,
    "disposition": DISPOSITIONS,
    "discharge_pathway": ("P0", "P1", "P2", "P3", "died"),
}
_STAYS = (  # (start, end): the end must not come before the start
    ("arrival_time", "ed_departure_time"),
    ("ward_start_time", "optimised_time"),
    ("ward_start_time", "discharge_time"),
    ("optimised_time", "discharge_time"),
    ("community_start_time", "community_end_time"),
)
_MAX_PROBLEMS = 20
ADMITTED = (*ACUTE_UNITS, "ward")
"""Dispositions that admit the patient (to AMU, AFU or a ward)."""


class ExtractError(ScenarioError):
    """An extract that cannot be used: each problem names the column and the row (the file's
    line number, counting the header as line 1, for CSV; the row number from 1 for Parquet)."""


def _row_label(i: int, csv: bool) -> str:
    return f"line {i + 2}" if csv else f"row {i + 1}"


def read_extract(path: str | Path) -> pd.DataFrame:
    """Read and check an extract (``.csv`` or ``.parquet``); raises `ExtractError` listing what
    is wrong by column and row, so the user can fix the file rather than read a traceback."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ExtractError(str(path), "", "an extract must be a .csv or .parquet file")
    if not path.is_file():
        raise ExtractError(str(path), "", "no such file; check the path")
    try:
        if suffix == ".csv":
            raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        else:
            raw = pd.read_parquet(path)
    except Exception as error:
        raise ExtractError(str(path), "", f"cannot read the file: {error}") from None
    return validate_extract(raw, source=str(path), csv=suffix == ".csv")


def _blank(series: pd.Series) -> pd.Series:
    return series.isna() | (series.astype(str).str.strip().isin(["", "nan", "NaT", "None"]))


def validate_extract(raw: pd.DataFrame, source: str = "extract", csv: bool = True) -> pd.DataFrame:
    """The extract with typed columns (datetimes, int CFS, strings), or `ExtractError`.

    Checks: required columns present; times parse; CFS is a whole number 1-9; categories are
    known; no stay ends before it starts; attendance ids unique.
    """
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise ExtractError(
            source,
            f"column {missing[0]!r}",
            f"missing required column(s) {', '.join(missing)}; the columns are listed in "
            "docs/extract-format.md (write an example with 'flowsim synth')",
        )
    df = pd.DataFrame(index=raw.index)
    problems: list[Problem] = []

    def problem(col: str, rows: np.ndarray, message: str) -> None:
        for i in rows[: max(0, _MAX_PROBLEMS - len(problems))]:
            problems.append(Problem(source, f"column {col!r}, {_row_label(int(i), csv)}", message))

    for col in (c.name for c in COLUMNS):
        if col not in raw.columns:
            df[col] = pd.NaT if col in TIME_COLUMNS else None
            continue
        values = raw[col]
        blank = _blank(values).to_numpy()
        if col in TIME_COLUMNS:
            parsed = pd.to_datetime(values.where(~blank), errors="coerce", format="mixed")
            bad = np.flatnonzero(~blank & parsed.isna().to_numpy())
            shown = values.iloc[bad[:1]].tolist()
            problem(
                col,
                bad,
                f"cannot read {shown[0]!r} as a date and time; use ISO format, e.g. "
                "2025-01-06 14:30"
                if shown
                else "",
            )
            df[col] = parsed
        elif col == "cfs":
            num = pd.to_numeric(values.where(~blank), errors="coerce")
            bad = np.flatnonzero(blank | num.isna().to_numpy() | ~num.isin(range(1, 10)).to_numpy())
            problem(col, bad, "must be a whole number from 1 to 9 (Clinical Frailty Scale)")
            df[col] = num.fillna(0).astype(int)
        elif col == "readmission":
            text = values.astype(str).str.strip().str.lower()
            df[col] = text.isin(["true", "1", "yes", "y"])
        else:
            text = values.astype(str).str.strip().where(~blank, None)
            allowed = _CATEGORIES.get(col)
            if allowed is not None:
                bad_mask = text.notna() & ~text.isin(allowed)
                if col in REQUIRED:
                    bad_mask |= text.isna()
                bad = np.flatnonzero(bad_mask.to_numpy())
                if len(bad):
                    problem(
                        col,
                        bad,
                        f"{text.iloc[bad[0]]!r} is not one of {', '.join(allowed)}",
                    )
            elif col in REQUIRED:
                problem(col, np.flatnonzero(blank), "must not be empty")
            df[col] = text
    if not problems:
        for start, end in _STAYS:
            gap = (df[end] - df[start]).dt.total_seconds().to_numpy()
            bad = np.flatnonzero(gap < 0)
            problem(end, bad, f"is before {start}: a negative stay; check both times")
        dupes = np.flatnonzero(df["attendance_id"].duplicated().to_numpy())
        problem("attendance_id", dupes, "repeats an earlier attendance id; ids must be unique")
        no_ward = np.flatnonzero(
            (df["ward_start_time"].notna() & df["ward_group"].isna()).to_numpy()
        )
        problem("ward_group", no_ward, "is empty but ward_start_time is given; name the ward group")
    if problems:
        raise ExtractError.from_problems(problems)
    if df.empty:
        raise ExtractError(source, "", "the extract has no rows")
    band = {cfs: b for b, values in CFS_BY_BAND.items() for cfs in values}
    df["frailty"] = df["cfs"].map(band)
    return df.reset_index(drop=True)


def extract_end(df: pd.DataFrame) -> pd.Timestamp:
    """When the extract was taken: its latest recorded time. Stays open then are censored."""
    return max(df[c].max() for c in TIME_COLUMNS if df[c].notna().any())


def write_extract(df: pd.DataFrame, path: str | Path) -> Path:
    """Write an extract as CSV (times to the second) or Parquet, by the file's suffix."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        df.to_parquet(path, index=False)
    elif path.suffix.lower() == ".csv":
        df.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S")
    else:
        raise ExtractError(str(path), "", "write the extract to a .csv or .parquet file")
    return path


# ---------------------------------------------------------------- from a simulated log


def extract_from_log(log: EventLog, start_date: dt.date | None = None) -> pd.DataFrame:
    """The extract a hospital would hold for a simulated run: one row per ED attendance (and per
    direct GP referral to SDEC) arriving after warm-up, times from ``start_date`` (default the
    scenario's ``run.start_date`` recorded in the log) at the start of warm-up.

    Stays still open at the end of the run have empty ends. Patients kept at home by urgent
    community response never reach hospital, so they are not in an extract (as in real data).
    """
    ef = EventFrame(log)
    origin = ef.start_date
    if start_date is not None:
        origin = dt.datetime.combine(start_date, dt.time())
    if origin is None:
        origin = dt.datetime(2025, 1, 6)
    w, e = ef.warm_up, ef.end
    pts = ef.patients.set_index("patient")
    visits = ef.ed_visits.drop_duplicates("patient").set_index("patient")
    stays = ef.stays
    sdec_direct = stays[(stays["unit"] == "sdec") & ~stays["patient"].isin(visits.index)]
    ids = np.union1d(visits.index.to_numpy(), sdec_direct["patient"].to_numpy())
    ids = ids[(pts.loc[ids, "arrival"] >= w).to_numpy() & (pts.loc[ids, "arrival"] < e).to_numpy()]
    p = pts.loc[ids]
    v = visits.reindex(ids)
    arrival = np.where(v["arrival"].notna(), v["arrival"], p["arrival"])
    next_unit = v["next_unit"].astype(object).fillna("").astype(str).to_numpy()
    disposition = np.where(
        np.char.startswith(next_unit.astype(str), WARD_PREFIX),
        "ward",
        np.where(np.isin(next_unit, DISPOSITIONS), next_unit, "home"),
    )
    disposition = np.where(v["arrival"].isna(), "sdec", disposition)

    def first(frame: pd.DataFrame, col: str) -> pd.Series:
        return frame.drop_duplicates("patient").set_index("patient")[col].reindex(ids)

    ward_stays = stays[stays["unit"].astype(str).str.startswith(WARD_PREFIX)]
    ward_unit = first(ward_stays, "unit").astype(object)
    ward_start = first(ward_stays, "start")
    delays = ef.delays
    optimised = first(delays[delays["unit"].astype(str).str.startswith(WARD_PREFIX)], "start")
    spells = ef.spells
    discharge = first(spells, "end")
    community = stays[stays["unit"].isin(DISCHARGE_PATHWAY_UNITS)]
    outcome = p["outcome"].astype(object).to_numpy()
    admitted = spells.drop_duplicates("patient").set_index("patient").reindex(ids)["start"].notna()
    pathway = np.where(
        np.isin(outcome, ["P0", "P1", "P2", "P3", "died"]),
        outcome,
        np.where(admitted.to_numpy() & discharge.notna().to_numpy(), "P0", None),
    )
    pathway = np.where(discharge.notna().to_numpy(), pathway, None)

    def clock(hours: pd.Series | np.ndarray) -> pd.Series:
        h = pd.Series(np.asarray(hours, dtype=float))
        return (pd.Timestamp(origin) + pd.to_timedelta(h, unit="h")).dt.round("s")

    return pd.DataFrame(
        {
            "attendance_id": ids,
            "arrival_time": clock(arrival),
            "age_band": p["age_band"].astype(str).to_numpy(),
            "cfs": p["cfs"].to_numpy(),
            "arrival_mode": p["route"].astype(str).to_numpy(),
            "place": p["place"].astype(str).to_numpy(),
            "ed_departure_time": clock(v["exit"]),
            "disposition": disposition,
            "readmission": (p["readmission_of"] >= 0).to_numpy(),
            "ward_group": [ward_name(u) if isinstance(u, str) else None for u in ward_unit],
            "ward_start_time": clock(ward_start),
            "optimised_time": clock(optimised),
            "discharge_time": clock(discharge),
            "discharge_pathway": pathway,
            "community_start_time": clock(first(community, "start")),
            "community_end_time": clock(first(community, "end")),
        }
    ).sort_values("arrival_time", kind="stable", ignore_index=True)


# ---------------------------------------------------------------- observed KPIs

EXTRACT_KPIS: dict[str, tuple[str, str]] = {
    "ed_attendances": ("per day", "ED attendances arriving in the window"),
    "ed_within_4h": ("%", "ED attendances leaving within 4 hours (still in ED: time so far)"),
    "admissions": ("per day", "attendances admitted (amu, afu or ward disposition)"),
    "los_mean": ("days", "mean stay from leaving ED to discharge, completed spells"),
    "ward_occupancy_mean": ("%", "ward patients / ward beds, time-weighted"),
    "delayed_bed_days": ("per day", "bed-days after medically optimised, per day"),
}
"""KPIs computable from an extract alone, the same way for observed and simulated extracts."""


def _overlap_hours(start: pd.Series, end: pd.Series, a: pd.Timestamp, b: pd.Timestamp) -> float:
    s = start.clip(lower=a)
    e = end.fillna(b).clip(upper=b)
    return float(((e - s).dt.total_seconds().clip(lower=0) / 3600.0).sum())


def extract_kpis(df: pd.DataFrame, ward_beds: int, burn_in_days: float | None = None) -> dict:
    """KPIs of an extract over its window: from ``burn_in_days`` after the first arrival (default
    a third of the span, at most 30 days: patients admitted before the extract began are missing,
    so early occupancy is understated) to the extract's end. Simulated extracts go through the
    same function, so their censoring and start-up match the observed one's."""
    start, end = df["arrival_time"].min(), extract_end(df)
    span = (end - start).total_seconds() / 86400.0
    burn = min(30.0, span / 3) if burn_in_days is None else burn_in_days
    a = start + pd.Timedelta(days=burn)
    days = (end - a).total_seconds() / 86400.0
    in_window = (df["arrival_time"] >= a) & (df["arrival_time"] < end)
    ed = df[in_window & (df["ed_departure_time"].notna() | (df["disposition"] != "sdec"))]
    dep = ed["ed_departure_time"].fillna(end)
    hours = (dep - ed["arrival_time"]).dt.total_seconds() / 3600.0
    admitted = df[in_window & df["disposition"].isin(ADMITTED)]
    done = admitted[admitted["discharge_time"].notna()]
    los = (done["discharge_time"] - done["ed_departure_time"]).dt.total_seconds() / 86400.0
    ward = df[df["ward_start_time"].notna()]
    ward_hours = _overlap_hours(ward["ward_start_time"], ward["discharge_time"], a, end)
    opt = df[df["optimised_time"].notna()]
    delayed_hours = _overlap_hours(opt["optimised_time"], opt["discharge_time"], a, end)
    return {
        "ed_attendances": len(ed) / days,
        "ed_within_4h": 100.0 * float((hours <= 4.0).mean()) if len(ed) else float("nan"),
        "admissions": len(admitted) / days,
        "los_mean": float(los.mean()) if len(los) else float("nan"),
        "ward_occupancy_mean": 100.0 * ward_hours / (24.0 * days) / ward_beds
        if ward_beds
        else float("nan"),
        "delayed_bed_days": delayed_hours / 24.0 / days,
    }


def log_extract_kpis(log: EventLog) -> dict:
    """`extract_kpis` of a simulated run's extract (ward beds from the log): for check-fit, run
    where the replication runs so only a few numbers travel back."""
    beds = sum(n for unit, n in log.capacities.items() if is_ward(unit))
    return extract_kpis(extract_from_log(log), beds)
