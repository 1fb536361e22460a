"""The house style of flowsim's figures: size, type, colours and the canvas.

Figures are drawn with matplotlib's object API on the Agg canvas (no pyplot, no GUI) and
saved inside `house_style`, so nothing here changes matplotlib's global state.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = [
    "BLUE",
    "DPI",
    "GREEN",
    "GREY",
    "ORANGE",
    "RED",
    "WIDTH_INCHES",
    "figure_png",
    "house_style",
    "new_figure",
    "no_data",
    "volume_text",
]

WIDTH_INCHES = 10.0
DPI = 110
BLUE, GREY, RED, ORANGE, GREEN = "#1f5fa8", "#555555", "#b3261e", "#c66a00", "#1e7b34"
STYLE: dict[str, Any] = {
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
def house_style() -> Iterator[None]:
    """The house style, for drawing and saving alike (tick labels are made at draw time)."""
    with mpl.rc_context(STYLE):
        yield


def new_figure(height: float, rows: int = 1) -> tuple[Figure, list[Axes]]:
    """A figure of the house width on the Agg canvas with ``rows`` panels sharing the x axis."""
    fig = Figure(figsize=(WIDTH_INCHES, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 1, squeeze=False, sharex=True)[:, 0]
    return fig, list(axes)


def figure_png(fig: Figure) -> bytes:
    """The figure as PNG bytes, in the house style."""
    buf = io.BytesIO()
    with house_style():
        fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def no_data(ax: Axes) -> None:
    ax.text(
        0.5,
        0.5,
        "nothing to show in the measured period",
        transform=ax.transAxes,
        ha="center",
        va="center",
        color=GREY,
    )


def volume_text(v: float) -> str:
    return f"{v:,.0f}" if v >= 10 else f"{v:.1f}" if v >= 0.1 else f"{v:.2f}"
