"""The IPACS agreement figure: flowsim's daily mean against IPACS's mean and band, per variant.

One panel per variant (12: capacity x length of stay x arrivals), IPACS's band shaded with its
mean dashed, flowsim's mean under each rule for the people in place at day 0 as a line, the days
compared (after day 30) marked. The data are `flowsim.analysis.ipacs.compare_variant` tables.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from flowsim.analysis.ipacs import COMPARED_FROM_DAY, in_band_share
from flowsim.report.style import BLUE, GREY, ORANGE, figure_png, house_style

__all__ = ["agreement_figure"]

_RULE_COLOURS = {"length_biased": BLUE, "uniform": ORANGE}
_LABELS = {"queue": "queue (delayed discharges)", "occupied": "beds occupied"}
_THEORY_LABEL = "theory (M_t/G/inf, length-biased census)"


def agreement_figure(
    tables: Mapping[tuple[str, str], pd.DataFrame],
    measure: str = "queue",
    columns: int = 3,
    theory: Mapping[str, pd.DataFrame] | None = None,
) -> bytes:
    """PNG of every variant's panel for ``measure`` (``queue`` or ``occupied``).

    ``tables``: (variant name, remaining-stay rule) -> its comparison table. ``theory``:
    variant name -> ``day, occupied`` of the M_t/G/infinity value under flowsim's census rule
    (`flowsim.analysis.ipacs.infinite_server_occupancy`), drawn dotted on those panels.
    """
    names = list(dict.fromkeys(name for name, _ in tables))
    rules = list(dict.fromkeys(rule for _, rule in tables))
    rows = -(-len(names) // columns)
    with house_style():
        fig = Figure(figsize=(15, 3.2 * rows + 1.0), layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(rows, columns, squeeze=False, sharex=True).ravel()
        for ax, name in zip(axes, names, strict=False):
            first = tables[(name, rules[0])]
            ref = first[first["measure"] == measure]
            ax.fill_between(
                ref["day"],
                ref["ipacs_q025"],
                ref["ipacs_q975"],
                color=GREY,
                alpha=0.25,
                step="mid",
                label="IPACS band (3 runs)",
            )
            ax.plot(ref["day"], ref["ipacs_mean"], color=GREY, ls="--", lw=1.2, label="IPACS mean")
            shares = []
            for rule in rules:
                t = tables[(name, rule)]
                mine = t[t["measure"] == measure]
                ax.plot(
                    mine["day"],
                    mine["flowsim_mean"],
                    color=_RULE_COLOURS.get(rule, BLUE),
                    lw=1.6,
                    label=f"flowsim, {rule.replace('_', '-')} census",
                )
                shares.append(f"{in_band_share(t, measure):.0%}")
            if theory is not None and name in theory:
                th = theory[name]
                ax.plot(
                    th["day"], th["occupied"], color="black", ls=":", lw=1.4, label=_THEORY_LABEL
                )
            ax.axvline(COMPARED_FROM_DAY, color=GREY, lw=0.8, ls=":")
            ax.set_title(name.removeprefix("P2_B_"), fontsize=12)
            ax.text(
                0.02,
                0.97,
                "in band after day 30: " + " / ".join(shares),
                transform=ax.transAxes,
                va="top",
                fontsize=10,
            )
        for ax in axes[len(names) :]:
            ax.set_visible(False)
        for ax in axes[-columns:]:
            ax.set_xlabel("day")
        seen = {}
        for ax in axes:
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                seen.setdefault(label, handle)
        handles, labels = list(seen.values()), list(seen)
        fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
        fig.suptitle(
            f"IPACS Bristol P2 node: {_LABELS.get(measure, measure)}, flowsim against IPACS "
            f"(shares: {' / '.join(r.replace('_', '-') for r in rules)})"
        )
    return _small_png(figure_png(fig))


def _small_png(png: bytes, colours: int = 64) -> bytes:
    """The PNG on a palette of ``colours``: the shaded bands of 12 panels make a full-colour
    PNG of 400-650 kB for docs/, about a quarter of that on a palette, with no visible loss."""
    out = io.BytesIO()
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=colours, method=Image.Quantize.MEDIANCUT).save(out, "PNG", optimize=True)
    return out.getvalue()
