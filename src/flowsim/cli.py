"""The ``flowsim`` command: thin wrappers around the public API.

Add a command with ``@app.command()``. A `ScenarioError` raised anywhere under a command ends
the program with exit status 2 and the message on stderr, never a traceback, so commands need
no error handling of their own for bad scenarios.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from flowsim import __version__
from flowsim.errors import ScenarioError
from flowsim.scenario import MISSING, diff_scenarios, load_scenario, scenario_to_yaml

EXIT_BAD_INPUT = 2
"""Exit status for a scenario that cannot be used (the same status as a mistyped command)."""

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def print_scenario_error(error: ScenarioError) -> None:
    """Each problem on its own line on stderr: ``file:line: key.path: what is wrong``."""
    for problem in error.problems:
        stderr.print(Text(str(problem), style="red"))


class _Commands(TyperGroup):
    """Runs a command and turns a `ScenarioError` into a message and exit status 2."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ScenarioError as error:
            print_scenario_error(error)
            raise typer.Exit(EXIT_BAD_INPUT) from None


app = typer.Typer(
    cls=_Commands,
    name="flowsim",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_show_locals=False,
)


def _print_version(value: bool) -> None:
    if value:
        stdout.print(f"flowsim {__version__}")
        raise typer.Exit()


def _argument(metavar: str, help: str) -> Any:
    return typer.Argument(metavar=metavar, help=help, show_default=False)


@app.callback()
def _flowsim(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Simulate patient flow through an urgent-care and frailty system.

    A scenario is a YAML file describing demand, services, discharge and community capacity.
    Start from scenarios/baseline.yaml, or write a short file that begins with the line
    'extends: baseline.yaml' and lists only the settings you change.
    """


@app.command()
def validate(
    files: Annotated[list[Path], _argument("FILE", "Scenario files to check.")],
) -> None:
    """Check scenario files: a ✓ or ✗ line for each, and what to fix."""
    invalid = 0
    for file in files:
        try:
            load_scenario(file)
        except ScenarioError as error:
            invalid += 1
            stdout.print(Text.assemble(("✗ ", "bold red"), str(file)))
            print_scenario_error(error)
        else:
            stdout.print(Text.assemble(("✓ ", "bold green"), str(file)))
    if invalid:
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command()
def show(
    file: Annotated[Path, _argument("FILE", "Scenario file.")],
) -> None:
    """Print the whole scenario as YAML, with everything it extends filled in."""
    text = scenario_to_yaml(load_scenario(file))
    typer.echo(f"# {file}, resolved by 'flowsim show': every setting, including inherited ones.")
    typer.echo(text, nl=False)


@app.command()
def diff(
    a: Annotated[Path, _argument("A", "First scenario file.")],
    b: Annotated[Path, _argument("B", "Second scenario file.")],
) -> None:
    """Show the settings that differ between two scenarios."""
    rows = diff_scenarios(load_scenario(a), load_scenario(b))
    if not rows:
        stdout.print(f"no differences between {a} and {b}")
        return
    table = Table("setting", str(a), str(b), title=f"{len(rows)} setting(s) differ")
    for path, value_a, value_b in rows:
        table.add_row(Text(path), _cell(value_a), _cell(value_b))
    stdout.print(table)


def _cell(value: Any) -> Text:
    if value is MISSING:
        return Text("(missing)", style="dim")
    if isinstance(value, dict | list) or value is None or isinstance(value, bool):
        text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1_000)
        return Text(text.strip().removesuffix("\n...").strip())
    return Text(str(value))


def main() -> None:
    """Entry point of the ``flowsim`` console script."""
    app()
