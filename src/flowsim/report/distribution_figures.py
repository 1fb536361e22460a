"""Figures of distributions pooled over replications: time in ED, ambulance handover delay and
length of stay by frailty band.

Each takes the values, or (what ``flowsim run`` keeps of each replication, so its memory does not
grow with them) a `flowsim.report.histograms.Histogram` on the edges given here; both draw the
same bars, lines and counts. Importable from `flowsim.report.figures`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from flowsim.report.histograms import Histogram, edges_for
from flowsim.report.style import BLUE, GREEN, GREY, ORANGE, RED, house_style, new_figure, no_data
from flowsim.scenario.schema import FRAILTY_BANDS

__all__ = [
    "ED_EDGES_HOURS",
    "HANDOVER_EDGES_MINUTES",
    "LOS_EDGES_DAYS",
    "ed_time_figure",
    "handover_figure",
    "los_figure",
]

# ---------------------------------------------------------------- distributions


_ED_TOPS_HOURS = ((24.0, 0.25), (48.0, 0.5), (72.0, 1.0))
_ED_LINES = ((4.0, "4 hours", "within"), (12.0, "12 hours", "over"))
ED_EDGES_HOURS = edges_for(_ED_TOPS_HOURS, [at for at, _, _ in _ED_LINES])
"""Edges a `Histogram` of time in ED needs for `ed_time_figure` to draw it as from the values."""

_HANDOVER_TOPS_MINUTES = ((120.0, 5.0), (180.0, 5.0), (240.0, 10.0), (360.0, 10.0))
_HANDOVER_LINES = ((30.0, "30 min", "over"), (60.0, "60 min", "over"))
HANDOVER_EDGES_MINUTES = edges_for(_HANDOVER_TOPS_MINUTES, [at for at, _, _ in _HANDOVER_LINES])
"""The same for `handover_figure`."""


def ed_time_figure(hours: Sequence[float] | np.ndarray | Histogram) -> Figure:
    """Distribution of time in ED (arrival to leaving ED, hours) with the 4- and 12-hour lines.

    ``hours`` pools attendances over replications: their values, or a `Histogram` of them on
    `ED_EDGES_HOURS` (what a run keeps). The axis runs to 24, 48 or 72 hours (the first that
    holds 99% of them; bars of 15, 30 or 60 minutes); longer times are one grey bar at the right.
    """
    return _distribution(
        _histogram(hours, ED_EDGES_HOURS, 0.99),
        title="Time in ED, arrival to leaving (hours)",
        xlabel="hours in ED",
        ylabel="% of attendances",
        noun="attendances",
        tops=_ED_TOPS_HOURS,
        unit=("hour", 60.0),
        lines=_ED_LINES,
    )


def handover_figure(minutes: Sequence[float] | np.ndarray | Histogram) -> Figure:
    """Distribution of ambulance handover delay (arrival at ED to crew released, minutes) with
    the 30- and 60-minute lines; ``minutes`` as values or a `Histogram` on
    `HANDOVER_EDGES_MINUTES`.

    The axis runs to 2, 3, 4 or 6 hours (the first that holds 99% of delays); longer delays are
    one grey bar at the right.
    """
    return _distribution(
        _histogram(minutes, HANDOVER_EDGES_MINUTES, 0.99),
        title="Ambulance handover delay (minutes)",
        xlabel="minutes from arrival at ED to crew released",
        ylabel="% of ambulance arrivals",
        noun="ambulance arrivals",
        tops=_HANDOVER_TOPS_MINUTES,
        unit=("minute", 1.0),
        lines=_HANDOVER_LINES,
    )


def _histogram(
    data: Sequence[float] | np.ndarray | Histogram, edges: np.ndarray, q: float
) -> tuple[Histogram, Callable[[float], bool]]:
    """``data`` as a histogram on ``edges``, and whether its ``q`` quantile is at most a limit:
    from the values exactly when given them (as `np.quantile`; 0 for none)."""
    if isinstance(data, Histogram):
        return data, lambda limit: data.quantile_at_most(q, limit)
    values = np.asarray(data, dtype=np.float64)
    values = values[np.isfinite(values)]
    quantile = float(np.quantile(values, q)) if len(values) else 0.0
    return Histogram.of(values, edges), lambda limit: quantile <= limit


def _distribution(
    data: tuple[Histogram, Callable[[float], bool]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    noun: str,
    tops: Sequence[tuple[float, float]],
    unit: tuple[str, float],
    lines: Sequence[tuple[float, str, str]],
) -> Figure:
    hist, fits = data
    n = hist.n
    name, minutes_per_unit = unit
    top, width = next(((t, w) for t, w in tops if fits(t)), tops[-1])
    bars = round(top / width)
    with house_style():
        fig, (ax,) = new_figure(5.2)
        ax.set_title(f"{title}, n = {n:,} {noun}")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"{ylabel}\nper {width * minutes_per_unit:g}-minute bar")
        ax.set_xlim(0, top + 1.5 * width)
        if not n:
            no_data(ax)
            return fig
        share = 100.0 / n
        edges = np.linspace(0.0, top, bars + 1)
        ax.hist(
            edges[:-1],
            bins=edges,
            weights=hist.bars(edges, clip_low=True) * share,
            color=BLUE,
            alpha=0.85,
            edgecolor="white",
            linewidth=0.3,
        )
        beyond = n - hist.at_most(top)
        if beyond:
            ax.bar(
                top + 0.5 * width,
                beyond * share,
                width=width,
                align="edge",
                color=GREY,
                label=f"over {top:g} {name}s: {_share(beyond * share)}",
            )
        for (at, label, side), colour in zip(lines, (ORANGE, RED), strict=False):
            within = hist.at_most(at)
            pct = 100.0 * (within if side == "within" else n - within) / n
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


# ---------------------------------------------------------------- length of stay by frailty

_SCENARIO_COLOURS = (BLUE, ORANGE, GREEN, RED, "#6a3d9a", GREY)


_LOS_TOPS_DAYS = (7.0, 14.0, 28.0, 56.0, 84.0)
_LOS_BARS = 28
LOS_EDGES_DAYS = edges_for([(t, t / _LOS_BARS) for t in _LOS_TOPS_DAYS], step=1.0 / 24.0)
"""Edges of a `Histogram` of length of stay for `los_figure`: its bar edges, and hours between
(the median it prints is interpolated within an hour)."""


def los_figure(table: pd.DataFrame | Mapping[str, Histogram], title: str | None = None) -> Figure:
    """Length of hospital stay by frailty band, one panel per band, each scenario overlaid with
    its median: frailty drives length of stay, and a change for frail patients shows here first.

    ``table`` is `flowsim.analysis.figure_data.los_table` output (``frailty, los_days``) with an
    optional ``scenario`` column (one scenario without it); the first scenario is filled, the
    others drawn as outlines. Or, for one scenario, frailty band -> `Histogram` of its stays on
    `LOS_EDGES_DAYS` (what a run keeps). Stays beyond the axis are counted in the legend.
    """
    bands = [str(b) for b in FRAILTY_BANDS]
    if isinstance(table, pd.DataFrame):
        scenarios, fits, panel = _los_of_table(table)
    else:
        scenarios, fits, panel = _los_of_histograms(table)
    top = next((t for t in _LOS_TOPS_DAYS[:-1] if fits(t)), _LOS_TOPS_DAYS[-1])
    width = top / _LOS_BARS
    edges = np.linspace(0.0, top, _LOS_BARS + 1)
    with house_style():
        fig, axes = new_figure(2.6 * len(bands) + 1.0, rows=len(bands))
        fig.suptitle(title or "Length of hospital stay by frailty band (days)")
        for ax, band in zip(axes, bands, strict=True):
            ax.set_title(_BAND_NAMES.get(band, band), fontsize=14)
            ax.set_ylabel(f"% of stays\nper {_days(width)} bar")
            shown = False
            for j, name in enumerate(scenarios):
                found = panel(name, band, edges)
                if found is None:
                    continue
                counts, median, n, beyond_n = found
                shown = True
                colour = _SCENARIO_COLOURS[j % len(_SCENARIO_COLOURS)]
                beyond = 100.0 * beyond_n / n
                label = f"{name + ': ' if name else ''}median {median:.1f} d, n = {n:,}"
                if beyond > 0:
                    label += f", over {top:g} d: {_share(beyond)}"
                ax.hist(
                    edges[:-1],
                    bins=edges,
                    weights=counts * (100.0 / n),
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
                no_data(ax)
        axes[-1].set_xlabel("days from admission (AMU, AFU or ward) to leaving hospital")
    return fig


_LosPanel = Callable[[str, str, np.ndarray], tuple[np.ndarray, float, int, int] | None]
"""(scenario, band, bar edges) -> counts per bar, median, stays, stays beyond the last edge;
None when there are none."""


def _los_of_table(
    table: pd.DataFrame,
) -> tuple[list[str], Callable[[float], bool], _LosPanel]:
    """`los_figure`'s scenarios, axis test (95% of stays within) and panels, from the stays."""
    df = table if "scenario" in table else table.assign(scenario="")
    values = df["los_days"].to_numpy(dtype=np.float64)
    values = values[np.isfinite(values)]
    p95 = float(np.quantile(values, 0.95)) if len(values) else 0.0

    def panel(name: str, band: str, edges: np.ndarray) -> tuple[np.ndarray, float, int, int] | None:
        rows = df[(df["scenario"].astype(str) == name) & (df["frailty"].astype(str) == band)]
        los = rows["los_days"].to_numpy(dtype=np.float64)
        los = los[np.isfinite(los)]
        if not len(los):
            return None
        inside = los <= edges[-1]
        counts = np.histogram(los[inside], bins=edges)[0]
        return counts, float(np.median(los)), len(los), int(np.sum(~inside))

    return list(dict.fromkeys(df["scenario"].astype(str))), lambda t: p95 <= t, panel


def _los_of_histograms(
    bands: Mapping[str, Histogram],
) -> tuple[list[str], Callable[[float], bool], _LosPanel]:
    """The same from frailty band -> histogram of its stays (one scenario, unnamed)."""
    pooled = None
    for hist in bands.values():
        pooled = hist if pooled is None else pooled + hist

    def panel(name: str, band: str, edges: np.ndarray) -> tuple[np.ndarray, float, int, int] | None:
        hist = bands.get(band)
        if hist is None or not hist.n:
            return None
        beyond = hist.n - hist.at_most(float(edges[-1]))
        return hist.bars(edges), hist.quantile(0.5), hist.n, beyond

    def fits(limit: float) -> bool:
        return pooled is None or pooled.quantile_at_most(0.95, limit)

    return [""], fits, panel


_BAND_NAMES = {
    "fit": "Fit (CFS 1-4)",
    "frail": "Frail (CFS 5-6)",
    "severe": "Severely frail (CFS 7-9)",
}


def _days(width: float) -> str:
    hours = width * 24.0
    return f"{width:g}-day" if width >= 1 else f"{hours:g}-hour"
