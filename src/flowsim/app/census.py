"""The app's starting censuses: who is in every bed and community place on one day of the
calibrated year, in each of `CENSUSES` runs from empty, computed once per baseline and kept on
disk.

Why: a comparison must answer in seconds, so it cannot simulate the months a run from empty
needs before the wards and, slower still, the community services (P2 and P3 take months) fill.
It starts instead from censuses of the baseline's own runs from empty (replications 0 to
`CENSUSES` - 1, the baseline's seed and calendar), taken on ``census_day``: AMU, AFU, each ward
group, P1-P3 and the virtual ward with each patient's time already spent, the wards' patients
in treatment by frailty band and their delayed discharges by pathway, the escalation places
open, and the patients sent home before the census whom the run brings back after it
(`flowsim.analysis.warmup.snapshot`, ``escalation=True``). Replication *r* of a comparison
starts from census *r* mod `CENSUSES` (``warm_start`` as a list), so its intervals include the
spread between the runs' Novembers, as the annual run's do.
The default day lies in the calibrated year, long after every unit has settled (the baseline's
own warm-up is 60 days; community caseloads are full well before the census), and its window
is three weeks of that year whose KPIs are near the whole year's (``benchmarks/app_window.py``;
see `CENSUS_DAY` and docs/workshop.md "What the app's numbers mean").

The warm run continues the calibrated year's calendar: `with_warm_start` moves the scenario's
``run.start_date`` to the census's date, so seasons (admission, frailty and length-of-stay
profiles, closed beds) and weekdays are those of the days the census leads into. Every scenario
of a comparison runs the same days from the same censuses (cut to its own places), so the
replications stay paired.

A census costs a run of ``census_day`` + `LOOKAHEAD_DAYS` days (the default, 329 days, took 8.6 s
of one core on a quiet day; the four censuses about 22 s on 2 idle cores), so they are kept in
the app's disk cache (`flowsim.app.cache.DiskCache`, subfolder ``census``) by the scenario's
content, the day, the seed and their number (and the code version, as every cached result): a
changed baseline, or changed model code, takes new censuses; a restarted server does not.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from flowsim.app.cache import DiskCache, default_folder
from flowsim.experiment import settings as experiment
from flowsim.experiment.pool import WorkerPool
from flowsim.log import EventLog
from flowsim.scenario import Scenario, apply_changes
from flowsim.scenario.units import (
    catalogue,
    openable,
    put_warm_start,
    warm_start_entries,
    warm_start_limit,
    warm_start_path,
)
from flowsim.scenario.warm_start import LOOKAHEAD_DAYS

__all__ = [
    "CENSUSES",
    "CENSUS_DAY",
    "Census",
    "census",
    "census_cache",
    "census_key",
    "with_warm_start",
]

CENSUS_DAY = 287.0
"""Default day of the baseline's run from empty whose census starts the app's runs: Monday
17 November 2025 by the baseline's calendar (start 3 February 2025; its measured year runs from
4 April), so the app's 7-day settling runs to 24 November and its 21 measured days to 15
December. ``benchmarks/app_window.py --replications 5`` ranks the Monday windows of the
calibrated year by how near their headline KPIs lie to the year's (the largest gap in units of
the KPI's between-replication standard deviation): this one is within 0.98 (third of 49; the
nearest, 20 October, 0.90). Of the two near windows run through the app (27 October, within
1.29, was the default until the baseline's deeper winter profiles of commit 4dbe2ab), this one
the app reproduces better: smaller gaps on 4 of the 6 headline KPIs (docs/workshop.md has the
figures). A multiple of 7, so the census falls on the weekday the baseline starts on."""


class _Settings(Protocol):
    census_day: float
    seed: int | None


CENSUSES = 4
"""Replications of the baseline's run from empty a census is taken from (the app's default
replications): replication *r* of a comparison starts from census *r* mod `CENSUSES`, so its
intervals include the spread between different Novembers, not only the noise of three weeks
from one (measured: the app's G&A occupancy 96.6 % (96.1-97.1) from one census against the
year's 95.7 %, 96.2 % (95.2-97.2) from four; docs/workshop.md)."""


@dataclass(frozen=True)
class Census:
    """``warm_start`` sections, one per replication of the run from empty, and the day they
    were taken: what `with_warm_start` needs."""

    sections: list[dict[str, Any]]
    """The scenario's ``warm_start`` sections (as `flowsim.analysis.warmup.snapshot` writes
    them), replication 0 first."""
    census_day: float
    """Day of the run from empty it was taken on (hours from the scenario's start / 24)."""
    start_date: str
    """ISO date of that day (the scenario's ``run.start_date`` plus ``census_day``): the date a
    warm run starts on."""
    notes: list[str] = field(default_factory=list)
    """`flowsim.analysis.warmup.Snapshot.notes` of replication 0's census (units holding
    patients beyond their base beds)."""
    origin_start_date: str = ""
    """ISO ``run.start_date`` of the scenario the census was taken from (day 0 of its run)."""

    @property
    def section(self) -> dict[str, Any]:
        """Replication 0's census."""
        return self.sections[0]

    @property
    def occupied(self) -> dict[str, int]:
        """Patients in each unit of replication 0's census."""
        return {unit: int(entry["occupied"]) for unit, entry in warm_start_entries(self.section)}


def _snapshot(log: EventLog, at_hours: float) -> dict[str, Any]:
    """The census at ``at_hours`` (runs in the worker, so only the section travels): every
    patient in a unit, escalation beds included (a November census has them open: those beyond
    the base beds wait for a bed at time 0 and the escalation rules open it within hours), so
    every unit starts full."""
    from flowsim.analysis.warmup import snapshot

    shot = snapshot(log, at_hours, escalation=True)
    return {"section": shot.warm_start, "notes": shot.notes}


def census_key(scenario: Scenario, settings: _Settings) -> tuple[str, float, int | None]:
    """What a census depends on: the scenario's content (without any warm start of its own),
    the day and the seed."""
    base = scenario.model_copy(update={"warm_start": None})
    text = base.model_dump_json(by_alias=True)
    return (
        hashlib.sha256(text.encode("utf-8")).hexdigest()[:16],
        float(settings.census_day),
        settings.seed,
    )


def census_cache(folder: str | Path | None = None) -> DiskCache:
    """The disk cache censuses are kept in (the app's result cache folder, subfolder
    ``census``; a handful of entries of ~100 kB)."""
    place = Path(default_folder() if folder is None else folder) / "census"
    return DiskCache(place, max_bytes=50_000_000, max_entries=8)


def census(
    scenario: Scenario,
    settings: _Settings,
    pool: WorkerPool,
    cache: Any | None = None,
    censuses: int = CENSUSES,
) -> Census:
    """The censuses of ``scenario`` on ``settings.census_day`` of its run from empty
    (replications 0 to ``censuses`` - 1, ``settings.seed`` or the scenario's): from ``cache``
    (default `census_cache`) when they were taken before, else run in ``pool`` and kept
    there."""
    cache = census_cache() if cache is None else cache
    key = (*census_key(scenario, settings), censuses)
    found = cache.get(key)
    if isinstance(found, Census):
        return found
    base = scenario.model_copy(update={"warm_start": None})
    run = experiment.RunSettings.resolve(
        base,
        seed=settings.seed,
        horizon_days=settings.census_day + LOOKAHEAD_DAYS,
        warm_up_days=0.0,
        replications=censuses,
    )
    at = functools.partial(_snapshot, at_hours=float(settings.census_day) * 24.0)
    shots = pool.run_paired([base], run, at)
    date = base.run.start_date + dt.timedelta(days=float(settings.census_day))
    result = Census(
        [shots[0, r]["section"] for r in range(censuses)],
        float(settings.census_day),
        date.isoformat(),
        shots[0, 0]["notes"],
        base.run.start_date.isoformat(),
    )
    cache.put(key, result)
    return result


def with_warm_start(
    scenario: Scenario, start: Census | Mapping[str, Any], settle_days: float = 7.0
) -> Scenario:
    """``scenario`` starting from the census ``start``, each unit cut to what the scenario's
    own places can hold (`flowsim.scenario.units.warm_start_limit`: its beds and the
    escalation beds it can open; a change with fewer beds starts with the patients who came
    first), wards the scenario does not have left out. A `Census` also moves
    ``run.start_date`` to the census's date, so the run continues the calendar the census was
    taken in; a plain ``warm_start`` section leaves the calendar alone.

    A scenario whose own ``run.start_date`` differs from that of the census's scenario states a
    season of its own (``winter_surge.yaml`` is measured from 1 December): it starts
    ``settle_days`` (the app's warm-up) before its own measured period (its start date plus its
    ``run.warm_up_days``), so the app measures it in its season, from the same census. Its
    comparison with the baseline is then that season against the app's window, as the library
    table compares it with the baseline's year."""
    sections = start.sections if isinstance(start, Census) else [start]
    cut = [_cut_census(scenario, section) for section in sections]
    changes: dict[str, Any] = {"warm_start": cut if len(cut) > 1 else cut[0]}
    if isinstance(start, Census):
        changes["run.start_date"] = start.start_date
        own = scenario.run.start_date.isoformat()
        if start.origin_start_date and own != start.origin_start_date:
            measured = scenario.run.start_date + dt.timedelta(days=scenario.run.warm_up_days)
            changes["run.start_date"] = (measured - dt.timedelta(days=settle_days)).isoformat()
    return apply_changes(scenario.model_copy(update={"warm_start": None}), changes)


def _cut_census(scenario: Scenario, section: Mapping[str, Any]) -> dict[str, Any]:
    """One census cut to ``scenario``'s places (`with_warm_start`); returns from places it does
    not have left out."""
    units = {u.name for u in catalogue(scenario) if warm_start_path(u.name) is not None}
    out: dict[str, Any] = {k: v for k, v in section.items() if k == "mix"}
    places = {p.name for p in scenario.population.places}
    if returns := [g for g in section.get("returns", []) if g["place"] in places]:
        out["returns"] = returns
    for unit, entry in warm_start_entries(section):
        if unit in units and (cut := _cut(entry, warm_start_limit(scenario, unit))) is not None:
            if opened := [k for k in entry.get("opened", []) if k in openable(scenario, unit)]:
                cut["opened"] = opened
            put_warm_start(out, unit, cut)
    return out


def _cut(entry: Mapping[str, Any], places: int) -> dict[str, Any] | None:
    """A unit's entry cut to ``places`` patients: the delayed kept first (they came first),
    then those in treatment who came first."""
    n = min(int(entry["occupied"]), int(places))
    if n <= 0:
        return None
    out: dict[str, Any] = {"occupied": n}
    delayed: dict[str, Any] = {}
    room = n
    for pathway, d in (entry.get("delayed") or {}).items():
        referred = min(int(d.get("referred", 0)), room)
        assessing = min(int(d.get("assessing", 0)), room - referred)
        room -= referred + assessing
        if referred + assessing:
            delayed[pathway] = {**d, "referred": referred, "assessing": assessing}
            _cut_values(delayed[pathway], referred + assessing)
            if d.get("frailty"):
                delayed[pathway]["frailty"] = _cut_counts(d["frailty"], referred + assessing)
    if entry.get("elapsed_days"):
        out["elapsed_days"] = entry["elapsed_days"]
        _cut_values(out, room)
    if entry.get("frailty"):
        out["frailty"] = _cut_counts(entry["frailty"], room)
    if delayed:
        out["delayed"] = delayed
    return out


def _cut_counts(counts: Mapping[str, int], n: int) -> dict[str, int]:
    """``counts`` scaled down to total ``n`` (largest remainders), or as they are."""
    total = sum(counts.values())
    if total <= n:
        return dict(counts)
    exact = {k: v * n / total for k, v in counts.items()}
    out = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: out[k] - exact[k])[: n - sum(out.values())]:
        out[k] += 1
    return out


def _cut_values(entry: dict[str, Any], n: int) -> None:
    elapsed = entry.get("elapsed_days")
    if elapsed and "values" in elapsed:
        values = list(elapsed["values"])[:n]
        if values:
            entry["elapsed_days"] = {**elapsed, "values": values}
        else:
            entry.pop("elapsed_days")
