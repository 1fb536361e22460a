"""The first page of a report, for a board: the finding in words, the national targets with a
RAG status, and the trends week by week; everything else follows it.

A board reads one page. It asks three things: are we meeting the targets, which way is it
going, and what does the change buy. So the page says the finding in sentences, puts each
headline KPI beside its national target with a red, amber or green status whose rule is printed
under the table, and draws the weekly course of the measures a board watches (4- and 12-hour,
handover, G&A occupancy against 92%, delayed discharges, ambulance hours lost).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from flowsim.analysis import summarise
from flowsim.report.labels import (
    clip_interval,
    difference_in_words,
    format_ci,
    format_value,
    kpi_label,
)
from flowsim.report.style import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    RED,
    figure_png,
    house_style,
    no_data,
)

__all__ = [
    "RAG_RULE",
    "TARGETS",
    "TREND_PANELS",
    "Target",
    "board_compare_section",
    "board_css",
    "board_run_section",
    "figure_html",
    "rag_status",
    "targets_section",
    "trends_figure",
]


@dataclass(frozen=True)
class Target:
    """A national target for one KPI: met when the KPI is at least (``better == "higher"``) or
    at most (``"lower"``) ``value``; ``amber_within`` is how far the wrong side still reads
    amber, in the KPI's unit."""

    kpi: str
    name: str
    value: float
    unit: str
    better: str
    amber_within: float
    source: str
    ref: str

    def text(self) -> str:
        sign = "≥" if self.better == "higher" else "≤"
        unit = "%" if self.unit == "%" else f" {self.unit}"
        return f"{sign} {self.value:g}{unit}"

    def met(self, x: float) -> bool:
        return x >= self.value if self.better == "higher" else x <= self.value

    def shortfall(self, x: float) -> float:
        """How far ``x`` is on the wrong side of the target (0 when met)."""
        gap = self.value - x if self.better == "higher" else x - self.value
        return max(gap, 0.0)


TARGETS: tuple[Target, ...] = (
    Target(
        "ed_within_4h",
        "4-hour standard",
        78.0,
        "%",
        "higher",
        5.0,
        "78% by March 2026 (NHS England UEC plan 2025/26); the domain brief gives the interim "
        "76–78% and the 95% standard [E1] (H/M)",
        "UEC plan 2025/26; [E1] (H/M)",
    ),
    Target(
        "ed_over_12h_share",
        "Over 12 hours in ED",
        2.0,
        "%",
        "lower",
        2.0,
        "standard ≤ 2% of type-1 attendances; England runs at ~9.5–11% [E2] (H)",
        "[E2] (H)",
    ),
    Target(
        "handover_mean",
        "Ambulance handover, mean",
        45.0,
        "minutes",
        "lower",
        15.0,
        "45-minute maximum (UEC plan 2025/26; QMC's 45-minute policy [O3] (M)), applied to "
        "the mean; the standard is 15 minutes and none over 60 [O1] (H)",
        "UEC plan 2025/26; [O3] (M), [O1] (H)",
    ),
    Target(
        "occupancy_mean_general_acute",
        "G&A bed occupancy",
        92.0,
        "%",
        "lower",
        3.0,
        "planning cap 92% (NHSE UEC plan) [O5] (H); above ~92% the 4-hour falls fast [O4] (M)",
        "UEC plan; [O5] (H)",
    ),
)
"""The national targets on the first page, with the source of each. The amber margins (5
points, 2 points, 15 minutes, 3 points) are estimates: a reading aid, not a standard."""

RAG_RULE = (
    "Green: the mean and its whole 95% interval meet the target. Amber: the interval reaches "
    "the target, or the mean misses it by no more than a margin (4-hour 5 points, 12-hour 2 "
    "points, handover 15 minutes, occupancy 3 points; the margins are estimates). Red: the "
    "whole interval misses and the mean misses by more than the margin. One replication: the "
    "mean alone is judged."
)

_RAG_COLOURS = {"green": "#007f3b", "amber": "#ffb81c", "red": "#d5281b"}


def rag_status(target: Target, mean: float, low: float = math.nan, high: float = math.nan) -> str:
    """``"green"``, ``"amber"``, ``"red"`` by `RAG_RULE`, or ``""`` when nothing was measured."""
    if not math.isfinite(mean):
        return ""
    ends = [low, high] if math.isfinite(low) and math.isfinite(high) else [mean]
    if target.met(mean) and all(target.met(x) for x in ends):
        return "green"
    if not any(target.met(x) for x in ends) and target.shortfall(mean) > target.amber_within:
        return "red"
    return "amber"


def _badge(status: str) -> str:
    if not status:
        return "<span class='rag'>–</span>"
    return f"<span class='rag rag-{status}'>{status.capitalize()}</span>"


def _levels(summary: pd.DataFrame) -> dict[str, tuple[float, float, float, str]]:
    """kpi -> (mean, clipped low, clipped high, unit) of a `summarise` table."""
    out = {}
    for r in summary.itertuples(index=False):
        unit = str(r.unit)
        low, high = clip_interval(float(r.ci_low), float(r.ci_high), unit)
        out[str(r.kpi)] = (float(r.mean), low, high, unit)
    return out


def _level_text(level: tuple[float, float, float, str] | None) -> str:
    if level is None:
        return "–"
    mean, low, high, unit = level
    shown = format_value(mean, unit) + ("%" if unit == "%" else "")
    ci = format_ci(low, high, unit, like=mean)
    return shown if ci == "–" else f"{shown}<br><span class='ci'>95% CI {escape(ci)}</span>"


def _gap_words(target: Target, mean: float) -> str:
    gap = target.shortfall(mean)
    amount = f"{gap:.1f} points" if target.unit == "%" else f"{gap:.0f} {target.unit}"
    if gap == 0:
        return "meets it"
    return f"{amount} {'short' if target.better == 'higher' else 'over'}"


# ---------------------------------------------------------------- trends

TREND_PANELS: tuple[tuple[str, str, str, float | None], ...] = (
    ("ed_within_4h", "Left ED within 4 hours", "%", 78.0),
    ("ed_over_12h_share", "Over 12 hours in ED", "%", 2.0),
    ("handover_mean", "Ambulance handover, mean", "minutes", 45.0),
    ("occupancy_mean_general_acute", "G&A bed occupancy", "%", 92.0),
    ("delayed_patients_mean", "Delayed discharges, NCTR", "patients", None),
    ("ambulance_hours_lost", "Ambulance hours lost", "h/day", None),
)
"""The trend panels: KPI (a `flowsim.analysis.periods.PERIOD_KPIS` column), title, unit, and
the target line drawn (None: no national target)."""

_SCENARIO_COLOURS = (BLUE, ORANGE, GREEN, RED, "#6a3d9a", GREY)
TREND_WIDTH_INCHES = 8.4
"""Narrower than the house width, so its type prints larger on the first page."""


def _period_word(trends: pd.DataFrame) -> str:
    days = trends["days"].max() if len(trends) else 7.0
    return "week" if days > 1.5 else "day"


def trends_figure(trends: pd.DataFrame, title: str | None = None) -> Figure:
    """The `TREND_PANELS` over time, one small panel each with its target line.

    ``trends`` is `flowsim.analysis.periods.trend_kpis` output with a ``replication`` column
    and optionally a ``scenario`` column (first scenario first): each scenario is the mean over
    replications, its band their range. Percent axes stay within 0–100 and start where the
    data and the target line are, not at 0, so a few points of occupancy stay visible.
    """
    df = trends if "scenario" in trends else trends.assign(scenario="")
    scenarios = list(dict.fromkeys(df["scenario"].astype(str)))
    dated = "start" in df and df["start"].notna().all() and len(df) > 0
    period = _period_word(df)
    with house_style():
        fig = Figure(figsize=(TREND_WIDTH_INCHES, 4.9), layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(3, 2, sharex=True, squeeze=False).ravel()
        fig.suptitle(title or f"Trends, {period} by {period}", fontsize=14)
        for ax, (kpi, what, unit, target) in zip(axes, TREND_PANELS, strict=True):
            ax.set_title(f"{what} ({unit})", fontsize=12)
            ax.tick_params(labelsize=10.5)
            if df.empty or kpi not in df or not np.isfinite(df[kpi].to_numpy(float)).any():
                no_data(ax)
                continue
            seen: list[float] = []
            for j, name in enumerate(scenarios):
                rows = df[df["scenario"].astype(str) == name]
                by = rows.groupby("start" if dated else "period", sort=True)[kpi]
                stats = by.agg(["mean", "min", "max"])
                x = stats.index.to_numpy()
                colour = _SCENARIO_COLOURS[j % len(_SCENARIO_COLOURS)]
                if rows["replication"].nunique() > 1 and len(scenarios) == 1:
                    ax.fill_between(
                        x, stats["min"], stats["max"], color=colour, alpha=0.15, linewidth=0
                    )
                ax.plot(x, stats["mean"], color=colour, linewidth=2, marker="o", markersize=3)
                seen += [*stats["min"].dropna(), *stats["max"].dropna()]
            if target is not None:
                ax.axhline(target, color=RED, linestyle="--", linewidth=1.5)
                seen.append(target)
            _y_range(ax, seen, percent=unit == "%")
            _period_ticks(ax, sorted(df["start" if dated else "period"].unique()), dated)
        for ax in axes[-2:]:
            ax.set_xlabel(f"{period} starting" if dated else f"{period} of the measured period")
        _trend_legend(fig, scenarios, df)
    return fig


def _period_ticks(ax: Axes, starts: list[Any], dated: bool) -> None:
    """Ticks on the periods themselves (at most seven), labelled "3 Feb" when dated."""
    if not starts:
        return
    step = max(1, math.ceil(len(starts) / 7))
    shown = starts[::step]
    labels = [f"{pd.Timestamp(t).day} {pd.Timestamp(t):%b}" for t in shown] if dated else None
    ax.set_xticks(shown, labels if labels is not None else [str(int(t)) for t in shown])


def _y_range(ax: Axes, values: list[float], percent: bool) -> None:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return
    lo, hi = min(finite), max(finite)
    pad = max(0.08 * (hi - lo), 0.5 if percent else 0.05 * max(abs(hi), 1.0))
    lo, hi = lo - pad, hi + pad
    if percent:
        lo, hi = max(lo, 0.0), min(hi, 100.0)
    else:
        lo = max(lo, 0.0)
    ax.set_ylim(lo, hi)


def _trend_legend(fig: Figure, scenarios: list[str], df: pd.DataFrame) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = []
    for j, name in enumerate(scenarios):
        colour = _SCENARIO_COLOURS[j % len(_SCENARIO_COLOURS)]
        n = df.loc[df["scenario"].astype(str) == name, "replication"].nunique()
        label = name or f"mean of {n} replication{'s' if n != 1 else ''}"
        handles.append(Line2D([], [], color=colour, linewidth=2, marker="o", label=label))
        if n > 1 and len(scenarios) == 1:
            handles.append(Patch(color=colour, alpha=0.15, label="range over replications"))
    handles.append(Line2D([], [], color=RED, linestyle="--", label="national target"))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(4, len(handles)))


# ---------------------------------------------------------------- the page


def figure_html(caption: str, fig: Figure, cls: str = "") -> str:
    """A figure as an embedded PNG with its caption."""
    data = base64.b64encode(figure_png(fig)).decode("ascii")
    klass = f' class="{cls}"' if cls else ""
    return (
        f"<figure{klass}>"
        f'<img src="data:image/png;base64,{data}" alt="{escape(caption)}">'
        f"<figcaption>{escape(caption)}</figcaption>"
        "</figure>"
    )


def _targets_table(columns: Sequence[tuple[str, pd.DataFrame]]) -> str:
    """Each target a row; each (name, summary) a column with the mean, CI and status."""
    levels = [(name, _levels(summary)) for name, summary in columns]
    head = "".join(f"<th class='num'>{escape(name)}</th>" for name, _ in levels)
    rows = []
    for t in TARGETS:
        cells = []
        for _, level in levels:
            value = level.get(t.kpi)
            status = rag_status(t, *value[:3]) if value else ""
            cells.append(f"<td class='num'>{_badge(status)} {_level_text(value)}</td>")
        rows.append(
            f"<tr><td>{escape(t.name)}</td><td class='num'>{escape(t.text())}</td>"
            + "".join(cells)
            + "</tr>"
        )
    refs = "; ".join(f"{t.name} {t.ref}" for t in TARGETS)
    return (
        "<table class='targets'><thead><tr><th>National target</th><th class='num'>Target</th>"
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<p class='rule'><strong>RAG rule.</strong> {escape(RAG_RULE)} "
        f"<strong>Sources</strong> (in full under National targets): {escape(refs)}.</p>"
    )


def targets_section() -> str:
    """The national targets and where each comes from, for the pages behind the first."""
    rows = "".join(
        f"<tr><td>{escape(t.name)}</td><td class='num'>{escape(t.text())}</td>"
        f"<td>{escape(t.source)}</td></tr>"
        for t in TARGETS
    )
    return (
        '<section id="targets"><h2>National targets and their sources</h2>'
        "<table class='compact'><thead><tr><th>Target</th><th class='num'>Value</th>"
        f"<th>Source and confidence</th></tr></thead><tbody>{rows}</tbody></table>"
        f"<p>{escape(RAG_RULE)}</p></section>"
    )


def _trend_words(trends: pd.DataFrame | None) -> str:
    """The course of the run in a sentence: the range of the 4-hour and the weeks over 92%."""
    if trends is None or trends.empty:
        return ""
    period = _period_word(trends)
    by = trends.groupby("period", sort=True)[["ed_within_4h", "occupancy_mean_general_acute"]]
    mean = by.mean()
    n = len(mean)
    four = mean["ed_within_4h"].dropna()
    occ = mean["occupancy_mean_general_acute"].dropna()
    parts = []
    if len(four):
        parts.append(
            f"{period} by {period}, the 4-hour ran between {four.min():.1f}% and {four.max():.1f}%"
        )
    if len(occ):
        over = int((occ > 92.0).sum())
        parts.append(f"G&A occupancy was above 92% in {over} of {n} {period}s")
    if not parts:
        return ""
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def _run_finding(summary: pd.DataFrame) -> str:
    levels = _levels(summary)
    judged = [(t, levels[t.kpi]) for t in TARGETS if t.kpi in levels]
    judged = [(t, v) for t, v in judged if math.isfinite(v[0])]
    if not judged:
        return "Nothing in this run measures the national targets."
    status = {t.kpi: rag_status(t, *v[:3]) for t, v in judged}
    met = [t for t, v in judged if t.met(v[0])]
    missed = sorted(
        ((t, v) for t, v in judged if not t.met(v[0])),
        key=lambda tv: -tv[0].shortfall(tv[1][0]) / tv[0].amber_within,
    )
    counts = ", ".join(
        f"{sum(1 for s in status.values() if s == c)} {c}" for c in ("red", "amber", "green")
    )
    head = f"This run meets {len(met)} of the {len(judged)} national targets ({counts})."
    if not missed:
        return head
    t, (mean, *_rest) = missed[0]
    shown = f"{mean:.1f}%" if t.unit == "%" else f"{mean:.0f} {t.unit}"
    return f"{head} Furthest off: {t.name}, {shown} against {t.text()} ({_gap_words(t, mean)})."


def board_run_section(
    summary: pd.DataFrame,
    trends: pd.DataFrame | None,
    bottlenecks: Any = None,
) -> str:
    """The first page of a run report: the finding, targets with RAG, the trends figure.

    ``summary`` is `flowsim.analysis.summarise` output; ``trends`` `trend_kpis` rows of every
    replication (with ``replication``); ``bottlenecks`` a `Bottlenecks` whose primary
    constraint (with any tie), when given, says where the system is stuck.
    """
    lead = [_run_finding(summary), _trend_words(trends)]
    primary = getattr(bottlenecks, "primary_words", None)
    if callable(primary) and primary():
        lead.append(
            f"Where it is stuck: {primary()} (the Bottlenecks section says how sure that is)."
        )
    parts = [
        '<section id="board" class="board">',
        "<h2>The finding</h2>",
        *(f"<p class='lead'>{escape(p)}</p>" for p in lead if p),
        _targets_table([("This run", summary)]),
        _trends_block(trends),
        "</section>",
    ]
    return "\n".join(parts)


def _trends_block(trends: pd.DataFrame | None) -> str:
    if trends is None:
        return (
            "<p class='rule'>No trends in this report: it was made without them (flowsim run "
            "and flowsim compare include them).</p>"
        )
    if trends.empty:
        return "<p class='rule'>No trends: the measured period is shorter than half a day.</p>"
    period = _period_word(trends)
    why = "" if period == "week" else " (daily: the run measures under four weeks)"
    reps = trends["replication"].nunique() if "replication" in trends else 1
    several = "scenario" in trends and trends["scenario"].nunique() > 1
    band = "" if several or reps < 2 else ", the band their range"
    caption = (
        f"Trends{why}: each point a {period}'s mean over {reps} replication"
        f"{'s' if reps != 1 else ''}{band}; dashed red: the national target. Percent axes "
        "start near the data, not at 0."
    )
    return figure_html(caption, trends_figure(trends), cls="trends")


def board_compare_section(
    labels: Sequence[str],
    comparison: pd.DataFrame,
    kpis: pd.DataFrame | None = None,
    trends: pd.DataFrame | None = None,
    headline_kpis: Sequence[str] = (),
) -> str:
    """The first page of a comparison report: what each change does to the headline KPIs in
    words, the national targets with RAG for every scenario, and the trends overlaid.

    ``comparison`` is `paired_comparison` output; ``kpis`` tidy ``scenario, replication, kpi,
    unit, value`` rows (for each scenario's level and interval; without it the targets are
    judged on the means); ``trends`` `trend_kpis` rows with ``scenario`` and ``replication``.
    """
    base = labels[0]
    lead = []
    for name in labels[1:]:
        rows = comparison[comparison["scenario"] == name]
        if headline_kpis:
            rows = rows[rows["kpi"].isin(headline_kpis)]
        lead.append(_change_finding(name, base, rows, compact=len(labels) > 2))
    columns = [
        (name, _summary_of(name, comparison, kpis, first=i == 0)) for i, name in enumerate(labels)
    ]
    parts = [
        '<section id="board" class="board">',
        "<h2>The finding</h2>",
        *lead,
        _targets_table(columns),
        _trends_block(trends),
        "</section>",
    ]
    return "\n".join(parts)


def _summary_of(
    name: str, comparison: pd.DataFrame, kpis: pd.DataFrame | None, first: bool
) -> pd.DataFrame:
    if kpis is not None and "scenario" in kpis:
        part = kpis[kpis["scenario"].astype(str) == name]
        if not part.empty:
            return summarise(part)
    column = "baseline_mean" if first else "scenario_mean"
    rows = comparison if first else comparison[comparison["scenario"] == name]
    rows = rows.drop_duplicates("kpi")
    return pd.DataFrame(
        {
            "kpi": rows["kpi"],
            "unit": rows["unit"],
            "mean": rows[column],
            "ci_low": math.nan,
            "ci_high": math.nan,
            "n": rows["n"],
        }
    )


def _change_finding(name: str, base: str, rows: pd.DataFrame, compact: bool = False) -> str:
    """What one change does to the headline KPIs: a count, then each clear change in words
    with how sure (``compact``, for several changes on one page: one sentence, sizes only)."""
    clear = rows[rows["assessment"].isin(["better", "worse"])]
    better = int((clear["assessment"] == "better").sum())
    worse = int((clear["assessment"] == "worse").sum())
    unclear = rows[~rows.index.isin(clear.index)]
    head = (
        f"{name} against {base}: {better} headline measure{'s' if better != 1 else ''} "
        f"clearly better, {worse} clearly worse, {len(unclear)} with no clear difference "
        "(95% intervals of the paired differences)."
    )
    if compact:
        parts = [
            f"{kpi_label(str(r.kpi))}: "
            f"{_lower_first(difference_in_words(r, brief=True).split(';')[0])} ({r.assessment})"
            for r in clear.itertuples(index=False)
        ]
        said = "; ".join(parts) if parts else "no headline measure changes clearly"
        return (
            f"<p class='lead'><strong>{escape(name)}</strong> against {escape(base)}, clear "
            f"changes: {escape(said)}; {len(unclear)} with no clear difference.</p>"
        )
    items = "".join(
        f"<li><strong>{escape(kpi_label(str(r.kpi)))}</strong> ({escape(str(r.assessment))}): "
        f"{escape(_lower_first(difference_in_words(r, brief=True)))}</li>"
        for r in clear.itertuples(index=False)
    )
    if len(unclear):
        names = ", ".join(kpi_label(str(k)) for k in unclear["kpi"])
        items += f"<li>No clear difference: {escape(names)}.</li>"
    return f"<p class='lead'>{escape(head)}</p><ul class='findings'>{items}</ul>"


def _lower_first(text: str) -> str:
    return text[0].lower() + text[1:] if text[:1].isupper() and text[1:2].islower() else text


def board_css() -> str:
    """The first page's styles: a page of its own when printed."""
    return (
        """
section.board { break-after: page; }
section.board h2 { margin-top: 4px; }
section.board p.lead { font-size: 15px; margin: 4px 0; }
ul.findings { margin: 2px 0 8px 18px; padding: 0; font-size: 13.5px; }
table.targets { font-size: 13.5px; margin-top: 6px; }
table.targets .ci { color: #5b6570; font-weight: 400; font-size: 12px; }
p.rule { font-size: 11.5px; color: #3c4650; margin: 4px 0 6px; }
.rag { display: inline-block; min-width: 52px; margin-right: 4px; text-align: center;
  border-radius: 3px; padding: 0 6px; font-weight: 700; font-size: 12.5px; }
"""
        + "".join(
            f".rag-{k} {{ background: {v}; color: {'#1d2329' if k == 'amber' else '#fff'}; }}\n"
            for k, v in _RAG_COLOURS.items()
        )
        + """
figure.trends { margin: 4px 0 0; }
@media print {
  section.board p.lead { font-size: 13px; }
  ul.findings { font-size: 12px; }
  table.targets { font-size: 12px; }
  section.board p.rule { font-size: 10px; }
  figure.trends img { max-height: 112mm; width: auto; max-width: 100%; margin: 0 auto; }
  figure.trends figcaption { font-size: 10.5px; }
}
"""
    )
