"""Calibration pages: the goodness-of-fit page of ``flowsim fit`` (one self-contained HTML file,
figures embedded as base64 PNG, an analyst can attach to a calibration note), and the baseline's
targets: annual ranges and published monthly points with a figure of simulated against
published by month (docs/calibration.md)."""

from __future__ import annotations

import base64
import html

from flowsim.analysis.fit import Fit
from flowsim.report.figures import figure_png, qq_figure

__all__ = [
    "ANNUAL_TARGETS",
    "PUBLISHED_MONTHLY",
    "fit_report_html",
    "monthly_calibration_figure",
]

ANNUAL_TARGETS: dict[str, tuple[float, float, str]] = {
    "ed_within_4h": (45.0, 65.0, "E1 (H/M); S17-S18 (H)"),
    "ed_over_12h_share": (8.0, 12.0, "E2 (H); S20-S24 (H)"),
    "occupancy_mean_general_acute": (92.0, 97.0, "O5 (H), O4 (M); S27-S30 (H)"),
    "delayed_share_of_ward_beds": (10.0, 15.0, "D5 (H), D7 (M); S34 (H)"),
    "los_mean": (8.0, 10.0, "L1 (H)"),
    "handover_mean": (30.0, 90.0, "O2, O3 (H/M)"),
}
"""KPI: (low, high, source rows) of the baseline's annual calibration ranges (parameters.md
and pressure.md row ids)."""

PUBLISHED_MONTHLY: dict[str, dict[int, tuple[float, str]]] = {
    "ed_within_4h": {
        7: (61.4, "S17: type-1, Jul 2024 (H)"),
        8: (58.0, "S18: type-1, Aug 2022 (H)"),
        12: (49.6, "S18: type-1, Dec 2022 (H)"),
    },
    "ed_over_12h_share": {
        5: (10.0, "S21: May 2024 (H)"),
        6: (9.8, "S21: Jun 2024 (H)"),
        7: (8.7, "S20: type-1, Jul 2024 (H)"),
        12: (12.5, "S22: 'one in eight', Dec 2024 (H)"),
        1: (12.7, "S23: Jan 2025, derived (L)"),
    },
    "occupancy_mean_general_acute": {
        6: (93.1, "S27: Jun 2024 (H)"),
        7: (92.6, "S27: Jul 2024 (H)"),
        12: (95.4, "S31: first week of Dec 2025 (H)"),
        1: (96.0, "S28: mid-Jan 2025 (H)"),
        2: (95.1, "S30: Feb 2024 week (H)"),
        3: (94.1, "S28: late Mar 2025 (H)"),
    },
    "delayed_share_of_ward_beds": {
        6: (12.1, "S33: 12,200 of ~101,000 G&A beds, Jun 2023, derived (L)"),
        1: (13.9, "S33: 14,385 of ~103,000, Jan 2023, derived (L)"),
        2: (12.8, "S30: 13,222 of 103,273, Feb 2024 (H)"),
    },
}
"""KPI: calendar month (1 = January): (published national value, source). National shapes, not
NUH's own (pressure.md not-found 16): the baseline aims at the winter-summer differences, not the
levels, of these points."""

_MONTHLY_LABELS = {
    "ed_within_4h": "type-1 4-hour %",
    "ed_over_12h_share": "12 h from arrival %",
    "handover_mean": "mean handover (min)",
    "occupancy_mean_general_acute": "G&A occupancy %",
    "delayed_share_of_ward_beds": "NCTR, % of ward beds",
    "admissions": "admissions/day",
}

_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:4px 10px;"
    "text-align:left}td.n{text-align:right}img{max-width:100%}.warn{color:#a05000}"
)


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def fit_report_html(fit: Fit, source: str, scenario_file: str) -> str:
    """Every fitted duration with its AIC, KS statistic and QQ plot, and what was estimated."""
    rows = []
    for d in fit.dists:
        rows.append(
            "<tr>"
            f"<td>{html.escape(d.key)}</td><td>{html.escape(str(d.spec))}</td>"
            f"<td class=n>{len(d.observed)}</td><td class=n>{len(d.censored)}</td>"
            f"<td class=n>{d.ks:.3f}</td><td class=n>{d.ks_p:.3g}</td>"
            f"<td>{html.escape(', '.join(f'{k} {v:.0f}' for k, v in d.aic.items()))}</td></tr>"
        )
    figures = "".join(
        f"<h3>{html.escape(d.key)}</h3>"
        + _img(
            figure_png(qq_figure(d.observed, d.frozen.ppf, f"{d.key}: {d.spec['dist']}", d.unit)),
            f"QQ plot of {d.key}",
        )
        for d in fit.dists
    )
    notes = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in fit.notes.items()
    )
    warnings = "".join(f"<li class=warn>{html.escape(w)}</li>" for w in fit.warnings)
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        f"<title>Fit of {html.escape(source)}</title><style>{_CSS}</style></head><body>"
        f"<h1>Goodness of fit: {html.escape(source)}</h1>"
        f"<p>{fit.attendances} attendances from {fit.start:%Y-%m-%d} to {fit.end:%Y-%m-%d} "
        f"({fit.days:.0f} days), written to <code>{html.escape(scenario_file)}</code>.</p>"
        f"<ul>{warnings}</ul>"
        "<h2>Durations</h2><p>Lognormal, gamma and exponential fitted by maximum likelihood, "
        "stays still open at the end of the extract as right-censored; the lowest AIC chosen. "
        "KS: Kolmogorov-Smirnov distance between the completed stays and the fit (approximate: "
        "the completed stays under-represent long ones when many are censored). A QQ plot on "
        "the diagonal means the fit has the right shape.</p>"
        "<table><tr><th>setting</th><th>fitted</th><th>completed</th><th>open</th><th>KS</th>"
        f"<th>KS p</th><th>AIC</th></tr>{''.join(rows)}</table>"
        f"{figures}<h2>Every estimate</h2><table>{notes}</table></body></html>"
    )


def monthly_calibration_figure(months: object, title: str = "") -> bytes:
    """PNG: each headline KPI by calendar month, simulated (mean and 95% CI across replications)
    against `PUBLISHED_MONTHLY`.

    ``months`` is a table ``calendar_month`` (1-12), ``kpi``, ``mean``, ``ci_low``, ``ci_high``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import io

    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5))
    names = "JFMAMJJASOND"
    for ax, (kpi, label) in zip(axes.ravel(), _MONTHLY_LABELS.items(), strict=True):
        m = months[months["kpi"] == kpi].sort_values("calendar_month")  # type: ignore[index]
        x = m["calendar_month"].to_numpy()
        y = m["mean"].to_numpy()
        err = np.nan_to_num(np.vstack([y - m["ci_low"].to_numpy(), m["ci_high"].to_numpy() - y]))
        ax.errorbar(x, y, yerr=err, marker="o", capsize=2, label="simulated")
        pub = PUBLISHED_MONTHLY.get(kpi, {})
        if pub:
            px = sorted(pub)
            ax.scatter(
                px,
                [pub[k][0] for k in px],
                marker="s",
                color="#c0392b",
                zorder=3,
                label="published (England)",
            )
        ax.set_xticks(range(1, 13), list(names))
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
    axes.ravel()[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()
