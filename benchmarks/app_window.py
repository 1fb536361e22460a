"""Which three weeks of the calibrated year look like the whole year: the app's window.

    .venv/bin/python benchmarks/app_window.py [--replications 5] [--workers 2]

Runs the baseline's calibrated year (as `benchmarks/calibration_year.py`: the scenario's own
warm-up, then 365 days) and, in each replication, the headline KPIs of every candidate app
window: a census taken on day D of the run (a Monday, so the week keeps its weekdays), a
``warm_up`` days' settling after it, then ``horizon`` days measured, as the app runs it
(`flowsim.app.census`). Prints the annual KPIs (mean and 95% CI) and each window's mean over
replications with its distance from the year: the largest difference over the headline KPIs,
each in units of its annual between-replication standard deviation of a window, so no KPI
counts more because of its scale. The app's default ``census_day`` is the best window (see
docs/workshop.md "What the app's numbers mean").
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from flowsim.analysis import EventFrame, compute_kpis, summarise
from flowsim.analysis.periods import period_kpis
from flowsim.experiment import run_replications
from flowsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
HEADLINE = (
    "ed_within_4h",
    "ed_over_12h_share",
    "handover_mean",
    "occupancy_mean_general_acute",
    "delayed_share_of_ward_beds",
    "los_mean",
)
WARM_UP_DAYS, HORIZON_DAYS = 7.0, 21.0


def _windows(ef: EventFrame) -> list[tuple[float, float, float]]:
    """(census day, from, to) in hours of every Monday census whose window is measured."""
    out = []
    for day in np.arange(0.0, ef.end / 24.0, 7.0):
        a, b = (day + WARM_UP_DAYS) * 24.0, (day + WARM_UP_DAYS + HORIZON_DAYS) * 24.0
        if a >= ef.warm_up and b <= ef.end:
            out.append((float(day), a, b))
    return out


def reduce(log: object) -> dict[str, pd.DataFrame]:
    """Annual KPIs and each candidate window's headline KPIs of one replication (a top-level
    function, run where the replication runs)."""
    ef = EventFrame(log)  # type: ignore[arg-type]
    replication = int(ef.log.meta.get("replication", 0))
    wins = _windows(ef)
    table = period_kpis(ef, [(a, b) for _, a, b in wins])
    sp = ef.spells
    sp = sp[~sp["censored"]]
    end, los = sp["end"].to_numpy(), sp["los_days"].to_numpy()
    table["los_mean"] = [float(np.mean(los[(end >= a) & (end <= b)])) for _, a, b in wins]
    table["census_day"] = [d for d, _, _ in wins]
    return {
        "kpis": compute_kpis(ef).assign(replication=replication),
        "windows": table.assign(replication=replication),
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.yaml"))
    p.add_argument("--replications", type=int, default=5)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--top", type=int, default=8)
    a = p.parse_args(argv)
    s = load_scenario(a.scenario)
    t0 = time.perf_counter()
    res = run_replications(s, a.replications, workers=a.workers, reduce=reduce)
    kpis = pd.concat([r["kpis"] for r in res], ignore_index=True)
    wins = pd.concat([r["windows"] for r in res], ignore_index=True)
    annual = summarise(kpis[kpis["kpi"].isin(HEADLINE)]).set_index("kpi")
    print(f"{s.name}: {a.replications} replications, {time.perf_counter() - t0:.0f} s\n")
    print("annual (mean, 95% CI):")
    for kpi in HEADLINE:
        r = annual.loc[kpi]
        print(f"  {kpi:30s} {r['mean']:8.2f} ({r['ci_low']:.2f}-{r['ci_high']:.2f})")
    sd = wins.groupby("census_day")[list(HEADLINE)].std().mean()
    mean = wins.groupby("census_day")[list(HEADLINE)].mean()
    distance = ((mean - annual["mean"].reindex(HEADLINE)) / sd).abs().max(axis=1)
    start = dt.date.fromisoformat(str(s.run.start_date))
    order = distance.sort_values().index[: a.top]
    print(f"\nwindows nearest the year (distance: max |window - year| / window sd {sd.round(2)})")
    print("census day  census date   window         distance  " + "  ".join(HEADLINE))
    for day in order:
        first = start + dt.timedelta(days=day + WARM_UP_DAYS)
        values = "  ".join(f"{mean.loc[day, k]:.2f}" for k in HEADLINE)
        census = start + dt.timedelta(days=day)
        print(f"{day:10.0f}  {census}  from {first}  {distance[day]:6.2f}  {values}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
