"""The one-page HTML report of a run: self-contained (inline CSS, figures as base64 PNG), printable
on A4, every piece of text escaped."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

import flowsim
from flowsim.analysis import PRIMARY_KPIS
from flowsim.report.figures import figure_png
from flowsim.report.labels import KPI_GROUPS, format_ci, format_value, kpi_group, kpi_label
from flowsim.scenario.schema import Scenario

__all__ = ["render_run_report"]

_META_LABELS = {
    "scenario_file": "Scenario file",
    "seed": "Seed",
    "replications": "Replications",
    "horizon_days": "Simulated days (measured)",
    "warm_up_days": "Warm-up days (not measured)",
    "start_date": "Start date",
    "workers": "Worker processes",
    "wall_seconds": "Wall time",
    "flowsim_version": "flowsim version",
    "date": "Report date",
}

_CSS = """
@page { size: A4; margin: 14mm 13mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; background: #f3f5f7; color: #1d2329;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
main { max-width: 200mm; margin: 0 auto; padding: 10mm 9mm 14mm; background: #fff; }
header { border-bottom: 4px solid #005eb8; padding-bottom: 8px; margin-bottom: 14px; }
.kicker { margin: 0; color: #005eb8; font-weight: 700; letter-spacing: .06em;
  text-transform: uppercase; font-size: 12px; }
h1 { margin: 2px 0 6px; font-size: 28px; line-height: 1.15; }
h2 { margin: 22px 0 8px; font-size: 19px; color: #003d78; border-bottom: 1px solid #d8dde3;
  padding-bottom: 3px; break-after: avoid; }
h3 { margin: 14px 0 4px; font-size: 15px; color: #333; break-after: avoid; }
.description { margin: 0; color: #3c4650; }
dl.meta { display: grid; grid-template-columns: repeat(3, auto 1fr); gap: 3px 10px; margin: 0;
  font-size: 13.5px; }
dl.meta dt { color: #5b6570; }
dl.meta dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
table { width: 100%; border-collapse: collapse; font-size: 13.5px; break-inside: auto; }
thead th { text-align: left; border-bottom: 2px solid #1d2329; padding: 4px 6px; }
tbody td { border-bottom: 1px solid #e3e7eb; padding: 3px 6px; }
tr { break-inside: avoid; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.unit { color: #5b6570; white-space: nowrap; }
table.headline { font-size: 15px; }
table.headline td.num.mean { font-weight: 700; font-size: 16px; }
.note { background: #eef4fb; border-left: 4px solid #005eb8; padding: 8px 12px; margin: 12px 0;
  font-size: 13.5px; break-inside: avoid; }
.note p { margin: 4px 0; }
figure { margin: 12px 0 18px; break-inside: avoid; }
figure img { display: block; width: 100%; height: auto; }
figcaption { font-size: 13px; color: #5b6570; margin-top: 2px; }
footer { margin-top: 18px; font-size: 12px; color: #5b6570; }
@media print {
  body { background: #fff; font-size: 12.5px; }
  main { max-width: none; padding: 0; }
  h1 { font-size: 24px; }
  section.figures { break-before: page; }
}
"""

_HOW_TO_READ = (
    "Each number is the mean over the replications: independent runs of the same scenario "
    "with different random numbers. The 95% confidence interval (Student's t over "
    "replications) shows how precisely the runs pin down that mean: if the whole study were "
    "repeated many times, about 95 in 100 such intervals would contain the scenario's long-run "
    "value. It covers the randomness of the simulation only, not doubt about the scenario's "
    "own inputs.",
    "An interval needs at least two replications; more replications give narrower intervals "
    "(roughly halved by four times as many). When two scenarios' intervals do not overlap, the "
    "difference is unlikely to be chance; when they overlap, run more replications before "
    "concluding. n is the number of replications with a value.",
    "Only the measured period counts: the warm-up, while the empty hospital fills, is left "
    "out. Lengths of stay count stays that began and ended within the measured period, so long "
    "stays are under-represented and the mean is biased low, the more so the shorter the run.",
)


def render_run_report(
    scenario: Scenario,
    summary_df: pd.DataFrame,
    figures: Mapping[str, Figure] | Iterable[tuple[str, Figure]],
    meta: Mapping[str, Any],
) -> str:
    """One self-contained HTML page for a run.

    ``summary_df`` is `flowsim.analysis.summarise` output (``kpi, unit, mean, ci_low, ci_high,
    n``); ``figures`` maps a caption to a figure (shown in order); ``meta`` describes the run
    (``seed``, ``replications``, ``horizon_days``, ``warm_up_days``, ``flowsim_version``,
    ``date``, ...; unknown keys are shown too). All text is escaped.
    """
    meta = {"flowsim_version": flowsim.__version__, **meta}
    meta.setdefault("date", dt.datetime.now().strftime("%Y-%m-%d %H:%M"))
    items = list(figures.items() if isinstance(figures, Mapping) else figures)
    title = f"flowsim run: {scenario.name}"
    primary = [k for k in PRIMARY_KPIS if k in set(summary_df["kpi"])]
    rest = summary_df[~summary_df["kpi"].isin(primary)]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        "<header>",
        '<p class="kicker">flowsim run report</p>',
        f"<h1>{escape(scenario.name)}</h1>",
        f'<p class="description">{escape(scenario.description.strip())}</p>'
        if scenario.description.strip()
        else "",
        "</header>",
        '<section id="run">',
        "<h2>Run</h2>",
        _meta_list(meta),
        "</section>",
        '<section id="headline">',
        "<h2>Headline results</h2>",
        _kpi_table(summary_df.set_index("kpi").loc[primary].reset_index(), headline=True),
        "</section>",
        '<section id="how-to-read" class="note">',
        "<h3>How to read this</h3>",
        *(f"<p>{escape(p)}</p>" for p in _HOW_TO_READ),
        "</section>",
        '<section id="figures" class="figures">',
        "<h2>Figures</h2>",
        *(_figure(caption, fig) for caption, fig in items),
        "</section>",
        '<section id="all-results">',
        "<h2>All results</h2>",
        *_grouped_tables(rest),
        "</section>",
        "<footer>",
        escape(
            f"Generated by flowsim {meta['flowsim_version']} on {meta['date']}. "
            "Simulated results from a model of the scenario, not observed data."
        ),
        "</footer>",
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def _meta_text(key: str, value: Any) -> str:
    if key == "wall_seconds" and isinstance(value, int | float):
        minutes, seconds = divmod(float(value), 60.0)
        return f"{int(minutes)} min {seconds:.0f} s" if minutes else f"{seconds:.1f} s"
    if isinstance(value, float) and value.is_integer():
        return f"{value:.0f}"
    return str(value)


def _meta_list(meta: Mapping[str, Any]) -> str:
    keys = [k for k in _META_LABELS if k in meta] + [k for k in meta if k not in _META_LABELS]
    rows = [
        f"<dt>{escape(_META_LABELS.get(k, k.replace('_', ' ').capitalize()))}</dt>"
        f"<dd>{escape(_meta_text(k, meta[k]))}</dd>"
        for k in keys
    ]
    return '<dl class="meta">' + "".join(rows) + "</dl>"


def _kpi_table(df: pd.DataFrame, headline: bool = False) -> str:
    head = (
        "<thead><tr><th>Measure</th><th class='num'>Mean</th><th class='num'>95% CI</th>"
        "<th>Unit</th><th class='num'>n</th></tr></thead>"
    )
    rows = []
    for row in df.itertuples(index=False):
        unit, mean = str(row.unit), float(row.mean)
        rows.append(
            "<tr>"
            f"<td>{escape(kpi_label(str(row.kpi)))}</td>"
            f"<td class='num mean'>{escape(format_value(mean, unit))}</td>"
            f"<td class='num'>{escape(format_ci(row.ci_low, row.ci_high, unit, like=mean))}</td>"
            f"<td class='unit'>{escape(unit)}</td>"
            f"<td class='num'>{int(row.n)}</td>"
            "</tr>"
        )
    cls = ' class="headline"' if headline else ""
    return f"<table{cls}>{head}<tbody>{''.join(rows)}</tbody></table>"


def _grouped_tables(df: pd.DataFrame) -> list[str]:
    groups = df["kpi"].map(kpi_group)
    order = [title for title, _ in KPI_GROUPS] + ["Other"]
    out = []
    for title in order:
        part = df[groups == title]
        if not part.empty:
            out += [f"<h3>{escape(title)}</h3>", _kpi_table(part)]
    return out


def _figure(caption: str, fig: Figure) -> str:
    data = base64.b64encode(figure_png(fig)).decode("ascii")
    return (
        "<figure>"
        f'<img src="data:image/png;base64,{data}" alt="{escape(caption)}">'
        f"<figcaption>{escape(caption)}</figcaption>"
        "</figure>"
    )
