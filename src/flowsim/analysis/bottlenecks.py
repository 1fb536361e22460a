"""Where is the bottleneck? Resource use, wait attribution and the blocking chain, from event logs.

The systems-thinking point this module puts numbers on: the constraint is often far from where
the queue shows. Ambulances wait outside ED because ED cubicles hold patients waiting for AMU
beds, whose patients wait for ward beds, whose patients wait for a home-care package.

Everything is computed from `EventLog` s alone (one or several replications, averaged), over the
measured period ``[warm_up, end]``, per day.

**Waiting** (every patient-hour of it, each split by where the patient was):

==========================  ===================================================================
cause                       interval
==========================  ===================================================================
a unit (``ed_cubicle``,     ``QUEUE`` at the unit until ``START`` there (or until the patient
``ed_clinician``, ``amu``,  moves on or departs without it; still waiting at the end: censored
``ward:x``, ``corridor``…)  at the end). For walk-ins the ``ed_cubicle`` wait includes triage,
                            which the log does not separate.
``p1``, ``p2``, ``p3``      ``QUEUE`` until ``RESERVE``: the wait for community capacity
``discharge_referral``      ``OPTIMISED`` until ``QUEUE`` at p1/p2/p3: assessment and referral
                            (a delay still open at the end with no referral yet counts here)
``discharge_window``        ``RESERVE`` until ``START`` at p1/p2/p3, and ``OPTIMISED`` until
                            ``END`` of the ward for P0: waiting for the daily discharge window
==========================  ===================================================================

``location`` is the physical place the patient held while waiting (``ed_cubicle``,
``corridor``, ``sdec``, ``amu``, ``afu``, ``ward:x``…), else ``ambulance`` (an ambulance patient
not yet handed over), ``corridor`` (handed over to a corridor, still waiting for a cubicle) or
``waiting_room`` (walk-ins and GP referrals). Clinicians and the frailty team are services given
in the cubicle, never a location. The delays add up: referral + community capacity + window is
the whole ``OPTIMISED`` .. ``END`` delay, so attribution sums to the log's total waiting.

**Resources** (every unit with a capacity): time-weighted capacity in force, occupied places,
utilisation (place-hours held / place-hours in force), queue (patient-hours waiting for the unit
per hour; for p1-p3 only until the place is reserved), % of time at full capacity (held >= in
force; beds being cleaned after a patient are not held, so this understates it for AMU, AFU and
wards) and **blocked time**: patient-hours per day holding the unit while waiting for another
unit's capacity (the next place, a clinician, a community place). Waiting for the discharge
referral or window is a process, not another unit's capacity: it is reported separately as
``delayed_hours_per_day`` and is not blocked time, so a system with room everywhere has none.

**The blocking chain** (`blocking_chain`) and **how sure** the replications are of its primary
constraint (`combine_bottlenecks`) need only the attribution and resource tables, not the logs:
they are computed in `flowsim.analysis.constraints`, whose docstring gives the rules.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from flowsim.analysis.constraints import (  # some re-exported for callers
    CHAIN_MIN_SHARE,
    DISCHARGE_REFERRAL,
    DISCHARGE_WINDOW,
    PROCESS_CAUSES,
    TIE_MARGIN,
    average_tables,
    blocking_chain,
    causes_words,
    chain_labels,
    horizon_drift,
    hours_text,
    how_sure,
    pathway_order,
)
from flowsim.analysis.eventframe import EventFrame
from flowsim.analysis.value import DAYS_PER_MONTH, value_table  # re-exported for callers
from flowsim.log import EventLog, Kind
from flowsim.scenario.units import DISCHARGE_PATHWAY_UNITS, SERVICES
from flowsim.scenario.variants import (  # re-exported for callers
    CapacityStep,
    capacity_steps,
    step_scenarios,
)

__all__ = [
    "CHAIN_MIN_SHARE",
    "DAYS_PER_MONTH",
    "DISCHARGE_REFERRAL",
    "DISCHARGE_WINDOW",
    "TIE_MARGIN",
    "BottleneckTables",
    "Bottlenecks",
    "CapacityStep",
    "blocking_chain",
    "bottleneck_tables",
    "capacity_steps",
    "chain_labels",
    "combine_bottlenecks",
    "find_bottlenecks",
    "resource_table",
    "step_scenarios",
    "value_table",
    "wait_attribution",
    "waiting_hours",
]

WAITING_ROOM = "waiting_room"

_Q, _S, _E = int(Kind.QUEUE), int(Kind.START), int(Kind.END)
_ARRIVE, _HANDOVER, _OPT, _DEPART, _RESERVE = (
    int(Kind.ARRIVE),
    int(Kind.HANDOVER),
    int(Kind.OPTIMISED),
    int(Kind.DEPART),
    int(Kind.RESERVE),
)


class BottleneckTables(NamedTuple):
    """One replication's bottleneck tables, small enough for a worker to send back instead of
    its log: the attribution and resources over the measured period, and the attribution over
    each half of it (``(from_day, to_day, attribution)``, days since the warm-up), from which
    `combine_bottlenecks` tells whether the answer drifts with the run length."""

    attribution: pd.DataFrame
    resources: pd.DataFrame
    halves: tuple[tuple[float, float, pd.DataFrame], ...] = ()


@dataclass
class Bottlenecks:
    """What `find_bottlenecks` found, averaged over replications (all per day).

    ``resources``: one row per unit with a capacity (see the module docstring);
    ``attribution``: ``cause, location, patient_hours_per_day``;
    ``chain``: from the primary constraint to the front door, e.g.
    ``["p1", "ward:care_of_elderly", "amu", "ed_cubicle", "ambulance"]``;
    ``primary``: the primary constraint of the averaged tables (``chain[0]``);
    ``chain_hours``: patient-hours per day at each link: for the primary, all waiting for it;
    for every other link, the hours its patients spend waiting for the link before it.

    How sure that is: ``constraints`` has one row per cause that was the primary constraint of
    at least one replication, or is the runner-up (``cause, label, primary_in, replications,
    share, kept_mean, kept_ci_low, kept_ci_high``: in how many replications it was the primary,
    and the patient-hours of waiting a day that stop there, mean and 95% CI); ``tied``: the
    causes named together with the primary (itself first) because their kept waiting is within
    `TIE_MARGIN` of each other or the replications cannot tell them apart; ``verdict``: all of
    that in one sentence; ``horizon_note``: why the answer changes with the length of the run,
    when the primary constraint of the first half of the measured period is not that of the
    second ("" when it is the same); ``halves``: ``half, from_day, to_day, cause, kept,
    primary_in`` behind that note.
    """

    resources: pd.DataFrame
    attribution: pd.DataFrame
    chain: list[str]
    primary: str
    chain_hours: dict[str, float]
    loads: pd.DataFrame = field(default_factory=pd.DataFrame)
    replications: int = 1
    constraints: pd.DataFrame = field(default_factory=pd.DataFrame)
    tied: list[str] = field(default_factory=list)
    verdict: str = ""
    horizon_note: str = ""
    halves: pd.DataFrame = field(default_factory=pd.DataFrame)

    def chain_text(self) -> str:
        """The chain as "A → B → C"."""
        return " → ".join(self.chain)

    def chain_words(self) -> str:
        """The chain in words, as the report's figure labels it (`chain_labels`)."""
        return " → ".join(chain_labels(self.chain))

    def primary_words(self) -> str:
        """The primary constraint in words, with whatever is tied with it: "AMU and the
        discharge referral and assessment" (units first, then the discharge process)."""
        return causes_words([c for c in self.tied or [self.primary] if c])

    def share_rows(self) -> list[tuple[str, str, str, str]]:
        """`constraints` for people, as the terminal, the report and the app show it:
        ``(cause in words, "3 of 5", "60%", "41 (35 – 47)")``, the last being the patient-hours
        of waiting a day that stop there, mean and 95% CI."""
        out = []
        for r in self.constraints.itertuples(index=False):
            ci = ""
            if math.isfinite(r.kept_ci_low):
                ci = f" ({hours_text(r.kept_ci_low)} – {hours_text(r.kept_ci_high)})"
            out.append(
                (
                    str(r.label),
                    f"{int(r.primary_in)} of {int(r.replications)}",
                    f"{100 * r.share:.0f}%",
                    hours_text(float(r.kept_mean)) + ci,
                )
            )
        return out

    def verdict_text(self) -> str:
        """The verdict and, when the answer drifts with the run length, why."""
        return " ".join(t for t in (self.verdict, self.horizon_note) if t)


# ---------------------------------------------------------------- waits


@dataclass
class _Waits:
    """Every wait of one log as row ranges in the frame's patient order."""

    start: np.ndarray  # first row covered (the QUEUE/OPTIMISED/RESERVE row)
    stop: np.ndarray  # first row no longer covered (exclusive); past the patient's last row
    cause: np.ndarray  # index into names


def _waits(ef: EventFrame, names: list[str]) -> _Waits:
    """All waits (see the module table) as row ranges ``[start, stop)`` in patient order."""
    rows = ef.rows
    pk, pu = rows.kind, rows.place
    code_name = np.array([*ef.places, ""], dtype=object)
    community = np.isin(pu, [ef.code(u) for u in DISCHARGE_PATHWAY_UNITS if ef.code(u) >= 0])
    corridor = ef.code("corridor")
    moves_on = ((pk == _Q) & (pu != corridor)) | (pk == _DEPART)
    nxt_move = rows.next_where(moves_on)
    after_last = rows.last_row + 1  # a wait still open at the end covers the patient's last row

    def finish(at: np.ndarray, stop: np.ndarray) -> np.ndarray:
        return np.where(stop >= 0, stop, after_last[at]).astype(np.int64)

    starts, stops, causes = [], [], []
    index = {name: i for i, name in enumerate(names)}

    def add(at: np.ndarray, stop: np.ndarray, cause: np.ndarray) -> None:
        starts.append(at.astype(np.int64))
        stops.append(finish(at, stop))
        causes.append(cause.astype(np.int64))

    # QUEUE at a unit: until its START, else until the patient moves on / departs.
    q = np.flatnonzero((pk == _Q) & ~community)
    start_of = rows.start_of_queue[q].astype(np.int64)
    stop = np.where(start_of >= 0, start_of, nxt_move[q])
    add(q, stop, np.array([index[str(code_name[c])] for c in pu[q]], dtype=np.int64))

    # QUEUE at p1-p3: until RESERVE (capacity found), else START / moving on.
    q = np.flatnonzero((pk == _Q) & community)
    nxt_res = rows.next_where(pk == _RESERVE)[q]
    start_of = rows.start_of_queue[q].astype(np.int64)
    stop = np.where(nxt_res >= 0, nxt_res, np.where(start_of >= 0, start_of, nxt_move[q]))
    add(q, stop, np.array([index[str(code_name[c])] for c in pu[q]], dtype=np.int64))

    # RESERVE: the discharge window, until START at the community unit.
    r = np.flatnonzero(pk == _RESERVE)
    nxt_start = rows.next_where((pk == _S) & community)[r]
    add(r, nxt_start, np.full(len(r), index[DISCHARGE_WINDOW]))

    # OPTIMISED: referral until QUEUE at p1-p3, or the window until END of the ward (P0).
    o = np.flatnonzero(pk == _OPT)
    nxt_q = rows.next_where(pk == _Q)[o]
    end_opt = rows.end_of_optimised[o].astype(np.int64)
    referral = (nxt_q >= 0) & ((end_opt < 0) | (nxt_q < end_opt))
    p0 = ~referral & (end_opt >= 0)
    stop = np.where(referral, nxt_q, np.where(p0, end_opt, -1))
    cause = np.where(p0, index[DISCHARGE_WINDOW], index[DISCHARGE_REFERRAL])
    add(o, stop, cause)
    return _Waits(np.concatenate(starts), np.concatenate(stops), np.concatenate(causes))


def _locations(ef: EventFrame) -> tuple[np.ndarray, list[str]]:
    """Where each patient is after each row (patient order), as codes into the returned names."""
    rows = ef.rows
    pk, pu = rows.kind, rows.place
    n = len(rows)
    names = [*ef.places, WAITING_ROOM]
    waiting_room = len(ef.places)
    physical = ef.place_mask(lambda u: u not in SERVICES)
    is_start = (pk == _S) & physical[pu]
    last_s = rows.last_where(is_start, inclusive=True).astype(np.int64)
    end_row = np.where(last_s >= 0, rows.end_of_start[np.clip(last_s, 0, None)], -1)
    end_row = end_row.astype(np.int64)
    held = (last_s >= 0) & ((end_row < 0) | (end_row > np.arange(n)))
    last_arrive = rows.last_where(pk == _ARRIVE, inclusive=True).astype(np.int64)
    corridor = ef.code("corridor")
    last_hc = rows.last_where((pk == _HANDOVER) & (pu == corridor), inclusive=True)
    route = np.where(last_arrive >= 0, pu[np.clip(last_arrive, 0, None)], -1)
    ambulance = ef.code("ambulance")
    front = np.where(
        (last_hc >= 0) & (last_hc > last_arrive),
        corridor,
        np.where((route == ambulance) & (ambulance >= 0), ambulance, waiting_room),
    )
    loc = np.where(held, pu[np.clip(last_s, 0, None)], front)
    return loc.astype(np.int64), names


def _attribution_one(ef: EventFrame) -> pd.DataFrame:
    """``cause, location, patient_hours_per_day`` of one log (rows with hours only)."""
    return _attribution_windows(ef, [(ef.warm_up, ef.end)])[0]


def _attribution_windows(
    ef: EventFrame, windows: Sequence[tuple[float, float]]
) -> list[pd.DataFrame]:
    """`_attribution_one` over each ``(start, end)`` window (hours per day of that window): the
    waits and locations are found once, only the clipping differs."""
    columns = ["cause", "location", "patient_hours_per_day"]
    empty = pd.DataFrame({c: [] for c in columns}).astype({"patient_hours_per_day": float})
    causes = list(dict.fromkeys([*ef.units, *PROCESS_CAUSES]))
    waits = _waits(ef, causes)
    loc, loc_names = _locations(ef)
    rows = ef.rows
    n = len(rows)
    if not n or not len(waits.start):
        return [empty.copy() for _ in windows]
    same_next = np.zeros(n, dtype=bool)
    same_next[:-1] = rows.patient[1:] == rows.patient[:-1]
    next_t = np.where(same_next, np.append(rows.time[1:], ef.end), ef.end)
    active = {}
    for c in np.unique(waits.cause):
        sel = waits.cause == c
        delta = np.bincount(waits.start[sel], minlength=n + 2)[: n + 1].astype(np.int64)
        delta -= np.bincount(waits.stop[sel], minlength=n + 2)[: n + 1]
        active[int(c)] = np.cumsum(delta)[:n]
    out = []
    for lo, hi in windows:
        days = (hi - lo) / 24.0
        a, b = np.clip(rows.time, lo, hi), np.clip(next_t, lo, hi)
        seg = np.clip(b - a, 0.0, None)
        found = []
        for c, on in active.items():
            hours = np.bincount(loc, weights=on * seg, minlength=len(loc_names))
            for lc in np.flatnonzero(hours > 0):
                found.append((causes[c], loc_names[lc], float(hours[lc]) / days))
        out.append(pd.DataFrame(found, columns=columns) if found else empty.copy())
    return out


def _frames(logs: EventLog | EventFrame | Sequence[EventLog | EventFrame]) -> list[EventFrame]:
    items = [logs] if isinstance(logs, EventLog | EventFrame) else list(logs)
    if not items:
        raise ValueError("no event logs: give at least one replication's EventLog")
    frames = [x if isinstance(x, EventFrame) else EventFrame(x) for x in items]
    for ef in frames:
        if not ef.end > ef.warm_up:
            raise ValueError(
                f"nothing to measure: log.end_hours ({ef.end:g}) must be after "
                f"log.warm_up_hours ({ef.warm_up:g})"
            )
    return frames


def wait_attribution(
    logs: EventLog | EventFrame | Sequence[EventLog | EventFrame],
) -> pd.DataFrame:
    """Every patient-hour of waiting by ``cause`` and ``location``, per day, averaged over the
    replications: a tidy table ``cause, location, patient_hours_per_day`` in pathway order.

    A cause or location missing from a replication counts as 0 there, so the mean is over all.
    """
    frames = _frames(logs)
    parts = [_attribution_one(ef) for ef in frames]
    return average_tables(parts, ["cause", "location"], len(frames))


# ---------------------------------------------------------------- resources


def _full_share(occ: Any, cap: Any, a: float, b: float) -> float:
    """Share of ``[a, b]`` with occupancy >= capacity in force (> 0)."""
    grid = np.union1d(np.concatenate((occ.times, cap.times)), [a, b])
    grid = grid[(grid >= a) & (grid <= b)]
    left, width = grid[:-1], np.diff(grid)
    c = cap.at(left)
    full = (c > 0) & (occ.at(left) >= c)
    return float(width[full].sum() / (b - a)) if b > a else math.nan


def _resources_one(ef: EventFrame, attribution: pd.DataFrame) -> pd.DataFrame:
    w, e, days = ef.warm_up, ef.end, ef.days
    hours = e - w
    att = attribution
    units = [u for u in ef.units if u in ef.log.capacities]
    rows = []
    for unit in units:
        cap = ef.capacity_steps(unit)
        occ = ef.occupancy_steps(unit)
        cap_area, occ_area = cap.area(w, e), occ.area(w, e)
        if cap_area <= 0 and occ_area <= 0:
            continue
        waiting_for = att.loc[att["cause"] == unit, "patient_hours_per_day"].sum()
        here = att[att["location"] == unit]
        process = here["cause"].isin(PROCESS_CAUSES)
        blocked = here.loc[~process & (here["cause"] != unit), "patient_hours_per_day"].sum()
        delayed = here.loc[process, "patient_hours_per_day"].sum()
        rows.append(
            {
                "resource": unit,
                "capacity_mean": cap_area / hours,
                "occupied_mean": occ_area / hours,
                "utilisation_pct": 100.0 * occ_area / cap_area if cap_area > 0 else math.nan,
                "queue_mean": waiting_for / 24.0,
                "full_pct": 100.0 * _full_share(occ, cap, w, e),
                "waiting_for_hours_per_day": waiting_for,
                "blocked_hours_per_day": blocked,
                "blocked_pct": 100.0 * blocked * days / occ_area if occ_area > 0 else math.nan,
                "delayed_hours_per_day": delayed,
            }
        )
    return pd.DataFrame(rows)


def resource_table(
    logs: EventLog | EventFrame | Sequence[EventLog | EventFrame],
) -> pd.DataFrame:
    """Per unit with a capacity, averaged over replications: ``capacity_mean``,
    ``occupied_mean``, ``utilisation_pct``, ``queue_mean`` (patients), ``full_pct``,
    ``waiting_for_hours_per_day``, ``blocked_hours_per_day``, ``blocked_pct`` (of the place-
    hours held) and ``delayed_hours_per_day`` (held while waiting for the discharge process)."""
    frames = _frames(logs)
    return _resources(frames, [_attribution_one(ef) for ef in frames])


def _resources(frames: list[EventFrame], attributions: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [_resources_one(ef, a) for ef, a in zip(frames, attributions, strict=True)]
    return _mean_resources(parts)


def _mean_resources(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    table = pd.concat(parts, ignore_index=True)
    out = table.groupby("resource", sort=False).mean(numeric_only=True).reset_index()
    order = pathway_order(out["resource"])
    return out.sort_values("resource", key=lambda s: s.map(order)).reset_index(drop=True)


def find_bottlenecks(
    logs: EventLog | EventFrame | Sequence[EventLog | EventFrame],
) -> Bottlenecks:
    """Resources, wait attribution, the blocking chain and the primary constraint, from the
    event logs of one or several replications (averaged), with how often each cause is the
    primary constraint across them."""
    return combine_bottlenecks([bottleneck_tables(ef) for ef in _frames(logs)])


def bottleneck_tables(log: EventLog | EventFrame) -> BottleneckTables:
    """One replication's `BottleneckTables`: small tables a worker can send back instead of
    its log; `combine_bottlenecks` averages them."""
    ef = _frames(log)[0]
    w, e = ef.warm_up, ef.end
    mid = (w + e) / 2.0
    whole, first, second = _attribution_windows(ef, [(w, e), (w, mid), (mid, e)])
    span_days = (e - w) / 24.0
    halves = ((0.0, span_days / 2.0, first), (span_days / 2.0, span_days, second))
    return BottleneckTables(whole, _resources_one(ef, whole), halves)


def combine_bottlenecks(parts: Sequence[Sequence[Any]]) -> Bottlenecks:
    """`Bottlenecks` from the `bottleneck_tables` of each replication (averaged), with the
    primary constraint of each replication counted (plain ``(attribution, resources)`` pairs
    are accepted too: they give no `Bottlenecks.horizon_note`)."""
    if not parts:
        raise ValueError("no replications to combine: give at least one")
    attributions = [p[0] for p in parts]
    attribution = average_tables(attributions, ["cause", "location"], len(parts))
    resources = _mean_resources([p[1] for p in parts])
    chain, hours, loads = blocking_chain(attribution, resources)
    primary = chain[0] if chain else ""
    constraints, tied, verdict = how_sure(attributions, primary)
    halves_of = [p[2] for p in parts if len(p) > 2 and len(p[2]) == 2]
    halves, note = (
        horizon_drift(halves_of) if len(halves_of) == len(parts) else (pd.DataFrame(), "")
    )
    return Bottlenecks(
        resources=resources,
        attribution=attribution,
        chain=chain,
        primary=primary,
        chain_hours=hours,
        loads=loads,
        replications=len(parts),
        constraints=constraints,
        tied=tied,
        verdict=verdict,
        horizon_note=note,
        halves=halves,
    )


def waiting_hours(log: EventLog | EventFrame) -> float:
    """Patient-hours per day waiting for capacity (every cause but the discharge process): the
    quantity `value_table` ranks extra capacity by."""
    att = _attribution_one(_frames(log)[0])
    return float(att.loc[~att["cause"].isin(PROCESS_CAUSES), "patient_hours_per_day"].sum())
