"""The pressure map: the pathway drawn as a network for the systems-thinking module.

Each unit is a box whose height grows with its places and whose fill is its mean occupancy
(green below 85%, amber to 95%, red above); an arrow from where patients wait to what they wait
for carries how many wait there on average, and the blocking chain (`Bottlenecks.chain`, from
the primary constraint back to the front door) is drawn thick and red, so the room sees that
the queue at the front door is held by beds further in. Everything comes from one comparison's
`flowsim.analysis.bottlenecks.Bottlenecks` (averaged over its replications), so baseline and
change can be drawn side by side on the same scale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from flowsim.analysis.bottlenecks import Bottlenecks
from flowsim.analysis.figure_data import unit_label
from flowsim.scenario.units import spec_of, unit_order

__all__ = ["COLUMN_OF", "pressure_map", "pressure_nodes"]

COLUMN_OF: Mapping[str, int] = {
    "front": 0,
    "ucr": 0,
    "ed": 1,
    "sdec": 2,
    "acute": 2,
    "ward": 3,
    "process": 4,
    "community": 5,
}
"""Column of each group of units, front door on the left (``front``: the ambulance handover
and the waiting room; ``process``: the discharge referral and window, waits by design)."""

_FRONT = ("ambulance", "waiting_room")
_BOX_WIDTH = 0.62
_GAP = 0.35


def _group(name: str) -> str:
    if name in _FRONT:
        return "front"
    spec = spec_of(name)
    return spec.group if spec is not None else "process"


def pressure_nodes(b: Bottlenecks, scale_places: float | None = None) -> pd.DataFrame:
    """Where each box goes: ``name, label, column, x, y0, y1, places, occupied, fill,
    blocked`` (``blocked``: mean places held by patients waiting for another unit). Boxes are
    ``sqrt(places / scale_places)`` high, so baseline and change drawn with the same
    ``scale_places`` compare; units with no place (waiting room, referral) are small."""
    res = b.resources.set_index("resource") if not b.resources.empty else pd.DataFrame()
    att = b.attribution
    names = list(res.index)
    names = list(dict.fromkeys([*names, *att.get("location", []), *att.get("cause", [])]))
    units = [n for n in names if n not in _FRONT and _group(n) != "process"]
    ordered = (
        [n for n in _FRONT if n in names]
        + unit_order(units)
        + [n for n in names if _group(n) == "process"]
    )
    top_places = scale_places or max([float(res["capacity_mean"].max()) if len(res) else 1, 1])
    rows = []
    for name in ordered:
        places = float(res.loc[name, "capacity_mean"]) if name in res.index else 0.0
        occupied = float(res.loc[name, "occupied_mean"]) if name in res.index else 0.0
        blocked = float(res.loc[name, "blocked_hours_per_day"]) / 24.0 if name in res.index else 0.0
        height = 0.35 + 2.2 * math.sqrt(places / top_places) if places > 0 else 0.35
        rows.append(
            {
                "name": name,
                "label": unit_label(name),
                "column": COLUMN_OF.get(_group(name), 4),
                "height": height,
                "places": places,
                "occupied": occupied,
                "fill": min(occupied / places, 1.0) if places > 0 else 0.0,
                "blocked": blocked,
            }
        )
    nodes = pd.DataFrame(rows)
    if nodes.empty:
        return nodes.assign(x=[], y0=[], y1=[])
    placed = nodes.assign(_k=range(len(nodes))).sort_values(["column", "_k"], kind="stable")
    placed["y0"], placed["y1"] = _stack(placed)
    placed["x"] = placed["column"].astype(float) * 1.6
    return placed.drop(columns="_k").reset_index(drop=True)


def _stack(nodes: pd.DataFrame) -> tuple[list[float], list[float]]:
    """Boxes of each column stacked top down from 0 (tallest column sets the picture)."""
    y0, y1 = [], []
    level, column = 0.0, None
    for c, h in zip(nodes["column"], nodes["height"], strict=True):
        if c != column:
            level, column = 0.0, c
        y0.append(-level - h)
        y1.append(-level)
        level += h + _GAP
    return y0, y1


def _ends(src: pd.Series, dst: pd.Series) -> tuple[tuple[float, float], tuple[float, float]]:
    """Where an arrow from box ``src`` to box ``dst`` starts and ends: side to side between
    columns, bottom to top (or top to bottom) within one."""
    half = _BOX_WIDTH / 2
    if dst["x"] == src["x"]:
        down = dst["y1"] <= src["y0"]
        return (src["x"], src["y0"] if down else src["y1"]), (
            dst["x"],
            dst["y1"] if down else dst["y0"],
        )
    right = 1 if dst["x"] > src["x"] else -1
    return (src["x"] + right * half, (src["y0"] + src["y1"]) / 2), (
        dst["x"] - right * half,
        (dst["y0"] + dst["y1"]) / 2,
    )


def _colour(fill: float) -> str:
    if fill >= 0.95:
        return "#c0392b"
    if fill >= 0.85:
        return "#e69b00"
    return "#3c9a5f"


def pressure_map(b: Bottlenecks, title: str, scale_places: float | None = None) -> Any:
    """The pressure map of one scenario (a plotly figure): boxes sized by places and filled by
    occupancy, arrows from where patients wait to what they wait for labelled with how many
    wait on average, the blocking chain thick and red."""
    import plotly.graph_objects as go

    nodes = pressure_nodes(b, scale_places)
    fig = go.Figure()
    if nodes.empty:
        fig.update_layout(title=f"{title}: no units measured")
        return fig
    at = nodes.set_index("name")
    chain_links = {(b.chain[i + 1], b.chain[i]) for i in range(len(b.chain) - 1)}
    for n in nodes.itertuples():
        x0, x1 = n.x - _BOX_WIDTH / 2, n.x + _BOX_WIDTH / 2
        edge = "#c0392b" if n.name in b.chain else "#555"
        fig.add_shape(type="rect", x0=x0, x1=x1, y0=n.y0, y1=n.y1, line={"color": edge,
                      "width": 3 if n.name in b.chain else 1}, fillcolor="#ffffff")  # fmt: skip
        if n.places > 0:
            top = n.y0 + (n.y1 - n.y0) * n.fill
            fig.add_shape(type="rect", x0=x0, x1=x1, y0=n.y0, y1=top, line={"width": 0},
                          fillcolor=_colour(n.fill), opacity=0.75)  # fmt: skip
            text = f"<b>{n.label}</b><br>{n.occupied:.0f} of {n.places:.0f} ({100 * n.fill:.0f}%)"
            if n.blocked >= 0.5:
                text += f"<br>{n.blocked:.0f} blocked"
        else:
            text = f"<b>{n.label}</b>"
        fig.add_annotation(x=n.x, y=(n.y0 + n.y1) / 2, text=text, showarrow=False,
                           font={"size": 10}, bgcolor="rgba(255,255,255,0.7)")  # fmt: skip
    links = b.attribution[b.attribution["location"] != b.attribution["cause"]]
    for link in links.itertuples():
        waiting = float(link.patient_hours_per_day) / 24.0
        if waiting < 0.05 or link.location not in at.index or link.cause not in at.index:
            continue
        src, dst = at.loc[link.location], at.loc[link.cause]
        red = (link.location, link.cause) in chain_links
        (sx, sy), (dx, dy) = _ends(src, dst)
        fig.add_annotation(
            x=dx,
            y=dy,
            ax=sx,
            ay=sy,
            xref="x", yref="y", axref="x", ayref="y",
            showarrow=True, arrowhead=3,
            arrowwidth=min(1.5 + 2.5 * math.log1p(waiting), 9) if red else 1.5,
            arrowcolor="#c0392b" if red else "#8a8a8a",
            text="",
        )  # fmt: skip
        fig.add_annotation(
            x=(src["x"] + dst["x"]) / 2,
            y=((src["y0"] + src["y1"]) / 2 + (dst["y0"] + dst["y1"]) / 2) / 2,
            text=f"{waiting:.1f} waiting",
            showarrow=False,
            font={"size": 10, "color": "#c0392b" if red else "#444"},
            bgcolor="rgba(255,255,255,0.85)",
        )
    fig.update_xaxes(visible=False, range=[-0.6, nodes["x"].max() + 0.6])
    fig.update_yaxes(visible=False, range=[nodes["y0"].min() - 0.2, 0.25])
    chain = b.chain_words() or "no waiting for capacity"
    fig.update_layout(
        title={"text": f"<b>{title}</b><br><sup>blocking chain (red): {chain}</sup>"},
        height=560,
        margin={"l": 10, "r": 10, "t": 70, "b": 10},
        plot_bgcolor="#fafafa",
        showlegend=False,
    )
    return fig
