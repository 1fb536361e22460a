"""Fit a scenario to an extract: demand, dispositions, lengths of stay, pathways, a census.

Pure computation on a checked extract (`flowsim.analysis.extract.read_extract`) and the base
scenario it calibrates: every estimate comes back with a note saying how it was made and from how
many records, so the written scenario explains itself to the analyst who has to defend it.

Estimators, and why:

- **Demand profile.** Hour of day: the share of arrivals in each hour x 24. Weekday: arrivals
  on each weekday / the number of such days in the extract, scaled to mean 1. Month: the same by
  month, only when the extract spans a year (a shorter one would confuse season with trend), else
  the base's profile is kept.
- **Arrival rates** per person-year by place, age band, frailty band and route: first attendances
  (readmissions excluded, since the model adds its own) / (residents x years observed), with the
  base's month profile over the extract's dates, the place's demand multiplier and growth divided
  out so that the model's rate times its multipliers reproduces the count.
- **Dispositions and pathway splits**: observed shares (maximum likelihood for a multinomial).
- **Lengths of stay** (ward start to medically optimised) and **community durations**: lognormal,
  gamma and exponential fitted by maximum likelihood with stays still open when the extract was
  taken treated as right-censored (dropping them would bias stays short), the lowest AIC chosen.
  Goodness of fit: a QQ plot and the Kolmogorov-Smirnov statistic on the completed stays.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from flowsim.analysis.extract import ExtractError, extract_end
from flowsim.scenario import Scenario
from flowsim.scenario.schema import DISPOSITIONS, FRAILTY_BANDS, PATHWAYS, ROUTES
from flowsim.scenario.units import (
    ACUTE_UNITS,
    DISCHARGE_PATHWAY_UNITS,
    capacity_of,
    put_warm_start,
    spec_of,
    ward_unit,
)

__all__ = [
    "MIN_STAYS",
    "DistFit",
    "Fit",
    "census",
    "fit_distribution",
    "fit_extract",
]

MIN_STAYS = 20
"""Fewest completed stays to fit a distribution from; with fewer the base's is kept."""
MIN_ATTENDANCES = 30
"""Fewest attendances in a frailty band to estimate its dispositions; with fewer, the base's."""
HOURS_PER_YEAR = 24 * 365.25
PATHWAY_SETTLE_DAYS = 28
"""Pathway splits use patients medically optimised at least this long before the extract ends."""


@dataclass
class DistFit:
    """One fitted duration: the data, each candidate's AIC and the chosen distribution."""

    key: str
    unit: str
    observed: np.ndarray
    censored: np.ndarray
    spec: dict[str, Any]
    aic: dict[str, float]
    ks: float
    ks_p: float
    frozen: Any = field(repr=False, default=None)

    @property
    def n(self) -> int:
        return len(self.observed) + len(self.censored)

    @property
    def note(self) -> str:
        others = ", ".join(f"{k} {v:.0f}" for k, v in self.aic.items() if k != self.spec["dist"])
        return (
            f"{self.spec['dist']} by AIC ({self.aic[self.spec['dist']]:.0f}; {others}) from "
            f"{len(self.observed)} stays + {len(self.censored)} still open; KS {self.ks:.3f}"
        )


@dataclass
class Fit:
    """A fitted scenario: the settings to put over the base and a note for each."""

    body: dict[str, Any]
    notes: dict[str, str]
    dists: list[DistFit]
    start: pd.Timestamp
    end: pd.Timestamp
    attendances: int
    warnings: list[str] = field(default_factory=list)

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400.0


def _sig(x: float, digits: int = 4) -> float:
    return float(f"{x:.{digits}g}") if x else 0.0


def _shares(counts: pd.Series, keys: Iterable[str]) -> dict[str, float]:
    """Shares rounded to 4 decimals, the rounding error put on the largest so they sum to 1."""
    keys = list(keys)
    total = float(counts.sum())
    shares = {k: round(float(counts.get(k, 0)) / total, 4) for k in keys}
    top = max(shares, key=lambda k: shares[k])
    shares[top] = round(1.0 - sum(v for k, v in shares.items() if k != top), 4)
    return shares


# ---------------------------------------------------------------- distributions


def fit_distribution(
    observed: np.ndarray, censored: np.ndarray, key: str = "", unit: str = "days"
) -> DistFit:
    """Lognormal, gamma and exponential by censored maximum likelihood; the lowest AIC wins."""
    observed = np.clip(np.asarray(observed, dtype=float), 1e-6, None)
    censored = np.clip(np.asarray(censored, dtype=float), 1e-6, None)
    data = stats.CensoredData(uncensored=observed, right=censored)
    results: dict[str, tuple[float, Any, dict[str, Any]]] = {}
    for name, dist, k in (
        ("lognormal", stats.lognorm, 2),
        ("gamma", stats.gamma, 2),
        ("exponential", stats.expon, 1),
    ):
        try:
            params = dist.fit(data, floc=0)
        except Exception:
            continue
        frozen = dist(*params)
        ll = float(frozen.logpdf(observed).sum() + frozen.logsf(censored).sum())
        if not math.isfinite(ll):
            continue
        if name == "lognormal":
            spec = {"dist": "lognormal", "median": _sig(params[2]), "sigma": _sig(params[0])}
        elif name == "gamma":
            shape, scale = params[0], params[2]
            spec = {"dist": "gamma", "mean": _sig(shape * scale), "cv": _sig(1 / math.sqrt(shape))}
        else:
            spec = {"dist": "exponential", "mean": _sig(params[1])}
        results[name] = (2 * k - 2 * ll, frozen, spec)
    best = min(results, key=lambda n: results[n][0])
    _, frozen, spec = results[best]
    ks = stats.kstest(observed, frozen.cdf) if len(observed) else None
    return DistFit(
        key=key,
        unit=unit,
        observed=observed,
        censored=censored,
        spec=spec,
        aic={n: r[0] for n, r in results.items()},
        ks=float(ks.statistic) if ks else math.nan,
        ks_p=float(ks.pvalue) if ks else math.nan,
        frozen=frozen,
    )


def _durations(
    start: pd.Series, end: pd.Series, still_open: pd.Series, taken: pd.Timestamp
) -> tuple[np.ndarray, np.ndarray]:
    """Completed durations (days) and, for stays open when the extract was taken, time so far."""
    done = start.notna() & end.notna()
    obs = ((end[done] - start[done]).dt.total_seconds() / 86400.0).to_numpy()
    cens_mask = start.notna() & end.isna() & still_open
    cens = ((taken - start[cens_mask]).dt.total_seconds() / 86400.0).to_numpy()
    return obs, cens


# ---------------------------------------------------------------- the fit


def fit_extract(df: pd.DataFrame, base: Scenario, source: str = "extract") -> Fit:
    """Estimate a scenario's demand, dispositions, stays and pathways from a checked extract.

    ``base`` supplies what an extract cannot: resident counts (rates are per person-year of the
    base's population), capacities, and any setting with too few records to estimate.
    """
    taken = extract_end(df)
    start = df["arrival_time"].min().floor("D")
    end = df["arrival_time"].max()
    days = (end - start).total_seconds() / 86400.0
    if days < 7:
        raise ExtractError(
            source,
            "column 'arrival_time'",
            f"the arrivals span {days:.1f} days; a fit needs at least a week (better a year)",
        )
    body: dict[str, Any] = {}
    notes: dict[str, str] = {}
    warnings: list[str] = []
    first = df[~df["readmission"]]

    # demand profile
    arrivals = first["arrival_time"]
    hours = arrivals.dt.hour.value_counts().reindex(range(24), fill_value=0)
    hourly = [_sig(24 * h / hours.sum(), 3) for h in hours]
    dates = pd.date_range(start, end.floor("D"), freq="D")
    per_weekday = pd.Series(dates.day_of_week).value_counts().reindex(range(7), fill_value=0)
    wd_counts = arrivals.dt.day_of_week.value_counts().reindex(range(7), fill_value=0)
    wd_rate = wd_counts / per_weekday.clip(lower=1)
    weekday = [_sig(x, 3) for x in wd_rate / wd_rate.mean()]
    profile: dict[str, Any] = {"hourly": hourly, "weekday": weekday}
    n = len(first)
    notes["demand_profile.hourly"] = f"share of {n} first attendances by hour x 24"
    notes["demand_profile.weekday"] = (
        f"attendances per weekday / weekdays in {len(dates)} days, mean 1 (n={n})"
    )
    base_monthly = np.asarray(base.demand_profile.monthly, dtype=float)
    base_monthly = base_monthly / base_monthly.mean()
    if days >= 365:
        per_month = pd.Series(dates.month).value_counts().reindex(range(1, 13), fill_value=0)
        m_rate = arrivals.dt.month.value_counts().reindex(range(1, 13), fill_value=0) / per_month
        monthly = [_sig(x, 3) for x in m_rate / m_rate.mean()]
        profile["monthly"] = monthly
        notes["demand_profile.monthly"] = (
            f"attendances per day in each month, mean 1 (n={n}, {days:.0f} days)"
        )
        month_factor = 1.0
    else:
        month_factor = float(base_monthly[dates.month - 1].mean())
        warnings.append(
            f"the extract spans {days:.0f} days, under a year: the base's month profile is kept"
        )
    body["demand_profile"] = profile

    # arrival rates per person-year
    years = days / 365.25
    counts = first.groupby(["place", "age_band", "frailty", "arrival_mode"]).size()
    known = {p.name for p in base.population.places}
    unknown = sorted(set(first["place"]) - known)
    if unknown:
        row = int(np.flatnonzero(df["place"].isin(unknown).to_numpy())[0])
        raise ExtractError(
            source,
            f"column 'place', line {row + 2}",
            f"{unknown[0]!r} is not a place of the base scenario ({', '.join(sorted(known))}); "
            "rename it in the extract or add it to the base",
        )
    places = []
    growth = base.demand_profile.growth
    for place in base.population.places:
        segments = []
        for seg in place.segments:
            new = seg.model_dump()
            exposure = seg.people * years * place.demand_multiplier * growth * month_factor
            parts = []
            for route in ROUTES:
                k = int(counts.get((place.name, seg.age_band, seg.frailty, route), 0))
                if exposure > 0:
                    new[f"{route}_per_person_year"] = _sig(k / exposure)
                parts.append(f"{route} {k}")
            segments.append(new)
            notes[f"population.{place.name}.{seg.age_band}.{seg.frailty}"] = (
                f"attendances ({', '.join(parts)}) / {seg.people} people / {years:.3f} years"
            )
        places.append({**place.model_dump(exclude={"segments"}), "segments": segments})
    body["population"] = {"places": places}

    # dispositions by frailty band (ED attendances only)
    ed = df[df["ed_departure_time"].notna()]
    disposition: dict[str, Any] = {}
    for band in FRAILTY_BANDS:
        sub = ed[ed["frailty"] == band]
        if len(sub) < MIN_ATTENDANCES:
            warnings.append(f"ed.disposition.{band}: {len(sub)} attendances; the base's kept")
            continue
        disposition[band] = _shares(sub["disposition"].value_counts(), DISPOSITIONS)
        notes[f"ed.disposition.{band}"] = f"observed shares of {len(sub)} ED attendances"
    if disposition:
        body["ed"] = {"disposition": disposition}

    # lengths of stay by ward group and band: ward start to medically optimised
    dists: list[DistFit] = []
    wards: dict[str, Any] = {}
    still_in = df["discharge_time"].isna()
    for name in base.wards:
        for band in FRAILTY_BANDS:
            sub = df[(df["ward_group"] == name) & (df["frailty"] == band)]
            sub = sub[sub["optimised_time"].notna() | still_in[sub.index]]
            obs, cens = _durations(
                sub["ward_start_time"], sub["optimised_time"], still_in[sub.index], taken
            )
            key = f"wards.{name}.los_days.{band}"
            if len(obs) < MIN_STAYS:
                warnings.append(f"{key}: {len(obs)} completed stays; the base's kept")
                continue
            fitted = fit_distribution(obs, cens, key)
            dists.append(fitted)
            wards.setdefault(name, {"los_days": {}})["los_days"][band] = fitted.spec
            notes[key] = fitted.note
    if wards:
        body["wards"] = wards

    # discharge pathway split by band (ward discharges once medically optimised)
    # Only patients optimised PATHWAY_SETTLE_DAYS before the extract ends: those still waiting
    # for P1-P3 capacity have no pathway yet, and dropping them would overstate P0.
    settled = df["optimised_time"] <= taken - pd.Timedelta(days=PATHWAY_SETTLE_DAYS)
    optimised = df[settled & df["discharge_pathway"].isin(PATHWAYS)]
    pathway: dict[str, Any] = {}
    for band in FRAILTY_BANDS:
        sub = optimised[optimised["frailty"] == band]
        if len(sub) < MIN_STAYS:
            warnings.append(f"discharge.pathway.{band}: {len(sub)} discharges; the base's kept")
            continue
        pathway[band] = _shares(sub["discharge_pathway"].value_counts(), PATHWAYS)
        notes[f"discharge.pathway.{band}"] = (
            f"observed shares of {len(sub)} ward discharges optimised "
            f">= {PATHWAY_SETTLE_DAYS} days before the extract ends"
        )
    if pathway:
        body["discharge"] = {"pathway": pathway}

    # community durations
    community: dict[str, Any] = {}
    for path in ("P1", "P2", "P3"):
        sub = df[df["discharge_pathway"] == path]
        open_ = sub["community_end_time"].isna()
        obs, cens = _durations(sub["community_start_time"], sub["community_end_time"], open_, taken)
        key = f"community.{path.lower()}.duration_days"
        if len(obs) < MIN_STAYS:
            warnings.append(f"{key}: {len(obs)} completed services; the base's kept")
            continue
        fitted = fit_distribution(obs, cens, key)
        dists.append(fitted)
        community[path.lower()] = {"duration_days": fitted.spec}
        notes[key] = fitted.note
    if community:
        body["community"] = community
    return Fit(body, notes, dists, start, end, len(df), warnings)


# ---------------------------------------------------------------- census


def census(
    df: pd.DataFrame, at: pd.Timestamp, base: Scenario
) -> tuple[dict[str, Any], dict[str, int], list[str]]:
    """A ``warm_start`` section from the extract's patients in hospital and community at ``at``:
    per unit the number present and how long each had been there (empirical ``elapsed_days``).

    AMU and AFU stays are inferred: from leaving ED (disposition amu/afu) to the ward stay or
    discharge. A unit over its base capacity keeps the longest-staying patients up to capacity,
    since a warm start opens no escalation beds; each cap is noted. Patients who arrived before
    the extract began are missing, so take the census well after its start.
    """
    at = pd.Timestamp(at)
    units: dict[str, pd.Series] = {}
    # An empty end means still there when the extract was taken: "not ended by at".
    ward_end = df["discharge_time"]
    for name in base.wards:
        sub = df["ward_group"] == name
        inside = sub & (df["ward_start_time"] <= at) & ~(ward_end <= at)
        units[ward_unit(name)] = df.loc[inside, "ward_start_time"]
    acute_end = df["ward_start_time"].fillna(df["discharge_time"])
    for unit in ACUTE_UNITS:
        sub = df["disposition"] == unit
        inside = sub & (df["ed_departure_time"] <= at) & ~(acute_end <= at)
        units[unit] = df.loc[inside, "ed_departure_time"]
    c_end = df["community_end_time"]
    for unit in DISCHARGE_PATHWAY_UNITS:
        sub = df["discharge_pathway"] == spec_of(unit).discharge_pathway  # type: ignore[union-attr]
        inside = sub & (df["community_start_time"] <= at) & ~(c_end <= at)
        units[unit] = df.loc[inside, "community_start_time"]
    caps = {unit: capacity_of(base, unit) for unit in units}
    section: dict[str, Any] = {}
    occupied: dict[str, int] = {}
    notes: list[str] = []
    for unit, started in units.items():
        elapsed = np.sort(((at - started).dt.total_seconds() / 86400.0).to_numpy())[::-1]
        if len(elapsed) > caps[unit]:
            notes.append(f"{unit}: {len(elapsed)} present, {caps[unit]} kept (base capacity)")
            elapsed = elapsed[: caps[unit]]
        if not len(elapsed):
            continue
        entry = {
            "occupied": len(elapsed),
            "elapsed_days": {"dist": "empirical", "values": [round(float(x), 3) for x in elapsed]},
        }
        occupied[unit] = len(elapsed)
        put_warm_start(section, unit, entry)
    start = df["arrival_time"].min()
    if (at - start).days < 60:
        notes.append(
            f"the census is {(at - start).days} days after the extract's first arrival: patients "
            "admitted before the extract began are missing, so occupancy is understated"
        )
    return section, occupied, notes


# ---------------------------------------------------------------- writing


def _flow(value: Any) -> str:
    """A value in YAML flow style on one line (so a comment can sit beside it)."""
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10_000)
    return text.strip().removesuffix("...").strip()


def fit_yaml(fit: Fit, extends: str, name: str, header: str = "") -> str:
    """The fitted scenario as YAML text extending ``extends``, each estimate commented with how
    it was made and the sample size (`Fit.notes`)."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines += [f"extends: {_flow(extends)}", f"name: {_flow(name)}"]

    def note(path: str) -> str:
        return f"  # {fit.notes[path]}" if path in fit.notes else ""

    body = fit.body
    lines.append("demand_profile:")
    for key, value in body["demand_profile"].items():
        lines.append(f"  {key}: {_flow(value)}{note(f'demand_profile.{key}')}")
    lines += ["population:", "  places:"]
    for place in body["population"]["places"]:
        lines.append(f"    - name: {_flow(place['name'])}")
        for key, value in place.items():
            if key not in ("name", "segments"):
                lines.append(f"      {key}: {_flow(value)}")
        lines.append("      segments:")
        for seg in place["segments"]:
            path = f"population.{place['name']}.{seg['age_band']}.{seg['frailty']}"
            lines.append(f"        - {_flow(seg)}{note(path)}")
    if "ed" in body:
        lines += ["ed:", "  disposition:"]
        for band, shares in body["ed"]["disposition"].items():
            lines.append(f"    {band}: {_flow(shares)}{note(f'ed.disposition.{band}')}")
    if "wards" in body:
        lines.append("wards:")
        for ward, spec in body["wards"].items():
            lines += [f"  {ward}:", "    los_days:"]
            for band, dist in spec["los_days"].items():
                lines.append(f"      {band}: {_flow(dist)}{note(f'wards.{ward}.los_days.{band}')}")
    if "discharge" in body:
        lines += ["discharge:", "  pathway:"]
        for band, shares in body["discharge"]["pathway"].items():
            lines.append(f"    {band}: {_flow(shares)}{note(f'discharge.pathway.{band}')}")
    if "community" in body:
        lines.append("community:")
        for unit, spec in body["community"].items():
            path = f"community.{unit}.duration_days"
            lines += [
                f"  {unit}:",
                f"    duration_days: {_flow(spec['duration_days'])}{note(path)}",
            ]
    if "warm_start" in body:
        lines.append("run: {warm_up_days: 14}  # warm start from the census: a short warm-up")
        lines.append(f"warm_start:  # {fit.notes.get('warm_start', 'census from the extract')}")
        for key, value in body["warm_start"].items():
            if key == "wards":
                lines.append("  wards:")
                for ward, entry in value.items():
                    lines.append(f"    {ward}: {_flow(entry)}")
            else:
                lines.append(f"  {key}: {_flow(value)}")
    return "\n".join(lines) + "\n"
