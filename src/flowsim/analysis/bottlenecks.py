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

**The blocking chain** (`blocking_chain`). Waiting is traced to what causes it by passing it
downstream through blocked places. A unit's *load* is the patient-hours per day spent waiting
for it, plus the load passed to it from upstream. A unit keeps the share of its load that its
own capacity explains and passes on the share ``B / (B + Q)``, where ``B`` is the mean number
of its places held by patients waiting for something else and ``Q`` the mean number waiting for
it (see `_passed_share`): a few blocked places next to a long queue leave the queue to the
unit's own capacity; many next to a short queue mean freeing them would absorb it. What is
passed on is split among what those patients wait for (other units, the discharge referral or
window) in proportion to their hours. Units are
visited in pathway order (ED, SDEC, AMU, AFU, wards, community), so loads flow from the front
door to the discharge end. The **primary constraint** is the cause that keeps the most load:
waiting stops propagating there. The discharge referral and window are waits by design rather
than queues for capacity, so their own hours are not load; they gain load only through the
beds their patients block. The chain is then read back from the primary towards the front
door, each link being the location that passed the most load to the previous link (ED
corridor boarders count as ED cubicle, and from ED the front door is the ambulance handover
whenever any ambulance waited), while its patients wait at least `CHAIN_MIN_SHARE` of the
hours waited for the primary constraint (the front door joins whenever anyone waited there).
`chain_labels` puts the chain in words, the same for the report's text, its figure and the app.

**How sure** (`combine_bottlenecks`). The primary constraint of the averaged tables is one
name; the replications say how far to trust it. Each replication's own primary is counted
(``Bottlenecks.constraints``: in how many it was the primary, and the waiting each cause keeps,
mean and 95% CI). Causes keeping within `TIE_MARGIN` of the leader's waiting are named together,
"AMU and the discharge referral and assessment, about equally"; a lead the replications cannot
confirm (the paired 95% CI of the difference in kept waiting includes 0) says so and asks for
more replications. The answer can also move with the length of the run, while queues are still
building after the warm-up or the season turns: each replication's halves of the measured
period are analysed apart, and when the first half's primary constraint is not the second's,
``Bottlenecks.horizon_note`` says which was which and why, instead of one name that flips
silently between a short run and a long one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from flowsim.analysis.eventframe import EventFrame, unit_order
from flowsim.analysis.figure_data import unit_label
from flowsim.analysis.value import DAYS_PER_MONTH, value_table  # re-exported for callers
from flowsim.log import EventLog, Kind
from flowsim.scenario.units import DISCHARGE_PATHWAY_UNITS, SERVICES, is_inpatient
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

DISCHARGE_REFERRAL = "discharge_referral"
DISCHARGE_WINDOW = "discharge_window"
PROCESS_CAUSES = (DISCHARGE_REFERRAL, DISCHARGE_WINDOW)
"""Waits for a process (assessment, the daily window), not for another unit's capacity."""
FRONT_DOOR = ("ambulance", "waiting_room")
WAITING_ROOM = "waiting_room"
CHAIN_MIN_SHARE = 0.01
"""A link joins the chain while its patients wait at least this share of the hours waited for
the primary constraint (and at least 0.01 patient-hours a day)."""
TIE_MARGIN = 0.10
"""Causes whose waiting kept (mean over replications) is within this share of the leader's are
named together, "about equally" (estimate: a judgement of what a room would call a tie, no
source)."""

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
        causes = sorted([c for c in self.tied or [self.primary] if c], key=_is_process)
        return _and([_named(c) for c in causes])

    def share_rows(self) -> list[tuple[str, str, str, str]]:
        """`constraints` for people, as the terminal, the report and the app show it:
        ``(cause in words, "3 of 5", "60%", "41 (35 – 47)")``, the last being the patient-hours
        of waiting a day that stop there, mean and 95% CI."""
        out = []
        for r in self.constraints.itertuples(index=False):
            ci = ""
            if math.isfinite(r.kept_ci_low):
                ci = f" ({_hours_text(r.kept_ci_low)} – {_hours_text(r.kept_ci_high)})"
            out.append(
                (
                    str(r.label),
                    f"{int(r.primary_in)} of {int(r.replications)}",
                    f"{100 * r.share:.0f}%",
                    _hours_text(float(r.kept_mean)) + ci,
                )
            )
        return out

    def verdict_text(self) -> str:
        """The verdict and, when the answer drifts with the run length, why."""
        return " ".join(t for t in (self.verdict, self.horizon_note) if t)


def chain_labels(chain: Sequence[str]) -> list[str]:
    """Each link of a blocking chain in words, the same in the report's text, its figure, the
    app and the terminal: the catalogue's label (`flowsim.scenario.units`), except that an ED
    cubicle after an inpatient unit is "ED boarding" (its patients wait there for that bed) and
    an ambulance after the first link is "ambulance handover" (``handover`` too, as the figure
    names it)."""
    out = []
    for i, unit in enumerate(chain):
        if i and unit in ("ambulance", "handover"):
            out.append(unit_label("handover"))
        elif i and unit == "ed_cubicle" and is_inpatient(chain[i - 1]):
            out.append(unit_label("boarding"))
        else:
            out.append(unit_label(unit))
    return out


def _is_process(cause: str) -> bool:
    return cause in PROCESS_CAUSES


def _named(cause: str) -> str:
    """A cause as a sentence names it: "AMU", "the discharge window"."""
    label = unit_label(cause)
    return f"the {label}" if cause in PROCESS_CAUSES else label


def _and(words: Sequence[str]) -> str:
    if len(words) <= 2:
        return " and ".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


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


def _order_key(names: Iterable[str]) -> dict[str, int]:
    units = [n for n in names if n not in (*FRONT_DOOR, *PROCESS_CAUSES)]
    ordered = [*FRONT_DOOR, *unit_order(units), *PROCESS_CAUSES]
    return {name: i for i, name in enumerate(ordered)}


def wait_attribution(
    logs: EventLog | EventFrame | Sequence[EventLog | EventFrame],
) -> pd.DataFrame:
    """Every patient-hour of waiting by ``cause`` and ``location``, per day, averaged over the
    replications: a tidy table ``cause, location, patient_hours_per_day`` in pathway order.

    A cause or location missing from a replication counts as 0 there, so the mean is over all.
    """
    frames = _frames(logs)
    parts = [_attribution_one(ef) for ef in frames]
    return _average(parts, ["cause", "location"], len(frames))


def _average(parts: list[pd.DataFrame], keys: list[str], n: int) -> pd.DataFrame:
    table = pd.concat(parts, ignore_index=True)
    value_cols = [c for c in table.columns if c not in keys]
    out = table.groupby(keys, sort=False, observed=True)[value_cols].sum() / n
    out = out.reset_index()
    order = _order_key([*out[keys[0]], *(out[keys[1]] if len(keys) > 1 else [])])
    sort_cols = [out[k].map(order).fillna(len(order)) for k in keys]
    idx = np.lexsort([s.to_numpy() for s in reversed(sort_cols)])
    return out.iloc[idx].reset_index(drop=True)


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
    order = _order_key(out["resource"])
    return out.sort_values("resource", key=lambda s: s.map(order)).reset_index(drop=True)


# ---------------------------------------------------------------- the chain


def _chain_location(location: str, cause: str) -> str:
    """Corridor boarders are ED patients; a corridor handover is still the ambulance queue."""
    if location == "corridor":
        return "ambulance" if cause == "ed_cubicle" else "ed_cubicle"
    return location


def _passed_share(blocked_hours: float, waiting_hours: float) -> float:
    """Share of a unit's load passed on: ``B / (B + Q)``, where ``B`` is the mean number of its
    places held by patients waiting for something else and ``Q`` the mean number of patients
    waiting for it.

    A few blocked places next to a long queue: the unit's own capacity explains its queue.
    Many blocked places next to a short queue: freeing them would absorb it, so the queue
    belongs to what the blocked patients wait for.
    """
    if blocked_hours <= 0:
        return 0.0
    return blocked_hours / (blocked_hours + max(waiting_hours, 0.0))


def blocking_chain(
    attribution: pd.DataFrame, resources: pd.DataFrame
) -> tuple[list[str], dict[str, float], pd.DataFrame]:
    """The chain from the primary constraint to the front door, the patient-hours per day at
    each link, and the load table (``node, waiting_for, load, passed_on, kept``) behind it.

    See the module docstring for the rule. Needs only the two tables, so it works on averages.
    """
    edges: dict[tuple[str, str], float] = {}
    for cause, location, hours in attribution[
        ["cause", "location", "patient_hours_per_day"]
    ].itertuples(index=False):
        key = (_chain_location(str(location), str(cause)), str(cause))
        if key[0] == key[1] or hours <= 0:
            continue
        edges[key] = edges.get(key, 0.0) + float(hours)
    # dict, not set: the order of equal-ranked nodes (ward groups) must not follow string hashes
    nodes = [*dict.fromkeys(c for _, c in edges), *dict.fromkeys(loc for loc, _ in edges)]
    order = _order_key(nodes)
    nodes = sorted(set(nodes) - set(FRONT_DOOR), key=lambda x: order.get(x, len(order)))
    waiting_for = {x: sum(h for (_, c), h in edges.items() if c == x) for x in nodes}
    # The discharge referral and window are waits by design, not queues for capacity: they
    # gain load only through the beds they block.
    load = {x: 0.0 if x in PROCESS_CAUSES else h for x, h in waiting_for.items()}
    rows: list[tuple[str, float, float, float, float]] = []
    flow: dict[tuple[str, str], float] = {}
    for x in nodes:
        out = {c: h for (loc, c), h in edges.items() if loc == x}
        blocked = sum(out.values())
        share = _passed_share(blocked, waiting_for[x])
        passed = load[x] * share
        for c, h in out.items():
            flow[(x, c)] = passed * h / blocked
            load[c] = load.get(c, 0.0) + flow[(x, c)]
        rows.append((x, waiting_for[x], load[x], passed, load[x] - passed))
    loads = pd.DataFrame(rows, columns=["node", "waiting_for", "load", "passed_on", "kept"])
    if loads.empty or loads["kept"].max() <= 0:
        return [], {}, loads
    primary = str(loads.loc[loads["kept"].idxmax(), "node"])
    chain, hours = [primary], {primary: waiting_for.get(primary, 0.0)}
    floor = max(0.01, CHAIN_MIN_SHARE * hours[primary])
    here = primary
    while here not in FRONT_DOOR:
        upstream = {loc: h for (loc, c), h in edges.items() if c == here and loc not in chain}
        if here == "ed_cubicle" and upstream.get("ambulance", 0.0) > 0:
            upstream = {"ambulance": upstream["ambulance"]}
        if not upstream:
            break
        # The link that passed the most load here; hours break ties (the front door has none).
        nxt = max(upstream, key=lambda k: (flow.get((k, here), 0.0), upstream[k]))
        if upstream[nxt] < (0.01 if nxt in FRONT_DOOR else floor):
            break
        chain.append(nxt)
        hours[nxt] = upstream[nxt]
        here = nxt
    return chain, hours, loads


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
    attribution = _average(attributions, ["cause", "location"], len(parts))
    resources = _mean_resources([p[1] for p in parts])
    chain, hours, loads = blocking_chain(attribution, resources)
    primary = chain[0] if chain else ""
    kept = _kept_by_replication(attributions)
    constraints = _constraint_shares(kept, primary)
    tied, verdict = _verdict(constraints, kept, primary)
    halves_of = [p[2] for p in parts if len(p) > 2 and len(p[2]) == 2]
    halves, note = _horizon(halves_of) if len(halves_of) == len(parts) else (pd.DataFrame(), "")
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


# ---------------------------------------------------------------- how sure


def _kept(attribution: pd.DataFrame) -> dict[str, float]:
    loads = blocking_chain(attribution, pd.DataFrame())[2]
    return {str(k): float(v) for k, v in zip(loads["node"], loads["kept"], strict=True)}


def _kept_by_replication(attributions: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Patient-hours of waiting a day kept by each cause (columns), one row per replication."""
    return pd.DataFrame([_kept(a) for a in attributions]).fillna(0.0)


def _primary_of(kept: pd.DataFrame) -> list[str]:
    """Each replication's primary constraint ("" where nobody waited)."""
    if kept.empty or not len(kept.columns):
        return ["" for _ in range(len(kept))]
    return [str(row.idxmax()) if row.max() > 0 else "" for _, row in kept.iterrows()]


def _ci(x: np.ndarray) -> tuple[float, float]:
    n = len(x)
    if n < 2:
        return math.nan, math.nan
    half = float(stats.t.ppf(0.975, n - 1) * np.std(x, ddof=1) / math.sqrt(n))
    m = float(np.mean(x))
    return m - half, m + half


def _constraint_shares(kept: pd.DataFrame, primary: str) -> pd.DataFrame:
    """One row per cause that is some replication's primary, the averaged primary or the
    runner-up: how often it is the primary, and the waiting it keeps."""
    columns = [
        "cause",
        "label",
        "primary_in",
        "replications",
        "share",
        "kept_mean",
        "kept_ci_low",
        "kept_ci_high",
    ]
    n = len(kept)
    if kept.empty or not primary:
        return pd.DataFrame({c: [] for c in columns})
    firsts = _primary_of(kept)
    means = kept.mean().sort_values(ascending=False)
    runner_up = [c for c in means.index if c != primary][:1]
    causes = list(dict.fromkeys([primary, *(f for f in firsts if f), *runner_up]))
    rows = []
    for cause in causes:
        x = kept[cause].to_numpy(dtype=float) if cause in kept else np.zeros(n)
        low, high = _ci(x)
        low = max(low, 0.0) if math.isfinite(low) else low  # waiting kept is never negative
        count = firsts.count(cause)
        rows.append((cause, unit_label(cause), count, n, count / n, float(x.mean()), low, high))
    table = pd.DataFrame(rows, columns=columns)
    table = table.sort_values(["primary_in", "kept_mean"], ascending=False, kind="stable")
    return table.reset_index(drop=True)


def _replications(n: int) -> str:
    return f"{n} replication" + ("" if n == 1 else "s")


def _hours_text(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:.1f}"


def _verdict(constraints: pd.DataFrame, kept: pd.DataFrame, primary: str) -> tuple[list[str], str]:
    """The causes named as the primary constraint and the sentence that says how sure."""
    if not primary or constraints.empty:
        return [], "Nobody waited for capacity: there is no primary constraint."
    n = len(kept)
    rows = constraints.set_index("cause")
    lead = float(rows.loc[primary, "kept_mean"])
    tied, unsure = [primary], []
    others = rows.drop(index=primary).sort_values("kept_mean", ascending=False)
    for cause, row in others.head(2).iterrows():
        margin = (lead - float(row["kept_mean"])) / lead if lead > 0 else 0.0
        if margin <= TIE_MARGIN:
            tied.append(str(cause))
        elif n >= 2 and not unsure:
            diff = kept[primary].to_numpy(dtype=float) - kept[str(cause)].to_numpy(dtype=float)
            low, _ = _ci(diff)
            if not low > 0:
                unsure.append(str(cause))

    def counts(causes: list[str]) -> str:
        ks = [int(rows.loc[c, "primary_in"]) if c in rows.index else 0 for c in causes]
        return _and([str(k) for k in ks])

    def kept_text(causes: list[str]) -> str:
        return _and([_hours_text(float(rows.loc[c, "kept_mean"])) for c in causes])

    if len(tied) > 1:
        tied = [primary, *sorted(tied[1:], key=_is_process)]
        words = sorted(tied, key=_is_process)  # units first, then the discharge process
        text = (
            f"{_capital(_and([_named(c) for c in words]))}, about equally: the primary "
            f"constraint in {counts(words)} of {_replications(n)}, where {kept_text(words)} "
            f"patient-hours of waiting a day stop (within {TIE_MARGIN:.0%} of each other)."
        )
    elif unsure and int(rows.loc[unsure[0], "primary_in"]) > 0:
        pair = [primary, *unsure]
        text = (
            f"{_capital(_named(primary))}, or perhaps {_named(unsure[0])}: these {n} "
            f"replications cannot tell them apart (the primary constraint in {counts(pair)}; "
            f"{kept_text(pair)} patient-hours of waiting a day stop there, and the paired 95% "
            "CI of the difference includes 0). Run more replications to tell."
        )
    else:
        k = int(rows.loc[primary, "primary_in"])
        also = [
            f"{_named(str(c))} in {int(r['primary_in'])}"
            for c, r in others.iterrows()
            if int(r["primary_in"]) > 0
        ]
        text = (
            f"{_capital(_named(primary))}: the primary constraint in {k} of "
            f"{_replications(n)}" + (f" ({_and(also)})" if also else "") + ", where "
            f"{_hours_text(lead)} patient-hours of waiting a day stop"
        )
        if len(others):
            nxt = str(others.index[0])
            text += f"; next, {_named(nxt)} ({_hours_text(float(others.iloc[0]['kept_mean']))})"
        text += "."
        if unsure:
            text += (
                f" The lead over {_named(unsure[0])} is not yet sure (the paired 95% CI of the "
                "difference includes 0): run more replications to confirm it."
            )
    if n == 1:
        text += " One replication: run at least 2 to see how often each is the constraint."
    return tied, text


def _horizon(
    halves_of: Sequence[Sequence[tuple[float, float, pd.DataFrame]]],
) -> tuple[pd.DataFrame, str]:
    """The primary constraint of each half of the measured period (replications averaged) and,
    when it changes, why the answer depends on the run length."""
    n = len(halves_of)
    rows, primaries, kept_of = [], [], []
    for half in (0, 1):
        from_day, to_day = halves_of[0][half][0], halves_of[0][half][1]
        parts = [h[half][2] for h in halves_of]
        averaged = _kept(_average(parts, ["cause", "location"], n))
        firsts = _primary_of(_kept_by_replication(parts))
        best = max(averaged, key=lambda c: averaged[c], default="")
        primaries.append(best if best and averaged[best] > 0 else "")
        kept_of.append(averaged)
        for cause, value in averaged.items():
            rows.append((half + 1, from_day, to_day, cause, value, firsts.count(cause)))
    table = pd.DataFrame(
        rows, columns=["half", "from_day", "to_day", "cause", "kept", "primary_in"]
    )
    before, after = primaries
    if not before or not after or before == after:
        return table, ""
    late = kept_of[1]
    if late.get(before, 0.0) >= (1.0 - TIE_MARGIN) * late[after]:
        return table, ""  # a tie in the second half, not a change
    mid, end = halves_of[0][1][0], halves_of[0][1][1]
    note = (
        f"The answer depends on the run length: over days 0–{mid:g} of the measured period "
        f"the primary constraint was {_named(before)}, over days {mid:g}–{end:g} "
        f"{_named(after)} (the waiting that stops there went from "
        f"{_hours_text(kept_of[0].get(after, 0.0))} to {_hours_text(late[after])} "
        "patient-hours a day). The system was still changing during the run (queues still "
        "building after the warm-up, or the season turning), so a shorter run names "
        f"{_named(before)} and a longer one {_named(after)}: judge by the longer run, or "
        "lengthen the warm-up (flowsim warmup recommends one)."
    )
    return table, note


def waiting_hours(log: EventLog | EventFrame) -> float:
    """Patient-hours per day waiting for capacity (every cause but the discharge process): the
    quantity `value_table` ranks extra capacity by."""
    att = _attribution_one(_frames(log)[0])
    return float(att.loc[~att["cause"].isin(PROCESS_CAUSES), "patient_hours_per_day"].sum())
