"""Pictures of the pathway: patient volumes through it (a flow diagram) and the blocking chain.

Each takes the plain tables of `flowsim.analysis.figure_data` and `flowsim.analysis.bottlenecks`
and returns a `Figure` in the house style (`flowsim.report.style`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from flowsim.analysis.constraints import chain_labels
from flowsim.analysis.figure_data import (
    FLOW_NODE_ORDER,
    FLOW_STAGES,
    NOT_ADMITTED,
    STILL_IN_CARE,
    WARD,
    unit_label,
)
from flowsim.report.style import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    RED,
    WIDTH_INCHES,
    house_style,
    new_figure,
    no_data,
    volume_text,
)

__all__ = ["blocking_chain_figure", "flow_figure"]


# ---------------------------------------------------------------- flow through the pathway

_NODE_COLOURS = {
    unit_label("ambulance"): RED,
    unit_label("walk_in"): BLUE,
    unit_label("gp_referral"): GREEN,
    "UCR at home": GREEN,
    "ED": BLUE,
    unit_label("sdec"): "#6a3d9a",
    NOT_ADMITTED: GREEN,
    unit_label("virtual_ward"): "#6a3d9a",
    unit_label("amu"): ORANGE,
    unit_label("afu"): "#8c510a",
    WARD: RED,
    unit_label("home"): GREEN,
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
        return ORANGE if node.startswith("P") else BLUE

    with house_style():
        fig, (ax,) = new_figure(7.8)
        ax.set_title(title or f"Where patients go: {unit} along each path")
        ax.set_axis_off()
        if total <= 0:
            no_data(ax)
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
                f"{n}  {volume_text(value[(s, n)])}",
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


# ---------------------------------------------------------------- the blocking chain


def blocking_chain_figure(chain: list[str], hours: Mapping[str, float] | None = None) -> Figure:
    """The blocking chain as boxes and arrows, left to right from the primary constraint
    (highlighted) to where the queue shows, so the room sees that the cure is far from the
    symptom.

    ``chain`` names units as the analysis does (``["p1", "ward:care_of_elderly", "amu",
    "ed_cubicle", "handover"]``), its boxes labelled by `chain_labels` as the report's text
    is; ``hours`` gives the patient-hours a day spent waiting at each link, shown under its box
    when given.
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    n = len(chain)
    labels = chain_labels(chain)
    width = max(WIDTH_INCHES, 2.3 * n)
    with house_style():
        fig = Figure(figsize=(width, 4.2), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        ax.set_axis_off()
        ax.set_title("How waiting travels upstream: the blocking chain")
        ax.set_xlim(0, max(n, 1))
        ax.set_ylim(0, 1)
        if not n:
            no_data(ax)
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
                    edgecolor=RED if first else BLUE,
                    linewidth=3.0 if first else 1.5,
                )
            )
            ax.text(
                i + 0.5,
                y0 + box_h / 2,
                textwrap.fill(labels[i], 13),
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
                    color=RED,
                    fontsize=12,
                    weight="bold",
                )
            if hours is not None and unit in hours and np.isfinite(hours[unit]):
                ax.text(
                    i + 0.5,
                    y0 - 0.05,
                    f"{volume_text(float(hours[unit]))}\npatient-hours\nwaiting a day",
                    ha="center",
                    va="top",
                    fontsize=12,
                    color=GREY,
                )
            if i + 1 < n:
                ax.add_patch(
                    FancyArrowPatch(
                        (left + box_w + 0.01, y0 + box_h / 2),
                        (i + 1 + (1 - box_w) / 2 - 0.01, y0 + box_h / 2),
                        arrowstyle="-|>",
                        mutation_scale=22,
                        linewidth=2.2,
                        color=GREY,
                    )
                )
        fig.text(
            0.01,
            0.01,
            "Read left to right: a shortage in each box keeps patients waiting in the next one.",
            fontsize=11,
            color=GREY,
        )
    return fig
