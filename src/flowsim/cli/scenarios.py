"""Commands about scenario files: ``validate``, ``show``, ``diff``, ``schema`` (the generated
reference) and ``library`` (every library scenario against its baseline)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table
from rich.text import Text

from flowsim._version import __version__
from flowsim.cli import common
from flowsim.cli.common import LibraryOnly, Seed, WarmUp, Workers, argument
from flowsim.errors import ScenarioError
from flowsim.scenario import MISSING, diff_scenarios, load_scenario, scenario_to_yaml

REFERENCE_MD = Path("docs/scenario-reference.md")
REFERENCE_JSON = Path("docs/scenario.schema.json")
LIBRARY_MD = Path("docs/scenarios.md")


LoadOption = Annotated[
    bool,
    typer.Option(
        "--load",
        help="Also show each unit's offered load (arrivals x mean stay / places, from the "
        "scenario alone) and a warning for any unit at 95% or more.",
    ),
]


def validate(
    files: Annotated[list[Path], argument("FILE", "Scenario files to check.")],
    load: LoadOption = False,
    library_only: LibraryOnly = False,
) -> None:
    """Check scenario files: a ✓ or ✗ line for each, and what to fix."""
    invalid = 0
    for file in files:
        try:
            scenario = common.load(file, library_only)
        except ScenarioError as error:
            invalid += 1
            common.stdout.print(Text.assemble(("✗ ", "bold red"), str(file)))
            common.print_scenario_error(error)
        else:
            common.stdout.print(Text.assemble(("✓ ", "bold green"), str(file)))
            if load:
                _print_offered_load(scenario)
    if invalid:
        raise typer.Exit(common.EXIT_BAD_INPUT)


def show(
    file: Annotated[Path, argument("FILE", "Scenario file.")],
    load: LoadOption = False,
    library_only: LibraryOnly = False,
) -> None:
    """Print the whole scenario as YAML, with everything it extends filled in (with --load,
    the offered-load table first, as YAML comments)."""
    scenario = common.load(file, library_only)
    text = scenario_to_yaml(scenario)
    typer.echo(f"# {file}, resolved by 'flowsim show': every setting, including inherited ones.")
    if load:
        from flowsim.analysis.offered_load import offered_load, offered_load_lines

        for line in offered_load_lines(offered_load(scenario)):
            typer.echo(f"# {line}".rstrip())
    typer.echo(text, nl=False)


def _print_offered_load(scenario: Any) -> None:
    from flowsim.analysis.offered_load import offered_load

    result = offered_load(scenario)
    table = Table(title=Text(f"Offered load of {scenario.name} (from the scenario, no run)"))
    for column in ("unit", "arrivals/day", "mean stay", "busy", "places", "load"):
        table.add_column(column, justify="left" if column == "unit" else "right")
    for row in result.table.to_dict("records"):
        if row["places"] <= 0 and row["busy_places"] <= 0:
            continue
        style = "bold red" if row["warning"] else ""
        table.add_row(
            row["label"],
            f"{row['arrivals_per_day']:.1f}",
            _hours(row["mean_stay_hours"]),
            f"{row['offered_places']:.1f}",
            f"{row['places']:.0f}",
            Text(f"{100 * row['load']:.0f}%", style=style),
        )
    common.print_table(table)
    for warning in result.warnings:
        common.stdout.print(Text(f"! {warning}", style="red"))


def _hours(value: float) -> str:
    if value != value:  # NaN
        return "-"
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} d"


def diff(
    a: Annotated[Path, argument("A", "First scenario file.")],
    b: Annotated[Path, argument("B", "Second scenario file.")],
) -> None:
    """Show the settings that differ between two scenarios."""
    rows = diff_scenarios(load_scenario(a), load_scenario(b))
    if not rows:
        common.stdout.print(f"no differences between {a} and {b}")
        return
    table = Table("setting", str(a), str(b), title=f"{len(rows)} setting(s) differ")
    for path, value_a, value_b in rows:
        table.add_row(Text(path), _cell(value_a), _cell(value_b))
    common.print_table(table)


def _cell(value: Any) -> Text:
    if value is MISSING:
        return Text("(missing)", style="dim")
    if isinstance(value, dict | list) or value is None or isinstance(value, bool):
        text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1_000)
        return Text(text.strip().removesuffix("\n...").strip())
    return Text(str(value))


def _write(path: Path, text: str) -> None:
    def write(p: Path) -> None:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")

    common.write_or_fail(path, write, "; choose another --out")
    common.stdout.print(Text(f"Wrote {path}"))


def schema(
    markdown: Annotated[
        bool, typer.Option("--markdown", help=f"Write the reference ({REFERENCE_MD}).")
    ] = False,
    json: Annotated[
        bool, typer.Option("--json", help=f"Write the JSON Schema ({REFERENCE_JSON}).")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Where to write (with exactly one of --markdown, --json). [default: the docs/ "
            "file above]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write the scenario reference generated from the schema: every key with its type, unit,
    default, allowed range and description (--markdown), and a JSON Schema for editors (--json).

    With neither option, writes both. Run it after changing src/flowsim/scenario/schema.py; a
    test fails while the committed docs differ from what this writes.
    """
    from flowsim.scenario.reference import json_schema_text, reference_markdown

    if not (markdown or json):
        markdown = json = True
    if out is not None and markdown and json:
        raise typer.BadParameter(
            "give --markdown or --json with --out, not both (they are different files)",
            param_hint="'--out'",
        )
    if markdown:
        _write(out or REFERENCE_MD, reference_markdown())
    if json:
        _write(out or REFERENCE_JSON, json_schema_text())


def library(
    folder: Annotated[
        Path, typer.Argument(metavar="FOLDER", help="Folder of the library and its baseline.yaml.")
    ] = Path("scenarios"),
    markdown: Annotated[
        bool,
        typer.Option("--markdown", help="Also write the table as Markdown (see --out)."),
    ] = False,
    replications: Annotated[
        int, typer.Option(min=2, help="Paired replications of the baseline and each file.")
    ] = 5,
    days: Annotated[
        float, typer.Option(min=1, help="Simulated days measured, after the baseline's warm-up.")
    ] = 180.0,
    warm_up: WarmUp = None,
    seed: Seed = None,
    workers: Workers = None,
    out: Annotated[
        Path,
        typer.Option(metavar="FILE", help="Markdown file written with --markdown."),
    ] = LIBRARY_MD,
) -> None:
    """Run every scenario of the library against its baseline and tabulate what each changes,
    its evidence, the expected direction and the measured effect (paired 95% CI).

    Each file's header (Stream, Changes, Evidence, Expect) gives the words; every file runs on
    the baseline's seed and warm-up, so differences are paired. With --markdown the table is
    written to docs/scenarios.md (refresh it after changing a library file).
    """
    from flowsim.api import compare
    from flowsim.report.library import agreement, library_markdown
    from flowsim.scenario.library import library_entries

    base = load_scenario(folder / "baseline.yaml")
    entries = library_entries(folder)
    if not entries:
        raise common.fail(f"no scenario files besides baseline.yaml in {folder}/")
    scenarios = [load_scenario(e.path) for e in entries]
    names = {e.path.name: s.name for e, s in zip(entries, scenarios, strict=True)}
    settings = common.settings_of(base, seed, days, warm_up, replications, workers)
    common.stdout.print(
        Text(
            f"Running {base.name} and {len(entries)} library scenario(s): {replications} paired "
            f"replication(s) each of {common.span(settings)}, seed {settings.seed}."
        )
    )
    started = time.perf_counter()
    table = common.run_with_progress(
        "replications",
        replications * (len(entries) + 1),
        lambda tick: compare(
            base,
            *scenarios,
            replications=replications,
            seed=settings.seed,
            horizon_days=days,
            warm_up_days=settings.warm_up_days,
            workers=workers,
            progress=tick,
        ),
    )
    shown = Table(title=Text(f"Library against {base.name}: expected effects, paired 95% CI"))
    for column in ("scenario", "expected", "change (95% CI)", "agreement"):
        shown.add_column(column)
    for entry in entries:
        rows = table[table["scenario"] == names[entry.path.name]].set_index("kpi")
        for i, e in enumerate(entry.expect):
            if e.kpi not in rows.index:
                continue
            row = rows.loc[e.kpi]
            lo, hi = float(row["ci_low"]), float(row["ci_high"])
            verdict = agreement(e, lo, hi)
            style = {"as expected": "green", "opposite": "red"}.get(verdict, "")
            shown.add_row(
                names[entry.path.name] if i == 0 else "",
                str(e),
                f"{float(row['difference']):+.3g} ({lo:+.3g} to {hi:+.3g}) {row['unit']}",
                Text(verdict, style=style),
            )
    common.print_table(shown)
    if markdown:
        import datetime as dt

        run = {
            "replications": replications,
            "horizon_days": days,
            "warm_up": settings.warm_up_days,
            "seed": settings.seed,
            "version": __version__,
            "date": f"{dt.date.today():%Y-%m-%d}",
        }
        _write(out, library_markdown(entries, table, names, run))
    common.stdout.print(Text(f"Done in {time.perf_counter() - started:.0f} s."))


COMMANDS = {
    "validate": validate,
    "show": show,
    "diff": diff,
    "schema": schema,
    "library": library,
}
