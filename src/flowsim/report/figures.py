"""Figures of a run, drawn with matplotlib's object API on the Agg canvas (no pyplot, no GUI).

Each function takes plain tables or arrays (pooled over replications) and returns a `Figure`
in one house style (`flowsim.report.style`): large type, titles that say what is shown and in
which unit, the standards drawn as labelled lines. Nothing here changes matplotlib's global state.
This module draws the run's measures (occupancy, comparisons, warm-up, the ED's week);
distributions (time in ED, handover, length of stay) are in
`flowsim.report.distribution_figures`, pictures of the pathway in
`flowsim.report.pathway_figures`, of the inputs (sensitivity and calibration) in
`flowsim.report.input_figures`; all are importable from here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from flowsim.analysis.figure_data import HOUR_WEEKDAY_MEASURES, unit_label
from flowsim.analysis.kpis import GENERAL_ACUTE
from flowsim.report.distribution_figures import (
    ED_EDGES_HOURS,
    HANDOVER_EDGES_MINUTES,
    LOS_EDGES_DAYS,
    ed_time_figure,
    handover_figure,
    los_figure,
)
from flowsim.report.input_figures import check_fit_figure, qq_figure, tornado_figure
from flowsim.report.labels import kpi_label
from flowsim.report.pathway_figures import blocking_chain_figure, flow_figure
from flowsim.report.style import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    RED,
    WIDTH_INCHES,
    figure_png,
    house_style,
    new_figure,
    no_data,
)
from flowsim.scenario.units import in_group, is_ward

__all__ = [
    "ED_EDGES_HOURS",
    "HANDOVER_EDGES_MINUTES",
    "LOS_EDGES_DAYS",
    "UNIT_GROUPS",
    "blocking_chain_figure",
    "check_fit_figure",
    "ed_time_figure",
    "figure_png",
    "flow_figure",
    "forest_figure",
    "group_occupancy",
    "handover_figure",
    "hour_weekday_figure",
    "los_figure",
    "occupancy_figure",
    "occupancy_units",
    "qq_figure",
    "tornado_figure",
    "warmup_figure",
]

UNIT_GROUPS: dict[str, tuple[Callable[[str], bool], str]] = {
    "G&A wards": (is_ward, "beds"),
    "AMU and AFU": (lambda unit: in_group(unit, "acute"), "beds"),
    "ED cubicles": (lambda unit: unit == "ed_cubicle", "cubicles"),
}
"""Panels of `occupancy_figure`: title -> (which units it sums, what a place is called)."""

# ---------------------------------------------------------------- occupancy over time


def occupancy_units(units: Sequence[str]) -> list[str]:
    """The units `occupancy_figure` draws, out of ``units``."""
    return list(dict.fromkeys(u for member, _ in UNIT_GROUPS.values() for u in units if member(u)))


def group_occupancy(series: pd.DataFrame) -> pd.DataFrame:
    """`occupancy_series` rows (any units, optionally a ``replication`` column) summed into
    the `UNIT_GROUPS`: ``group, replication, start_hours, [start_time], occupied, capacity``.

    Bin means add up, so a group's occupancy is the sum of its units' bin means.
    """
    keys = ["replication", "start_hours"] + (["start_time"] if "start_time" in series else [])
    columns = ["group", *keys, "occupied", "capacity"]
    if series.empty:
        return pd.DataFrame(columns=columns)
    df = series if "replication" in series else series.assign(replication=0)
    units = list(dict.fromkeys(df["unit"].astype(str)))
    frames = []
    for group, (member, _) in UNIT_GROUPS.items():
        rows = df[df["unit"].astype(str).isin([u for u in units if member(u)])]
        if rows.empty:
            continue
        summed = rows.groupby(keys, sort=True)[["occupied", "capacity"]].sum().reset_index()
        frames.append(summed.assign(group=group))
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def occupancy_figure(series: pd.DataFrame) -> Figure:
    """Places occupied over time in G&A wards, AMU/AFU and ED cubicles, with capacity in force.

    ``series`` is `flowsim.analysis.occupancy_series` output (e.g. daily bins), for one or more
    replications told apart by a ``replication`` column: the line is the mean over replications,
    the band their range.
    """
    grouped = group_occupancy(series)
    groups = [g for g in UNIT_GROUPS if g in set(grouped["group"])] or list(UNIT_GROUPS)
    n_reps = grouped["replication"].nunique() if len(grouped) else 0
    dated = "start_time" in grouped
    with house_style():
        fig, axes = new_figure(3.1 * len(groups) + 0.8, rows=len(groups))
        bins = _bin_width_text(series)
        fig.suptitle(f"Places occupied over time ({bins} means)")
        for ax, group in zip(axes, groups, strict=True):
            _, noun = UNIT_GROUPS[group]
            g = grouped[grouped["group"] == group]
            ax.set_title(f"{group} ({noun})")
            ax.set_ylabel(f"{noun} occupied")
            if g.empty:
                no_data(ax)
                continue
            by_bin = g.groupby("start_time" if dated else "start_hours", sort=True)
            occ = by_bin["occupied"].agg(["mean", "min", "max"])
            cap = by_bin["capacity"].mean()
            x = occ.index.to_numpy() if dated else occ.index.to_numpy() / 24.0
            if n_reps > 1:
                ax.fill_between(
                    x,
                    occ["min"].to_numpy(),
                    occ["max"].to_numpy(),
                    color=BLUE,
                    alpha=0.18,
                    linewidth=0,
                    label=f"range over {n_reps} replications",
                )
            mean_label = "occupied (mean over replications)" if n_reps > 1 else "occupied"
            ax.plot(x, occ["mean"].to_numpy(), color=BLUE, linewidth=2, label=mean_label)
            ax.plot(
                x,
                cap.to_numpy(),
                color=RED,
                linewidth=1.8,
                linestyle="--",
                drawstyle="steps-post",
                label="capacity in force",
            )
            shown = [occ["min"].to_numpy(), occ["max"].to_numpy(), cap.to_numpy()]
            if noun == "beds":
                ax.plot(
                    x,
                    PLANNING_OCCUPANCY * cap.to_numpy(),
                    color=ORANGE,
                    linewidth=1.4,
                    linestyle=":",
                    drawstyle="steps-post",
                    label=f"{PLANNING_OCCUPANCY:.0%} of capacity (planning cap)",
                )
                shown.append(PLANNING_OCCUPANCY * cap.to_numpy())
            _near_the_data(ax, np.concatenate(shown))
            if dated:
                locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
                ax.xaxis.set_major_locator(locator)
                ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        axes[-1].set_xlabel("date" if dated else "day of the run (after warm-up)")
        handles, labels = _legend_entries(axes)
        if handles:
            fig.legend(handles, labels, loc="outside lower center", ncols=2)
    return fig


PLANNING_OCCUPANCY = 0.92
"""The planning cap on G&A occupancy [O5] (H), drawn on the bed panels."""


def _near_the_data(ax: Axes, values: np.ndarray) -> None:
    """A y axis around the data, not from 0: a few beds of change on a 1,500-bed axis from 0
    is a flat line."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return
    lo, hi = float(finite.min()), float(finite.max())
    pad = max(0.12 * (hi - lo), 1.0)
    ax.set_ylim(max(0.0, lo - pad), hi + pad)


def _legend_entries(axes: Sequence[Axes]) -> tuple[list[Any], list[str]]:
    """Each distinct legend entry of the panels once, for one legend below them all."""
    seen: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    return list(seen.values()), list(seen)


def _bin_width_text(series: pd.DataFrame) -> str:
    if series.empty:
        return "binned"
    width = float((series["end_hours"] - series["start_hours"]).max())
    return "daily" if abs(width - 24.0) < 1e-9 else f"{width:g}-hour"


# ---------------------------------------------------------------- comparison and warm-up


def forest_figure(comparison: pd.DataFrame, title: str | None = None) -> Figure:
    """Each scenario's change from the baseline per KPI, as % of the baseline mean with the
    paired 95% interval: green where better, red where worse, grey where no clear difference.

    ``comparison`` is `flowsim.analysis.compare.paired_comparison` output (any subset of KPIs).
    Percentages put KPIs of different units on one axis; the table carries the absolute values.
    """
    df = comparison.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = 100.0 / df["baseline_mean"].abs().to_numpy()
    df["low"], df["high"] = df["ci_low"] * scale, df["ci_high"] * scale
    kpis = list(dict.fromkeys(df["kpi"]))
    scenarios = list(dict.fromkeys(df["scenario"]))
    step = 0.7 / max(1, len(scenarios))
    markers = "osD^v<>p*h"
    colours = {"better": GREEN, "worse": RED}
    with house_style():
        fig, (ax,) = new_figure(1.2 + 0.55 * len(kpis) * max(1, len(scenarios)) ** 0.5)
        ax.set_title(title or "Change from baseline, % (paired 95% CI)")
        ax.axvline(0.0, color=GREY, linewidth=1.5)
        for j, name in enumerate(scenarios):
            rows = df[df["scenario"] == name].set_index("kpi")
            for i, kpi in enumerate(kpis):
                if kpi not in rows.index:
                    continue
                row = rows.loc[kpi]
                y = i + (j - (len(scenarios) - 1) / 2) * step
                pct = row["pct_change"]
                if not np.isfinite(pct):
                    continue
                colour = colours.get(str(row["assessment"]), GREY)
                if np.isfinite(row["low"]) and np.isfinite(row["high"]):
                    ax.plot([row["low"], row["high"]], [y, y], color=colour, linewidth=2.5)
                ax.plot(
                    pct,
                    y,
                    marker=markers[j % len(markers)],
                    color=colour,
                    markersize=8,
                    linestyle="none",
                    label=name if i == 0 else None,
                )
        ax.set_yticks(range(len(kpis)), [kpi_label(k) for k in kpis])
        ax.set_ylim(len(kpis) - 0.5, -0.5)
        ax.set_xlabel("% change from baseline mean")
        ax.grid(axis="y", alpha=0.0)
        if len(scenarios) > 1:
            fig.legend(loc="outside lower center", ncols=min(4, len(scenarios)))
    return fig


def warmup_figure(series: pd.DataFrame, truncation: pd.DataFrame, warm_up_days: float) -> Figure:
    """Occupancy from an empty start, one panel per unit: each replication faint, their mean
    bold, MSER-5's truncation point per unit and the recommended warm-up as vertical lines.

    ``series``: ``replication, unit, day, occupied``; ``truncation``: ``unit, truncation_days``.
    """
    units = list(dict.fromkeys(series["unit"].astype(str)))
    cut = dict(zip(truncation["unit"], truncation["truncation_days"], strict=True))
    with house_style():
        fig, axes = new_figure(2.3 * max(1, len(units)) + 0.8, rows=max(1, len(units)))
        fig.suptitle(f"Warm-up: occupancy from an empty start (recommended: {warm_up_days:g} days)")
        for ax, unit in zip(axes, units, strict=False):
            rows = series[series["unit"].astype(str) == unit]
            for _, rep in rows.groupby("replication"):
                ax.plot(rep["day"], rep["occupied"], color=BLUE, alpha=0.2, linewidth=0.8)
            mean = rows.groupby("day")["occupied"].mean()
            ax.plot(mean.index, mean.to_numpy(), color=BLUE, linewidth=2.2)
            if unit in cut:
                ax.axvline(cut[unit], color=ORANGE, linestyle=":", linewidth=1.8)
            ax.axvline(warm_up_days, color=RED, linestyle="--", linewidth=2)
            ax.set_title(_warmup_title(unit), fontsize=13)
            ax.set_ylabel("occupied")
        axes[-1].set_xlabel("day of run")
    return fig


def _warmup_title(unit: str) -> str:
    return "G&A beds (AMU, AFU, wards)" if unit == GENERAL_ACUTE else unit_label(unit)


# ---------------------------------------------------------------- when the ED is under pressure

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def hour_weekday_figure(table: pd.DataFrame, title: str | None = None) -> Figure:
    """Patients in ED, patients boarding and ambulance handover delay by weekday and hour of day,
    one heatmap each: the weekly rhythm a room can plan staffing and flow huddles around.

    ``table`` is `flowsim.analysis.figure_data.hour_weekday_table` output, for one or more
    replications (concatenated): each cell shows its pooled total over its pooled count; cells
    with nothing measured are grey.
    """
    measures = [m for m in HOUR_WEEKDAY_MEASURES if m in set(table["measure"])] or list(
        HOUR_WEEKDAY_MEASURES
    )
    cmaps = {"ed_occupancy": "Blues", "boarding": "Oranges", "handover_delay": "Reds"}
    with house_style():
        fig = Figure(figsize=(WIDTH_INCHES, 2.9 * len(measures) + 0.9), layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(len(measures), 1, squeeze=False)[:, 0]
        fig.suptitle(title or "When the ED is under pressure: mean by weekday and hour of day")
        for ax, measure in zip(axes, measures, strict=True):
            what, unit = HOUR_WEEKDAY_MEASURES[measure]
            ax.set_title(f"{what} ({unit})", fontsize=14)
            ax.grid(False)
            rows = table[table["measure"] == measure]
            cells = rows.groupby(["weekday", "hour"])[["total", "count"]].sum()
            grid = np.full((7, 24), np.nan)
            if len(cells):
                idx = cells.index.to_frame(index=False).to_numpy(dtype=np.int64)
                count = cells["count"].to_numpy(dtype=np.float64)
                with np.errstate(invalid="ignore", divide="ignore"):
                    value = np.where(count > 0, cells["total"].to_numpy() / count, np.nan)
                grid[idx[:, 0], idx[:, 1]] = value
            cmap = mpl.colormaps[cmaps.get(measure, "Blues")].with_extremes(bad="#dddddd")
            finite = grid[np.isfinite(grid)]
            top = float(finite.max()) if len(finite) and finite.max() > 0 else 1.0
            image = ax.imshow(
                np.ma.masked_invalid(grid),
                aspect="auto",
                cmap=cmap,
                vmin=0.0,
                vmax=top,
                interpolation="nearest",
            )
            ax.set_yticks(range(7), _WEEKDAYS)
            ax.set_xticks(range(0, 24, 3), [f"{h:02d}:00" for h in range(0, 24, 3)])
            ax.tick_params(length=0)
            for side in ("left", "bottom"):
                ax.spines[side].set_visible(False)
            bar = fig.colorbar(image, ax=ax, pad=0.01, fraction=0.05)
            bar.set_label(unit)
            if not len(finite):
                no_data(ax)
        axes[-1].set_xlabel("hour of day (clock time the hour starts)")
    return fig
