"""The baseline's calibration year: annual KPIs against their ranges, and KPIs by calendar month
against published national points (docs/calibration.md).

    .venv/bin/python benchmarks/calibration_year.py [--replications 5] [--days 365]
        [--figure docs/figures/calibration_monthly.png]

Annual KPIs are means with 95% Student-t intervals across replications (`summarise`), with
each range of `ANNUAL_TARGETS`; months are the calendar months of the measured year, each the
mean over replications of that month's KPI (`monthly_kpis`), months with fewer than 20 measured
days left out.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from flowsim.analysis import summarise
from flowsim.analysis.monthly import MONTHLY_KPIS, year_and_months
from flowsim.experiment import run_replications
from flowsim.report.calibration import (
    ANNUAL_TARGETS,
    PUBLISHED_MONTHLY,
    monthly_calibration_figure,
)
from flowsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
ANNUAL = [
    "ed_attendances",
    "ed_within_4h",
    "ed_over_12h_share",
    "handover_mean",
    "occupancy_mean_general_acute",
    "delayed_share_of_ward_beds",
    "los_mean",
    "admissions",
    "ed_conversion",
    "ed_boarding_mean",
]
WINTER, SUMMER = (12, 1, 2), (6, 7, 8)


def monthly_summary(months: pd.DataFrame, min_days: float = 20.0) -> pd.DataFrame:
    """``calendar_month, kpi, unit, mean, ci_low, ci_high, n`` over replications."""
    m = months[months["days"] >= min_days].copy()
    m["calendar_month"] = [d.month for d in m["month"]]
    long = m.melt(
        id_vars=["calendar_month", "replication"], value_vars=list(MONTHLY_KPIS), var_name="kpi"
    )
    long["unit"] = ""
    parts = []
    for month, grp in long.groupby("calendar_month"):
        parts.append(summarise(grp).assign(calendar_month=month))
    return pd.concat(parts, ignore_index=True)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.yaml"))
    p.add_argument("--replications", type=int, default=5)
    p.add_argument("--days", type=float, default=None)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--figure", default=None)
    a = p.parse_args(argv)
    s = load_scenario(a.scenario)
    t0 = time.perf_counter()
    res = run_replications(
        s, a.replications, horizon_days=a.days, workers=a.workers, reduce=year_and_months
    )
    kpis = pd.concat([r["kpis"] for r in res], ignore_index=True)
    months = pd.concat([r["months"] for r in res], ignore_index=True)
    days = a.days if a.days is not None else s.run.horizon_days
    title = f"{s.name}: {a.replications} replications x {days:g} d from {s.run.start_date}"
    print(title, f"({time.perf_counter() - t0:.0f} s)\n")
    annual = summarise(kpis[kpis["kpi"].isin(ANNUAL)]).set_index("kpi")
    print("| KPI | target | simulated mean (95% CI) | range over replications | in range |")
    print("|---|---|---|---|---|")
    for kpi in ANNUAL:
        r = annual.loc[kpi]
        vals = kpis.loc[kpis["kpi"] == kpi, "value"]
        lo, hi, _ = ANNUAL_TARGETS.get(kpi, (None, None, ""))
        target = "—" if lo is None else f"{lo:g}–{hi:g}"
        ok = "—" if lo is None else ("yes" if lo <= r["mean"] <= hi else "**no**")
        print(
            f"| {kpi} | {target} | {r['mean']:.1f} ({r['ci_low']:.1f}–{r['ci_high']:.1f}) | "
            f"{vals.min():.1f}–{vals.max():.1f} | {ok} |"
        )
    ms = monthly_summary(months)
    wide = ms.pivot(index="calendar_month", columns="kpi", values="mean")[list(MONTHLY_KPIS)]
    print("\nBy calendar month (mean over replications; published in brackets):\n")
    print("| month | " + " | ".join(MONTHLY_KPIS) + " |")
    print("|---|" + "---|" * len(MONTHLY_KPIS))
    for month, row in wide.iterrows():
        cells = []
        for kpi in MONTHLY_KPIS:
            pub = PUBLISHED_MONTHLY.get(kpi, {}).get(int(month))
            cell = f"{row[kpi]:.1f}" + (f" ({pub[0]:g})" if pub else "")
            cells.append(cell)
        print(f"| {int(month)} | " + " | ".join(cells) + " |")
    w = wide.loc[wide.index.isin(WINTER)].mean()
    su = wide.loc[wide.index.isin(SUMMER)].mean()
    print("\nWinter (Dec-Feb) minus summer (Jun-Aug):")
    for kpi in MONTHLY_KPIS:
        print(f"  {kpi}: {w[kpi] - su[kpi]:+.1f} (winter {w[kpi]:.1f}, summer {su[kpi]:.1f})")
    if a.figure:
        Path(a.figure).parent.mkdir(parents=True, exist_ok=True)
        Path(a.figure).write_bytes(monthly_calibration_figure(ms, title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
