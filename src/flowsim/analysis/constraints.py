"""Where waiting stops: the blocking chain, the primary constraint and how sure the
replications are of it, from the bottleneck tables alone.

Why a module of its own: `flowsim.analysis.bottlenecks` reads event logs into two small tables
(the wait attribution and the resources); everything here needs only those tables, never a log,
so it works on averages, on the tables a worker sends back, and on tables planted by hand in a
test. It also holds the words the verdict is given in, so the terminal, the report and the app
say it the same way.

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

**How sure** (`how_sure` and `horizon_drift`, which `combine_bottlenecks` calls). The primary
constraint of the averaged tables is one name; the replications say how far to trust it. Each
replication's own primary is counted (``Bottlenecks.constraints``: in how many it was the
primary, and the waiting each cause keeps, mean and 95% CI). Causes keeping within `TIE_MARGIN`
of the leader's waiting are named together, "AMU and the discharge referral and assessment,
about equally"; a lead the replications cannot confirm (the paired 95% CI of the difference in
kept waiting includes 0) says so and asks for more replications. The answer can also move with
the length of the run, while queues are still building after the warm-up or the season turns:
each replication's halves of the measured period are analysed apart, and when the first half's
primary constraint is not the second's, ``Bottlenecks.horizon_note`` says which was which and
why, instead of one name that flips silently between a short run and a long one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from flowsim.analysis.eventframe import unit_order
from flowsim.analysis.figure_data import unit_label
from flowsim.scenario.units import is_inpatient

__all__ = [
    "CHAIN_MIN_SHARE",
    "DISCHARGE_REFERRAL",
    "DISCHARGE_WINDOW",
    "FRONT_DOOR",
    "PROCESS_CAUSES",
    "TIE_MARGIN",
    "average_tables",
    "blocking_chain",
    "causes_words",
    "chain_labels",
    "horizon_drift",
    "hours_text",
    "how_sure",
    "pathway_order",
]

DISCHARGE_REFERRAL = "discharge_referral"
DISCHARGE_WINDOW = "discharge_window"
PROCESS_CAUSES = (DISCHARGE_REFERRAL, DISCHARGE_WINDOW)
"""Waits for a process (assessment, the daily window), not for another unit's capacity."""
FRONT_DOOR = ("ambulance", "waiting_room")
CHAIN_MIN_SHARE = 0.01
"""A link joins the chain while its patients wait at least this share of the hours waited for
the primary constraint (and at least 0.01 patient-hours a day)."""
TIE_MARGIN = 0.10
"""Causes whose waiting kept (mean over replications) is within this share of the leader's are
named together, "about equally" (estimate: a judgement of what a room would call a tie, no
source)."""


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


def causes_words(causes: Sequence[str]) -> str:
    """Causes named together in a sentence, units first, then the discharge process: "AMU and
    the discharge referral and assessment"."""
    return _and([_named(c) for c in sorted(causes, key=_is_process)])


def hours_text(x: float) -> str:
    """Patient-hours as the verdict writes them: whole numbers from 10, else one decimal."""
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:.1f}"


# ---------------------------------------------------------------- pathway order


def pathway_order(names: Iterable[str]) -> dict[str, int]:
    """Each name's rank in pathway order: the front door, the units (ED to community), then
    the discharge process."""
    units = [n for n in names if n not in (*FRONT_DOOR, *PROCESS_CAUSES)]
    ordered = [*FRONT_DOOR, *unit_order(units), *PROCESS_CAUSES]
    return {name: i for i, name in enumerate(ordered)}


def average_tables(parts: list[pd.DataFrame], keys: list[str], n: int) -> pd.DataFrame:
    """The mean of per-replication tables over ``n`` replications (a row missing from one
    counts as 0 there), grouped by ``keys`` and sorted in pathway order."""
    table = pd.concat(parts, ignore_index=True)
    value_cols = [c for c in table.columns if c not in keys]
    out = table.groupby(keys, sort=False, observed=True)[value_cols].sum() / n
    out = out.reset_index()
    order = pathway_order([*out[keys[0]], *(out[keys[1]] if len(keys) > 1 else [])])
    sort_cols = [out[k].map(order).fillna(len(order)) for k in keys]
    idx = np.lexsort([s.to_numpy() for s in reversed(sort_cols)])
    return out.iloc[idx].reset_index(drop=True)


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
    order = pathway_order(nodes)
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


# ---------------------------------------------------------------- how sure


def how_sure(
    attributions: Sequence[pd.DataFrame], primary: str
) -> tuple[pd.DataFrame, list[str], str]:
    """How sure the replications are of the primary constraint of their averaged tables:
    ``(constraints, tied, verdict)`` as `flowsim.analysis.bottlenecks.Bottlenecks` holds them,
    from each replication's attribution table."""
    kept = _kept_by_replication(attributions)
    constraints = _constraint_shares(kept, primary)
    tied, verdict = _verdict(constraints, kept, primary)
    return constraints, tied, verdict


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
        return _and([hours_text(float(rows.loc[c, "kept_mean"])) for c in causes])

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
            f"{hours_text(lead)} patient-hours of waiting a day stop"
        )
        if len(others):
            nxt = str(others.index[0])
            text += f"; next, {_named(nxt)} ({hours_text(float(others.iloc[0]['kept_mean']))})"
        text += "."
        if unsure:
            text += (
                f" The lead over {_named(unsure[0])} is not yet sure (the paired 95% CI of the "
                "difference includes 0): run more replications to confirm it."
            )
    if n == 1:
        text += " One replication: run at least 2 to see how often each is the constraint."
    return tied, text


def horizon_drift(
    halves_of: Sequence[Sequence[tuple[float, float, pd.DataFrame]]],
) -> tuple[pd.DataFrame, str]:
    """The primary constraint of each half of the measured period (replications averaged) and,
    when it changes, why the answer depends on the run length."""
    n = len(halves_of)
    rows, primaries, kept_of = [], [], []
    for half in (0, 1):
        from_day, to_day = halves_of[0][half][0], halves_of[0][half][1]
        parts = [h[half][2] for h in halves_of]
        averaged = _kept(average_tables(parts, ["cause", "location"], n))
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
        f"{hours_text(kept_of[0].get(after, 0.0))} to {hours_text(late[after])} "
        "patient-hours a day). The system was still changing during the run (queues still "
        "building after the warm-up, or the season turning), so a shorter run names "
        f"{_named(before)} and a longer one {_named(after)}: judge by the longer run, or "
        "lengthen the warm-up (flowsim warmup recommends one)."
    )
    return table, note
