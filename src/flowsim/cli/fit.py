"""``flowsim synth``, ``flowsim fit`` and ``flowsim check-fit``: calibrate a scenario to a local
system's extract (docs/extract-format.md)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from flowsim.cli import common
from flowsim.cli.common import Seed, Workers, argument


def _suffix(path: Path, allowed: tuple[str, ...], what: str) -> None:
    if path.suffix.lower() not in allowed:
        raise common.fail(f"{path}: {what} must end in {' or '.join(allowed)}")


def synth(
    file: Annotated[Path, argument("SCENARIO", "Scenario to simulate.")],
    out: Annotated[
        Path, typer.Option(metavar="FILE", help="Extract to write: a .csv or .parquet file.")
    ],
    days: Annotated[
        float | None,
        typer.Option(min=1, help="Days of extract (after warm-up). [default: run.horizon_days]"),
    ] = None,
    seed: Seed = None,
) -> None:
    """Write a synthetic extract of SCENARIO: one row per attendance, in the format 'flowsim fit'
    reads, so you can see what to ask your information team for (docs/extract-format.md)."""
    from flowsim.analysis.extract import write_extract
    from flowsim.api import synth_extract

    _suffix(out, (".csv", ".parquet"), "--out")
    with common.stderr.status(f"simulating {file}"):
        df = synth_extract(file, days=days, seed=seed)
    write_extract(df, out)
    admitted = int(df["disposition"].isin(["amu", "afu", "ward"]).sum())
    common.stdout.print(
        Text(
            f"Wrote {out}: {len(df)} attendances ({admitted} admitted) from "
            f"{df['arrival_time'].min():%Y-%m-%d} to {df['arrival_time'].max():%Y-%m-%d}."
        )
    )


def fit(
    extract: Annotated[Path, argument("EXTRACT", "Extract to fit (.csv or .parquet).")],
    base: Annotated[
        Path,
        typer.Option(metavar="SCENARIO", help="Scenario to extend: populations, capacities."),
    ],
    out: Annotated[Path, typer.Option(metavar="FILE", help="Fitted scenario to write (.yaml).")],
    census_date: Annotated[
        str | None,
        typer.Option(
            metavar="YYYY-MM-DD",
            help="Start the scenario warm from the extract's census on this date.",
        ),
    ] = None,
) -> None:
    """Fit a scenario to EXTRACT: demand profile, arrival rates, dispositions, lengths of stay,
    discharge pathways and community durations. Writes OUT (extending --base, a comment on each
    value saying how it was estimated) and OUT's name with _fit.html (QQ plots, KS statistics)."""
    import datetime as dt

    from flowsim.api import fit_scenario
    from flowsim.report.calibration import fit_report_html

    _suffix(out, (".yaml", ".yml"), "--out")
    if census_date is not None:
        try:
            dt.date.fromisoformat(census_date)
        except ValueError:
            raise common.fail(
                f"--census-date: {census_date!r} is not a date; use YYYY-MM-DD"
            ) from None
    started = time.perf_counter()
    with common.stderr.status(f"fitting {extract}"):
        result = fit_scenario(extract, base, out, census_date=census_date)
    out.write_text(result.yaml_text, encoding="utf-8")
    page = out.with_name(f"{out.stem}_fit.html")
    page.write_text(fit_report_html(result.fit, str(extract), str(out)), encoding="utf-8")
    table = Table(title=Text(f"Fitted durations ({len(result.fit.dists)})"))  # type: ignore[attr-defined]
    for col in ("setting", "fitted", "n", "KS"):
        table.add_column(col, justify="right" if col in ("n", "KS") else "left")
    for d in result.fit.dists:  # type: ignore[attr-defined]
        spec = ", ".join(f"{k} {v}" for k, v in d.spec.items() if k != "dist")
        table.add_row(d.key, f"{d.spec['dist']} ({spec})", str(d.n), f"{d.ks:.3f}")
    common.print_table(table)
    if result.census:
        common.stdout.print(
            Text("Census: " + ", ".join(f"{u} {n}" for u, n in result.census.items()))
        )
    for note in result.notes:
        common.stderr.print(Text(f"note: {note}", style="yellow"))
    common.stdout.print(
        Text(
            f"Wrote {out} and {page} ({time.perf_counter() - started:.0f} s). "
            f"Check it with: flowsim check-fit {out} {extract}"
        )
    )


def check_fit_command(
    file: Annotated[Path, argument("SCENARIO", "Fitted scenario (from 'flowsim fit').")],
    extract: Annotated[Path, argument("EXTRACT", "The extract it was fitted to.")],
    replications: Annotated[
        int | None,
        typer.Option(min=2, help="Replications (common random numbers). [default: the scenario's]"),
    ] = None,
    seed: Seed = None,
    workers: Workers = None,
    figure: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Also save the comparison figure as PNG."),
    ] = None,
) -> None:
    """Simulate SCENARIO over EXTRACT's span and compare its KPIs with the observed ones: ED
    4-hour %, admissions, length of stay, ward occupancy and delayed bed-days."""
    from flowsim.api import check_fit
    from flowsim.report.figures import check_fit_figure, figure_png

    with common.stderr.status(f"simulating {file}"):
        table = check_fit(file, extract, replications, seed=seed, workers=workers)
    out = Table(title=Text(f"{file} against {extract}"))
    for col in ("KPI", "unit", "observed", "simulated mean", "95% CI", "95% PI", ""):
        out.add_column(col, justify="left" if col in ("KPI", "unit") else "right")
    for row in table.itertuples(index=False):
        out.add_row(
            row.kpi,
            row.unit,
            f"{row.observed:.2f}",
            f"{row.sim_mean:.2f}",
            f"{row.ci_low:.2f} to {row.ci_high:.2f}",
            f"{row.pi_low:.2f} to {row.pi_high:.2f}",
            Text("ok", style="green") if row.consistent else Text("differs", style="red"),
        )
    out.caption = (
        "PI: where one period's value falls 95% of the time; an observed KPI outside it "
        "suggests the fit misses something."
    )
    common.print_table(out)
    if figure is not None:
        figure.write_bytes(figure_png(check_fit_figure(table)))
        common.stdout.print(Text(f"Wrote {figure}"))


COMMANDS = {"synth": synth, "fit": fit, "check-fit": check_fit_command}
