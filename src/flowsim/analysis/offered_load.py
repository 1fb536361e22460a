"""Offered load before anything runs: arrival rate x mean stay / capacity, for every unit.

From the scenario alone (no simulation): the population's rates by route and frailty band (with
the demand profile's growth, place multipliers and seasonal multipliers averaged over the year),
UCR's and SDEC's shares, ED's dispositions, AFU eligibility, AMU and AFU discharge shares, ward
routing, deaths, step-down, discharge pathways and the means of the duration distributions. A
readmission or a virtual-ward patient admitted after all comes back as a new arrival, so each
route's arrivals are the solution of ``rate = new + rate x returns``.

What it assumes, so that it stays cheap and honest: every unit is free when a patient wants it
(no diversion when AFU, SDEC, UCR or the virtual ward is full, no wait for a bed or a package),
so the load is what the unit is *offered*, not what it carries in a gridlocked run; a patient
holds a place for their own stay plus the bed turnaround, and a ward bed also through the
referral and the wait for the discharge window, but not through a wait for community capacity
(that wait is the consequence the table warns about). Pressure responses (outlying, electives,
discharge push) and crowding are left out. The busy places of a unit that is not saturated are
what the simulation's mean occupancy should show (Little's law), which a test checks.

Loss units (UCR; SDEC, AFU and the virtual ward, whose patients go elsewhere when they are full)
never queue: above 100% they turn people away. Their row gives the Erlang-B share turned away
(exact for Poisson arrivals and any stay distribution) and the warning says where those go.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from flowsim.scenario.schema import AGE_BANDS, DISPOSITIONS, FRAILTY_BANDS, PATHWAYS, Scenario
from flowsim.scenario.seasons import for_key
from flowsim.scenario.units import (
    ROUTES,
    capacity_of,
    catalogue,
    in_group,
    is_ward,
    spec_of,
    unit_label,
    ward_name,
    ward_unit,
)

__all__ = [
    "WARN_AT",
    "OfferedLoad",
    "erlang_b",
    "load_warnings",
    "offered_load",
    "offered_load_lines",
]

WARN_AT = 0.95
"""Offered load (busy places / places) from which a unit is flagged."""
HOURS_PER_YEAR = 24 * 365.25


def erlang_b(places: int, offered: float) -> float:
    """Share of arrivals finding every place taken in M/G/c/c (the stable recursion)."""
    if places <= 0:
        return 1.0
    b = 1.0
    for k in range(1, places + 1):
        b = offered * b / (k + offered * b)
    return b


@dataclass
class _Tally:
    """Per arrival of one (route, band, age): visits and place-hours of each unit, and returns
    (new arrivals it causes) by route."""

    visits: dict[str, float]
    hours: dict[str, float]
    returns: dict[str, float]

    @classmethod
    def empty(cls) -> _Tally:
        return cls({}, {}, dict.fromkeys(ROUTES, 0.0))

    def use(self, unit: str, share: float, hours: float) -> None:
        if share <= 0:
            return
        self.visits[unit] = self.visits.get(unit, 0.0) + share
        self.hours[unit] = self.hours.get(unit, 0.0) + share * hours


def _monthly_mean(profile: list[float] | None) -> float:
    return 1.0 if profile is None else float(np.mean(profile))


def _normalised(values: list[float]) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    return a / a.mean()


def _sdec_open_share(s: Scenario) -> float:
    """Share of arrivals that come while SDEC is open (hour profile; weekdays if closed at
    weekends)."""
    cfg = s.sdec
    hourly = _normalised(s.demand_profile.hourly) / 24.0
    hours = np.arange(24)
    in_hours = float(hourly[(hours >= cfg.open_hour) & (hours < cfg.close_hour)].sum())
    if not cfg.open_weekends:
        weekday = _normalised(s.demand_profile.weekday) / 7.0
        in_hours *= float(weekday[:5].sum())
    return in_hours


def _hours_to_window(s: Scenario) -> float:
    """Mean hours from a time uniform over the week to the next discharge (window, weekends)."""
    d = s.discharge
    grid = np.arange(0.0, 24.0 * 7, 0.25)  # Monday 00:00 first
    waits_any, waits_weekday = [], []
    for t in grid:
        for allow_weekend, out in ((True, waits_any), (False, waits_weekday)):
            day, hour = math.floor(t / 24.0), t % 24.0
            if hour < d.window_start_hour:
                target = day * 24.0 + d.window_start_hour
            elif hour < d.window_end_hour:
                target = t
            else:
                target = (day + 1) * 24.0 + d.window_start_hour
            while not allow_weekend and (math.floor(target / 24.0) % 7) >= 5:
                target = (math.floor(target / 24.0) + 1) * 24.0 + d.window_start_hour
            out.append(target - t)
    f = d.weekend_discharge_factor
    return float(f * np.mean(waits_any) + (1.0 - f) * np.mean(waits_weekday))


def _route_rates(s: Scenario) -> dict[tuple[str, str, str], float]:
    """New arrivals per hour by (route, band, age band), averaged over the year."""
    growth = s.demand_profile.growth
    seasons = s.seasons
    out: dict[tuple[str, str, str], float] = {}
    for place in s.population.places:
        for seg in place.segments:
            for route in ROUTES:
                per_year = getattr(seg, f"{route}_per_person_year")
                rate = seg.people * per_year * place.demand_multiplier * growth / HOURS_PER_YEAR
                if seasons is not None:
                    rate *= _monthly_mean(seasons.attendance_multiplier.get(route))  # type: ignore[call-overload]
                    rate *= _monthly_mean(
                        seasons.frailty_attendance_multiplier.get(seg.frailty)  # type: ignore[call-overload]
                    )
                key = (route, seg.frailty, seg.age_band)
                out[key] = out.get(key, 0.0) + rate
    return out


class _Flows:
    """Walks one arrival of a (route, band, age) through the pathway, as `flowsim.model.
    patient.journey` does, with every unit free."""

    def __init__(self, s: Scenario, full: dict[str, float]) -> None:
        self.s = s
        self.full = full
        """Share of arrivals finding each loss unit full (Erlang B), from the previous pass."""
        self.sdec_open = _sdec_open_share(s)
        self.window_hours = _hours_to_window(s)
        self.readmit = s.community.readmission.probability
        self.sdec_on = s.sdec.chairs > 0
        self.vw_on = s.community.virtual_ward.capacity > 0

    def _readmission(self, t: _Tally, route: str, after: str, band: str, share: float) -> None:
        p = self.readmit.get(after)
        if p is not None:
            t.returns[route] += share * p.get(band)

    def walk(self, route: str, band: str, age: str) -> _Tally:
        s, t = self.s, _Tally.empty()
        ed_share = 1.0
        if route == "ambulance" and s.ucr.teams > 0 and band in s.ucr.eligible_frailty:
            weights = np.asarray(s.population.acuity_weights[route], dtype=float)
            acuity = float(weights[s.ucr.eligible_min_acuity - 1 :].sum() / weights.sum())
            seen = acuity * s.ucr.eligible_share
            seen *= 1.0 - self.full.get("ucr", 0.0)
            t.use("ucr", seen, s.ucr.response_hours.mean())
            home = seen * s.ucr.kept_at_home_share
            if self.vw_on:
                step_up = home * s.ucr.virtual_ward_step_up_share
                self._virtual_ward(t, band, step_up * (1.0 - self.full.get("virtual_ward", 0.0)))
            ed_share -= home
        if route == "gp_referral" and self.sdec_on:
            direct = s.sdec.gp_direct_share * self.sdec_open * (1.0 - self.full.get("sdec", 0.0))
            self._sdec(t, route, band, age, direct)
            ed_share -= direct
        self._ed(t, route, band, age, ed_share)
        return t

    def _ed(self, t: _Tally, route: str, band: str, age: str, share: float) -> None:
        s = self.s
        ed = s.ed
        cubicle_hours = ed.assessment_minutes.mean() / 60.0 + ed.treatment_hours.mean()
        if route == "ambulance":
            cubicle_hours += ed.handover_minutes.mean() / 60.0
        disp = ed.disposition.get(band)
        admitting = sum(disp.get(d, 0.0) for d in ("amu", "afu", "ward"))
        fdf = ed.front_door_frailty
        avoided = 0.0
        if fdf is not None and fdf.assessors > 0 and band in fdf.eligible_frailty:
            assessed = share * admitting
            t.use("frailty_team", assessed, fdf.assessment_hours.mean())
            cubicle_hours += admitting * fdf.assessment_hours.mean()
            avoided = fdf.admission_avoided_share
            follow_up = assessed * avoided * fdf.home_with_ucr_share
            t.use("ucr", follow_up * (1.0 - self.full.get("ucr", 0.0)), s.ucr.response_hours.mean())
        t.use("ed_cubicle", share, cubicle_hours)
        t.use("ed_clinician", share, ed.assessment_minutes.mean() / 60.0)
        for d in DISPOSITIONS:
            p = share * disp.get(d, 0.0)
            if p <= 0:
                continue
            if d == "home":
                self._readmission(t, route, "home_from_ed", band, p)
            elif d == "virtual_ward":
                taken = 1.0 - self.full.get("virtual_ward", 0.0) if self.vw_on else 0.0
                self._virtual_ward(t, band, p * taken)
                self._admit(t, route, band, age, "amu", p * (1.0 - taken))
            elif d == "sdec":
                open_share = self.sdec_open if self.sdec_on else 0.0
                open_share *= 1.0 - self.full.get("sdec", 0.0)
                self._sdec(t, route, band, age, p * open_share)
                self._admit(t, route, band, age, "amu", p * (1.0 - open_share))
            else:
                self._readmission(t, route, "home_from_ed", band, p * avoided)
                self._admit(t, route, band, age, d, p * (1.0 - avoided))

    def _sdec(self, t: _Tally, route: str, band: str, age: str, share: float) -> None:
        s = self.s
        t.use("sdec", share, s.sdec.stay_hours.mean())
        admitted = s.sdec.admit_share.get(band)
        self._readmission(t, route, "home_from_ed", band, share * (1.0 - admitted))
        self._admit(t, route, band, age, "amu", share * admitted)

    def _admit(self, t: _Tally, route: str, band: str, age: str, dest: str, share: float) -> None:
        s = self.s
        if share <= 0:
            return
        if dest == "afu":
            eligible = band in s.afu.eligible_frailty and AGE_BANDS.index(age) >= AGE_BANDS.index(
                s.afu.min_age_band
            )
            if not eligible or s.afu.beds == 0:
                dest = "amu"
            elif s.afu.divert_to_amu_when_full:
                diverted = share * self.full.get("afu", 0.0)
                self._admit(t, route, band, age, "amu", diverted)
                share -= diverted
        if dest == "amu" and s.amu.beds == 0:
            dest = "ward"
        if in_group(dest, "acute"):
            cfg = s.amu if dest == "amu" else s.afu
            stay = cfg.stay_hours.mean()
            if dest == "afu":
                stay = min(stay, s.afu.max_stay_hours)
            t.use(dest, share, stay + cfg.turnaround_hours)
            home = cfg.discharge_share.get(band)
            self._readmission(t, route, "P0", band, share * home)
            share *= 1.0 - home
        self._ward(t, route, band, share)

    def _ward(self, t: _Tally, route: str, band: str, share: float) -> None:
        s = self.s
        vw = s.community.virtual_ward
        routing = s.ward_routing.get(band)
        los_profiles = {} if s.seasons is None else s.seasons.ward_los_multiplier
        for name, ward in s.wards.items():
            p = share * routing.get(name, 0.0)
            if p <= 0:
                continue
            los_hours = 24.0 * ward.los_days.get(band).mean()
            los_hours *= _monthly_mean(for_key(los_profiles, name))
            dies = ward.death_probability.get(band)
            step_down = vw.step_down_share.get(band) if self.vw_on else 0.0
            step_down *= 1.0 - self.full.get("virtual_ward", 0.0)
            unit = ward_unit(name)
            turnaround = ward.turnaround_hours
            t.use(unit, p * dies, los_hours + turnaround)
            alive = p * (1.0 - dies)
            early = max(los_hours - 24.0 * vw.step_down_days_saved, 0.0)
            t.use(unit, alive * step_down, early + turnaround)
            self._virtual_ward(t, band, alive * step_down)
            rest = alive * (1.0 - step_down)
            split = s.discharge.pathway.get(band)
            for pathway in PATHWAYS:
                q = rest * split.get(pathway, 0.0)
                if q <= 0:
                    continue
                if pathway == "P0":
                    wait = s.discharge.p0_delay_hours.mean() + self.window_hours
                    t.use(unit, q, los_hours + wait + turnaround)
                else:
                    referral = s.discharge.referral_days.get(pathway)
                    referral_hours = 0.0 if referral is None else 24.0 * referral.mean()
                    t.use(unit, q, los_hours + referral_hours + self.window_hours + turnaround)
                    service = getattr(s.community, pathway.lower())
                    # the place is reserved from a free place to the discharge window
                    held = 24.0 * service.duration_days.mean() + self.window_hours
                    t.use(pathway.lower(), q, held)
                self._readmission(t, route, pathway, band, q)

    def _virtual_ward(self, t: _Tally, band: str, share: float) -> None:
        vw = self.s.community.virtual_ward
        t.use("virtual_ward", share, 24.0 * vw.duration_days.mean())
        t.returns["ambulance"] += share * vw.admission_share


@dataclass(frozen=True)
class OfferedLoad:
    """The table of `offered_load` and its warnings."""

    table: pd.DataFrame
    warnings: list[str]


def _diverted_to(s: Scenario, unit: str) -> str | None:
    """Where patients go when a unit that never queues is full (None: the unit queues)."""
    if unit == "afu" and not s.afu.divert_to_amu_when_full:
        return None
    if unit == "ucr":
        return "be conveyed to ED"
    if unit == "virtual_ward":
        return "stay in hospital or go to AMU"
    if unit == "sdec" or unit == "afu":
        return "go to AMU"
    return None


def offered_load(scenario: Scenario) -> OfferedLoad:
    """Offered load of every unit of ``scenario`` with a capacity, in pathway order.

    Columns: ``unit``, ``label``, ``arrivals_per_day`` (patients starting there),
    ``mean_stay_hours`` (place-hours per patient, turnaround included), ``busy_places``
    (arrivals x stay: the mean places in use if nothing waited), ``offered_places`` (the same
    before a unit that never queues turns anyone away), ``places`` (capacity; for ED
    clinicians the mean of the rota; for SDEC the chairs times the share of the week it is
    open), ``load`` (offered / places), ``turned_away_share`` (units that never queue: Erlang
    B) and ``warning`` (plain words, at or above `WARN_AT`).
    """
    s = scenario
    loss_units = [u.name for u in catalogue(s) if _diverted_to(s, u.name) is not None]
    full: dict[str, float] = {}
    for _ in range(_PASSES):
        visits, hours = _totals(s, full)
        full = {
            u: erlang_b(capacity_of(s, u), _offered(s, u, hours, full) / _open_share(s, u))
            for u in loss_units
        }
    visits, hours = _totals(s, full)
    rows = []
    for unit in catalogue(s):
        if unit.capacity_key is None:
            continue
        name = unit.name
        places = float(unit.capacity)
        if name == "ed_clinician":
            places = float(np.mean(s.ed.clinicians_by_hour))
        places *= _open_share(s, name)
        busy = hours.get(name, 0.0)
        offered = _offered(s, name, hours, full)
        per_hour = visits.get(name, 0.0)
        load = offered / places if places > 0 else (math.inf if offered > 0 else math.nan)
        rows.append(
            {
                "unit": name,
                "label": unit.label,
                "arrivals_per_day": 24.0 * per_hour,
                "mean_stay_hours": busy / per_hour if per_hour > 0 else math.nan,
                "offered_places": offered,
                "busy_places": busy,
                "places": places,
                "load": load,
                "turned_away_share": full.get(name, math.nan),
            }
        )
    table = pd.DataFrame(rows)
    table["warning"] = [_warning(s, row) for row in table.to_dict("records")]
    return OfferedLoad(table, [w for w in table["warning"] if w])


_PASSES = 6
"""Passes of the loss-unit fixed point (the turned-away shares settle within a few)."""


def _offered(s: Scenario, unit: str, hours: dict[str, float], full: dict[str, float]) -> float:
    """Place-hours per hour offered to ``unit``: those it carries, before any are turned away."""
    carried = hours.get(unit, 0.0)
    b = full.get(unit, 0.0)
    return carried / (1.0 - b) if b < 1.0 else carried


def _open_share(s: Scenario, unit: str) -> float:
    """Share of the week a unit takes patients (SDEC's opening hours; 1 for the rest)."""
    if unit != "sdec":
        return 1.0
    cfg = s.sdec
    days = 7 if cfg.open_weekends else 5
    return max((cfg.close_hour - cfg.open_hour) / 24.0 * days / 7.0, 1e-9)


def _totals(s: Scenario, full: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """Patients starting per hour and place-hours per hour at each unit, readmissions and
    virtual-ward returns included."""
    flows = _Flows(s, full)
    new = _route_rates(s)
    visits: dict[str, float] = {}
    hours: dict[str, float] = {}
    for band in FRAILTY_BANDS:
        for age in AGE_BANDS:
            lam0 = np.array([new.get((r, band, age), 0.0) for r in ROUTES])
            if not lam0.any():
                continue
            tallies = {r: flows.walk(r, band, age) for r in ROUTES}
            # rate[r] = new[r] + sum over r' of rate[r'] x returns of r' on route r
            m = np.array([[tallies[src].returns[dst] for src in ROUTES] for dst in ROUTES])
            lam = np.linalg.solve(np.eye(len(ROUTES)) - m, lam0)
            for r, rate in zip(ROUTES, lam, strict=True):
                for unit, v in tallies[r].visits.items():
                    visits[unit] = visits.get(unit, 0.0) + rate * v
                for unit, h in tallies[r].hours.items():
                    hours[unit] = hours.get(unit, 0.0) + rate * h
    return visits, hours


def _warning(s: Scenario, row: dict) -> str:
    load = row["load"]
    if not (isinstance(load, float) and load >= WARN_AT) or row["busy_places"] <= 0:
        return ""
    unit = row["unit"]
    spec = spec_of(unit)
    label = (unit_label(unit) or unit).split(" (")[0]
    noun = "places" if spec is None else spec.place.split(" ")[-1] + "s"
    if in_group(unit, "ed"):
        label = "ED"
        noun = "clinicians" if spec is not None and not spec.location else noun
    elif is_ward(unit):
        label = f"The {ward_name(unit)} wards".replace("_", " ")
    pct = "every one" if math.isinf(load) else f"{100 * load:.0f}%"
    verb, its, it = ("are", "their", "them") if is_ward(unit) else ("is", "its", "it")
    head = f"{label} {verb} offered {pct} of {its} {noun}"
    diverted = _diverted_to(s, unit)
    if diverted is not None:
        return (
            f"{head}: about {100 * row['turned_away_share']:.0f}% of those it could take will "
            f"find it full and {diverted} instead."
        )
    grows = "will grow without limit" if load >= 1.0 else "will be long and unstable"
    if spec is not None and spec.discharge_pathway:
        tail = "and the beds it holds will block the hospital"
    elif is_ward(unit):
        tail = "and patients will wait for their beds in AMU and ED"
    elif in_group(unit, "acute"):
        tail = "and admitted patients will board in ED"
    elif unit == "ed_cubicle":
        tail = "and ambulances will queue outside"
    else:
        tail = "and patients will wait for it in ED"
    return f"{head}: the queue for {it} {grows}, {tail}."


def load_warnings(scenario: Scenario) -> list[str]:
    """The plain-words warnings of `offered_load` (empty when every unit is below `WARN_AT`)."""
    return offered_load(scenario).warnings


def offered_load_lines(result: OfferedLoad) -> list[str]:
    """The table and warnings as plain text lines (for YAML comments, logs and the report)."""
    lines = [f"{'unit':34s} {'arrivals/day':>12s} {'busy':>8s} {'places':>7s} {'load':>6s}"]
    for row in result.table.to_dict("records"):
        if row["places"] <= 0 and row["busy_places"] <= 0:
            continue
        load = row["load"]
        lines.append(
            f"{row['label'][:34]:34s} {row['arrivals_per_day']:12.1f} "
            f"{row['offered_places']:8.1f} {row['places']:7.0f} {100 * load:5.0f}%"
        )
    return lines + [f"! {w}" for w in result.warnings]
