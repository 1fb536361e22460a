"""Figures about the inputs: which weak-evidence settings move the results (a tornado chart) and
how well a fitted scenario matches the extract it came from (QQ plots, observed against simulated
KPIs). In the house style of `flowsim.report.style`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from flowsim.report.labels import kpi_label
from flowsim.report.style import (
    BLUE,
    GREY,
    ORANGE,
    RED,
    WIDTH_INCHES,
    house_style,
    new_figure,
    no_data,
)

__all__ = ["check_fit_figure", "qq_figure", "tornado_figure"]


# ---------------------------------------------------------------- sensitivity


def tornado_figure(table: pd.DataFrame, title: str | None = None, top: int = 12) -> Figure:
    """One-at-a-time sensitivity as a tornado: per KPI, each input's effect at its low (blue)
    and high (orange) value, with the paired 95% CI, the input with the largest swing on top.

    ``table`` is `flowsim.analysis.sensitivity.sensitivity_table` output (one panel per KPI in
    it); ``top`` keeps the inputs with the largest swings in each panel. Effects are in the
    KPI's own unit, so each panel has its own axis; the value tried is written at the bar's end.
    """
    kpis = list(dict.fromkeys(table["kpi"]))
    colours = {"low": BLUE, "high": ORANGE}
    with house_style():
        ranked = [table[(table["kpi"] == k) & (table["rank"] <= top)] for k in kpis]
        sizes = [max(1, rows["parameter"].nunique()) for rows in ranked]
        fig = Figure(figsize=(WIDTH_INCHES, 1.0 + sum(0.42 * s + 0.9 for s in sizes)))
        fig.set_layout_engine("constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(
            max(1, len(kpis)), 1, squeeze=False, gridspec_kw={"height_ratios": sizes or [1]}
        )[:, 0]
        if title:
            fig.suptitle(title)
        for ax, kpi, rows in zip(axes, kpis, ranked, strict=False):
            params = list(dict.fromkeys(rows.sort_values("rank")["parameter"]))
            unit = str(rows["unit"].iloc[0]) if len(rows) else ""
            ax.axvline(0.0, color=GREY, linewidth=1.5)
            for i, param in enumerate(params):
                for row in rows[rows["parameter"] == param].itertuples(index=False):
                    offset = -0.18 if row.side == "low" else 0.18
                    diff = float(row.difference)
                    if not np.isfinite(diff):
                        continue
                    colour = colours.get(str(row.side), GREY)
                    ax.barh(i + offset, diff, height=0.34, color=colour, alpha=0.85)
                    low, high = float(row.ci_low), float(row.ci_high)
                    if np.isfinite(low) and np.isfinite(high):
                        ax.plot([low, high], [i + offset] * 2, color="black", linewidth=1.2)
                    end = diff
                    if np.isfinite(low) and np.isfinite(high):
                        end = high if diff >= 0 else low
                    ax.annotate(
                        str(row.value),
                        (end, i + offset),
                        xytext=(4 if diff >= 0 else -4, 0),
                        textcoords="offset points",
                        ha="left" if diff >= 0 else "right",
                        va="center",
                        fontsize=9,
                        color=GREY,
                    )
            ax.set_yticks(range(len(params)), [_wrap_key(p) for p in params])
            ax.set_ylim(len(params) - 0.5, -0.5)
            ax.set_title(f"{kpi_label(kpi)}: change ({unit})", fontsize=13)
            ax.grid(axis="y", alpha=0.0)
            ax.margins(x=0.25)
            if not params:
                no_data(ax)
        from matplotlib.patches import Patch

        handles = [
            Patch(color=colours["low"], label="low value"),
            Patch(color=colours["high"], label="high value"),
        ]
        axes[0].legend(handles=handles, loc="lower right")
        axes[-1].set_xlabel("change from the scenario as it is (paired 95% CI)")
    return fig


def _wrap_key(key: str) -> str:
    """A dotted key on at most two lines, split at a dot."""
    if len(key) <= 32 or "." not in key:
        return key
    head, _, tail = key.rpartition(".")
    return f"{head}.\n{tail}" if len(head) <= 40 else "\n".join(textwrap.wrap(key, 32))


__all__ += ["tornado_figure"]


# ---------------------------------------------------------------- calibration


def qq_figure(
    observed: np.ndarray, quantile: Callable[[np.ndarray], np.ndarray], title: str, unit: str
) -> Figure:
    """Observed against fitted quantiles of completed stays: points on the diagonal mean the
    fitted distribution has the right shape, including the long tail that drives bed use."""
    fig, (ax,) = new_figure(4.2)
    x = np.sort(np.asarray(observed, dtype=float))
    if not len(x):
        no_data(ax)
        return fig
    probs = (np.arange(1, len(x) + 1) - 0.5) / len(x)
    fitted = quantile(probs)
    ax.scatter(fitted, x, s=10, color=BLUE, alpha=0.6)
    top = float(np.nanmax([x.max(), np.nanmax(fitted)]))
    ax.plot([0, top], [0, top], color=GREY, linewidth=1)
    ax.set_xlabel(f"fitted quantile ({unit})")
    ax.set_ylabel(f"observed ({unit})")
    ax.set_title(title)
    return fig


def check_fit_figure(table: pd.DataFrame) -> Figure:
    """Each KPI: the observed value (red) against the simulated mean with its 95% prediction
    interval for one period (blue bar), as a share of the observed value so KPIs share an axis."""
    fig, (ax,) = new_figure(0.7 * len(table) + 1.5)
    y = np.arange(len(table))[::-1]
    obs = table["observed"].to_numpy(dtype=float)
    scale = np.where(np.abs(obs) > 0, np.abs(obs), 1.0)

    def rel(col: str) -> np.ndarray:
        return 100.0 * table[col].to_numpy(dtype=float) / scale

    ax.hlines(y, rel("pi_low"), rel("pi_high"), color=BLUE, linewidth=6, alpha=0.35)
    ax.scatter(rel("sim_mean"), y, color=BLUE, zorder=3, label="simulated mean (bar: 95% PI)")
    ax.scatter(100.0 * obs / scale, y, color=RED, marker="D", zorder=4, label="observed")
    ax.set_yticks(y, [str(k) for k in table["label"]])
    ax.set_xlabel("% of the observed value")
    ax.set_title("Fitted scenario against the extract")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
    return fig
