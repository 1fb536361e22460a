"""Figures of a run, drawn with matplotlib's object API on the Agg canvas (no pyplot, no GUI).

Each function takes plain tables or arrays (pooled over replications) and returns a `Figure`
in one house style: large type, titles that say what is shown and in which unit, the standards
drawn as labelled lines. Nothing here changes matplotlib's global state.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from flowsim.report.labels import kpi_label

__all__ = [
    "UNIT_GROUPS",
    "ed_time_figure",
    "figure_png",
    "forest_figure",
    "group_occupancy",
    "handover_figure",
    "occupancy_figure",
    "occupancy_units",
    "warmup_figure",
]

UNIT_GROUPS: dict[str, tuple[str, str]] = {
    "G&A wards": ("ward:", "beds"),
    "AMU and AFU": ("amu|afu", "beds"),
    "ED cubicles": ("ed_cubicle", "cubicles"),
}
"""Panels of `occupancy_figure`: title -> (units, "|"-separated, a ``:`` suffix for a prefix;
what a place is called)."""

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


def _members(units: Sequence[str], spec: str) -> list[str]:
    out = []
    for part in spec.split("|"):
        out += [u for u in units if (u.startswith(part) if part.endswith(":") else u == part)]
    return out


def occupancy_units(units: Sequence[str]) -> list[str]:
    """The units `occupancy_figure` draws, out of ``units``."""
    return list(dict.fromkeys(u for spec, _ in UNIT_GROUPS.values() for u in _members(units, spec)))


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
    for group, (spec, _) in UNIT_GROUPS.items():
        rows = df[df["unit"].astype(str).isin(_members(units, spec))]
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
    names = {"general_acute": "G&A beds (AMU, AFU, wards)", "ed_cubicle": "ED cubicles"}
    return names.get(unit, unit.replace("_", " ").upper() if len(unit) <= 3 else unit)
