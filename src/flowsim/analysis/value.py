"""What one more unit of each capacity buys: the value-of-one-more table and its plain words.

Reads the paired comparison of the capacity steps (`flowsim.scenario.variants.capacity_steps`,
run with `step_scenarios`) against their base; the bottleneck analysis itself is in
`flowsim.analysis.bottlenecks`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from flowsim.scenario.variants import CapacityStep, step_name

__all__ = ["DAYS_PER_MONTH", "value_table"]

DAYS_PER_MONTH = 365.25 / 12
_MONTHLY = {
    "waiting_hours": "patient-hours of waiting",
    "delayed_patients_mean": "delayed bed-days",
    "ambulance_hours_lost": "ambulance hours",
}
"""KPIs that are amounts per day, said per month in the plain-language lines."""


def value_table(
    comparison: pd.DataFrame,
    steps: Sequence[CapacityStep],
    rank_by: str = "waiting_hours",
) -> pd.DataFrame:
    """The change in each KPI per added unit, one row per capacity, ranked by ``rank_by``
    (the most reduced first), with a line in plain words.

    ``comparison`` is `paired_comparison` of the step scenarios (named ``+k <label>``, see
    `step_scenarios`) against the baseline. Columns: ``rank, resource, label, current, k``,
    then per KPI ``<kpi>_per_unit``, ``<kpi>_ci_low``, ``<kpi>_ci_high`` (per unit), then
    ``sentence``.
    """
    by_name = {step_name(st): st for st in steps}
    kpis = list(dict.fromkeys(comparison["kpi"]))
    if rank_by not in kpis:
        raise ValueError(f"rank_by {rank_by!r} is not among the compared KPIs {kpis}")
    rows = []
    for name, group in comparison.groupby("scenario", sort=False):
        st = by_name.get(str(name))
        if st is None:
            continue
        row: dict[str, Any] = {
            "resource": st.name,
            "label": st.label,
            "current": st.current,
            "k": st.k,
        }
        for r in group.itertuples(index=False):
            row[f"{r.kpi}_per_unit"] = float(r.difference) / st.k
            row[f"{r.kpi}_ci_low"] = float(r.ci_low) / st.k
            row[f"{r.kpi}_ci_high"] = float(r.ci_high) / st.k
        row["sentence"] = _sentence(st, row, kpis)
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out = out.sort_values(f"{rank_by}_per_unit", kind="stable").reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def _sentence(st: CapacityStep, row: Mapping[str, Any], kpis: Sequence[str]) -> str:
    parts = []
    for kpi in _MONTHLY:
        if kpi not in kpis:
            continue
        v = -float(row.get(f"{kpi}_per_unit", math.nan)) * DAYS_PER_MONTH
        if not math.isfinite(v):
            continue
        verb = "saves" if v >= 0 else "adds"
        parts.append(f"{verb} {abs(v):,.0f} {_MONTHLY[kpi]}")
    if not parts:
        return f"One more {st.label}: no per-day measure chosen."
    said = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
    return f"One more {st.label} {said} a month."
