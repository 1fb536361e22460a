"""What every ``flowsim`` command shares: the typer app, consoles, tables that never cut a
number, error handling, the options of a run, run settings resolved once, a progress bar, and
the results folder.

A `ScenarioError` or `ModelError` raised anywhere under a command ends the program with exit
status 2 and the message on stderr, never a traceback, so commands need no error handling of
their own for bad scenarios. Command modules import this module only, never each other.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from flowsim._version import __version__
from flowsim.errors import ModelError, ScenarioError
from flowsim.experiment.executors import ExecutorError

if TYPE_CHECKING:
    from flowsim.experiment.settings import RunSettings
    from flowsim.scenario import Scenario

T = TypeVar("T")

EXIT_BAD_INPUT = 2
"""Exit status for a scenario that cannot be used (the same status as a mistyped command)."""

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


# ---------------------------------------------------------------- tables

_WIDEST = 10_000
"""Columns to measure a table's natural width in (wider than any table)."""
_LONG_WORD = 12
"""A header word longer than this folds, to leave room for the others."""


def _plain(cell: object) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def fit_table(table: Table) -> Table:
    """``table`` set up so that no number is cut (see `print_table`); returned for chaining.
    Numeric columns are the right-aligned ones."""
    for column in table.columns:
        column.overflow = "fold"
        if column.justify != "right":
            continue
        tokens = [t for cell in column.cells for t in _plain(cell).split()]
        if tokens:
            column.min_width = max(column.min_width or 0, max(cell_len(t) for t in tokens))
    return table


def _widths(column: Any) -> tuple[int, int]:
    """A column's natural width (its longest line) and the least it can take without cutting:
    its longest word, header words capped at `_LONG_WORD` (a long scenario name folds)."""
    cells = [_plain(c) for c in column.cells]
    header = _plain(column.header)
    natural = max(cell_len(line) for text in [header, *cells] for line in text.splitlines() or [""])
    words = [cell_len(w) for text in cells for w in text.split()]
    words += [min(cell_len(w), _LONG_WORD) for w in header.split()]
    return natural, max([column.min_width or 1, *words])


def _squeeze(table: Table, console: Console) -> None:
    """Room for a table too wide for the console: first no vertical rules, no outer edge or
    its padding; then the columns of words narrow (widest first, never below their longest
    word), and only then the numeric ones (never below their longest number)."""
    table.box = box.SIMPLE_HEAD
    table.show_edge = False
    table.pad_edge = False
    table.collapse_padding = True
    excess = natural_width(console, table) - console.width
    if excess <= 0:
        return
    sizes = [_widths(c) for c in table.columns]
    width = [natural for natural, _ in sizes]
    for numeric in (False, True):
        group = [i for i, c in enumerate(table.columns) if (c.justify == "right") == numeric]
        while excess > 0:
            open_ = [i for i in group if width[i] > sizes[i][1]]
            if not open_:
                break
            widest = max(open_, key=lambda i: width[i])
            width[widest] -= 1
            excess -= 1
    for column, w, (natural, _) in zip(table.columns, width, sizes, strict=True):
        if w < natural:
            column.max_width = w


def natural_width(console: Console, table: Table) -> int:
    """The width ``table`` takes when nothing has to wrap."""
    return Measurement.get(console, console.options.update_width(_WIDEST), table).maximum


def print_table(table: Table, console: Console | None = None) -> None:
    """Print ``table`` (on `stdout` by default) with every number whole.

    rich squeezes a table to the terminal's width and, by default, ends a cell that no longer
    fits with "…": at 80 columns the bottleneck table showed "1,1…" for 1,184.3. Here a numeric
    (right-aligned) column is never narrower than its longest number (a cell such as "+0.8
    (0.6 – 1.0)" may still break at its spaces) and what is too long folds onto the next line
    instead of being cut; a table too wide for the width first loses its vertical rules and
    outer padding, then its text columns and headers wrap (at spaces where they can), numeric
    ones last, and the caption wraps at words. When the output is not a terminal (piped to a
    file or another program) and no ``COLUMNS`` is set, rows are printed in full, unwrapped,
    for scripts; with ``COLUMNS`` set, the table fits that width.
    """
    console = stdout if console is None else console
    fit_table(table)
    if console.is_terminal or os.environ.get("COLUMNS", "").isdigit():
        if natural_width(console, table) > console.width:
            _squeeze(table, console)
        console.print(table, soft_wrap=False, crop=False)
        return
    width = max(console.width, natural_width(console, table))
    wide = Console(
        file=console.file,
        width=width,
        highlight=False,
        soft_wrap=True,
        color_system=console.color_system,  # type: ignore[arg-type]
    )
    wide.print(table, soft_wrap=False, crop=False)


# ---------------------------------------------------------------- errors


def print_scenario_error(error: ScenarioError) -> None:
    """Each problem on its own line on stderr: ``file:line: key.path: what is wrong``."""
    for problem in error.problems:
        stderr.print(Text(str(problem), style="red"))


def print_model_error(error: ModelError) -> None:
    """``cannot run the scenario: what is wrong`` on stderr."""
    stderr.print(Text(f"cannot run the scenario: {error}", style="red"))


def fail(message: str) -> typer.Exit:
    """``message`` in red on stderr, and the exit (status 2) for the caller to raise."""
    stderr.print(Text(message, style="red"))
    return typer.Exit(EXIT_BAD_INPUT)


def write_or_fail(path: Path, write: Callable[[Path], object], advice: str = "") -> None:
    """``write(path)``, or a message naming ``path`` and the reason, then exit status 2."""
    try:
        write(path)
    except OSError as error:
        raise fail(f"cannot write {path}: {error.strerror}{advice}") from None


# ---------------------------------------------------------------- the app


class Commands(TyperGroup):
    """Lists commands in the order a user meets them, and turns a `ScenarioError` or
    `ModelError` into a message and exit status 2."""

    ORDER = (
        "validate",
        "show",
        "diff",
        "run",
        "compare",
        "bottlenecks",
        "sensitivity",
        "warmup",
        "snapshot",
        "batch",
        "results",
        "export-log",
        "synth",
        "fit",
        "check-fit",
        "schema",
        "library",
        "app",
    )

    def list_commands(self, ctx: Any) -> list[str]:
        """In the order a user meets them: scenarios, runs, analysis, batches, data, docs."""
        names = super().list_commands(ctx)
        rank = {name: i for i, name in enumerate(self.ORDER)}
        return sorted(names, key=lambda n: (rank.get(n, len(rank)), n))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ScenarioError as error:
            print_scenario_error(error)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except ModelError as error:
            print_model_error(error)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except ExecutorError as error:
            raise fail(str(error)) from None


app = typer.Typer(
    cls=Commands,
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


# ---------------------------------------------------------------- shared options


def argument(metavar: str, help: str) -> Any:
    return typer.Argument(metavar=metavar, help=help, show_default=False)


def _positive(value: float | None) -> float | None:
    if value is not None and not value > 0:
        raise typer.BadParameter(f"must be more than 0, got {value:g}")
    return value


Days = Annotated[
    float | None,
    typer.Option(
        help="Simulated days measured, after warm-up. [default: the scenario's run.horizon_days]",
        callback=_positive,
        show_default=False,
    ),
]
WarmUp = Annotated[
    float | None,
    typer.Option(
        "--warm-up",
        min=0,
        help="Days simulated first and left out of the results. [default: the scenario's "
        "run.warm_up_days]",
        show_default=False,
    ),
]
Seed = Annotated[
    int | None,
    typer.Option(min=0, help="Run seed. [default: the scenario's run.seed]", show_default=False),
]
PairedReplications = Annotated[
    int | None,
    typer.Option(
        min=2,
        help="Replications of each scenario or variant, paired: replication r of every one "
        "shares its random numbers. [default: the (first) scenario's run.replications]",
        show_default=False,
    ),
]
Workers = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Processes running replications side by side; the results do not depend on it. "
        "[default: one per replication, at most one per CPU]",
        show_default=False,
    ),
]


LibraryOnly = Annotated[
    bool,
    typer.Option(
        "--library-only",
        envvar="FLOWSIM_LIBRARY_ONLY",
        help="For files from people who do not own this machine (a hosted service): "
        "'extends:' may name only a file of the scenario library (FLOWSIM_SCENARIOS, else "
        "./scenarios), never a path, and errors quote only this file. FLOWSIM_LIBRARY_ONLY=1 "
        "turns it on for every command.",
    ),
]


def load(file: Path, library_only: bool = False) -> Scenario:
    """``file`` read, resolved and validated; with ``library_only``, confined to the library
    folder as an upload to the app is (`flowsim.scenario.load.load_scenario`)."""
    from flowsim.scenario import load_scenario

    if not library_only:
        return load_scenario(file)
    return load_scenario(file, library_only=library_folder())


def library_folder() -> Path:
    """The scenario library of ``--library-only``: ``FLOWSIM_SCENARIOS``, else ./scenarios."""
    folder = Path(os.environ.get("FLOWSIM_SCENARIOS") or "scenarios")
    if not folder.is_dir():
        raise fail(
            f"--library-only confines 'extends:' to the scenario library, but {folder} is not a "
            "folder; set FLOWSIM_SCENARIOS to the library folder (the one with baseline.yaml) "
            "or run from the folder that holds scenarios/"
        )
    return folder


def out_option(default: str) -> Any:
    return typer.Option(
        metavar="DIR",
        help=f"Folder for the results (created if need be). [default: {default}]",
        show_default=False,
    )


# ---------------------------------------------------------------- run settings


def settings_of(
    scenario: Scenario,
    seed: int | None,
    days: float | None,
    warm_up: float | None,
    replications: int | None,
    workers: int | None,
) -> RunSettings:
    """The options of a command resolved against ``scenario``'s ``run`` settings, once (the
    import waits until a command runs: the experiment layer brings the model and numpy)."""
    from flowsim.experiment.settings import RunSettings

    return RunSettings.resolve(scenario, seed, days, warm_up, replications, workers)


def require_paired(settings: RunSettings, file: Path, what: str, how: str = "") -> None:
    """Refuse a scenario file whose own ``run.replications`` is below 2 for a paired
    comparison (the option itself cannot be set below 2)."""
    if settings.replications < 2:
        raise typer.BadParameter(
            f"{file} sets run.replications to {settings.replications}; {what} needs at least 2 "
            f"for a confidence interval (use --replications{how})",
            param_hint="'--replications'",
        )


def span(settings: RunSettings) -> str:
    """``21 days after 7 days' warm-up``."""
    return f"{settings.horizon_days:g} days after {settings.warm_up_days:g} days' warm-up"


def span_seed_workers(settings: RunSettings) -> str:
    """``21 days after 7 days' warm-up, seed 42, 2 worker process(es)``."""
    return f"{span(settings)}, seed {settings.seed}, {settings.workers} worker process(es)"


# ---------------------------------------------------------------- progress and results


def progress_bar() -> Progress:
    """The progress bar of long commands, on stderr so tables on stdout stay clean."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=stderr,
        transient=False,
    )


def run_with_progress(label: str, total: int | None, work: Callable[[Callable[..., None]], T]) -> T:
    """``work(tick)`` under a progress bar of ``total`` steps (None: unknown), where ``tick``
    (any arguments) advances it by one, e.g. as the ``progress`` of an API function."""
    with progress_bar() as progress:
        task = progress.add_task(label, total=total)
        return work(lambda *_: progress.advance(task))


def folder_name(name: str) -> str:
    """A scenario name as a folder name: letters, digits, ``.``, ``_`` and ``-`` kept."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "scenario"


def make_out(out: Path) -> Path:
    """Create the results folder before simulating, so a bad path fails at once."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise fail(f"cannot write results to {out}: {error.strerror}") from None
    return out


def out_folder(out: Path | None, default: str) -> Path:
    """``out``, or results/``default``, created."""
    return make_out(Path("results") / default if out is None else out)


def now() -> str:
    return f"{dt.datetime.now():%Y-%m-%d %H:%M}"


def write_run_txt(
    out: Path, command: str, lines: Iterable[str], settings: RunSettings, extra: str = ""
) -> Path:
    """DIR/run.txt: the command, when, what it ran, and its settings."""
    s = settings
    text = (
        f"flowsim {__version__} {command}, {now()}\n"
        + "".join(f"{line}\n" for line in lines)
        + f"seed {s.seed}, replications {s.replications}, horizon {s.horizon_days:g} days, "
        f"warm-up {s.warm_up_days:g} days{extra}\n"
    )
    path = out / "run.txt"
    path.write_text(text, encoding="utf-8")
    return path


def print_results(out: Path, paths: Iterable[Path], started: float) -> None:
    """``Results in DIR/ (N s):`` and each file written."""
    stdout.print(Text(f"Results in {out}/ ({time.perf_counter() - started:.0f} s):"))
    for path in paths:
        stdout.print(Text(f"  {path}"))
