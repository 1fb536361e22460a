"""``flowsim project``: the population of a future year, as a scenario file and as the demand
and places it needs, year by year (analytic: no simulation)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from flowsim.cli import common
from flowsim.cli.common import argument

Occupancy = Annotated[
    float,
    typer.Option(
        min=0.5,
        max=1.0,
        help="Occupancy at which places needed are counted (offered places / occupancy).",
    ),
]


def project(
    file: Annotated[Path, argument("SCENARIO", "Scenario file (its population is today's).")],
    year: Annotated[
        int | None,
        typer.Option(help="Project the population to this year (2021-2035).", show_default=False),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="With --year: write the projected scenario here (YAML, every setting "
            "resolved, the growth figures and their sources in its header).",
            show_default=False,
        ),
    ] = None,
    to: Annotated[
        int | None,
        typer.Option(
            "--to",
            help="Instead: every year from the scenario's own to this one: demand and the "
            "places each unit needs (table, CSV, figure and report in --folder).",
            show_default=False,
        ),
    ] = None,
    folder: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="With --to: folder for projection.csv, .png and .html. "
            "[default: results/projection_<name>]",
            show_default=False,
        ),
    ] = None,
    figure: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="With --to: also save the figure here.", show_default=False
        ),
    ] = None,
    occupancy: Occupancy = 0.92,
) -> None:
    """The population of a future year: older and frailer, not a flat growth multiplier.

    Each place's residents grow by age band at rates derived from the ONS sub-national and
    national population projections (shared/domain/planning.md; flowsim.scenario.projection
    says how); frailty shares within an age band stay, so an older population is a frailer one.
    With --year: demand by age band and frailty now and then, and (--out) the projected
    scenario file. With --to: demand and the places each unit needs at --occupancy, year by
    year, from offered load (no run; use 'flowsim target' for a simulated answer).
    """
    if (year is None) == (to is None):
        raise common.fail("give --year YEAR (one year) or --to YEAR (every year up to it)")
    scenario = common.load(file)
    if year is not None:
        _one_year(scenario, file, year, out)
    else:
        assert to is not None
        _by_year(scenario, file, to, folder, figure, occupancy)


def _checked(scenario: Any, year: int) -> Any:
    from flowsim.analysis.projection import at_year

    try:
        return at_year(scenario, year)
    except Exception as error:  # a ScenarioError: the year is outside the projection
        from flowsim.errors import ScenarioError

        if isinstance(error, ScenarioError):
            raise common.fail(
                "; ".join(p.message for p in error.problems) + f" (--year/--to {year})"
            ) from None
        raise


def _one_year(scenario: Any, file: Path, year: int, out: Path | None) -> None:
    from flowsim.analysis.projection import demand_now_and_then
    from flowsim.scenario import scenario_to_yaml

    projected = _checked(scenario, year)
    first = scenario.population.base_year
    table = demand_now_and_then(scenario, year)
    common.print_table(_demand_table(table, scenario.name, first, year))
    people = (table[f"people_{first}"].sum(), table[f"people_{year}"].sum())
    total = (table[f"total_{first}"].sum(), table[f"total_{year}"].sum())
    old = table[table["age_band"] == "85+"]
    common.stdout.print(
        Text(
            f"Adults {people[0]:,.0f} -> {people[1]:,.0f} ({100 * (people[1] / people[0] - 1):+.1f}"
            f"%); urgent contacts {total[0]:.0f} -> {total[1]:.0f} a day "
            f"({100 * (total[1] / total[0] - 1):+.1f}%); from people aged 85+ "
            f"{old[f'share_{first}_pct'].sum():.1f}% -> {old[f'share_{year}_pct'].sum():.1f}%.",
            style="bold",
        )
    )
    if out is None:
        return
    described = f"{scenario.description.strip()} Population projected from {first} to {year}."
    named = projected.model_copy(
        update={"name": f"{scenario.name} {year}", "description": described}
    )
    text = _header(file, scenario, year) + scenario_to_yaml(named)
    common.write_or_fail(out, lambda p: p.write_text(text, encoding="utf-8"))
    common.stdout.print(Text(f"Wrote {out}"))


def _header(file: Path, scenario: Any, year: int) -> str:
    from flowsim.scenario.projection import AGE_BAND_GROWTH_SOURCES, GROWTH_PER_YEAR

    first = scenario.population.base_year
    lines = [
        f"# {scenario.name}, its population projected from {first} to {year} by 'flowsim "
        f"project' from {file}.",
        "# Residents of each place and age band grew at a compound rate a year "
        "(flowsim.scenario.projection);",
        "# frailty shares within an age band and every rate per person are as in the source.",
        "# Growth a year (derived from shared/domain/planning.md, L; estimate where derived):",
    ]
    places = {p.name for p in scenario.population.places}
    for place, rates in GROWTH_PER_YEAR.items():
        if place in places:
            parts = ", ".join(f"{band} {100 * r:+.2f}%" for band, r in rates.items())
            lines.append(f"#   {place}: {parts}")
    lines += [f"#   {band}: {source}" for band, source in AGE_BAND_GROWTH_SOURCES.items()]
    return "\n".join(lines) + "\n"


def _demand_table(table: Any, name: str, first: int, year: int) -> Table:
    out = Table(title=Text(f"{name}: residents (thousands) and urgent contacts a day"))
    out.add_column("age")
    out.add_column("frailty")
    for column in (
        f"people {first}",
        f"{year}",
        f"a day {first}",
        f"{year}",
        "change",
        f"share {first}",
        f"{year}",
    ):
        out.add_column(column, justify="right")
    for r in table.to_dict("records"):
        out.add_row(
            r["age_band"],
            r["frailty"],
            f"{r[f'people_{first}'] / 1000:.1f}",
            f"{r[f'people_{year}'] / 1000:.1f}",
            f"{r[f'total_{first}']:.1f}",
            f"{r[f'total_{year}']:.1f}",
            f"{r['total_change_pct']:+.1f}%",
            f"{r[f'share_{first}_pct']:.1f}%",
            f"{r[f'share_{year}_pct']:.1f}%",
        )
    return out


def _by_year(
    scenario: Any, file: Path, to: int, folder: Path | None, figure: Path | None, occupancy: float
) -> None:
    from flowsim.analysis.projection import projection_by_year
    from flowsim.report.projection import HOSPITAL_GROUPS, projection_figure
    from flowsim.report.style import figure_png
    from flowsim.report.target import render_target_report

    started = time.perf_counter()
    first = scenario.population.base_year
    _checked(scenario, to)
    years = list(range(min(first, to), max(first, to) + 1))
    table = projection_by_year(scenario, years, occupancy)
    out = common.out_folder(folder, f"projection_{common.folder_name(scenario.name)}")
    table.to_csv(out / "projection.csv", index=False)
    fig = projection_figure(table, scenario.name, occupancy)
    png = figure_png(fig)
    (out / "projection.png").write_bytes(png)
    if figure is not None:
        common.write_or_fail(figure, lambda p: p.write_bytes(png))
    summary = _summary(table, HOSPITAL_GROUPS, years)
    common.print_table(_needed_table(summary, occupancy))
    sentences = _sentences(table, summary, years, occupancy)
    for sentence in sentences:
        common.stdout.print(Text(sentence, style="bold"))
    meta = {
        "scenario_file": str(file),
        "years": f"{years[0]}-{years[-1]}",
        "target_occupancy": occupancy,
        "method": "offered load (analytic, no simulation)",
        "wall_seconds": time.perf_counter() - started,
    }
    page = render_target_report(
        scenario,
        "flowsim project",
        sentences,
        [("Demand and places needed by year", fig)],
        [("by year", summary.reset_index())],
        meta,
    )
    (out / "projection.html").write_text(page, encoding="utf-8")
    paths = [out / f for f in ("projection.csv", "projection.png", "projection.html")]
    common.print_results(out, [*paths, *([figure] if figure is not None else [])], started)


def _summary(table: Any, groups: Any, years: list[int]) -> Any:
    """Places needed by year: hospital groups summed, then P1-P3."""
    import pandas as pd

    columns: dict[str, Any] = {}
    per_year = table.drop_duplicates("year").set_index("year")
    columns["contacts a day"] = per_year["contacts_per_day"].round(1)
    columns["85+ share %"] = per_year["share_85_plus_pct"].round(1)
    for label, member in groups.items():
        rows = table[table["unit"].map(member)].groupby("year")
        columns[f"{label} needed"] = rows["places_needed"].sum()
        columns[f"{label} today"] = rows["places"].sum().round(0)
    from flowsim.scenario.units import DISCHARGE_PATHWAY_UNITS

    for unit in DISCHARGE_PATHWAY_UNITS:
        rows = table[table["unit"] == unit].set_index("year")
        columns[f"{unit.upper()} needed"] = rows["places_needed"]
        columns[f"{unit.upper()} today"] = rows["places"].round(0)
    return pd.DataFrame(columns).loc[years].rename_axis("year")


def _needed_table(summary: Any, occupancy: float) -> Table:
    title = f"Places needed at {100 * occupancy:.0f}% occupancy / places today, by year"
    out = Table(title=Text(title))
    units = [c.removesuffix(" needed") for c in summary.columns if c.endswith(" needed")]
    for column in ("year", "a day", "85+", *units):
        out.add_column(column, justify="right", no_wrap=True)
    for year, row in summary.iterrows():
        cells = [str(year), f"{row['contacts a day']:.0f}", f"{row['85+ share %']:.1f}%"]
        cells += [f"{row[f'{u} needed']:,.0f} / {row[f'{u} today']:,.0f}" for u in units]
        out.add_row(*cells)
    return out


def _sentences(table: Any, summary: Any, years: list[int], occupancy: float) -> list[str]:
    first, last = summary.iloc[0], summary.iloc[-1]
    change = 100 * (last["contacts a day"] / first["contacts a day"] - 1)
    beds = ("G&A wards needed", "G&A wards today")
    out = [
        f"From {years[0]} to {years[-1]} urgent contacts change by {change:+.1f}% "
        f"({first['contacts a day']:.0f} to {last['contacts a day']:.0f} a day) while people "
        f"aged 85+ go from {first['85+ share %']:.1f}% to {last['85+ share %']:.1f}% of them.",
        f"At {100 * occupancy:.0f}% occupancy the G&A wards need {first[beds[0]]:,.0f} beds in "
        f"{years[0]} and {last[beds[0]]:,.0f} in {years[-1]} (the scenario has "
        f"{first[beds[1]]:,.0f}); P1 {first['P1 needed']:.0f} to {last['P1 needed']:.0f} "
        f"packages (has {first['P1 today']:.0f}).",
        "Places needed are offered load / occupancy: analytic, before any queue, with services "
        "and lengths of stay as in the scenario; 'flowsim target' gives a simulated answer.",
    ]
    return out


COMMANDS = {"project": project}
