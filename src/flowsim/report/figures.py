"""Figures of a run, drawn with matplotlib's object API on the Agg canvas (no pyplot, no GUI).

Each function takes plain tables or arrays (pooled over replications) and returns a `Figure`
in one house style: large type, titles that say what is shown and in which unit, the standards
drawn as labelled lines. Nothing here changes matplotlib's global state.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from flowsim.analysis.figure_data import (
    FLOW_NODE_ORDER,
    FLOW_STAGES,
    HOUR_WEEKDAY_MEASURES,
    NOT_ADMITTED,
    STILL_IN_CARE,
    WARD,
    unit_label,
)
from flowsim.analysis.kpis import GENERAL_ACUTE
from flowsim.report.labels import kpi_label
from flowsim.scenario.schema import FRAILTY_BANDS
from flowsim.scenario.units import in_group, is_ward

__all__ = [
    "UNIT_GROUPS",
    "blocking_chain_figure",
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
    "warmup_figure",
]

UNIT_GROUPS: dict[str, tuple[Callable[[str], bool], str]] = {
    "G&A wards": (is_ward, "beds"),
    "AMU and AFU": (lambda unit: in_group(unit, "acute"), "beds"),
    "ED cubicles": (lambda unit: unit == "ed_cubicle", "cubicles"),
}
"""Panels of `occupancy_figure`: title -> (which units it sums, what a place is called)."""

WIDTH_INCHES = 10.0
DPI = 110
_BLUE, _GREY, _RED, _ORANGE, _GREEN = "#1f5fa8", "#555555", "#b3261e", "#c66a00", "#1e7b34"
_STYLE: dict[str, Any] = {
    "font.size": 13,
    "axes.titlesize": 15,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 13,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.fontsize": 11,
    "legend.frameon": False,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "figure.titlesize": 17,
    "figure.titleweight": "bold",
    "savefig.dpi": DPI,
    "savefig.facecolor": "white",
}


@contextmanager
def _style() -> Iterator[None]:
    """The house style, for drawing and saving alike (tick labels are made at draw time)."""
    with mpl.rc_context(_STYLE):
        yield


def _figure(height: float, rows: int = 1) -> tuple[Figure, list[Axes]]:
    fig = Figure(figsize=(WIDTH_INCHES, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 1, squeeze=False, sharex=True)[:, 0]
    return fig, list(axes)


def figure_png(fig: Figure) -> bytes:
    """The figure as PNG bytes, in the house style."""
    buf = io.BytesIO()
    with _style():
        fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


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
    with _style():
        fig, axes = _figure(3.1 * len(groups) + 0.8, rows=len(groups))
        bins = _bin_width_text(series)
        fig.suptitle(f"Places occupied over time ({bins} means)")
        for row, (ax, group) in enumerate(zip(axes, groups, strict=True)):
            _, noun = UNIT_GROUPS[group]
            g = grouped[grouped["group"] == group]
            ax.set_title(f"{group} ({noun})")
            ax.set_ylabel(f"{noun} occupied")
            if g.empty:
                _no_data(ax)
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
                    color=_BLUE,
                    alpha=0.18,
                    linewidth=0,
                    label=f"range over {n_reps} replications",
                )
            mean_label = "occupied (mean over replications)" if n_reps > 1 else "occupied"
            ax.plot(x, occ["mean"].to_numpy(), color=_BLUE, linewidth=2, label=mean_label)
            ax.plot(
                x,
                cap.to_numpy(),
                color=_RED,
                linewidth=1.8,
                linestyle="--",
                drawstyle="steps-post",
                label="capacity in force",
            )
            top = float(np.nanmax([occ["max"].max(), cap.max(), 1.0]))
            ax.set_ylim(0, top * 1.12)
            if row == 0:
                ax.legend(loc="lower left", ncols=3)
            if dated:
                locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
                ax.xaxis.set_major_locator(locator)
                ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        axes[-1].set_xlabel("date" if dated else "day of the run (after warm-up)")
    return fig


def _bin_width_text(series: pd.DataFrame) -> str:
    if series.empty:
        return "binned"
    width = float((series["end_hours"] - series["start_hours"]).max())
    return "daily" if abs(width - 24.0) < 1e-9 else f"{width:g}-hour"


# ---------------------------------------------------------------- distributions


def ed_time_figure(hours: Sequence[float] | np.ndarray) -> Figure:
    """Distribution of time in ED (arrival to leaving ED, hours) with the 4- and 12-hour lines.

    ``hours`` pools attendances over replications. The axis runs to 24, 48 or 72 hours (the
    first that holds 99% of them; bars of 15, 30 or 60 minutes); longer times are one grey bar
    at the right.
    """
    return _distribution(
        np.asarray(hours, dtype=np.float64),
        title="Time in ED, arrival to leaving (hours)",
        xlabel="hours in ED",
        ylabel="% of attendances",
        noun="attendances",
        tops=((24.0, 0.25), (48.0, 0.5), (72.0, 1.0)),
        unit=("hour", 60.0),
        lines=((4.0, "4 hours", "within"), (12.0, "12 hours", "over")),
    )


def handover_figure(minutes: Sequence[float] | np.ndarray) -> Figure:
    """Distribution of ambulance handover delay (arrival at ED to crew released, minutes) with
    the 30- and 60-minute lines.

    The axis runs to 2, 3, 4 or 6 hours (the first that holds 99% of delays); longer delays are
    one grey bar at the right.
    """
    return _distribution(
        np.asarray(minutes, dtype=np.float64),
        title="Ambulance handover delay (minutes)",
        xlabel="minutes from arrival at ED to crew released",
        ylabel="% of ambulance arrivals",
        noun="ambulance arrivals",
        tops=((120.0, 5.0), (180.0, 5.0), (240.0, 10.0), (360.0, 10.0)),
        unit=("minute", 1.0),
        lines=((30.0, "30 min", "over"), (60.0, "60 min", "over")),
    )


def _distribution(
    values: np.ndarray,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    noun: str,
    tops: Sequence[tuple[float, float]],
    unit: tuple[str, float],
    lines: Sequence[tuple[float, str, str]],
) -> Figure:
    values = values[np.isfinite(values)]
    name, minutes_per_unit = unit
    p99 = float(np.quantile(values, 0.99)) if len(values) else 0.0
    top, width = next(((t, w) for t, w in tops if p99 <= t), tops[-1])
    bars = round(top / width)
    with _style():
        fig, (ax,) = _figure(5.2)
        ax.set_title(f"{title}, n = {len(values):,} {noun}")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"{ylabel}\nper {width * minutes_per_unit:g}-minute bar")
        ax.set_xlim(0, top + 1.5 * width)
        if not len(values):
            _no_data(ax)
            return fig
        share = 100.0 / len(values)
        inside = values[values <= top]
        ax.hist(
            np.clip(inside, 0.0, None),
            bins=np.linspace(0.0, top, bars + 1),
            weights=np.full(len(inside), share),
            color=_BLUE,
            alpha=0.85,
            edgecolor="white",
            linewidth=0.3,
        )
        beyond = len(values) - len(inside)
        if beyond:
            ax.bar(
                top + 0.5 * width,
                beyond * share,
                width=width,
                align="edge",
                color=_GREY,
                label=f"over {top:g} {name}s: {_share(beyond * share)}",
            )
        for (at, label, side), colour in zip(lines, (_ORANGE, _RED), strict=False):
            pct = 100.0 * (np.mean(values <= at) if side == "within" else np.mean(values > at))
            ax.axvline(
                at,
                color=colour,
                linewidth=2,
                linestyle="--",
                label=f"{label}: {_share(pct)} {side}",
            )
        ax.legend(loc="upper right")
    return fig


def _share(pct: float) -> str:
    return "<0.1%" if 0 < pct < 0.05 else f"{pct:.1f}%"


def _no_data(ax: Axes) -> None:
    ax.text(
        0.5,
        0.5,
        "nothing to show in the measured period",
        transform=ax.transAxes,
        ha="center",
        va="center",
        color=_GREY,
    )


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
    colours = {"better": _GREEN, "worse": _RED}
    with _style():
        fig, (ax,) = _figure(1.2 + 0.55 * len(kpis) * max(1, len(scenarios)) ** 0.5)
        ax.set_title(title or "Change from baseline, % (paired 95% CI)")
        ax.axvline(0.0, color=_GREY, linewidth=1.5)
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
                colour = colours.get(str(row["assessment"]), _GREY)
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
            ax.legend(loc="lower right")
    return fig


def warmup_figure(series: pd.DataFrame, truncation: pd.DataFrame, warm_up_days: float) -> Figure:
    """Occupancy from an empty start, one panel per unit: each replication faint, their mean
    bold, MSER-5's truncation point per unit and the recommended warm-up as vertical lines.

    ``series``: ``replication, unit, day, occupied``; ``truncation``: ``unit, truncation_days``.
    """
    units = list(dict.fromkeys(series["unit"].astype(str)))
    cut = dict(zip(truncation["unit"], truncation["truncation_days"], strict=True))
    with _style():
        fig, axes = _figure(2.3 * max(1, len(units)) + 0.8, rows=max(1, len(units)))
        fig.suptitle(f"Warm-up: occupancy from an empty start (recommended: {warm_up_days:g} days)")
        for ax, unit in zip(axes, units, strict=False):
            rows = series[series["unit"].astype(str) == unit]
            for _, rep in rows.groupby("replication"):
                ax.plot(rep["day"], rep["occupied"], color=_BLUE, alpha=0.2, linewidth=0.8)
            mean = rows.groupby("day")["occupied"].mean()
            ax.plot(mean.index, mean.to_numpy(), color=_BLUE, linewidth=2.2)
            if unit in cut:
                ax.axvline(cut[unit], color=_ORANGE, linestyle=":", linewidth=1.8)
            ax.axvline(warm_up_days, color=_RED, linestyle="--", linewidth=2)
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
    with _style():
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
                _no_data(ax)
        axes[-1].set_xlabel("hour of day (clock time the hour starts)")
    return fig


# ---------------------------------------------------------------- length of stay by frailty

_SCENARIO_COLOURS = (_BLUE, _ORANGE, _GREEN, _RED, "#6a3d9a", _GREY)


def los_figure(table: pd.DataFrame, title: str | None = None) -> Figure:
    """Length of hospital stay by frailty band, one panel per band, each scenario overlaid with
    its median: frailty drives length of stay, and a change for frail patients shows here first.

    ``table`` is `flowsim.analysis.figure_data.los_table` output (``frailty, los_days``) with an
    optional ``scenario`` column (one scenario without it); the first scenario is filled, the
    others drawn as outlines. Stays beyond the axis are counted in the legend.
    """
    df = table if "scenario" in table else table.assign(scenario="")
    scenarios = list(dict.fromkeys(df["scenario"].astype(str)))
    bands = [str(b) for b in FRAILTY_BANDS]
    values = df["los_days"].to_numpy(dtype=np.float64)
    values = values[np.isfinite(values)]
    p95 = float(np.quantile(values, 0.95)) if len(values) else 0.0
    top = next((t for t in (7.0, 14.0, 28.0, 56.0) if p95 <= t), 84.0)
    width = top / 28.0
    edges = np.linspace(0.0, top, 29)
    with _style():
        fig, axes = _figure(2.6 * len(bands) + 1.0, rows=len(bands))
        fig.suptitle(title or "Length of hospital stay by frailty band (days)")
        for ax, band in zip(axes, bands, strict=True):
            ax.set_title(_BAND_NAMES.get(band, band), fontsize=14)
            ax.set_ylabel(f"% of stays\nper {_days(width)} bar")
            shown = False
            for j, name in enumerate(scenarios):
                rows = df[
                    (df["scenario"].astype(str) == name) & (df["frailty"].astype(str) == band)
                ]
                los = rows["los_days"].to_numpy(dtype=np.float64)
                los = los[np.isfinite(los)]
                if not len(los):
                    continue
                shown = True
                colour = _SCENARIO_COLOURS[j % len(_SCENARIO_COLOURS)]
                share = np.full(len(los), 100.0 / len(los))
                inside = los <= top
                median = float(np.median(los))
                beyond = 100.0 * float(np.mean(~inside))
                label = f"{name + ': ' if name else ''}median {median:.1f} d, n = {len(los):,}"
                if beyond > 0:
                    label += f", over {top:g} d: {_share(beyond)}"
                ax.hist(
                    los[inside],
                    bins=edges,
                    weights=share[inside],
                    histtype="stepfilled" if j == 0 else "step",
                    color=colour,
                    alpha=0.45 if j == 0 else 1.0,
                    linewidth=0 if j == 0 else 2.2,
                    label=label,
                )
                ax.axvline(median, color=colour, linestyle="--", linewidth=2)
            ax.set_xlim(0, top)
            if shown:
                ax.legend(loc="upper right")
            else:
                _no_data(ax)
        axes[-1].set_xlabel("days from admission (AMU, AFU or ward) to leaving hospital")
    return fig


_BAND_NAMES = {
    "fit": "Fit (CFS 1-4)",
    "frail": "Frail (CFS 5-6)",
    "severe": "Severely frail (CFS 7-9)",
}


def _days(width: float) -> str:
    hours = width * 24.0
    return f"{width:g}-day" if width >= 1 else f"{hours:g}-hour"


# ---------------------------------------------------------------- flow through the pathway

_NODE_COLOURS = {
    unit_label("ambulance"): _RED,
    unit_label("walk_in"): _BLUE,
    unit_label("gp_referral"): _GREEN,
    "UCR at home": _GREEN,
    "ED": _BLUE,
    unit_label("sdec"): "#6a3d9a",
    NOT_ADMITTED: _GREEN,
    unit_label("virtual_ward"): "#6a3d9a",
    unit_label("amu"): _ORANGE,
    unit_label("afu"): "#8c510a",
    WARD: _RED,
    unit_label("home"): _GREEN,
    unit_label("died"): "#222222",
    STILL_IN_CARE: "#999999",
}


def flow_figure(
    links: pd.DataFrame, unit: str = "patients a day", title: str | None = None
) -> Figure:
    """Patient volumes through the pathway, left to right: arrival route, first service,
    admission and how patients left, each band as wide as the patients taking that path.

    ``links`` is `flowsim.analysis.figure_data.flow_links` output (``source_stage, source,
    target_stage, target, patients``); ``unit`` says what ``patients`` counts (e.g. patients a
    day, after dividing by days and replications).
    """
    from matplotlib.patches import PathPatch, Rectangle
    from matplotlib.path import Path as MplPath

    stages = [s for s, _ in FLOW_STAGES]
    headings = dict(FLOW_STAGES)
    df = links[links["patients"] > 0]
    value: dict[tuple[str, str], float] = {}
    for stage, node_col in (("source_stage", "source"), ("target_stage", "target")):
        sums = df.groupby([stage, node_col], sort=False)["patients"].sum()
        for (s, n), v in sums.items():
            value[(str(s), str(n))] = max(value.get((str(s), str(n)), 0.0), float(v))
    order = {name: i for i, name in enumerate(FLOW_NODE_ORDER)}
    columns = {
        s: sorted(
            (n for (st, n) in value if st == s),
            key=lambda n: (order.get(n, len(order)), -value[(s, n)]),
        )
        for s in stages
    }
    total = max((sum(value[(s, n)] for n in columns[s]) for s in stages), default=0.0)
    crowded = max((len(c) for c in columns.values()), default=1)
    gap = 0.035
    scale = (1.0 - gap * max(crowded - 1, 0)) / total if total > 0 else 0.0
    node_w = 0.05
    xs = {s: float(i) for i, s in enumerate(stages)}
    top: dict[tuple[str, str], float] = {}
    for s in stages:
        y = 1.0
        for n in columns[s]:
            top[(s, n)] = y
            y -= value[(s, n)] * scale + gap

    def colour(node: str) -> str:
        if node in _NODE_COLOURS:
            return _NODE_COLOURS[node]
        return _ORANGE if node.startswith("P") else _BLUE

    with _style():
        fig, (ax,) = _figure(7.8)
        ax.set_title(title or f"Where patients go: {unit} along each path")
        ax.set_axis_off()
        if total <= 0:
            _no_data(ax)
            return fig
        out_used = dict.fromkeys(top, 0.0)
        in_used = dict.fromkeys(top, 0.0)
        ranked = df.assign(
            _src=[order.get(str(n), len(order)) for n in df["source"]],
            _tgt=[order.get(str(n), len(order)) for n in df["target"]],
        ).sort_values(["source_stage", "_src", "_tgt"], kind="stable")
        for row in ranked.itertuples(index=False):
            a, b = (
                (str(row.source_stage), str(row.source)),
                (str(row.target_stage), str(row.target)),
            )
            h = float(row.patients) * scale
            y0 = top[a] - out_used[a]
            y1 = top[b] - in_used[b]
            out_used[a] += h
            in_used[b] += h
            x0, x1 = xs[a[0]] + node_w, xs[b[0]]
            mid = (x0 + x1) / 2.0
            verts = [
                (x0, y0),
                (mid, y0),
                (mid, y1),
                (x1, y1),
                (x1, y1 - h),
                (mid, y1 - h),
                (mid, y0 - h),
                (x0, y0 - h),
                (x0, y0),
            ]
            codes = [MplPath.MOVETO] + [MplPath.CURVE4] * 3 + [MplPath.LINETO]
            codes += [MplPath.CURVE4] * 3 + [MplPath.CLOSEPOLY]
            ax.add_patch(
                PathPatch(MplPath(verts, codes), facecolor=colour(a[1]), alpha=0.3, linewidth=0)
            )
        for (s, n), y in top.items():
            h = value[(s, n)] * scale
            ax.add_patch(Rectangle((xs[s], y - h), node_w, h, color=colour(n), linewidth=0))
            ax.text(
                xs[s] + node_w + 0.03,
                y - h / 2.0,
                f"{n}  {_volume(value[(s, n)])}",
                ha="left",
                va="center",
                fontsize=12,
                bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 1.0},
            )
        for s in stages:
            ax.text(xs[s], 1.04, headings[s], ha="left", va="bottom", fontsize=14, weight="bold")
        ax.set_xlim(-0.02, len(stages) - 1 + 0.95)
        ax.set_ylim(min(top[(s, n)] - value[(s, n)] * scale for (s, n) in top) - 0.02, 1.1)
    return fig


def _volume(v: float) -> str:
    return f"{v:,.0f}" if v >= 10 else f"{v:.1f}" if v >= 0.1 else f"{v:.2f}"


# ---------------------------------------------------------------- the blocking chain


def blocking_chain_figure(chain: list[str], hours: Mapping[str, float] | None = None) -> Figure:
    """The blocking chain as boxes and arrows, left to right from the primary constraint
    (highlighted) to where the queue shows, so the room sees that the cure is far from the
    symptom.

    ``chain`` names units as the analysis does (``["p1", "ward:care_of_elderly", "amu",
    "ed_cubicle", "handover"]``); ``hours`` gives the patient-hours a day spent waiting at each
    link, shown under its box when given.
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    n = len(chain)
    width = max(WIDTH_INCHES, 2.3 * n)
    with _style():
        fig = Figure(figsize=(width, 4.2), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        ax.set_axis_off()
        ax.set_title("How waiting travels upstream: the blocking chain")
        ax.set_xlim(0, max(n, 1))
        ax.set_ylim(0, 1)
        if not n:
            _no_data(ax)
            return fig
        box_w, box_h, y0 = 0.78, 0.42, 0.36
        for i, unit in enumerate(chain):
            first = i == 0
            left = i + (1 - box_w) / 2
            ax.add_patch(
                FancyBboxPatch(
                    (left, y0),
                    box_w,
                    box_h,
                    boxstyle="round,pad=0.0,rounding_size=0.06",
                    facecolor="#fbe3e1" if first else "#e8eef7",
                    edgecolor=_RED if first else _BLUE,
                    linewidth=3.0 if first else 1.5,
                )
            )
            ax.text(
                i + 0.5,
                y0 + box_h / 2,
                textwrap.fill(_chain_label(unit, first), 13),
                ha="center",
                va="center",
                fontsize=13,
                weight="bold" if first else "normal",
            )
            if first:
                ax.text(
                    i + 0.5,
                    y0 + box_h + 0.04,
                    "primary constraint",
                    ha="center",
                    va="bottom",
                    color=_RED,
                    fontsize=12,
                    weight="bold",
                )
            if hours is not None and unit in hours and np.isfinite(hours[unit]):
                ax.text(
                    i + 0.5,
                    y0 - 0.05,
                    f"{_volume(float(hours[unit]))}\npatient-hours\nwaiting a day",
                    ha="center",
                    va="top",
                    fontsize=12,
                    color=_GREY,
                )
            if i + 1 < n:
                ax.add_patch(
                    FancyArrowPatch(
                        (left + box_w + 0.01, y0 + box_h / 2),
                        (i + 1 + (1 - box_w) / 2 - 0.01, y0 + box_h / 2),
                        arrowstyle="-|>",
                        mutation_scale=22,
                        linewidth=2.2,
                        color=_GREY,
                    )
                )
        fig.text(
            0.01,
            0.01,
            "Read left to right: a shortage in each box keeps patients waiting in the next one.",
            fontsize=11,
            color=_GREY,
        )
    return fig


def _chain_label(unit: str, first: bool) -> str:
    if unit == "ed_cubicle" and not first:
        return "ED boarding"
    return unit_label(unit)


# ---------------------------------------------------------------- sensitivity


def tornado_figure(table: pd.DataFrame, title: str | None = None, top: int = 12) -> Figure:
    """One-at-a-time sensitivity as a tornado: per KPI, each input's effect at its low (blue)
    and high (orange) value, with the paired 95% CI, the input with the largest swing on top.

    ``table`` is `flowsim.analysis.sensitivity.sensitivity_table` output (one panel per KPI in
    it); ``top`` keeps the inputs with the largest swings in each panel. Effects are in the
    KPI's own unit, so each panel has its own axis; the value tried is written at the bar's end.
    """
    kpis = list(dict.fromkeys(table["kpi"]))
    colours = {"low": _BLUE, "high": _ORANGE}
    with _style():
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
            ax.axvline(0.0, color=_GREY, linewidth=1.5)
            for i, param in enumerate(params):
                for row in rows[rows["parameter"] == param].itertuples(index=False):
                    offset = -0.18 if row.side == "low" else 0.18
                    diff = float(row.difference)
                    if not np.isfinite(diff):
                        continue
                    colour = colours.get(str(row.side), _GREY)
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
                        color=_GREY,
                    )
            ax.set_yticks(range(len(params)), [_wrap_key(p) for p in params])
            ax.set_ylim(len(params) - 0.5, -0.5)
            ax.set_title(f"{kpi_label(kpi)}: change ({unit})", fontsize=13)
            ax.grid(axis="y", alpha=0.0)
            ax.margins(x=0.25)
            if not params:
                _no_data(ax)
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
    fig, (ax,) = _figure(4.2)
    x = np.sort(np.asarray(observed, dtype=float))
    if not len(x):
        _no_data(ax)
        return fig
    probs = (np.arange(1, len(x) + 1) - 0.5) / len(x)
    fitted = quantile(probs)
    ax.scatter(fitted, x, s=10, color=_BLUE, alpha=0.6)
    top = float(np.nanmax([x.max(), np.nanmax(fitted)]))
    ax.plot([0, top], [0, top], color=_GREY, linewidth=1)
    ax.set_xlabel(f"fitted quantile ({unit})")
    ax.set_ylabel(f"observed ({unit})")
    ax.set_title(title)
    return fig


def check_fit_figure(table: pd.DataFrame) -> Figure:
    """Each KPI: the observed value (red) against the simulated mean with its 95% prediction
    interval for one period (blue bar), as a share of the observed value so KPIs share an axis."""
    fig, (ax,) = _figure(0.7 * len(table) + 1.5)
    y = np.arange(len(table))[::-1]
    obs = table["observed"].to_numpy(dtype=float)
    scale = np.where(np.abs(obs) > 0, np.abs(obs), 1.0)

    def rel(col: str) -> np.ndarray:
        return 100.0 * table[col].to_numpy(dtype=float) / scale

    ax.hlines(y, rel("pi_low"), rel("pi_high"), color=_BLUE, linewidth=6, alpha=0.35)
    ax.scatter(rel("sim_mean"), y, color=_BLUE, zorder=3, label="simulated mean (bar: 95% PI)")
    ax.scatter(100.0 * obs / scale, y, color=_RED, marker="D", zorder=4, label="observed")
    ax.set_yticks(y, [str(k) for k in table["label"]])
    ax.set_xlabel("% of the observed value")
    ax.set_title("Fitted scenario against the extract")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
    return fig
