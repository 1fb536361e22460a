"""The goodness-of-fit page of ``flowsim fit``: one self-contained HTML file (figures embedded as
base64 PNG) an analyst can attach to a calibration note."""

from __future__ import annotations

import base64
import html

from flowsim.analysis.fit import Fit
from flowsim.report.figures import figure_png, qq_figure

__all__ = ["fit_report_html"]

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
