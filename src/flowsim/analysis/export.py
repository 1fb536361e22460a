"""The event log in the shapes other tools read: vidigi's animation log and a process-mining log.

flowsim's own log is compact (numeric codes, hours from the start of warm-up) and its meaning
lives in `flowsim.log`. Analysts who want to *watch* the flow (vidigi's
``animate_activity_log``) or *mine* it (pm4py, bupaR, Disco, Celonis) need the same events as a
plain table with named events, real clock times and the columns those tools look for, so both
tables are built here from the decoded `EventFrame` and nothing is recomputed by the model.

Both functions take one replication's log, or several, and tell replications apart by a column.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable

import numpy as np
import pandas as pd

from flowsim.analysis.eventframe import EventFrame
from flowsim.analysis.figure_data import unit_label
from flowsim.log import ROUTES, EventLog, Kind
from flowsim.scenario.schema import FRAILTY_BANDS
from flowsim.scenario.units import ED_PLACES, spec_of

__all__ = [
    "PROCESS_MINING_COLUMNS",
    "VIDIGI_COLUMNS",
    "concat_logs",
    "process_mining_log",
    "vidigi_log",
]

LogLike = EventLog | EventFrame

VIDIGI_COLUMNS = (
    "entity_id",
    "patient",
    "event_type",
    "event",
    "time",
    "resource_id",
    "pathway",
    "run_number",
    "frailty",
)
"""`vidigi_log` columns. vidigi reads ``entity_id`` (``patient`` in releases before 1.0),
``event_type``, ``event``, ``time``, ``resource_id``, ``pathway`` and ``run_number``;
``frailty`` is there to colour patients by (``entity_colour_by="frailty"``)."""

PROCESS_MINING_COLUMNS = (
    "case_id",
    "activity",
    "timestamp",
    "lifecycle",
    "resource",
    "replication",
    "patient",
    "time_hours",
    "route",
    "frailty",
)
"""`process_mining_log` columns: the four every tool needs, the XES lifecycle transition, then
where the row came from and two case attributes."""

_FALLBACK_START = dt.datetime(2025, 1, 6)
"""Time 0 for a log without ``meta["start_date"]`` (a Monday, as the baseline's)."""


def _frames(logs: LogLike | Iterable[LogLike]) -> list[EventFrame]:
    items = [logs] if isinstance(logs, EventLog | EventFrame) else list(logs)
    return [x if isinstance(x, EventFrame) else EventFrame(x) for x in items]


def _replication(ef: EventFrame, default: int) -> int:
    return int(ef.log.meta.get("replication", default))


def _slug(unit: str) -> str:
    return unit.replace(":", "_")


def concat_logs(frames: list[pd.DataFrame], columns: Iterable[str] = ()) -> pd.DataFrame:
    """Exported tables (say one per replication, made in worker processes) stacked into one,
    with the repeated names kept as categoricals so a long log stays small in memory."""
    if not frames:
        return pd.DataFrame(columns=list(columns))
    out = pd.concat(frames, ignore_index=True)
    for name in (
        "event",
        "event_type",
        "pathway",
        "activity",
        "lifecycle",
        "resource",
        "route",
        "frailty",
    ):
        if name in out and not isinstance(out[name].dtype, pd.CategoricalDtype):
            out[name] = out[name].astype("category")  # a few names repeated millions of times
    return out


# ---------------------------------------------------------------- vidigi

_ARRIVAL, _END, _QUEUE, _BEGIN, _ZERO_END, _DEPART = range(6)
"""Order of a patient's events at one instant: a move to the next unit ends the old place
before it queues for and begins the new one (the model records START then END), so an
animation shows the patient where they went."""


def _slots(units: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """A place number (1, 2, ...) for each stay: the lowest free in its unit when it starts,
    freed when it ends, so vidigi can draw each patient on one bed, chair or cubicle."""
    slot = np.zeros(len(start), dtype=np.int64)
    finish = np.where(np.isnan(end), np.inf, end)
    order = np.lexsort((start, units))
    busy: list[tuple[float, int]] = []
    free: list[int] = []
    current, issued = None, 0
    for i in order:
        if units[i] != current:
            current, busy, free, issued = units[i], [], [], 0
        while busy and busy[0][0] <= start[i]:
            heapq.heappush(free, heapq.heappop(busy)[1])
        if free:
            s = heapq.heappop(free)
        else:
            issued += 1
            s = issued
        slot[i] = s
        heapq.heappush(busy, (finish[i], s))
    return slot


def _vidigi_one(ef: EventFrame, run: int) -> pd.DataFrame:
    pts = ef.patients
    route = pts.set_index("patient")["route"].astype(str)
    frailty = pts.set_index("patient")["frailty"].astype(str)
    arrived = pts[pts["arrival"].notna()]
    departed = pts[pts["depart"].notna()]
    q = ef.queues
    st = ef.stays
    units = st["unit"].astype(str).to_numpy()
    start, end = st["start"].to_numpy(), st["end"].to_numpy()
    slots = _slots(units, start, end)
    ended = ~np.isnan(end)
    slug_q = q["unit"].astype(str).map(_slug).to_numpy()
    slug_s = np.array([_slug(u) for u in units], dtype=object)
    parts = [
        (arrived["patient"], "arrival_departure", "arrival", arrived["arrival"], -1, _ARRIVAL),
        (q["patient"], "queue", slug_q + "_wait", q["queue"], -1, _QUEUE),
        (st["patient"], "resource_use", slug_s + "_begins", start, slots, _BEGIN),
        (
            st["patient"][ended],
            "resource_use_end",
            slug_s[ended] + "_ends",
            end[ended],
            slots[ended],
            np.where(end[ended] > start[ended], _END, _ZERO_END),
        ),
        (departed["patient"], "arrival_departure", "depart", departed["depart"], -1, _DEPART),
    ]
    frames = []
    for patient, kind, event, time, slot, rank in parts:
        n = len(patient)
        frames.append(
            pd.DataFrame(
                {
                    "patient": np.asarray(patient, dtype=np.int64),
                    "event_type": np.full(n, kind, dtype=object),
                    "event": np.broadcast_to(np.asarray(event, dtype=object), (n,)),
                    "time_hours": np.asarray(time, dtype=np.float64),
                    "resource_id": np.broadcast_to(np.asarray(slot, dtype=np.int64), (n,)),
                    "_rank": np.broadcast_to(np.asarray(rank, dtype=np.int8), (n,)),
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)
    df = df.sort_values(["patient", "time_hours", "_rank"], kind="stable", ignore_index=True)
    resource = df["resource_id"].astype("Int64")
    resource[df["resource_id"] < 0] = pd.NA
    return pd.DataFrame(
        {
            "entity_id": df["patient"],
            "patient": df["patient"],
            "event_type": df["event_type"],
            "event": df["event"],
            "time": df["time_hours"] * 60.0,
            "resource_id": resource,
            "pathway": df["patient"].map(route).to_numpy(),
            "run_number": np.full(len(df), run, dtype=np.int64),
            "frailty": df["patient"].map(frailty).to_numpy(),
        }
    )


def vidigi_log(logs: LogLike | Iterable[LogLike]) -> pd.DataFrame:
    """The log as vidigi's event log, one row per event, ready for ``animate_activity_log``.

    Each patient has one ``arrival`` and, if they left before the end, one ``depart``
    (``event_type`` ``arrival_departure``); for each unit, ``<unit>_wait`` (``queue``) when they
    start waiting for it, ``<unit>_begins`` (``resource_use``) when they get a place and
    ``<unit>_ends`` (``resource_use_end``) when they leave it, with ``resource_id`` numbering the
    places of the unit (1, 2, ...) so a patient keeps one bed from begin to end. Unit names use
    ``_`` for ``:`` (``ward_care_of_elderly_begins``). ``time`` is in minutes from the start of
    warm-up (vidigi's default ``simulation_time_unit``); ``pathway`` is the arrival route and
    ``run_number`` the replication. vidigi animates one run at a time: filter on
    ``run_number`` first.
    """
    frames = [_vidigi_one(ef, _replication(ef, i)) for i, ef in enumerate(_frames(logs))]
    return concat_logs(frames, VIDIGI_COLUMNS)


# ---------------------------------------------------------------- process mining

_LIFECYCLE = {
    Kind.ARRIVE: "complete",
    Kind.QUEUE: "schedule",
    Kind.RESERVE: "assign",
    Kind.START: "start",
    Kind.END: "complete",
    Kind.HANDOVER: "complete",
    Kind.OPTIMISED: "complete",
    Kind.DEPART: "complete",
}
_ACTIVITY_NAMES = {u: spec.place for u in ED_PLACES if (spec := spec_of(u)) is not None}
"""In ED a patient holds one place (a cubicle, a corridor space); elsewhere the unit's name."""


def _activity(kind: Kind, place: str) -> str:
    if kind == Kind.ARRIVE:
        return f"arrival: {unit_label(place)}"
    if kind == Kind.DEPART:
        return f"departure: {unit_label(place)}"
    if kind == Kind.HANDOVER:
        return "ambulance handover"
    if kind == Kind.OPTIMISED:
        return "medically optimised"
    return _ACTIVITY_NAMES.get(place, unit_label(place))


def _resource(kind: Kind, place: str) -> str | None:
    return None if kind == Kind.DEPART else place


def _mining_one(ef: EventFrame, replication: int) -> pd.DataFrame:
    ev = ef.events
    # Events come in time order (log order at ties); a stable sort by patient keeps that.
    order = np.argsort(ev["patient"].to_numpy(), kind="stable")
    ev = ev.iloc[order].reset_index(drop=True)
    kinds = [Kind[name] for name in ev["kind"].cat.categories]
    places = [str(p) for p in ev["place"].cat.categories]
    k_codes = ev["kind"].cat.codes.to_numpy().astype(np.int64)
    p_codes = ev["place"].cat.codes.to_numpy().astype(np.int64)
    combo = k_codes * (len(places) + 1) + np.where(p_codes >= 0, p_codes, len(places))
    used, inverse = np.unique(combo, return_inverse=True)
    labels = []
    for c in used:
        kind = kinds[c // (len(places) + 1)]
        p = c % (len(places) + 1)
        place = places[p] if p < len(places) else ""
        labels.append((_activity(kind, place), _LIFECYCLE[kind], _resource(kind, place)))
    activity = np.array([a for a, _, _ in labels], dtype=object)[inverse]
    lifecycle = np.array([lc for _, lc, _ in labels], dtype=object)[inverse]
    resource = np.array([r for _, _, r in labels], dtype=object)[inverse]

    start = pd.Timestamp(ef.start_date or _FALLBACK_START)
    hours = ev["time"].to_numpy()
    timestamp = (start + pd.to_timedelta(hours * 3600.0, unit="s")).floor("ms")
    patient = ev["patient"].to_numpy().astype(np.int64)
    route = ef.patient_field(patient, "route")
    frailty = ef.patient_field(patient, "frailty")
    return pd.DataFrame(
        {
            "case_id": pd.Series(patient).map(lambda p: f"{replication}-{p}").to_numpy(),
            "activity": activity,
            "timestamp": np.asarray(timestamp, dtype="datetime64[ms]"),
            "lifecycle": lifecycle,
            "resource": resource,
            "replication": np.full(len(ev), replication, dtype=np.int64),
            "patient": patient,
            "time_hours": hours,
            "route": _decode(route, ROUTES),
            "frailty": _decode(frailty, FRAILTY_BANDS),
        }
    )


def _decode(codes: np.ndarray, names: Iterable[str]) -> np.ndarray:
    table = np.array([*names, None], dtype=object)
    return table[np.where((codes >= 0) & (codes < len(table) - 1), codes, len(table) - 1)]


def process_mining_log(logs: LogLike | Iterable[LogLike]) -> pd.DataFrame:
    """The log as a process-mining event log, one row per event, in case order then time order.

    ``case_id`` is ``<replication>-<patient>`` (a readmission is a new case); ``activity`` names
    the step in words (``arrival: ambulance``, ``ED cubicle``, ``AMU``, ``ward: care of
    elderly``, ``P1 (home with support)``, ``ambulance handover``, ``medically optimised``,
    ``departure: P1 (home with support)``); ``timestamp`` is a real date-time from the run's
    ``start_date`` (to the millisecond); ``lifecycle`` is the XES transition: ``schedule`` when
    the patient starts waiting for a unit, ``assign`` when a community place is held for them,
    ``start`` and ``complete`` when they take and leave it (one-off events are ``complete``);
    ``resource`` is the unit (or the arrival route). For pm4py: ``pm4py.format_dataframe(df,
    case_id="case_id", activity_key="activity", timestamp_key="timestamp")``, keeping
    ``lifecycle == "complete"`` rows for a plain control-flow map.
    """
    frames = [_mining_one(ef, _replication(ef, i)) for i, ef in enumerate(_frames(logs))]
    return concat_logs(frames, PROCESS_MINING_COLUMNS)
