"""Paired comparison of scenarios run on common random numbers.

Replication *r* of every scenario uses the same random numbers wherever the structure is shared,
so the difference between two scenarios is measured replication by replication: the noise both
share cancels and the interval on the difference is much narrower than comparing two means
(`unpaired` is kept so the gain can be shown). The verdict is worded for people reading a table
in a workshop: "shorter" or "no clear difference", never a p-value.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["COMPARISON_COLUMNS", "better_when", "paired_comparison", "verdict"]

COMPARISON_COLUMNS = [
    "scenario",
    "kpi",
    "unit",
    "baseline_mean",
    "scenario_mean",
    "difference",
    "ci_low",
    "ci_high",
    "pct_change",
    "n",
    "verdict",
    "assessment",
]

_ROW_COLUMNS = [c for c in COMPARISON_COLUMNS if c not in ("pct_change", "verdict", "assessment")]
_HIGHER_IS_BETTER = ("ed_within_4h", "admissions_avoided_")
_NEUTRAL = ("ed_attendances",)
_TIME_UNITS = {"hours", "minutes", "days"}


def better_when(kpi: str) -> str:
    """``"higher"``, ``"lower"`` or ``""`` (neither): which way a KPI improves.

    Fewer admissions count as better because the programme's changes aim to avoid them; the
    number of attendances is demand, neither better nor worse.
    """
    if kpi.startswith(_NEUTRAL):
        return ""
    return "higher" if kpi.startswith(_HIGHER_IS_BETTER) else "lower"


def verdict(
    kpi: str, unit: str, ci_low: float, ci_high: float, n: int | None = None
) -> tuple[str, str]:
    """Plain words for a difference's interval: (``shorter``/``longer``/``higher``/``lower``/
    ``no clear difference``, ``better``/``worse``/``""``); ``n`` is the number of pairs."""
    if n == 0:
        return "not measured", ""
    if math.isnan(ci_low) or math.isnan(ci_high):
        return "not enough data", ""
    if ci_low <= 0.0 <= ci_high:
        return "no clear difference", ""
    up = ci_low > 0.0
    words = ("longer", "shorter") if unit in _TIME_UNITS else ("higher", "lower")
    word = words[0] if up else words[1]
    good = better_when(kpi)
    if not good:
        return word, ""
    return word, "better" if (good == "higher") == up else "worse"


def paired_comparison(
    kpis: pd.DataFrame,
    baseline: str,
    *,
    scenario_col: str = "scenario",
    confidence: float = 0.95,
    paired: bool = True,
) -> pd.DataFrame:
    """Each scenario against ``baseline``, KPI by KPI, with a confidence interval on the
    difference (scenario minus baseline).

    ``kpis`` holds tidy rows ``scenario, replication, kpi, unit, value`` (other columns are
    ignored). Paired: replication *r* of a scenario is compared with replication *r* of the
    baseline, over the replications both have with a value. Unpaired (``paired=False``): a
    Welch interval on the difference of the two means, for showing what pairing buys.
    Returns `COMPARISON_COLUMNS`, scenarios in order of first appearance, KPIs in the
    baseline's order.
    """
    missing = {scenario_col, "replication", "kpi", "unit", "value"} - set(kpis.columns)
    if missing:
        raise ValueError(f"kpis lacks column(s) {sorted(missing)}")
    names = list(dict.fromkeys(kpis[scenario_col].astype(str)))
    if baseline not in names:
        raise ValueError(f"baseline {baseline!r} is not among the scenarios {names}")
    data = kpis.assign(**{scenario_col: kpis[scenario_col].astype(str)})
    unit_of = dict(zip(data["kpi"], data["unit"], strict=True))
    table = data.pivot_table(
        index=["kpi", "replication"],
        columns=scenario_col,
        values="value",
        aggfunc="first",
        dropna=False,
        observed=True,
        sort=False,
    )
    order = list(dict.fromkeys(data.loc[data[scenario_col] == baseline, "kpi"]))
    order += [k for k in dict.fromkeys(data["kpi"]) if k not in order]
    rows = []
    for name in (n for n in names if n != baseline):
        for kpi in order:
            group = table.xs(kpi, level="kpi")
            base = group[baseline].to_numpy(dtype=float)
            alt = group[name].to_numpy(dtype=float)
            diff = _difference(base, alt, confidence, paired=paired)
            rows.append((name, kpi, unit_of[kpi], *diff))
    out = pd.DataFrame(rows, columns=_ROW_COLUMNS)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["pct_change"] = 100.0 * out["difference"] / out["baseline_mean"].abs()
    words = [
        verdict(k, u, lo, hi, n)
        for k, u, lo, hi, n in zip(
            out["kpi"], out["unit"], out["ci_low"], out["ci_high"], out["n"], strict=True
        )
    ]
    out["verdict"] = [w for w, _ in words]
    out["assessment"] = [a for _, a in words]
    return out[COMPARISON_COLUMNS]


def _difference(
    base: np.ndarray, alt: np.ndarray, confidence: float, *, paired: bool
) -> tuple[float, float, float, float, float, int]:
    """(baseline mean, scenario mean, difference, ci_low, ci_high, n)."""
    nan = math.nan
    q = 0.5 + confidence / 2.0
    if paired:
        both = ~np.isnan(base) & ~np.isnan(alt)
        base, alt = base[both], alt[both]
        n = len(base)
        if n == 0:
            return nan, nan, nan, nan, nan, 0
        d = alt - base
        mean = float(d.mean())
        if n < 2:
            return float(base.mean()), float(alt.mean()), mean, nan, nan, n
        half = float(stats.t.ppf(q, n - 1) * d.std(ddof=1) / math.sqrt(n))
        return float(base.mean()), float(alt.mean()), mean, mean - half, mean + half, n
    base, alt = base[~np.isnan(base)], alt[~np.isnan(alt)]
    n = min(len(base), len(alt))
    if n == 0:
        return nan, nan, nan, nan, nan, 0
    mean = float(alt.mean() - base.mean())
    if n < 2:
        return float(base.mean()), float(alt.mean()), mean, nan, nan, n
    va, vb = alt.var(ddof=1) / len(alt), base.var(ddof=1) / len(base)
    se = math.sqrt(va + vb)
    if se == 0.0:
        return float(base.mean()), float(alt.mean()), mean, mean, mean, n
    df = (va + vb) ** 2 / (va**2 / (len(alt) - 1) + vb**2 / (len(base) - 1))
    half = float(stats.t.ppf(q, df) * se)
    return float(base.mean()), float(alt.mean()), mean, mean - half, mean + half, n
