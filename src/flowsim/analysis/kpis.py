"""Key performance indicators of one replication, and their summary across replications.

`compute_kpis` returns a tidy table ``kpi, unit, value``: ``kpi`` is a snake_case
name, ``unit`` its unit of measurement. Services are part of the name
(``occupancy_mean_amu``, ``los_mean_ward_care_of_elderly``, with ``ward:x``
written ``ward_x``). The order of the rows is stable; per-service rows follow the
pathway order of `unit_order` and appear for every unit the log knows, with NaN
where there is nothing to measure.

Measurement period: ``[warm_up, end)`` where ``warm_up = log.warm_up_hours`` and
``end = log.end_hours``; "per day" divides by its length in days.

- **ED** KPIs count attendances (``QUEUE`` at ``ed_cubicle``) arriving in the
  period; a patient still in ED (or still waiting for handover) at the end counts
  with the time so far, ``end - arrival``.
- **Length of stay** counts discharges: hospital spells (and unit stays) that
  ended in the period, each with its whole length, however long before the period
  it began (`discharged_spells`, `finished_stays`): in the warm-up, or before time 0
  for a patient a warm start placed in a bed (the log's ``meta["warm_start"]`` says
  how long each had already been there, `flowsim.model.warm_start`). As NHS
  statistics count a stay at discharge, and in a steady state the mean over
  discharges is the mean stay of admissions, whatever the length of the period.
  What remains: a period that begins from empty without a warm-up misses the long
  stays that would have been in the beds; stays still running at the end are not
  counted (they are counted when they end, in a later period); and a warm-start ward
  patient's AMU/AFU time before the ward is their drawn stay, not the census's.
- **Occupancy** is time-weighted over ``[warm_up, end]``: mean % is place-hours
  held / place-hours in force (capacity including escalation beds and rota
  changes); p95 % is the time-weighted 95th percentile of held / in force,
  ignoring time with no capacity in force.

What each KPI means (name, unit, definition, which patients or time of the window it
counts) is tabulated once, in `flowsim.analysis.kpi_definitions.KPI_DEFINITIONS`, from which
``docs/kpis.md`` is generated (``flowsim kpis --markdown``); a test checks every KPI returned
here has its entry there, in the same unit.

Readmissions: the denominator is patients whose last spell ended alive in
``[warm_up, end - window)``, where the window is ``log.meta["readmission_within_days"]``
(default 30) so every index discharge has had its whole window observed; the
numerator is those with a patient whose ``readmission_of`` names them and who
arrived within the window. A readmission is a re-arrival: it counts whether or
not that arrival is admitted again.

Admissions avoided are counted when the patient leaves the system (DEPART in the
period). A virtual-ward patient who comes back as a new arrival naming them in
``readmission_of`` (the model's "admitted after all") and is then admitted does
not count as avoided; a re-presentation after the end of the run cannot be seen.
The three overlap (a UCR patient stepped up to the virtual ward counts
for UCR and for the virtual ward) and must not be added up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import stats

from flowsim.analysis.costs import UNITS as COST_UNITS
from flowsim.analysis.costs import cost_kpis
from flowsim.analysis.eventframe import EventFrame, ratio_quantile
from flowsim.analysis.pressure_kpis import UNITS as PRESSURE_UNITS
from flowsim.analysis.pressure_kpis import pressure_kpis
from flowsim.log import EventLog
from flowsim.scenario.costs import Costs
from flowsim.scenario.schema import FRAILTY_BANDS
from flowsim.scenario.units import COMMUNITY_UNITS

PCT, PER_DAY, HOURS, MINUTES, DAYS = "%", "per day", "hours", "minutes", "days"
GENERAL_ACUTE = "general_acute"
"""Pseudo-unit: AMU, AFU and all ward groups together (general and acute beds)."""

UNITS: dict[str, str] = {
    "ed_attendances": PER_DAY,
    "ed_within_4h": PCT,
    "ed_over_12h": PER_DAY,
    "ed_over_12h_share": PCT,
    "ed_time_mean": HOURS,
    "ed_time_median": HOURS,
    "ed_time_p95": HOURS,
    "handover_mean": MINUTES,
    "handover_over_30min_share": PCT,
    "handover_over_60min_share": PCT,
    "ambulance_hours_lost": "hours per day",
    "ed_boarding_mean": HOURS,
    "ed_boarding_over_12h": PER_DAY,
    "ed_boarding_over_12h_share": PCT,
    "admissions": PER_DAY,
    "ed_conversion": PCT,
    "ed_left_before_seen_share": PCT,
    "los_mean": DAYS,
    "los_median": DAYS,
    "los_mean_frailty_": DAYS,
    "los_mean_": DAYS,
    "occupancy_mean_": PCT,
    "occupancy_p95_": PCT,
    "delayed_patients_mean": "patients",
    "delayed_share_of_ward_beds": PCT,
    "delayed_days_mean": DAYS,
    "community_wait_mean_": DAYS,
    "readmission_rate": PCT,
    "admissions_avoided_ucr": PER_DAY,
    "admissions_avoided_sdec": PER_DAY,
    "admissions_avoided_virtual_ward": PER_DAY,
    "deaths_in_hospital": PER_DAY,
    **PRESSURE_UNITS,
    **COST_UNITS,
}
"""Unit of measurement of each KPI; keys ending in ``_`` are prefixes of per-service KPIs."""

PRIMARY_KPIS: tuple[str, ...] = (
    "ed_within_4h",
    "ed_over_12h_share",
    "handover_mean",
    "admissions",
    "los_mean",
    "occupancy_mean_general_acute",
    "delayed_share_of_ward_beds",
)
"""The headline KPIs, in the order a summary table shows them."""

READMISSION_WINDOW_DAYS = 30.0


def kpi_unit(kpi: str) -> str:
    """Unit of measurement of a KPI name (per-service names resolved by prefix)."""
    if kpi in UNITS:
        return UNITS[kpi]
    prefixes = sorted((k for k in UNITS if k.endswith("_")), key=len, reverse=True)
    for prefix in prefixes:
        if kpi.startswith(prefix):
            return UNITS[prefix]
    raise KeyError(f"unknown KPI {kpi!r}")


def slug(unit: str) -> str:
    """A unit as written in KPI names: ``ward:care_of_elderly`` -> ``ward_care_of_elderly``."""
    out = "".join(ch if ch.isalnum() else "_" for ch in unit.lower())
    return "_".join(part for part in out.split("_") if part)


def _frame(log: EventLog | EventFrame) -> EventFrame:
    return log if isinstance(log, EventFrame) else EventFrame(log)


def _pct(mask: np.ndarray) -> float:
    return 100.0 * float(np.mean(mask)) if len(mask) else math.nan


def _mean(x: np.ndarray) -> float:
    return float(np.mean(x)) if len(x) else math.nan


def _quantile(x: np.ndarray, q: float) -> float:
    return float(np.quantile(x, q)) if len(x) else math.nan


class _Rows:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, float]] = []

    def add(self, kpi: str, value: float) -> None:
        self.rows.append((kpi, kpi_unit(kpi), float(value)))


def compute_kpis(log: EventLog | EventFrame, costs: Costs | None = None) -> pd.DataFrame:
    """The KPIs of one replication as a tidy table ``kpi, unit, value`` (see the module table).

    Accepts an `EventFrame` too, so a caller that also wants figures decodes the log once.
    The caller adds the ``replication`` column. Cost KPIs (`flowsim.analysis.costs`) come last,
    at ``costs`` (a scenario's ``costs`` section; None: the prices the log's scenario carried in
    ``log.meta["costs"]``, else the cited default unit costs).
    """
    ef = _frame(log)
    if not ef.end > ef.warm_up:
        raise ValueError(
            f"nothing to measure: log.end_hours ({ef.end:g}) must be after "
            f"log.warm_up_hours ({ef.warm_up:g})"
        )
    out = _Rows()
    _ed_kpis(ef, out)
    _hospital_kpis(ef, out)
    _occupancy_kpis(ef, out)
    _discharge_kpis(ef, out)
    _community_kpis(ef, out)
    pressure_kpis(ef.log, out.add)  # only for a run with a pressure section
    found = {kpi: value for kpi, _, value in out.rows}
    if costs is None:
        priced = ef.log.meta.get("costs")
        costs = Costs() if priced is None else Costs.model_validate(priced)
    for kpi, value in cost_kpis(ef, found, costs):
        out.add(kpi, value)
    return pd.DataFrame(out.rows, columns=["kpi", "unit", "value"])


def _ed_kpis(ef: EventFrame, out: _Rows) -> None:
    w, e, days = ef.warm_up, ef.end, ef.days
    v = ef.ed_visits
    v = v[(v["arrival"] >= w) & (v["arrival"] < e)]
    tin = v["time_in_ed"].to_numpy()
    out.add("ed_attendances", len(v) / days)
    out.add("ed_within_4h", _pct(tin <= 4.0))
    out.add("ed_over_12h", np.count_nonzero(tin > 12.0) / days)
    out.add("ed_over_12h_share", _pct(tin > 12.0))
    out.add("ed_time_mean", _mean(tin))
    out.add("ed_time_median", _quantile(tin, 0.5))
    out.add("ed_time_p95", _quantile(tin, 0.95))

    wait = v.loc[v["ambulance"], "handover_wait"].dropna().to_numpy() * 60.0
    out.add("handover_mean", _mean(wait))
    out.add("handover_over_30min_share", _pct(wait > 30.0))
    out.add("handover_over_60min_share", _pct(wait > 60.0))
    out.add("ambulance_hours_lost", np.clip(wait - 15.0, 0.0, None).sum() / 60.0 / days)

    board = v["boarding"].dropna().to_numpy()
    out.add("ed_boarding_mean", _mean(board))
    out.add("ed_boarding_over_12h", np.count_nonzero(board > 12.0) / days)
    out.add("ed_boarding_over_12h_share", _pct(board > 12.0))

    sp = ef.spells
    started = sp[(sp["start"] >= w) & (sp["start"] < e)]
    out.add("admissions", len(started) / days)
    out.add("ed_conversion", _pct(v["admitted"].to_numpy()))
    out.add("ed_left_before_seen_share", left_before_seen_share(ef))


def left_before_seen_share(ef: EventFrame) -> float:
    """% of attendances arriving in the period whose patient left before being seen.

    A leaver's visit is their last (DEPART ends it), so patients and attendances pair up."""
    w, e = ef.warm_up, ef.end
    v = ef.ed_visits
    v = v[(v["arrival"] >= w) & (v["arrival"] < e)]
    pts = ef.patients
    left = pts.loc[pts["outcome"] == "left_before_seen", "patient"].to_numpy()
    return _pct(np.isin(v["patient"].to_numpy(), left))


def _placed(ef: EventFrame) -> pd.DataFrame:
    """The log's ``meta["warm_start"]`` as a table ``patient, unit, elapsed_hours,
    spell_elapsed_hours``: who a warm start placed at time 0 and how long they had already
    been in their unit and in hospital (empty for a run that started empty)."""
    placed = ef.log.meta.get("warm_start") or {}
    columns = ["patient", "unit", "elapsed_hours", "spell_elapsed_hours"]
    return pd.DataFrame({c: list(placed.get(c, ())) for c in columns}, columns=columns)


def _first_rows(table: pd.DataFrame, placed: pd.DataFrame) -> pd.DataFrame:
    """``table``'s first row of each placed patient, joined to their `_placed` row."""
    first = table[~table["patient"].duplicated()]
    first = first[first["patient"].isin(placed["patient"])]
    return first.reset_index().merge(placed, on="patient", suffixes=("", "_census"))


def discharged_spells(ef: EventFrame) -> pd.DataFrame:
    """Hospital spells that ended in the measured period ``[warm_up, end]`` (the discharges
    behind ``los_mean``), ``los_days`` their whole length: a spell begun in the warm-up counts
    from its start, and a warm-start patient's first spell from when their stay began before
    time 0 (``spell_elapsed_hours`` of the log's ``meta["warm_start"]``; a patient placed
    beyond the beds, waiting for one at time 0, is in hospital from time 0 all the same)."""
    w, e = ef.warm_up, ef.end
    sp = ef.spells.copy()
    placed = _placed(ef)
    if not placed.empty:
        first = _first_rows(sp, placed).set_index("index")
        begun = first["start"].clip(upper=0.0) - first["spell_elapsed_hours"]
        sp.loc[first.index, "los_days"] = (first["end"] - begun) / 24.0
    return sp[~sp["censored"] & (sp["end"] >= w) & (sp["end"] <= e)]


def finished_stays(ef: EventFrame) -> pd.DataFrame:
    """`EventFrame.stays` that ended in the measured period, with ``days``: the whole stay in
    the unit, a warm-start patient's census stay from before time 0 (``elapsed_hours``; from
    time 0 when they waited for the bed)."""
    w, e = ef.warm_up, ef.end
    st = ef.stays.copy()
    st["days"] = (st["end"] - st["start"]) / 24.0
    placed = _placed(ef)
    if not placed.empty:
        first = _first_rows(st, placed)
        first = first[first["unit"].astype(str) == first["unit_census"]].set_index("index")
        begun = first["start"].clip(upper=0.0) - first["elapsed_hours"]
        st.loc[first.index, "days"] = (first["end"] - begun) / 24.0
    return st[~st["censored"] & (st["end"] >= w) & (st["end"] <= e)]


def _hospital_kpis(ef: EventFrame, out: _Rows) -> None:
    done = discharged_spells(ef)
    los = done["los_days"].to_numpy()
    out.add("los_mean", _mean(los))
    out.add("los_median", _quantile(los, 0.5))
    by_band = done.groupby("frailty", observed=False)["los_days"].mean()
    for band in FRAILTY_BANDS:
        out.add(f"los_mean_frailty_{band}", by_band.get(band, math.nan))

    st = finished_stays(ef)
    by_unit = st["days"].groupby(st["unit"], observed=True).mean()
    for unit in ef.inpatient_units:
        out.add(f"los_mean_{slug(unit)}", by_unit.get(unit, math.nan))


def _occupancy(ef: EventFrame, units: str | list[str]) -> tuple[float, float]:
    w, e = ef.warm_up, ef.end
    occ, cap = ef.occupancy_steps(units), ef.capacity_steps(units)
    in_force = cap.area(w, e)
    mean = 100.0 * occ.area(w, e) / in_force if in_force > 0 else math.nan
    return mean, 100.0 * ratio_quantile(occ, cap, w, e, 0.95)


def _occupancy_kpis(ef: EventFrame, out: _Rows) -> None:
    p95s = []
    for unit in ef.units:
        if unit not in ef.log.capacities:
            continue
        mean, p95 = _occupancy(ef, unit)
        out.add(f"occupancy_mean_{slug(unit)}", mean)
        p95s.append((f"occupancy_p95_{slug(unit)}", p95))
    for kpi, value in p95s:
        out.add(kpi, value)
    mean, p95 = _occupancy(ef, ef.inpatient_units)
    out.add("occupancy_mean_general_acute", mean)
    out.add("occupancy_p95_general_acute", p95)


def _discharge_kpis(ef: EventFrame, out: _Rows) -> None:
    w, e = ef.warm_up, ef.end
    d = ef.delays
    start, end = d["start"].to_numpy(), d["end"].fillna(e).to_numpy()
    held = np.clip(end, w, e) - np.clip(start, w, e)
    delayed = held.sum() / (e - w) if e > w else math.nan
    ward_beds = ef.capacity_steps(ef.wards).mean(w, e) if ef.wards else math.nan
    out.add("delayed_patients_mean", delayed)
    share = 100.0 * delayed / ward_beds if ward_beds > 0 else math.nan
    out.add("delayed_share_of_ward_beds", share)
    done = (start >= w) & ~d["censored"].to_numpy() & (end <= e)
    out.add("delayed_days_mean", _mean((end - start)[done] / 24.0))


def _community_kpis(ef: EventFrame, out: _Rows) -> None:
    w, e, days = ef.warm_up, ef.end, ef.days
    cw = ef.community_waits
    cw = cw[(cw["queue"] >= w) & (cw["queue"] < e)]
    by_unit = (cw["wait_hours"] / 24.0).groupby(cw["unit"], observed=True).mean()
    for unit in COMMUNITY_UNITS:
        if unit in ef.units:
            out.add(f"community_wait_mean_{slug(unit)}", by_unit.get(unit, math.nan))

    out.add("readmission_rate", _readmission_rate(ef))

    pts = ef.patients
    ids = pts["patient"].to_numpy()
    departed = pts["depart"].between(w, e, inclusive="left").to_numpy()
    outcome = pts["outcome"].astype(object).to_numpy()
    st = ef.stays

    def had(unit: str) -> np.ndarray:
        return np.isin(ids, st.loc[st["unit"] == unit, "patient"].to_numpy())

    admitted = np.isin(ids, ef.spells["patient"].to_numpy())
    # Virtual-ward patients "admitted after all" come back as new arrivals naming them in
    # readmission_of; if that arrival is admitted, the admission was not avoided.
    again = pts.loc[admitted, "readmission_of"]
    admitted_later = np.isin(ids, again[again >= 0].to_numpy())
    at_ed = np.isin(ids, ef.ed_visits["patient"].to_numpy())
    ucr = ((outcome == "ucr_home") | ((outcome == "virtual_ward_home") & had("ucr"))) & ~at_ed
    ucr &= ~admitted & ~admitted_later
    out.add("admissions_avoided_ucr", np.count_nonzero(ucr & departed) / days)
    sdec = had("sdec") & ~admitted & (outcome != "died")
    out.add("admissions_avoided_sdec", np.count_nonzero(sdec & departed) / days)
    vw = had("virtual_ward") & ~admitted & ~admitted_later
    out.add("admissions_avoided_virtual_ward", np.count_nonzero(vw & departed) / days)

    deaths = ef.deaths_in_hospital["time"].to_numpy()
    out.add("deaths_in_hospital", np.count_nonzero((deaths >= w) & (deaths < e)) / days)


def _readmission_rate(ef: EventFrame) -> float:
    w, e = ef.warm_up, ef.end
    window = 24.0 * float(ef.log.meta.get("readmission_within_days", READMISSION_WINDOW_DAYS))
    sp = ef.spells
    index = sp[
        sp["last_of_patient"]
        & ~sp["censored"]
        & ~sp["died"]
        & (sp["end"] >= w)
        & (sp["end"] < e - window)
    ]
    if index.empty:
        return math.nan
    pts = ef.patients
    re = pts.loc[pts["readmission_of"] >= 0, ["readmission_of", "arrival"]]
    joined = re.merge(
        index[["patient", "end"]], left_on="readmission_of", right_on="patient", how="inner"
    )
    gap = joined["arrival"] - joined["end"]
    readmitted = joined.loc[(gap >= 0) & (gap <= window), "readmission_of"].nunique()
    return 100.0 * readmitted / len(index)


def kpi_values(log: EventLog | EventFrame, costs: Costs | None = None) -> dict[str, float]:
    """`compute_kpis` as a mapping of KPI to value: the ``measure`` of
    `flowsim.experiment.target` (top level, so worker processes can run it)."""
    table = compute_kpis(log, costs)
    return dict(zip(table["kpi"], table["value"].astype(float), strict=True))


# ---------------------------------------------------------------- across replications


def summarise(df: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Mean and Student-t confidence interval of each KPI across replications.

    ``df`` has columns ``kpi, unit, value`` (one row per replication; other columns such as
    ``replication`` are ignored). Returns ``kpi, unit, mean, ci_low, ci_high, n`` in the order
    KPIs first appear; ``n`` counts non-missing values, and with ``n < 2`` the bounds are NaN.
    """
    g = df.groupby(["kpi", "unit"], sort=False, observed=True)["value"]
    out = g.agg(mean="mean", sd="std", n="count").reset_index()
    n = out["n"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        tcrit = stats.t.ppf(0.5 + confidence / 2.0, np.where(n >= 2, n - 1, np.nan))
        half = tcrit * out["sd"].to_numpy() / np.sqrt(n)
    out["ci_low"] = out["mean"] - half
    out["ci_high"] = out["mean"] + half
    return out[["kpi", "unit", "mean", "ci_low", "ci_high", "n"]]


# ---------------------------------------------------------------- figures


def occupancy_series(
    log: EventLog | EventFrame,
    units: Iterable[str] | None = None,
    bin_hours: float = 24.0,
    include_warm_up: bool = False,
) -> pd.DataFrame:
    """Time-weighted mean occupancy, capacity and queue length per bin, for figures.

    ``units`` defaults to every unit with a capacity plus `GENERAL_ACUTE`. Returns a tidy table
    ``unit, start_hours, end_hours, [start_time], occupied, capacity, queue, occupancy_pct``
    (``start_time`` when ``log.meta["start_date"]`` is set); the last bin may be shorter.
    """
    ef = _frame(log)
    if units is None:
        units = [u for u in ef.units if u in ef.log.capacities] + [GENERAL_ACUTE]
    first = 0.0 if include_warm_up else ef.warm_up
    edges = np.arange(first, ef.end, bin_hours)
    edges = np.append(edges, ef.end) if len(edges) else np.array([first, ef.end])
    frames = []
    for unit in units:
        members = ef.inpatient_units if unit == GENERAL_ACUTE else [unit]
        occ = ef.occupancy_steps(members).bin_means(edges)
        cap = ef.capacity_steps(members).bin_means(edges)
        queue = ef.queue_steps(members).bin_means(edges)
        with np.errstate(invalid="ignore", divide="ignore"):
            pct = np.where(cap > 0, 100.0 * occ / cap, np.nan)
        frames.append(
            pd.DataFrame(
                {
                    "unit": unit,
                    "start_hours": edges[:-1],
                    "end_hours": edges[1:],
                    "occupied": occ,
                    "capacity": cap,
                    "queue": queue,
                    "occupancy_pct": pct,
                }
            )
        )
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if ef.start_date is not None and not out.empty:
        out.insert(3, "start_time", ef.start_date + pd.to_timedelta(out["start_hours"], unit="h"))
    return out
