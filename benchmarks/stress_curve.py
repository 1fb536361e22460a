"""Stress curve: the baseline's headline KPIs as demand grows, on common random numbers.

    .venv/bin/python benchmarks/stress_curve.py [--growth -5 0 3 6 9 10 12] [--replications 3]
        [--days 365] [--warm-up 60] [--figure docs/figures/stress_curve.png]

A real system bends under pressure: a few per cent more patients make every KPI a little worse,
and admissions rise with need. A knife edge (fine at +0%, gridlocked at +4%) makes every
comparison a learning set reads in that region misleading, so the curve is a calibration check.

Each point multiplies ``demand_profile.growth`` of the scenario by ``1 + g/100`` and runs the
same replication numbers with the same seed (paired: common random numbers), reporting the mean
and 95% Student-t interval across replications of type-1 4-hour %, 12 hours from arrival %, mean
handover, G&A occupancy, admissions/day and the mean wait in ED for a bed. A replication is
**gridlocked** when any calendar month of it crosses a line of `flowsim.analysis.gridlock`: mean
handover above 4 h, more than 30 % of attenders 12 hours in ED, or a mean wait for a bed above
24 h (the bed queue no longer clearing). **Admissions elasticity** is the least-squares slope of
log admissions on log demand over all points and replications (1: admissions follow need; 0: the
hospital turns people away).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from flowsim.analysis.gridlock import GRIDLOCK, GridlockRule
from flowsim.analysis.monthly import year_and_months
from flowsim.experiment import choose_executor, run_replications
from flowsim.scenario import Scenario, apply_changes, load_scenario

ROOT = Path(__file__).resolve().parents[1]
CURVE_KPIS = {
    "ed_within_4h": "4-hour %",
    "ed_over_12h_share": "12 h from arrival %",
    "handover_mean": "mean handover (min)",
    "occupancy_mean_general_acute": "G&A occupancy %",
    "admissions": "admissions/day",
    "ed_boarding_mean": "mean wait for a bed in ED (h)",
}


def at_growth(scenario: Scenario, growth_pct: float) -> Scenario:
    """The scenario with demand ``growth_pct`` per cent above its own."""
    factor = scenario.demand_profile.growth * (1.0 + growth_pct / 100.0)
    return apply_changes(scenario, {"demand_profile.growth": factor})


def run_curve(
    scenario: Scenario,
    growths_pct: Sequence[float],
    replications: int,
    *,
    horizon_days: float | None = None,
    warm_up_days: float | None = None,
    workers: int = 1,
    rule: GridlockRule = GRIDLOCK,
) -> pd.DataFrame:
    """One row per (growth, replication): the `CURVE_KPIS`, ``ed_attendances``, the worst
    month's mean handover, 12-hour share and bed wait, ``gridlocked`` and the first gridlocked
    month with the lines it crossed (``gridlock``, "" when none)."""
    rows = []
    with choose_executor(workers) as executor:
        for g in growths_pct:
            results = run_replications(
                at_growth(scenario, g),
                replications,
                horizon_days=horizon_days,
                warm_up_days=warm_up_days,
                executor=executor,
                reduce=year_and_months,
            )
            for r, res in enumerate(results):
                k = res["kpis"].set_index("kpi")["value"]
                months = res["months"]
                row = {"growth_pct": g, "replication": r, "ed_attendances": k["ed_attendances"]}
                row |= {kpi: float(k[kpi]) for kpi in CURVE_KPIS}
                row["worst_month_handover_min"] = float(months["handover_mean"].max())
                row["worst_month_12h_pct"] = float(months["ed_over_12h_share"].max())
                row["worst_month_bed_wait_h"] = float(months["ed_boarding_mean"].max())
                reasons = rule.reasons(months)
                first = reasons[reasons != ""]
                row["gridlocked"] = not first.empty
                when = "" if first.empty else f"{months.loc[first.index[0], 'month']:%b %Y}"
                row["gridlock"] = f"{when}: {first.iloc[0]}" if when else ""
                rows.append(row)
    return pd.DataFrame(rows)


def _ci(x: np.ndarray) -> tuple[float, float, float]:
    x = x[~np.isnan(x)]
    m = float(np.mean(x)) if len(x) else math.nan
    if len(x) < 2:
        return m, math.nan, math.nan
    half = stats.t.ppf(0.975, len(x) - 1) * np.std(x, ddof=1) / math.sqrt(len(x))
    return m, m - half, m + half


def summarise_curve(runs: pd.DataFrame) -> pd.DataFrame:
    """Per growth point: mean, ci_low, ci_high of each KPI, gridlocked replications, and the
    admissions elasticity against the point nearest 0%."""
    ref = runs.loc[(runs["growth_pct"] - 0).abs().idxmin(), "growth_pct"]
    base_adm = runs.loc[runs["growth_pct"] == ref].set_index("replication")["admissions"]
    out = []
    for g, grp in runs.groupby("growth_pct", sort=True):
        row: dict[str, float] = {"growth_pct": g, "n": len(grp)}
        for kpi in CURVE_KPIS:
            row[kpi], row[f"{kpi}_lo"], row[f"{kpi}_hi"] = _ci(grp[kpi].to_numpy())
        row["gridlocked"] = int(grp["gridlocked"].sum())
        row["worst_month_handover_min"] = float(grp["worst_month_handover_min"].max())
        row["worst_month_12h_pct"] = float(grp["worst_month_12h_pct"].max())
        row["worst_month_bed_wait_h"] = float(grp["worst_month_bed_wait_h"].max())
        if g != ref:
            adm = grp.set_index("replication")["admissions"]
            per_rep = np.log(adm / base_adm) / math.log((1 + g / 100) / (1 + ref / 100))
            row["elasticity"] = float(per_rep.mean())
        else:
            row["elasticity"] = math.nan
        out.append(row)
    return pd.DataFrame(out)


def admissions_elasticity(runs: pd.DataFrame) -> tuple[float, float, float]:
    """Slope of log admissions on log demand with replication fixed effects (paired), and its
    95% interval from the per-replication slopes."""
    slopes = []
    for _, grp in runs.groupby("replication"):
        x = np.log1p(grp["growth_pct"].to_numpy() / 100.0)
        y = np.log(grp["admissions"].to_numpy())
        slopes.append(np.polyfit(x, y, 1)[0])
    return _ci(np.asarray(slopes))


def markdown(summary: pd.DataFrame) -> str:
    head = [
        "demand",
        *CURVE_KPIS.values(),
        "elasticity vs 0%",
        "worst month: handover (min) / 12 h % / bed wait (h)",
        "gridlocked reps",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in summary.iterrows():
        cells = [f"{r['growth_pct']:+g}%"]
        for kpi in CURVE_KPIS:
            digits = 0 if kpi == "handover_mean" else 1
            cells.append(
                f"{r[kpi]:.{digits}f} ({r[f'{kpi}_lo']:.{digits}f}–{r[f'{kpi}_hi']:.{digits}f})"
            )
        cells.append("—" if math.isnan(r["elasticity"]) else f"{r['elasticity']:.2f}")
        cells.append(
            f"{r['worst_month_handover_min']:.0f} / {r['worst_month_12h_pct']:.1f}"
            f" / {r['worst_month_bed_wait_h']:.0f}"
        )
        cells.append(f"{int(r['gridlocked'])}/{int(r['n'])}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def figure(summary: pd.DataFrame, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(CURVE_KPIS), figsize=(3.2 * len(CURVE_KPIS), 3.0))
    x = summary["growth_pct"].to_numpy()
    for ax, (kpi, label) in zip(axes, CURVE_KPIS.items(), strict=True):
        y = summary[kpi].to_numpy()
        err = np.vstack([y - summary[f"{kpi}_lo"], summary[f"{kpi}_hi"] - y])
        ax.errorbar(x, y, yerr=np.nan_to_num(err), marker="o", capsize=3)
        ax.set_xlabel("demand vs baseline (%)")
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.yaml"))
    p.add_argument("--growth", type=float, nargs="+", default=[-5, 0, 3, 6, 9, 10, 12])
    p.add_argument("--replications", type=int, default=3)
    p.add_argument("--days", type=float, default=None, help="horizon (default: the scenario's)")
    p.add_argument("--warm-up", type=float, default=None)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--figure", default=None, help="write the figure here (PNG)")
    p.add_argument("--csv", default=None, help="write per-replication results here")
    a = p.parse_args(argv)
    base = load_scenario(a.scenario)
    t0 = time.perf_counter()
    runs = run_curve(
        base,
        a.growth,
        a.replications,
        horizon_days=a.days,
        warm_up_days=a.warm_up,
        workers=a.workers,
    )
    summary = summarise_curve(runs)
    e, lo, hi = admissions_elasticity(runs)
    days = a.days if a.days is not None else base.run.horizon_days
    title = f"{base.name}: {a.replications} paired replications x {days:g} d, seed {base.run.seed}"
    print(title)
    print(markdown(summary))
    print(f"\nadmissions elasticity (log-log slope, paired): {e:.2f} (95% CI {lo:.2f}–{hi:.2f})")
    print(
        f"gridlock: a month with mean handover > {GRIDLOCK.handover_minutes / 60:g} h, "
        f"> {GRIDLOCK.over_12h_pct:g}% 12 h in ED, or mean wait for a bed > "
        f"{GRIDLOCK.bed_wait_hours:g} h"
    )
    for _, r in runs[runs["gridlocked"]].iterrows():
        print(f"  {r['growth_pct']:+g}% replication {int(r['replication'])}: {r['gridlock']}")
    print(f"({time.perf_counter() - t0:.0f} s)")
    if a.csv:
        runs.to_csv(a.csv, index=False)
    if a.figure:
        figure(summary, Path(a.figure), title)
    return 0


if __name__ == "__main__":
    sys.exit(main())
