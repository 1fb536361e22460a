"""The HTML report of a run or a comparison: self-contained (inline CSS, figures as base64 PNG),
printable on A4, every piece of text escaped. Its first page is for a board (`flowsim.report.board`:
the finding, the national targets with RAG, the trends); the detail follows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from flowsim._version import __version__
from flowsim.analysis import PRIMARY_KPIS
from flowsim.analysis.bottlenecks import Bottlenecks
from flowsim.analysis.constraints import chain_labels
from flowsim.report.board import (
    board_compare_section,
    board_css,
    board_run_section,
    figure_html,
    targets_section,
)
from flowsim.report.html_sections import (  # tests import three of these from here
    _bottleneck_section,
    _changes_section,
    _offered_load_section,
    _shares_in_words,
    _sources_section,
    _stress_section,
    _value_section,
)
from flowsim.report.labels import (
    KPI_GROUPS,
    clip_interval,
    difference_in_words,
    format_ci,
    format_difference,
    format_value,
    kpi_group,
    kpi_label,
)
from flowsim.report.stress import stress_des
from flowsim.scenario.schema import Scenario
from flowsim.scenario.sources import ParameterSource

__all__ = ["render_compare_report", "render_run_report"]

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
table.compact { font-size: 12.5px; }
tr.has-words td { border-bottom: none; padding-bottom: 0; }
tr.words td { font-size: 12px; color: #3c4650; padding: 0 6px 4px 18px; }
td.code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
p.lead { font-size: 16px; margin: 6px 0; }
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
    "concluding. n is the number of replications with a value. An interval is cut at what is "
    "possible (0–100% for a share, 0 for a wait or a count): with few replications the "
    "t interval can otherwise reach past it.",
    "Only the measured period counts: the warm-up, while the empty hospital fills, is left "
    "out. Lengths of stay count stays that began and ended within the measured period, so long "
    "stays are under-represented and the mean is biased low, the more so the shorter the run.",
)


def render_run_report(
    scenario: Scenario,
    summary_df: pd.DataFrame,
    figures: Mapping[str, Figure] | Iterable[tuple[str, Figure]],
    meta: Mapping[str, Any],
    *,
    bottlenecks: Bottlenecks | None = None,
    value: pd.DataFrame | None = None,
    changes: Sequence[tuple[str, Any, Any]] = (),
    base_name: str | None = None,
    sources: Sequence[ParameterSource] | None = None,
    trends: pd.DataFrame | None = None,
) -> str:
    """One self-contained HTML report for a run, its first page for a board.

    ``summary_df`` is `flowsim.analysis.summarise` output (``kpi, unit, mean, ci_low, ci_high,
    n``); ``figures`` maps a caption to a figure (shown in order); ``meta`` describes the run
    (``seed``, ``replications``, ``horizon_days``, ``warm_up_days``, ``flowsim_version``,
    ``date``, ...; unknown keys are shown too). ``bottlenecks`` adds the constraint, blocking
    chain and resource tables; ``changes`` (`diff_scenarios` rows against ``base_name``) what
    the scenario changes; ``sources`` the parameters with the evidence their comments cite;
    ``trends`` (`flowsim.analysis.periods.trend_kpis` of every replication, with
    ``replication``) the first page's trends. A STRESS-DES appendix closes the report. All
    text is escaped.
    """
    meta = {"flowsim_version": __version__, **meta}
    meta.setdefault("date", dt.datetime.now().strftime("%Y-%m-%d %H:%M"))
    items = list(figures.items() if isinstance(figures, Mapping) else figures)
    primary = [k for k in PRIMARY_KPIS if k in set(summary_df["kpi"])]
    rest = summary_df[~summary_df["kpi"].isin(primary)]
    body = [
        board_run_section(summary_df, trends, bottlenecks),
        '<section id="run">',
        "<h2>Run</h2>",
        _meta_list(meta),
        "</section>",
        _offered_load_section(scenario),
        '<section id="headline">',
        "<h2>Headline results</h2>",
        _kpi_table(summary_df.set_index("kpi").loc[primary].reset_index(), headline=True),
        "</section>",
        '<section id="how-to-read" class="note">',
        "<h3>How to read this</h3>",
        *(f"<p>{escape(p)}</p>" for p in _HOW_TO_READ),
        "</section>",
        targets_section(),
        _changes_section(changes, base_name),
        _bottleneck_section(bottlenecks),
        _value_section(value),
        '<section id="figures" class="figures">',
        "<h2>Figures</h2>",
        *(_figure(caption, fig) for caption, fig in items),
        "</section>",
        '<section id="all-results">',
        "<h2>All results</h2>",
        *_grouped_tables(rest),
        "</section>",
        _sources_section(sources, {path for path, _, _ in changes}),
        _stress_section(stress_des(scenario, meta, len(changes) or None)),
    ]
    return _page("flowsim run report", scenario.name, scenario.description.strip(), body, meta)


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
        low, high = clip_interval(float(row.ci_low), float(row.ci_high), unit)
        rows.append(
            "<tr>"
            f"<td>{escape(kpi_label(str(row.kpi)))}</td>"
            f"<td class='num mean'>{escape(format_value(mean, unit))}</td>"
            f"<td class='num'>{escape(format_ci(low, high, unit, like=mean))}</td>"
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


_figure = figure_html


def _page(
    kicker: str, title: str, subtitle: str, body: Sequence[str], meta: Mapping[str, Any]
) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(kicker)}: {escape(title)}</title>",
        f"<style>{_CSS}{board_css()}</style>",
        "</head>",
        "<body>",
        "<main>",
        "<header>",
        f'<p class="kicker">{escape(kicker)}</p>',
        f"<h1>{escape(title)}</h1>",
        f'<p class="description">{escape(subtitle)}</p>' if subtitle else "",
        "</header>",
        *body,
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


_HOW_TO_READ_COMPARISON = (
    "Every scenario ran the same replications on the same random numbers: replication r of each "
    "met the same patients with the same needs wherever the pathway is unchanged. The "
    "difference is taken replication by replication (paired), so the noise both share cancels "
    "and the 95% confidence interval of the difference is far narrower than comparing two means.",
    "Differences are in the measure's own unit: shares in percentage points, waits in minutes "
    "or hours, stays in days. The verdict is 'shorter', 'lower' and so on when the whole 95% "
    "interval of the difference lies on one side of no change, so the runs are clear about the "
    "direction, with 'better' or 'worse' where the measure has one; 'no clear difference' when "
    "the interval reaches no change: the change may still matter, but these runs cannot tell "
    "which way. 'In words' says how big the change is beside the baseline and how sure: the "
    "range the 95% interval allows. Run more replications or a longer period before concluding "
    "there is no effect.",
)


def render_compare_report(
    scenarios: Sequence[Scenario],
    labels: Sequence[str],
    comparison: pd.DataFrame,
    figures: Mapping[str, Figure] | Iterable[tuple[str, Figure]],
    meta: Mapping[str, Any],
    *,
    changes: Mapping[str, Sequence[tuple[str, Any, Any]]] | None = None,
    bottlenecks: Mapping[str, Bottlenecks] | None = None,
    kpis: pd.DataFrame | None = None,
    trends: pd.DataFrame | None = None,
) -> str:
    """One self-contained HTML report comparing scenarios with the first (the baseline), its
    first page for a board.

    ``comparison`` is `flowsim.analysis.compare.paired_comparison` output; ``changes`` maps an
    alternative's label to its `diff_scenarios` rows against the baseline; ``bottlenecks`` maps
    each label to its bottleneck analysis; ``kpis`` (tidy ``scenario, replication, kpi, unit,
    value``) gives each scenario's level and interval against the national targets; ``trends``
    (`flowsim.analysis.periods.trend_kpis` rows with ``scenario`` and ``replication``) the
    first page's trends.
    """
    meta = {"flowsim_version": __version__, **meta}
    meta.setdefault("date", dt.datetime.now().strftime("%Y-%m-%d %H:%M"))
    items = list(figures.items() if isinstance(figures, Mapping) else figures)
    base = labels[0]
    headline = comparison[comparison["kpi"].isin(PRIMARY_KPIS)]
    body = [
        board_compare_section(labels, comparison, kpis, trends, PRIMARY_KPIS),
        '<section id="run">',
        "<h2>Run</h2>",
        _meta_list(meta),
        "</section>",
        '<section id="headline">',
        "<h2>Headline differences</h2>",
        *(
            f"<h3>{escape(name)} against {escape(base)}</h3>"
            + _comparison_table(headline[headline["scenario"] == name], base, name)
            for name in labels[1:]
        ),
        "</section>",
        '<section id="how-to-read" class="note">',
        "<h3>How to read this</h3>",
        *(f"<p>{escape(p)}</p>" for p in _HOW_TO_READ_COMPARISON),
        "</section>",
        targets_section(),
    ]
    for name in labels[1:]:
        rows = (changes or {}).get(name)
        if rows is not None:
            body.append(
                _changes_section(rows, base)
                .replace('id="changes"', f'id="changes-{_slug(name)}"')
                .replace("What this scenario changes", f"What {escape(name)} changes")
            )
    if bottlenecks:
        body += [
            '<section id="bottlenecks"><h2>Bottlenecks</h2>',
            "<table class='compact'><thead><tr><th>Scenario</th><th>Primary constraint</th>"
            "<th>Primary in (replications)</th><th>Blocking chain</th></tr></thead><tbody>",
            *(
                f"<tr><td>{escape(name)}</td><td>{escape(b.primary_words())}</td>"
                f"<td>{escape(_shares_in_words(b))}</td>"
                f"<td>{escape(' → '.join(chain_labels(b.chain)))}</td></tr>"
                for name, b in bottlenecks.items()
            ),
            "</tbody></table>",
            *(
                f"<p><strong>{escape(name)}</strong>: {escape(b.verdict_text())}</p>"
                for name, b in bottlenecks.items()
            ),
            "</section>",
        ]
    body += [
        '<section id="figures" class="figures">',
        "<h2>Figures</h2>",
        *(_figure(caption, fig) for caption, fig in items),
        "</section>",
        '<section id="all-results">',
        "<h2>All differences</h2>",
        *(
            f"<h3>{escape(name)} against {escape(base)}</h3>"
            + _comparison_table(comparison[comparison["scenario"] == name], base, name, words=False)
            for name in labels[1:]
        ),
        "</section>",
        _stress_section(
            stress_des(scenarios[0], meta, sum(len(v) for v in (changes or {}).values()) or None)
        ),
    ]
    title = " vs ".join(labels)
    return _page("flowsim comparison report", title, scenarios[0].description.strip(), body, meta)


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")


def _comparison_table(rows: pd.DataFrame, base: str, name: str, words: bool = True) -> str:
    """The paired differences: with ``words`` the size and certainty of each in a sentence
    on a line of its own under it (the headline table); without, the relative change (the long
    table of every KPI)."""
    change_head = "" if words else "<th class='num'>Change</th>"
    head = (
        f"<thead><tr><th>Measure</th><th class='num'>{escape(base)}</th>"
        f"<th class='num'>{escape(name)}</th><th class='num'>Difference (95% CI)</th>"
        f"<th>Verdict</th>{change_head}</tr></thead>"
    )
    out = []
    for r in rows.itertuples(index=False):
        unit = str(r.unit)
        difference, change, verdict = format_difference(r)
        colour = {"better": "#1e7b34", "worse": "#b3261e"}.get(str(r.assessment), "#1d2329")
        out.append(
            ("<tr class='has-words'>" if words else "<tr>")
            + f"<td>{escape(kpi_label(str(r.kpi)))} <span class='unit'>({escape(unit)})</span></td>"
            f"<td class='num'>{escape(format_value(float(r.baseline_mean), unit))}</td>"
            f"<td class='num'>{escape(format_value(float(r.scenario_mean), unit))}</td>"
            f"<td class='num'>{escape(difference)}</td>"
            f"<td style='color:{colour}'>{escape(verdict)}</td>"
            + ("" if words else f"<td class='num'>{escape(change)}</td>")
            + "</tr>"
            + (
                f"<tr class='words'><td colspan='5'>{escape(difference_in_words(r))}</td></tr>"
                if words
                else ""
            )
        )
    return f"<table class='compact'>{head}<tbody>{''.join(out)}</tbody></table>"
