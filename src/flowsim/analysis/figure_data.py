"""Plain tables behind the report's pictures: when the ED is full, how long frail patients stay,
where patients go, and the words for each unit.

Figures in `flowsim.report.figures` draw these tables and compute nothing from the log, so a
table can be checked against the log in a test, pooled over replications or scenarios with
``pd.concat``, and drawn again without simulating anything. Each function takes one
replication (an `EventLog` or an `EventFrame`) and counts only the measured period
``[warm_up, end]``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from flowsim.analysis.eventframe import EventFrame, StepSeries
from flowsim.analysis.kpis import discharged_spells
from flowsim.log import EventLog
from flowsim.scenario.schema import FRAILTY_BANDS
from flowsim.scenario.units import (
    ACUTE_UNITS,
    ENTRY_UNITS,
    OUTCOMES,
    ROUTES,
    is_ward,
    spec_of,
)
from flowsim.scenario.units import unit_label as catalogue_label

__all__ = [
    "FLOW_NODE_ORDER",
    "FLOW_STAGES",
    "HOUR_WEEKDAY_MEASURES",
    "flow_links",
    "hour_weekday_table",
    "los_table",
    "patient_paths",
    "unit_label",
]

_CAUSE_LABELS: dict[str, str] = {
    "handover": "ambulance handover",
    "boarding": "ED boarding",
    "discharge_window": "discharge window",
    "discharge_referral": "discharge referral and assessment",
    "waiting_room": "ED waiting room",
}
"""Causes and places of waiting that are no unit; units, routes and outcomes take their words
from `flowsim.scenario.units`."""


def unit_label(unit: str) -> str:
    """A unit, route, outcome or cause of waiting in words for people in the room:
    ``ward:care_of_elderly`` -> ``ward: care of elderly``, ``p1`` -> ``P1 (home with support)``;
    unknown names get spaces for underscores. One vocabulary, so figures and exported logs name
    places alike."""
    known = catalogue_label(unit)
    if known is not None:
        return known
    return _CAUSE_LABELS.get(unit, unit.replace("_", " "))


def _frame(log: EventLog | EventFrame) -> EventFrame:
    return log if isinstance(log, EventFrame) else EventFrame(log)


# ---------------------------------------------------------------- hour of day x weekday

HOUR_WEEKDAY_MEASURES: dict[str, tuple[str, str]] = {
    "ed_occupancy": ("Patients in ED (waiting for or in a cubicle or corridor space)", "patients"),
    "boarding": ("Admitted patients boarding in ED, waiting for a bed", "patients"),
    "handover_delay": ("Ambulance handover delay, by hour of arrival", "minutes"),
}
"""`hour_weekday_table` measures: name -> (what it is, unit)."""


def _clock(ef: EventFrame) -> tuple[int, float]:
    """Weekday (Monday 0) and hour of day at time 0; Monday midnight when the log has no date."""
    start = ef.start_date or dt.datetime(2024, 1, 1)  # a Monday
    return start.weekday(), start.hour + start.minute / 60.0 + start.second / 3600.0


def _weekday_hour(ef: EventFrame, hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    weekday0, hour0 = _clock(ef)
    clock = np.asarray(hours, dtype=np.float64) + hour0
    day = np.floor(clock / 24.0)
    return ((weekday0 + day) % 7).astype(np.int64), np.floor(clock - 24.0 * day).astype(np.int64)


def _steps(starts: np.ndarray, ends: np.ndarray) -> StepSeries:
    return StepSeries.from_deltas(
        np.concatenate((starts, ends)), np.concatenate((np.ones(len(starts)), -np.ones(len(ends))))
    )


def hour_weekday_table(log: EventLog | EventFrame) -> pd.DataFrame:
    """Each `HOUR_WEEKDAY_MEASURES` measure per weekday and hour of day: ``measure, unit,
    weekday`` (0 = Monday), ``hour`` (0-23), ``total, count``; the cell's value is total/count.

    Occupancies are time-weighted means of whole clock hours (``count`` hours, ``total`` the sum
    of their means); handover delay is the mean over ambulance arrivals in that hour (delays
    still under way at the end count with their time so far). Keeping totals and counts lets
    replications be pooled exactly: concatenate, then sum by cell. Weekdays follow the run's
    ``start_date``.
    """
    ef = _frame(log)
    cells = pd.MultiIndex.from_product([range(7), range(24)], names=["weekday", "hour"])
    frames = []
    first, last = math.ceil(ef.warm_up), math.floor(ef.end)
    edges = np.arange(first, last + 1, 1.0)
    v = ef.ed_visits
    exit_c = v["exit"].fillna(ef.end).to_numpy()
    boarding = v["boarding"].notna().to_numpy()
    decision = v["decision"].to_numpy()
    series = {
        "ed_occupancy": _steps(v["arrival"].to_numpy(), exit_c),
        "boarding": _steps(decision[boarding], exit_c[boarding]),
    }
    for measure, steps in series.items():
        if len(edges) > 1:
            means = steps.bin_means(edges)
            weekday, hour = _weekday_hour(ef, edges[:-1])
        else:
            means, weekday, hour = np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64)
        frames.append(_cells(measure, weekday, hour, means, cells))
    amb = v[v["ambulance"] & (v["arrival"] >= ef.warm_up) & (v["arrival"] < ef.end)]
    amb = amb[amb["handover_wait"].notna()]
    weekday, hour = _weekday_hour(ef, amb["arrival"].to_numpy())
    minutes = amb["handover_wait"].to_numpy() * 60.0
    frames.append(_cells("handover_delay", weekday, hour, minutes, cells))
    return pd.concat(frames, ignore_index=True)


def _cells(
    measure: str, weekday: np.ndarray, hour: np.ndarray, values: np.ndarray, cells: pd.MultiIndex
) -> pd.DataFrame:
    df = pd.DataFrame({"weekday": weekday, "hour": hour, "value": values})
    agg = df.groupby(["weekday", "hour"])["value"].agg(["sum", "count"]).reindex(cells)
    out = agg.fillna(0.0).reset_index().rename(columns={"sum": "total"})
    out["count"] = out["count"].astype(np.int64)
    out.insert(0, "unit", HOUR_WEEKDAY_MEASURES[measure][1])
    out.insert(0, "measure", measure)
    return out


# ---------------------------------------------------------------- length of stay


def los_table(log: EventLog | EventFrame) -> pd.DataFrame:
    """One row per hospital spell that ended in the measured period, with its whole length
    (`flowsim.analysis.kpis.discharged_spells`): ``frailty, los_days`` (the spells behind the
    ``los_mean_frailty_*`` KPIs). Add a ``scenario`` column and concatenate to compare
    scenarios."""
    done = discharged_spells(_frame(log))
    return pd.DataFrame(
        {
            "frailty": pd.Categorical(done["frailty"], categories=list(FRAILTY_BANDS)),
            "los_days": done["los_days"].to_numpy(dtype=np.float64),
        }
    ).reset_index(drop=True)


# ---------------------------------------------------------------- flow through the pathway

FLOW_STAGES: tuple[tuple[str, str], ...] = (
    ("route", "arrival"),
    ("entry", "first seen by"),
    ("admission", "admitted to"),
    ("outcome", "left to"),
)
"""`patient_paths` columns, left to right in the flow diagram, with their column headings."""

_OUTCOME_NAMES = {
    **{o: unit_label(o) for o in OUTCOMES},
    "ucr_home": unit_label("home"),
    "virtual_ward_home": f"{unit_label('virtual_ward')}, then home",
}
"""How patients left, as the flow diagram groups them (home after UCR is home)."""
STILL_IN_CARE = "still in care at the end"
NOT_ADMITTED = "not admitted"
WARD = "ward"
"""Every ward group is one node of the flow diagram."""


def _entry_name(unit: str) -> str:
    spec = spec_of(unit)
    return spec.entry if spec is not None and spec.entry else "other"


FLOW_NODE_ORDER: tuple[str, ...] = (
    *(unit_label(r) for r in ROUTES),
    *(_entry_name(u) for u in ENTRY_UNITS),
    NOT_ADMITTED,
    unit_label("virtual_ward"),
    *(unit_label(u) for u in ACUTE_UNITS),
    WARD,
    *dict.fromkeys(_OUTCOME_NAMES[o] for o in OUTCOMES if o != "died"),
    _OUTCOME_NAMES["died"],
    STILL_IN_CARE,
)
"""Nodes of `patient_paths` in the order the flow diagram stacks them."""


def patient_paths(log: EventLog | EventFrame) -> pd.DataFrame:
    """One row per patient arriving in the measured period: ``patient, route, entry`` (UCR at
    home, ED or SDEC: the first service queued for), ``admission`` (first unit of the patient's
    first hospital spell: AMU, AFU or a ward; else the virtual ward if used; else not
    admitted) and ``outcome`` (how they left; P0-P3 are discharge pathways; still in care when
    the run ends first). Labels are words, ready for `flow_links`."""
    ef = _frame(log)
    pts = ef.patients
    pts = pts[(pts["arrival"] >= ef.warm_up) & (pts["arrival"] < ef.end)]
    ids = pts["patient"].to_numpy()

    q = ef.queues
    q = q[q["unit"].isin(ENTRY_UNITS)].sort_values(["patient", "queue"], kind="stable")
    first_entry = q.drop_duplicates("patient").set_index("patient")["unit"].astype(str)
    entry = (
        pd.Series(ids).map(first_entry).map(_entry_name, na_action="ignore").astype(object)
    ).fillna("other")

    sp = ef.spells.sort_values(["patient", "start"], kind="stable")
    first_unit = sp.drop_duplicates("patient").set_index("patient")["first_unit"].astype(str)
    admission = pd.Series(ids).map(first_unit).map(lambda u: _admission_name(u))
    st = ef.stays
    virtual = set(st.loc[st["unit"] == "virtual_ward", "patient"].tolist())
    in_virtual = pd.Series(ids).isin(virtual).to_numpy()
    virtual_ward = unit_label("virtual_ward")
    admission = admission.where(admission.notna(), np.where(in_virtual, virtual_ward, None))
    admission = admission.fillna(NOT_ADMITTED)

    outcome = pts["outcome"].astype(object).map(lambda o: _OUTCOME_NAMES.get(o, o))
    outcome = outcome.where(pts["outcome"].notna(), STILL_IN_CARE)
    return pd.DataFrame(
        {
            "patient": ids,
            "route": pts["route"].astype(str).map(unit_label).to_numpy(),
            "entry": entry.to_numpy(),
            "admission": admission.to_numpy(),
            "outcome": outcome.to_numpy(),
        }
    )


def _admission_name(unit: object) -> str | None:
    if not isinstance(unit, str) or not unit or unit == "nan":
        return None
    return WARD if is_ward(unit) else unit_label(unit)


def flow_links(paths: pd.DataFrame | Iterable[pd.DataFrame], per: float = 1.0) -> pd.DataFrame:
    """Patients along each link between neighbouring `FLOW_STAGES`: ``source_stage, source,
    target_stage, target, patients``, with ``patients`` divided by ``per`` (say the measured
    days times the replications, for patients a day). ``paths`` is `patient_paths` output, or
    several (replications) to pool."""
    df = paths if isinstance(paths, pd.DataFrame) else pd.concat(list(paths), ignore_index=True)
    stages = [s for s, _ in FLOW_STAGES]
    frames = []
    for a, b in itertools.pairwise(stages):
        counts = df.groupby([a, b], sort=False).size().reset_index(name="patients")
        frames.append(
            pd.DataFrame(
                {
                    "source_stage": a,
                    "source": counts[a].astype(str),
                    "target_stage": b,
                    "target": counts[b].astype(str),
                    "patients": counts["patients"].to_numpy(dtype=np.float64) / per,
                }
            )
        )
    columns = ["source_stage", "source", "target_stage", "target", "patients"]
    return (
        pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    )
