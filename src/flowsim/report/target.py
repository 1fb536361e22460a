"""Figures and a page for goal seeking (`flowsim.experiment.target`) and the cost curve.

The target figure is the KPI against the lever with its 95% band over every point evaluated,
the target as a line, and the answer, the estimate and the plausible range marked: what a board
paper needs beside the sentence "335 P1 packages (320-350) keep delayed discharges <= 5% of
beds". The cost curve is Wood et al.'s (2023): the cost a day of delayed discharges plus
community places against community capacity, its minimum marked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from flowsim._version import __version__
from flowsim.experiment.target import TargetResult
from flowsim.report.html import _figure, _meta_list, _page
from flowsim.report.labels import kpi_label
from flowsim.report.style import new_figure
from flowsim.scenario.schema import Scenario

__all__ = ["cost_curve_figure", "render_target_report", "target_figure", "target_points"]

_COSTS_SHOWN = ("cost_total", "cost_delay_and_community")
"""Cost KPIs (£ a day) shown beside each point, so a capacity answer comes with its price."""
_VERDICT_COLOURS = {"meets": "#1b7837", "fails": "#b2182b", "unsure": "#999999"}


def target_points(result: TargetResult) -> pd.DataFrame:
    """Every point evaluated: the lever's value, replications, KPI mean and 95% CI, verdict,
    and the mean total and delay-plus-community cost a day."""
    rows = []
    for p in result.points:
        mean, low, high = p.interval(result.goal.kpi)
        rows.append(
            {
                result.lever.name: p.value,
                "replications": p.n,
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "verdict": p.verdict,
                **{
                    f"{kpi}_mean": p.interval(kpi)[0]
                    for kpi in _COSTS_SHOWN
                    if kpi in p.values and kpi != result.goal.kpi
                },
            }
        )
    return pd.DataFrame(rows)


def target_figure(result: TargetResult) -> Figure:
    """The KPI against the lever, 95% band, target line, answer and estimate marked."""
    table = target_points(result)
    lever, goal = result.lever, result.goal
    fig, (ax,) = new_figure(3.6)
    x = table[lever.name].to_numpy(float)
    ax.fill_between(
        x, table["ci_low"], table["ci_high"], color="#9ecae1", alpha=0.5, lw=0, label="95% CI"
    )
    ax.plot(x, table["mean"], color="#08519c", lw=1.5, label="mean")
    for verdict, colour in _VERDICT_COLOURS.items():
        part = table[table["verdict"] == verdict]
        ax.scatter(part[lever.name], part["mean"], color=colour, s=18, zorder=3, label=verdict)
    ax.axhline(goal.target, color="black", ls="--", lw=1, label=f"target {goal.target:g}")
    lo, hi = result.value(result.plausible), result.value(result.answer)
    if lo is not None and hi is not None:
        ax.axvspan(
            min(lo, hi), max(lo, hi), color="#fdae6b", alpha=0.3, lw=0, label="uncertain range"
        )
    if hi is not None:
        ax.axvline(hi, color="#1b7837", lw=1.2, label=f"answer {hi:g}")
    ax.set_xlabel(f"{lever.label} ({lever.unit})")
    ax.set_ylabel(kpi_label(goal.kpi))
    ax.legend(fontsize=7, loc="best")
    ax.set_title(f"{kpi_label(goal.kpi)} against {lever.label}", fontsize=9)
    return fig


def cost_curve_figure(curve: pd.DataFrame, unit_label: str) -> Figure:
    """Cost a day against capacity: delayed discharges, community places, their sum with its
    95% band and minimum. ``curve`` has ``places`` and, per cost KPI, ``<kpi>_mean`` and for
    the sum ``cost_delay_and_community_low``/``_high``."""
    fig, (ax,) = new_figure(3.6)
    x = curve["places"].to_numpy(float)
    total = "cost_delay_and_community"
    ax.fill_between(
        x,
        curve[f"{total}_low"],
        curve[f"{total}_high"],
        color="#9ecae1",
        alpha=0.5,
        lw=0,
        label="95% CI",
    )
    ax.plot(x, curve[f"{total}_mean"], color="#08519c", lw=1.8, label="delays + community")
    ax.plot(
        x, curve["cost_delayed_discharges_mean"], color="#b2182b", lw=1.2, label="delayed bed-days"
    )
    ax.plot(x, curve["cost_community_mean"], color="#1b7837", lw=1.2, label="community places")
    best = int(np.nanargmin(curve[f"{total}_mean"].to_numpy(float)))
    bx, by = x[best], float(curve[f"{total}_mean"].iloc[best])
    ax.scatter([bx], [by], color="black", zorder=4, s=30)
    ax.annotate(
        f"minimum at {bx:g}: £{by:,.0f}/day",
        (bx, by),
        textcoords="offset points",
        xytext=(6, 10),
        fontsize=8,
    )
    ax.set_xlabel(unit_label)
    ax.set_ylabel("£ per day")
    ax.set_title("Total cost against community capacity (Wood et al. 2023)", fontsize=9)
    ax.legend(fontsize=7, loc="best")
    return fig


def _points_table(table: pd.DataFrame, lever_name: str) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in table.columns)
    rows = []
    for row in table.to_dict("records"):
        cells = []
        for c in table.columns:
            v = row[c]
            text = f"{v:.4g}" if isinstance(v, float) else str(v)
            cells.append(f"<td>{escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def render_target_report(
    scenario: Scenario,
    title: str,
    sentences: Sequence[str],
    figures: Sequence[tuple[str, Figure]],
    tables: Sequence[tuple[str, pd.DataFrame]],
    meta: Mapping[str, Any],
) -> str:
    """One self-contained page: the answers in words, figures, the points evaluated, the run."""
    meta = {"flowsim_version": __version__, **meta}
    meta.setdefault("date", dt.datetime.now().strftime("%Y-%m-%d %H:%M"))
    body = [
        '<section id="answer">',
        "<h2>Answer</h2>",
        *(f"<p>{escape(s)}</p>" for s in sentences),
        "</section>",
        '<section id="figures" class="figures">',
        "<h2>Figures</h2>",
        *(_figure(caption, fig) for caption, fig in figures),
        "</section>",
        '<section id="points">',
        "<h2>Every point evaluated</h2>",
        *(f"<h3>{escape(name)}</h3>" + _points_table(t, name) for name, t in tables),
        "</section>",
        '<section id="run">',
        "<h2>Run</h2>",
        _meta_list(meta),
        "</section>",
    ]
    return _page(title, scenario.name, scenario.description.strip(), body, meta)
