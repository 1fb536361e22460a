"""One-at-a-time sensitivity: how much each weak-evidence input moves each KPI.

Every variant (one setting at its low or high value) runs on common random numbers with the
scenario it varies, so the paired difference isolates the setting's effect from the luck of the
draw. The table ranks the settings by *swing* (the distance between the low and the high
variant's effect), the order a tornado chart draws them in: the top rows are the inputs whose
uncertainty matters most for that KPI, the ones worth measuring locally before trusting a result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from flowsim.analysis.compare import COMPARISON_COLUMNS, paired_comparison

__all__ = ["DESIGN_COLUMNS", "SENSITIVITY_COLUMNS", "sensitivity_table"]

DESIGN_COLUMNS = ["scenario", "parameter", "source", "note", "side", "value"]
"""What the caller says about each variant: its scenario label, the setting (dotted key), the
parameters.md row, a note, ``low``/``high`` and the value tried (as text)."""

SENSITIVITY_COLUMNS = [
    "kpi",
    "unit",
    "parameter",
    "source",
    "note",
    "side",
    "value",
    *(c for c in COMPARISON_COLUMNS if c not in ("scenario", "kpi", "unit")),
    "swing",
    "rank",
]


def sensitivity_table(
    kpis: pd.DataFrame,
    design: pd.DataFrame,
    baseline: str,
    chosen: list[str] | tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Each variant's paired effect on each KPI, ranked within the KPI by swing.

    ``kpis``: tidy rows ``scenario, replication, kpi, unit, value`` of the baseline and every
    variant (`flowsim.api.run_kpis`); ``design``: `DESIGN_COLUMNS`, one row per variant.
    ``chosen`` limits the KPIs (default: all). ``swing`` is ``|high effect - low effect|`` of
    the parameter (the larger of the two effects' sizes if one side is missing); ``rank`` 1 is
    the largest swing for that KPI.
    """
    missing = set(DESIGN_COLUMNS) - set(design.columns)
    if missing:
        raise ValueError(f"design lacks column(s) {sorted(missing)}")
    data = kpis if chosen is None else kpis[kpis["kpi"].isin(list(chosen))]
    if chosen is not None:
        unknown = sorted(set(chosen) - set(data["kpi"]))
        if unknown:
            raise ValueError(
                f"unknown KPI(s) {unknown}; use names from kpis.csv, e.g. ed_within_4h, "
                "admissions, los_mean"
            )
    comparison = paired_comparison(data, baseline)
    table = comparison.merge(design, on="scenario", how="inner", validate="many_to_one")
    effects = table.pivot_table(
        index=["kpi", "parameter"], columns="side", values="difference", aggfunc="first"
    )
    for side in ("low", "high"):
        if side not in effects:
            effects[side] = np.nan
    swing = (effects["high"] - effects["low"]).abs()
    one_sided = swing.isna()
    swing[one_sided] = effects.loc[one_sided, ["low", "high"]].abs().max(axis=1)
    table = table.merge(swing.rename("swing").reset_index(), on=["kpi", "parameter"])
    order = list(dict.fromkeys(comparison["kpi"]))
    table["kpi_order"] = table["kpi"].map({k: i for i, k in enumerate(order)})
    table["side_order"] = table["side"].map({"low": 0, "high": 1})
    table = table.sort_values(
        ["kpi_order", "swing", "parameter", "side_order"], ascending=[True, False, True, True]
    )
    ranks = table.drop_duplicates(["kpi", "parameter"]).assign(
        rank=lambda t: t.groupby("kpi").cumcount() + 1
    )[["kpi", "parameter", "rank"]]
    table = table.merge(ranks, on=["kpi", "parameter"])
    return table[SENSITIVITY_COLUMNS].reset_index(drop=True)
