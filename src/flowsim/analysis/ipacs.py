"""Agreement with IPACS on its own inputs: the Bristol P2 node and its 12 variants.

IPACS (Improving the flow of Patients between Acute, Community and Social care; BNSSG ICB,
University of Bath, University of Exeter; doi:10.5281/zenodo.7845908, commit eac2a71) models a
discharge-to-assess node as a pool of community beds fed by date-specific Poisson referrals, with
a census and a queue (acute delayed discharges) at day 0. Its archived stochastic output gives,
for each of 12 variants (capacity x length of stay x arrivals) and each day, the mean, and
quantiles across its runs, of the number in the queue (``niq``) and of occupancy (``occ``).

Here: reading that reference (`load_case`), the flowsim scenario of each variant in
``community_only`` mode (`variant_scenario`), flowsim's daily means from its event logs
(`daily_series`) and the day-by-day comparison (`compare_variant`, `in_band_share`). Running the
replications is the caller's (``flowsim ipacs-check``): analysis never imports the model.

Two facts about the reference decide how to read an agreement share:

- the "95% band" is the 2.5% and 97.5% quantiles of only 3 IPACS runs (``nruns <- 3`` in
  ``ipacs_main_script.R``), close to their minimum and maximum, so even an exact model's mean
  falls outside it on about a quarter of days (`MEAN_INSIDE_3_RUN_RANGE`);
- IPACS's day ``t`` is the interval (t, t+1]; flowsim's day bin ``t`` is [t, t+1), the same
  interval, so they are compared as they stand (IPACS's row 181 repeats row 180 and is left out).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd

from flowsim.analysis.kpis import occupancy_series
from flowsim.log import EventLog
from flowsim.scenario import Scenario, apply_changes

__all__ = [
    "CITATION",
    "COMPARED_FROM_DAY",
    "MEAN_INSIDE_3_RUN_RANGE",
    "REFERENCE_FILES",
    "UNLIMITED_BEDS",
    "IpacsCase",
    "Variant",
    "compare_variant",
    "daily_series",
    "in_band_share",
    "infinite_server_occupancy",
    "load_case",
    "summary_table",
    "variant_scenario",
    "variants",
]

CITATION = (
    "IPACS model (BNSSG ICB, University of Bath, University of Exeter), "
    "nhs-bnssg-analytics/ipacs-model commit eac2a71, doi:10.5281/zenodo.7845908"
)
REFERENCE_FILES = (
    "arrivals.csv",
    "capacity.csv",
    "los.csv",
    "initial_conditions.csv",
    "reference_outputs.csv",
)
MEAN_INSIDE_3_RUN_RANGE = 1.0 - 2.0 * 0.5**3
"""Chance that the median of a continuous distribution lies between the least and the greatest
of 3 independent draws (0.75): the best day-by-day share any model's mean can expect inside a
band made from 3 runs (somewhat less for IPACS's interpolated 2.5-97.5% quantiles)."""
UNLIMITED_BEDS = 1000
"""Capacity from which a variant is effectively unlimited (``S1Cap``: 2,000 beds, nobody
waits), so M_t/G/infinity theory applies."""
COMPARED_FROM_DAY = 31
"""Days compared: after day 30 (31-180)."""
_START_DATE = "2023-01-01"


@dataclass(frozen=True)
class Variant:
    """One of IPACS's 12 cases: capacity, length-of-stay and arrivals scenario names."""

    capacity: str
    los: str
    arrivals: str

    @property
    def name(self) -> str:
        """IPACS's node name, e.g. ``P2_B_BCap_Blos_BArr``."""
        return f"P2_B_{self.capacity}_{self.los}_{self.arrivals}"


@dataclass(frozen=True)
class IpacsCase:
    """IPACS's inputs and archived outputs for node P2_B (read by `load_case`)."""

    arrivals: dict[str, list[float]]
    """Arrivals scenario -> mean referrals on each day, day 1 first."""
    capacity: dict[str, int]
    los: dict[str, tuple[float, float]]
    """Length-of-stay scenario -> lognormal (mu, sigma) of the stay in days."""
    occupied: int
    queued: int
    reference: pd.DataFrame
    """``node_name, time, measure`` (niq / occ), ``mean, q025, ..., q975``."""


def load_case(folder: str | Path) -> IpacsCase:
    """Read IPACS's reference case from ``folder`` (the files of `REFERENCE_FILES`)."""
    folder = Path(folder)
    missing = [f for f in REFERENCE_FILES if not (folder / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{folder}: no {', '.join(missing)}; give the folder of IPACS's reference case "
            "(tests/validation/ipacs_data in the repository)"
        )
    arr = pd.read_csv(folder / "arrivals.csv").sort_values(["scenario", "date"])
    cap = pd.read_csv(folder / "capacity.csv")
    los = pd.read_csv(folder / "los.csv")
    init = pd.read_csv(folder / "initial_conditions.csv").set_index("measure")["value"]
    return IpacsCase(
        arrivals={k: g["arrivals"].astype(float).tolist() for k, g in arr.groupby("scenario")},
        capacity=dict(zip(cap["scenario"], cap["capacity"].astype(int), strict=True)),
        los={r.scenario: (float(r.mu), float(r.sigma)) for r in los.itertuples()},
        occupied=int(init["occ"]),
        queued=int(init["dtoc"]),
        reference=pd.read_csv(folder / "reference_outputs.csv"),
    )


def variants(case: IpacsCase) -> list[Variant]:
    """The 12 variants, baseline (``BCap_Blos_BArr``) first, as IPACS's output names them."""
    caps = sorted(case.capacity, key=lambda k: (k != "BCap", k))
    loss = sorted(case.los, key=lambda k: (k != "Blos", k))
    arrs = sorted(case.arrivals, key=lambda k: (k != "BArr", k))
    return [Variant(c, ls, a) for c, ls, a in product(caps, loss, arrs)]


def variant_scenario(
    base: Scenario,
    case: IpacsCase,
    variant: Variant,
    remaining_stay: str = "length_biased",
    horizon_days: float | None = None,
) -> Scenario:
    """``base`` in ``community_only`` mode with the variant's P2 beds, stays and referrals.

    181 days from 2023-01-01 without warm-up, as IPACS; ``horizon_days`` shortens it.
    """
    rates = case.arrivals[variant.arrivals]
    mu, sigma = case.los[variant.los]
    return apply_changes(
        base,
        {
            "name": variant.name,
            "run.horizon_days": float(horizon_days or len(rates)),
            "run.warm_up_days": 0.0,
            "run.start_date": _START_DATE,
            "community.p2.capacity": case.capacity[variant.capacity],
            "community.p2.duration_days": {
                "dist": "lognormal",
                "median": math.exp(mu),
                "sigma": sigma,
            },
            "community_only": {
                "remaining_stay": remaining_stay,
                "p2": {
                    "referrals_per_day": rates,
                    "occupied": case.occupied,
                    "queued": case.queued,
                },
            },
        },
    )


def daily_series(log: EventLog, unit: str = "p2") -> pd.DataFrame:
    """Time-weighted mean ``occupied`` and ``queue`` of ``unit`` on each ``day`` from 0."""
    d = occupancy_series(log, [unit], bin_hours=24.0, include_warm_up=True)
    return pd.DataFrame(
        {
            "day": np.round(d["start_hours"].to_numpy() / 24.0).astype(int),
            "occupied": d["occupied"].to_numpy(),
            "queue": d["queue"].to_numpy(),
        }
    )


def compare_variant(runs: pd.DataFrame, reference: pd.DataFrame, name: str) -> pd.DataFrame:
    """Day by day: flowsim's mean (and 95% CI of it) against IPACS's mean and band.

    ``runs``: `daily_series` rows of every replication with a ``replication`` column. One row
    per ``day`` and ``measure`` (``queue``, ``occupied``): ``flowsim_mean, flowsim_ci_low,
    flowsim_ci_high, flowsim_q025, flowsim_q975`` (across replications), ``ipacs_mean,
    ipacs_q025, ipacs_q975`` and ``inside`` (flowsim's mean within IPACS's band).
    """
    ref = reference[reference["node_name"] == name]
    if ref.empty:
        raise ValueError(f"no IPACS output for {name!r} in the reference")
    measures = {"queue": "niq", "occupied": "occ"}
    frames = []
    for measure, ipacs_measure in measures.items():
        g = runs.groupby("day")[measure]
        n = g.count()
        half = 1.96 * g.std(ddof=1) / np.sqrt(n)
        mine = pd.DataFrame(
            {
                "flowsim_mean": g.mean(),
                "flowsim_ci_low": g.mean() - half,
                "flowsim_ci_high": g.mean() + half,
                "flowsim_q025": g.quantile(0.025),
                "flowsim_q975": g.quantile(0.975),
            }
        )
        theirs = (
            ref[ref["measure"] == ipacs_measure]
            .set_index("time")[["mean", "q025", "q975"]]
            .rename(columns=lambda c: f"ipacs_{c}")
        )
        both = mine.join(theirs, how="inner")
        both.index.name = "day"
        both = both.reset_index()
        both.insert(1, "measure", measure)
        frames.append(both)
    out = pd.concat(frames, ignore_index=True)
    tol = 1e-9
    out["inside"] = (out["flowsim_mean"] >= out["ipacs_q025"] - tol) & (
        out["flowsim_mean"] <= out["ipacs_q975"] + tol
    )
    return out


def in_band_share(
    table: pd.DataFrame, measure: str = "queue", from_day: int = COMPARED_FROM_DAY
) -> float:
    """Share of days from ``from_day`` on where flowsim's mean lies inside IPACS's band."""
    sel = table[(table["measure"] == measure) & (table["day"] >= from_day)]
    return float(sel["inside"].mean()) if len(sel) else float("nan")


def summary_table(tables: dict[tuple[str, str], pd.DataFrame]) -> pd.DataFrame:
    """Per (variant, remaining-stay rule): in-band shares and mean gaps after day 30.

    ``queue_gap`` / ``occupied_gap``: mean over those days of flowsim's mean less IPACS's.
    """
    rows = []
    for (name, rule), t in tables.items():
        late = t[t["day"] >= COMPARED_FROM_DAY]
        row = {"variant": name, "remaining_stay": rule}
        for measure in ("queue", "occupied"):
            m = late[late["measure"] == measure]
            row[f"{measure}_in_band"] = float(m["inside"].mean())
            row[f"{measure}_gap"] = float((m["flowsim_mean"] - m["ipacs_mean"]).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def infinite_server_occupancy(
    case: IpacsCase, variant: Variant, remaining_stay: str, steps_per_day: int = 24
) -> pd.DataFrame:
    """Expected occupancy by ``day`` when no one ever waits (M_t/G/infinity), in theory.

    The census's remaining stays (either rule), the queue admitted at time 0 on fresh stays
    (as flowsim does with places to spare) and every referral's stay, integrated on a grid of
    ``steps_per_day`` points a day: what a correct model of an unlimited node (``S1Cap``) must
    give, with no simulation. Columns ``day, occupied``.
    """
    rates = np.asarray(case.arrivals[variant.arrivals], dtype=float)
    mu, sigma = case.los[variant.los]
    stays = np.exp(mu + sigma * _normal_quantiles(20_000))
    h = 1.0 / steps_per_day
    tau = (np.arange(len(rates) * steps_per_day) + 0.5) * h

    def survival(x: np.ndarray) -> np.ndarray:
        return np.array([np.mean(stays > v) for v in x])

    if remaining_stay == "length_biased":
        left = np.array([np.mean(np.clip(stays - v, 0, None)) for v in tau]) / stays.mean()
    else:
        low = np.minimum(1.0, stays)
        left = np.array([np.mean(np.clip((stays - v) / (stays - low), 0, 1)) for v in tau])
    lags = survival(tau - 0.5 * h)
    referrals = np.convolve(np.repeat(rates, steps_per_day) * h, lags)[: len(tau)]
    occupied = case.occupied * left + case.queued * lags + referrals
    days = np.arange(len(rates))
    return pd.DataFrame(
        {"day": days, "occupied": occupied.reshape(len(rates), steps_per_day).mean(axis=1)}
    )


def _normal_quantiles(n: int) -> np.ndarray:
    from statistics import NormalDist

    nd = NormalDist()
    return np.array([nd.inv_cdf((i + 0.5) / n) for i in range(n)])
