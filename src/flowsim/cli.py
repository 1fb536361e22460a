"""The ``flowsim`` command: thin wrappers around the public API.

Add a command with ``@app.command()``. A `ScenarioError` or `ModelError` raised anywhere under
a command ends the program with exit status 2 and the message on stderr, never a traceback, so
commands need no error handling of their own for bad scenarios.

``run`` imports the experiment, analysis and report layers (pandas, matplotlib) when it runs, so
the other commands start quickly.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml
from rich.console import Console
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

from flowsim import __version__
from flowsim.errors import ModelError, ScenarioError
from flowsim.scenario import MISSING, diff_scenarios, load_scenario, scenario_to_yaml

if TYPE_CHECKING:
    import pandas as pd

EXIT_BAD_INPUT = 2
"""Exit status for a scenario that cannot be used (the same status as a mistyped command)."""

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def print_scenario_error(error: ScenarioError) -> None:
    """Each problem on its own line on stderr: ``file:line: key.path: what is wrong``."""
    for problem in error.problems:
        stderr.print(Text(str(problem), style="red"))


def print_model_error(error: ModelError) -> None:
    """``cannot run the scenario: what is wrong`` on stderr."""
    stderr.print(Text(f"cannot run the scenario: {error}", style="red"))


class _Commands(TyperGroup):
    """Runs a command and turns a `ScenarioError` or `ModelError` into a message and exit
    status 2."""

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


def out_option(default: str) -> Any:
    return typer.Option(
        metavar="DIR",
        help=f"Folder for the results (created if need be). [default: {default}]",
        show_default=False,
    )


def make_out(out: Path) -> Path:
    """Create the results folder before simulating, so a bad path fails at once."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        stderr.print(Text(f"cannot write results to {out}: {error.strerror}", style="red"))
        raise typer.Exit(EXIT_BAD_INPUT) from None
    return out


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


@app.command()
def run(
    file: Annotated[Path, _argument("SCENARIO", "Scenario file to run.")],
    days: Days = None,
    warm_up: WarmUp = None,
    replications: Annotated[
        str | None,
        typer.Option(
            metavar="N|auto",
            help="Independent runs, or 'auto': as many as it takes for the 95% CI of each "
            "headline result to be within --precision of its mean. [default: the scenario's "
            "run.replications]",
            show_default=False,
        ),
    ] = None,
    precision: Annotated[
        float,
        typer.Option(
            min=0.001,
            max=0.5,
            help="With --replications auto: the CI half-width wanted, as a share of the mean.",
        ),
    ] = 0.05,
    max_replications: Annotated[
        int, typer.Option(min=3, help="With --replications auto: stop here regardless.")
    ] = 50,
    seed: Seed = None,
    workers: Workers = None,
    value: Annotated[
        bool,
        typer.Option(
            "--value",
            help="Also rank what one more unit of each capacity would buy (on common random "
            "numbers; about 14 times the work) and add the table to the report.",
        ),
    ] = False,
    sensitivity: Annotated[
        str | None,
        typer.Option(
            "--sensitivity",
            metavar="KEYS|all",
            help="Also vary weak-evidence inputs one at a time (comma-separated dotted keys, or "
            "'all'; see 'flowsim sensitivity --list') and add tornado charts to the report.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        out_option("results/ and the scenario file's name, e.g. results/afu_expansion"),
    ] = None,
) -> None:
    """Run a scenario: replications, a table of headline results, and files in DIR.

    DIR gets kpis.csv (every KPI of every replication), summary.csv (mean and 95% confidence
    interval), events.parquet and patients.parquet (the event log and patients of every
    replication), scenario.yaml (the scenario as run) and report.html (a one-page report).
    """
    from flowsim.analysis import PRIMARY_KPIS
    from flowsim.analysis.replications import ReplicationsAlgorithm
    from flowsim.experiment import default_workers, iter_replications
    from flowsim.report import RunResults

    scenario = load_scenario(file)
    r = scenario.run
    days = r.horizon_days if days is None else days
    warm_up = r.warm_up_days if warm_up is None else warm_up
    auto = replications is not None and _replications(replications) is None
    wanted = r.replications if replications is None else _replications(replications)
    planned = max_replications if auto else wanted
    assert planned is not None
    seed = r.seed if seed is None else seed
    workers = default_workers(planned) if workers is None else min(workers, planned)
    out = make_out(Path("results") / _folder_name(Path(file).stem) if out is None else out)

    how_many = (
        f"replications until the 95% CIs are within ±{precision:.0%} (at most {planned})"
        if auto
        else f"{planned} replication(s)"
    )
    stdout.print(
        Text.assemble(
            "Running ",
            (scenario.name, "bold"),
            f": {how_many} of {days:g} days after {warm_up:g} days' warm-up, seed {seed}, "
            f"{workers} worker process(es).",
        )
    )
    started = time.perf_counter()
    results = RunResults()
    algorithm = ReplicationsAlgorithm(
        list(PRIMARY_KPIS), precision, max_replications=max(planned, 3)
    )
    with progress_bar() as progress:
        task = progress.add_task("replications", total=planned)
        while results.replications < planned:
            batch = planned - results.replications
            if auto:
                batch = min(batch, max(algorithm.still_needed(), workers))
            for log in iter_replications(
                scenario,
                batch,
                seed=seed,
                horizon_days=days,
                warm_up_days=warm_up,
                workers=min(workers, batch),
                first_replication=results.replications,
                on_done=lambda _: progress.advance(task),
            ):
                results.add(log)
                del log
                algorithm.add(results.latest_kpis)
            if auto and algorithm.done:
                break
        progress.update(task, total=results.replications)
    replications_run = results.replications
    if auto:
        _report_auto(algorithm, precision)
    meta = {
        "scenario_file": str(file),
        "seed": seed,
        "replications": replications_run,
        "horizon_days": days,
        "warm_up_days": warm_up,
        "start_date": r.start_date.isoformat(),
        "workers": workers,
        "flowsim_version": __version__,
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
    }
    if value:
        from flowsim.api import value_of_one_more

        with progress_bar() as progress:
            task = progress.add_task("value of one more unit", total=None)
            found = value_of_one_more(
                scenario,
                replications=max(replications_run, 2),
                seed=seed,
                horizon_days=days,
                warm_up_days=warm_up,
                workers=workers,
                progress=lambda *_: progress.advance(task),
            )
        results.value_of_one_more = found.table
        for sentence in found.table["sentence"].head(5):
            stdout.print(Text(f"  {sentence}"))
    if sensitivity:
        from flowsim.api import sensitivity as vary
        from flowsim.report.sensitivity import sensitivity_figures

        keys = None if sensitivity.strip().lower() == "all" else sensitivity.split(",")
        with progress_bar() as progress:
            task = progress.add_task("sensitivity", total=None)
            varied = vary(
                scenario,
                params=None if keys is None else [k.strip() for k in keys if k.strip()],
                replications=max(replications_run, 2),
                seed=seed,
                horizon_days=days,
                warm_up_days=warm_up,
                workers=workers,
                progress=lambda *_: progress.advance(task),
            )
        results.extra_figures += sensitivity_figures(varied.table, max(replications_run, 2))
        varied.table.to_csv(out / "sensitivity.csv", index=False)
    with stderr.status("writing results"):
        summary = results.summary
        meta["wall_seconds"] = round(time.perf_counter() - started, 1)
        paths = results.write(out, scenario, meta, scenario_file=file)
    stdout.print(_summary_table(summary, scenario.name, replications_run))
    stdout.print(Text(f"Results in {out}/ ({time.perf_counter() - started:.0f} s):"))
    for path in paths.values():
        stdout.print(Text(f"  {path}"))


def _replications(value: str) -> int | None:
    """``--replications``: a whole number of at least 1, or None for ``auto``."""
    if value.strip().lower() == "auto":
        return None
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise typer.BadParameter(
            f"must be a whole number of at least 1, or 'auto'; got {value!r}",
            param_hint="'--replications'",
        )
    return n


def _report_auto(algorithm: Any, precision: float) -> None:
    from flowsim.report import kpi_label

    widths = algorithm.half_widths()
    if algorithm.met:
        stdout.print(
            Text(
                f"Precision ±{precision:.0%} reached at {algorithm.solution} replications and "
                f"held for {algorithm.n - algorithm.solution} more (Hoad, Robinson & Davies "
                f"2010); results use all {algorithm.n}."
            )
        )
        return
    loose = [f"{kpi_label(k)} (±{w:.1%})" for k, w in widths.items() if not w <= precision]
    stderr.print(
        Text(
            f"Stopped at the cap of {algorithm.n} replications before every CI was within "
            f"±{precision:.0%}: {'; '.join(loose)}. Run longer (--days), raise "
            "--max-replications, or accept a looser --precision.",
            style="yellow",
        )
    )


def _folder_name(name: str) -> str:
    """A scenario name as a folder name: letters, digits, ``.``, ``_`` and ``-`` kept."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "scenario"


def _summary_table(summary: pd.DataFrame, name: str, replications: int) -> Table:
    from flowsim.analysis import PRIMARY_KPIS
    from flowsim.report import format_ci, format_value, kpi_label

    table = Table(
        title=Text(f"{name}: headline results, mean of {replications} replication(s)"),
    )
    table.add_column("measure")
    table.add_column("mean", justify="right")
    table.add_column("95% CI", justify="right")
    table.add_column("unit")
    rows = summary.set_index("kpi")
    for kpi in PRIMARY_KPIS:
        if kpi not in rows.index:
            continue
        row = rows.loc[kpi]
        unit, mean = str(row["unit"]), float(row["mean"])
        table.add_row(
            kpi_label(kpi),
            format_value(mean, unit),
            format_ci(float(row["ci_low"]), float(row["ci_high"]), unit, like=mean),
            unit,
        )
    if replications < 2:
        table.caption = "A confidence interval needs at least 2 replications."
    return table


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


import flowsim.cli_app as _cli_app  # noqa: E402,F401  (registers app)
import flowsim.cli_batch  # noqa: E402,F401  (registers batch and results)
import flowsim.cli_bottlenecks as _cli_bottlenecks  # noqa: E402,F401  (registers its command)
import flowsim.cli_export as _cli_export  # noqa: E402,F401  (registers export-log)
import flowsim.cli_fit as _cli_fit  # noqa: E402,F401  (registers synth, fit, check-fit)
import flowsim.cli_scenarios as _cli_scenarios  # noqa: E402,F401  (registers schema, library, sensitivity)
from flowsim import cli_compare  # noqa: E402,F401  (registers compare and warmup)
