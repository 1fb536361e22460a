"""The detail sections of the HTML report: offered load, what the scenario changes, the
bottlenecks and how sure their primary constraint is, what one more unit would buy, the
parameters' sources and the STRESS-DES appendix.

Why a module of its own: `flowsim.report.html` is the page shell (CSS, head, the run and
comparison pages in order); each section here is one self-contained ``<section>`` that takes
its own results and escapes all its text, so a section can change, or be tested, without the
page around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

import pandas as pd

from flowsim.analysis.bottlenecks import Bottlenecks
from flowsim.analysis.constraints import chain_labels
from flowsim.analysis.figure_data import unit_label
from flowsim.report.board import figure_html
from flowsim.report.figures import blocking_chain_figure
from flowsim.report.labels import format_value
from flowsim.scenario.schema import Scenario
from flowsim.scenario.sources import ParameterSource


def _offered_load_section(scenario: Scenario) -> str:
    """Each unit's offered load from the scenario alone (`flowsim.analysis.offered_load`), with
    the warnings: read it before the results, as it says where the run will queue."""
    from flowsim.analysis.offered_load import offered_load

    result = offered_load(scenario)
    rows = []
    for row in result.table.to_dict("records"):
        if row["places"] <= 0 and row["busy_places"] <= 0:
            continue
        cls = " class='warn'" if row["warning"] else ""
        rows.append(
            f"<tr{cls}><td>{escape(row['label'])}</td>"
            f"<td class='num'>{row['arrivals_per_day']:.1f}</td>"
            f"<td class='num'>{row['offered_places']:.1f}</td>"
            f"<td class='num'>{row['places']:.0f}</td>"
            f"<td class='num'>{100 * row['load']:.0f}%</td></tr>"
        )
    head = (
        "<thead><tr><th>Unit</th><th class='num'>Arrivals a day</th>"
        "<th class='num'>Places busy if nobody waited</th><th class='num'>Places</th>"
        "<th class='num'>Offered load</th></tr></thead>"
    )
    warnings = "".join(f"<p class='warning'>{escape(w)}</p>" for w in result.warnings)
    return (
        '<section id="offered-load"><h2>Offered load (from the scenario, before the run)</h2>'
        "<p>Arrivals a day times mean stay, over the places: above about 95% a queue grows "
        "without limit (or, where patients go elsewhere when the unit is full, many are "
        "turned away).</p>"
        f"<table>{head}<tbody>{''.join(rows)}</tbody></table>{warnings}</section>"
    )


def _changes_section(changes: Sequence[tuple[str, Any, Any]], base_name: str | None) -> str:
    if not base_name:
        return ""
    if not changes:
        body = f"<p>No setting differs from {escape(base_name)}.</p>"
    else:
        rows = "".join(
            f"<tr><td class='code'>{escape(path)}</td><td class='code'>{escape(_short(a))}</td>"
            f"<td class='code'>{escape(_short(b))}</td></tr>"
            for path, a, b in changes
        )
        body = (
            f"<table class='compact'><thead><tr><th>Setting</th><th>{escape(base_name)}</th>"
            f"<th>This scenario</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    return (
        '<section id="changes"><h2>What this scenario changes</h2>'
        f"<p>Against the scenario it extends, {escape(base_name)}:</p>{body}</section>"
    )


def _short(value: Any, limit: int = 90) -> str:
    text = "(not set)" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chain_for_figure(chain: Sequence[str]) -> list[str]:
    return ["handover" if (unit == "ambulance" and i) else unit for i, unit in enumerate(chain)]


def _shares_in_words(b: Bottlenecks) -> str:
    """``AMU 3 of 5, discharge referral and assessment 2 of 5``."""
    return ", ".join(f"{label} {count}" for label, count, _, _ in b.share_rows())


def _constraint_shares(b: Bottlenecks) -> str:
    """How sure the primary constraint is: the verdict, why it drifts with the run length
    (if it does), and how often each cause was the primary across the replications."""
    rows = "".join(
        f"<tr><td>{escape(label)}</td><td class='num'>{escape(count)}</td>"
        f"<td class='num'>{escape(share)}</td><td class='num'>{escape(kept)}</td></tr>"
        for label, count, share, kept in b.share_rows()
    )
    note = f"<p class='note'>{escape(b.horizon_note)}</p>" if b.horizon_note else ""
    return (
        f"<p>{escape(b.verdict)}</p>{note}"
        "<table class='compact' id='constraint-shares'><thead><tr><th>Primary constraint</th>"
        "<th class='num'>Replications</th><th class='num'>Share</th>"
        "<th class='num'>Waiting kept, patient-hours a day (95% CI)</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        "<p>Waiting kept: the waiting that stops at a cause instead of being passed on to what "
        "its blocked patients wait for; the primary constraint keeps the most.</p>"
    )


def _bottleneck_section(b: Bottlenecks | None) -> str:
    if b is None or not b.chain:
        return ""
    chain = _chain_for_figure(b.chain)
    hours = {new: b.chain_hours.get(old, 0.0) for old, new in zip(b.chain, chain, strict=True)}
    words = " → ".join(chain_labels(chain))  # as the figure labels its boxes
    res = b.resources.sort_values("utilisation_pct", ascending=False)
    rows = "".join(
        "<tr>"
        f"<td>{escape(unit_label(str(r.resource)))}</td>"
        f"<td class='num'>{format_value(r.capacity_mean)}</td>"
        f"<td class='num'>{format_value(r.utilisation_pct, '%')}</td>"
        f"<td class='num'>{format_value(r.full_pct, '%')}</td>"
        f"<td class='num'>{format_value(r.queue_mean)}</td>"
        f"<td class='num'>{format_value(r.blocked_hours_per_day)}</td>"
        f"<td class='num'>{format_value(r.delayed_hours_per_day)}</td>"
        "</tr>"
        for r in res.itertuples(index=False)
    )
    table = (
        "<table class='compact'><thead><tr><th>Resource</th><th class='num'>Places</th>"
        "<th class='num'>Utilisation %</th><th class='num'>Time full %</th>"
        "<th class='num'>Queue (mean)</th><th class='num'>Blocked h/day</th>"
        "<th class='num'>Delayed h/day</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )
    top = b.attribution.sort_values("patient_hours_per_day", ascending=False).head(8)
    waits = "".join(
        f"<tr><td>{escape(unit_label(str(r.cause)))}</td><td>{escape(unit_label(str(r.location)))}"
        f"</td><td class='num'>{format_value(r.patient_hours_per_day)}</td></tr>"
        for r in top.itertuples(index=False)
    )
    return (
        '<section id="bottlenecks"><h2>Bottlenecks</h2>'
        f"<p class='lead'>Primary constraint: <strong>{escape(b.primary_words())}</strong>. "
        f"Waiting travels upstream: {escape(words)}.</p>"
        + _constraint_shares(b)
        + figure_html(
            "The blocking chain: patient-hours a day waiting at each link, from the primary "
            "constraint to the front door.",
            blocking_chain_figure(chain, hours),
        )
        + "<h3>Resources</h3>"
        + "<p>Blocked: patients holding a place here while waiting for the next unit. "
        "Delayed: medically optimised patients waiting for discharge referral, a community "
        "place or the discharge window.</p>"
        + table
        + "<h3>Where the waiting is</h3><table class='compact'><thead><tr><th>Waiting for</th>"
        "<th>While in</th><th class='num'>Patient-hours a day</th></tr></thead>"
        f"<tbody>{waits}</tbody></table></section>"
    )


def _value_section(value: pd.DataFrame | None) -> str:
    if value is None or value.empty:
        return ""
    rows = "".join(
        f"<tr><td class='num'>{int(r['rank'])}</td><td>{escape(str(r['label']))}</td>"
        f"<td class='num'>{escape(format_value(float(r['current'])))}</td>"
        f"<td class='num'>+{int(r['k'])}</td><td>{escape(str(r['sentence']))}</td></tr>"
        for _, r in value.iterrows()
    )
    return (
        '<section id="value"><h2>What one more unit would buy</h2>'
        "<p>Each capacity in turn raised by a few units on the same random numbers as this run; "
        "the paired change per added unit, ranked by the waiting it saves.</p>"
        "<table class='compact'><thead><tr><th class='num'>Rank</th><th>Capacity</th>"
        "<th class='num'>Now</th><th class='num'>Added</th><th>Per added unit</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )


def _sources_section(sources: Sequence[ParameterSource] | None, changed: set[str]) -> str:
    if sources is None:
        return ""
    if not sources:
        return (
            '<section id="sources"><h2>Parameters and sources</h2><p>No setting in the scenario '
            "file or the files it extends cites a source in its comment (write the evidence "
            "as a comment beside the setting, e.g. <code># [S7] (M)</code>).</p></section>"
        )
    rows = []
    for src in sources:
        overridden = any(
            src.key == c or src.key.startswith(c + ".") or c.startswith(src.key + ".")
            for c in changed
        )
        value = "changed: see above" if overridden and src.file else _short(src.value, 60)
        rows.append(
            f"<tr><td class='code'>{escape(src.key)}</td><td class='code'>{escape(value)}</td>"
            f"<td>{escape(', '.join(src.refs))}</td><td>{escape(src.confidence)}</td>"
            f"<td>{escape(_short(src.note, 140))}</td></tr>"
        )
    return (
        '<section id="sources"><h2>Parameters and sources</h2>'
        "<p>Each setting whose comment in the scenario file cites evidence: the row of the domain "
        "brief's parameter table and its confidence (H high, M medium, L low; 'estimate' has no "
        "published source and belongs in a sensitivity analysis).</p>"
        "<table class='compact'><thead><tr><th>Setting</th><th>Value</th><th>Source</th>"
        f"<th>Confidence</th><th>Note</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "</section>"
    )


def _stress_section(rows: Sequence[tuple[str, str, str]]) -> str:
    body = "".join(
        f"<tr><td>{escape(item)}</td><td>{escape(text)}</td></tr>" for _, item, text in rows
    )
    return (
        '<section id="stress-des"><h2>Appendix: model reporting (STRESS-DES)</h2>'
        "<p>The STRESS-DES checklist (Monks et al. 2019) for this run, generated from the "
        "scenario and the run settings.</p>"
        "<table class='compact'><thead><tr><th>Item</th><th>This run</th></tr></thead>"
        f"<tbody>{body}</tbody></table></section>"
    )
