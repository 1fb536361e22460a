"""Sensitivity figures for a report: one tornado per KPI, each with a caption that says how to
read it. The HTML report includes them when asked (``flowsim sensitivity`` writes them too)."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from flowsim.report.figures import tornado_figure
from flowsim.report.labels import kpi_label

__all__ = ["sensitivity_figures"]


def sensitivity_figures(
    table: pd.DataFrame, replications: int | None = None, top: int = 12
) -> list[tuple[str, Figure]]:
    """``(caption, figure)`` per KPI of a `flowsim.analysis.sensitivity.sensitivity_table`.

    The caption names the input that matters most, so a reader who skips the chart still learns
    which estimate the result hangs on.
    """
    out = []
    for kpi in dict.fromkeys(table["kpi"]):
        rows = table[table["kpi"] == kpi]
        first = rows.sort_values("rank").iloc[0]
        n = f" over {replications} paired replications" if replications else ""
        caption = (
            f"{kpi_label(str(kpi))}: effect of each weak-evidence input at its low and high "
            f"value, one at a time, with the paired 95% CI{n}. Largest swing: "
            f"{first['parameter']} ([{first['source']}], {first['note']}), "
            f"{float(first['swing']):.3g} {first['unit']}."
        )
        out.append((caption, tornado_figure(rows, top=top)))
    return out
