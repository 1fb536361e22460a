"""Commands that run one scenario: ``run`` (replications, a summary and a report), ``warmup``
(choose a warm-up) and ``snapshot`` (a census to start warm from)."""

from __future__ import annotations

import functools
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from flowsim._version import __version__
from flowsim.cli import common
from flowsim.cli.common import Days, LibraryOnly, Seed, WarmUp, Workers, argument, out_option
from flowsim.scenario import load_scenario

if TYPE_CHECKING:
    import pandas as pd

    from flowsim.experiment.replications import ReplicationsAlgorithm
    from flowsim.experiment.settings import RunSettings
    from flowsim.report import RunResults
    from flowsim.report.outputs import Reduced
    from flowsim.scenario import Scenario


def run(
    file: Annotated[Path, argument("SCENARIO", "Scenario file to run.")],
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
    library_only: LibraryOnly = False,
) -> None:
    """Run a scenario: replications, a table of headline results, and files in DIR.

    DIR gets kpis.csv (every KPI of every replication), summary.csv (mean and 95% confidence
    interval), events.parquet and patients.parquet (the event log and patients of every
    replication), scenario.yaml (the scenario as run) and report.html (a board page first,
    the detail behind it).
    """
    from flowsim.report import RunResults
    from flowsim.report.outputs import use_returning_memory_pool

    scenario = common.load(file, library_only)
    auto = replications is not None and _replications(replications) is None
    wanted = None if replications is None else _replications(replications)
    planned = max_replications if auto else wanted
    settings = common.settings_of(scenario, seed, days, warm_up, planned, workers)
    out = common.out_folder(out, common.folder_name(Path(file).stem))
    how_many = (
        f"replications until the 95% CIs are within ±{precision:.0%} "
        f"(at most {settings.replications})"
        if auto
        else f"{settings.replications} replication(s)"
    )
    common.stdout.print(
        Text.assemble(
            "Running ",
            (scenario.name, "bold"),
            f": {how_many} of {common.span_seed_workers(settings)}.",
        )
    )
    started = time.perf_counter()
    use_returning_memory_pool()  # the parent appends every replication's parts: keep it flat
    results = RunResults(stream_to=out)  # events and patients go to disk as each one finishes
    with common.progress_bar() as progress:
        task = progress.add_task("replications", total=settings.replications)
        _replicate(
            scenario,
            settings,
            results,
            precision if auto else None,
            lambda _: progress.advance(task),
            out / ".parts",
        )
        progress.update(task, total=results.replications)
    n = results.replications
    meta = {
        "scenario_file": str(file),
        "seed": settings.seed,
        "replications": n,
        "horizon_days": settings.horizon_days,
        "warm_up_days": settings.warm_up_days,
        "start_date": scenario.run.start_date.isoformat(),
        "workers": settings.workers,
        "flowsim_version": __version__,
        "date": common.now(),
    }
    paired = settings.but(replications=max(n, 2))
    if value:
        _add_value_of_one_more(scenario, paired, results)
    if sensitivity:
        _add_sensitivity(scenario, paired, sensitivity, results, out)
    with common.stderr.status("writing results"):
        summary = results.summary
        meta["wall_seconds"] = round(time.perf_counter() - started, 1)
        paths = results.write(out, scenario, meta, scenario_file=file)
        shutil.rmtree(out / ".parts", ignore_errors=True)
    common.print_table(_summary_table(summary, scenario.name, n))
    common.print_results(out, paths.values(), started)


def _replicate(
    scenario: Scenario,
    settings: RunSettings,
    results: RunResults,
    precision: float | None,
    on_done: Callable[[int], None],
    parts: Path,
) -> None:
    """Every replication's log into ``results``: ``settings.replications`` of them, or with a
    ``precision`` as many as `run_until_precise` needs (at most that many)."""
    from flowsim.analysis import PRIMARY_KPIS
    from flowsim.experiment.replications import ReplicationsAlgorithm, run_until_precise
    from flowsim.experiment.runner import replications_in_order
    from flowsim.report.outputs import reduce_replication

    # Each replication is reduced where it runs and writes its events and patients to a part
    # file, so only small tables travel back and the parent's memory does not grow with runs.
    reduce = functools.partial(reduce_replication, parts=parts)
    if precision is None:
        for reduced in replications_in_order(scenario, settings, reduce, on_done=on_done):
            results.add_reduced(reduced)
            del reduced
        return
    algorithm = ReplicationsAlgorithm(
        list(PRIMARY_KPIS), precision, max_replications=settings.replications
    )

    def record(reduced: Reduced) -> dict[str, float]:
        results.add_reduced(reduced)
        return results.latest_kpis

    run_until_precise(scenario, settings, algorithm, record, reduce, on_done=on_done)
    _report_auto(algorithm, precision)


def _add_value_of_one_more(scenario: Scenario, settings: RunSettings, results: RunResults) -> None:
    from flowsim.api import value_of_one_more

    found = common.run_with_progress(
        "value of one more unit",
        None,
        lambda tick: value_of_one_more(scenario, **_api(settings), progress=tick),
    )
    results.value_of_one_more = found.table
    for sentence in found.table["sentence"].head(5):
        common.stdout.print(Text(f"  {sentence}"))


def _add_sensitivity(
    scenario: Scenario, settings: RunSettings, keys: str, results: RunResults, out: Path
) -> None:
    from flowsim.api import sensitivity as vary
    from flowsim.report.sensitivity import sensitivity_figures

    chosen = (
        None if keys.strip().lower() == "all" else [k.strip() for k in keys.split(",") if k.strip()]
    )
    varied = common.run_with_progress(
        "sensitivity",
        None,
        lambda tick: vary(scenario, params=chosen, **_api(settings), progress=tick),
    )
    results.extra_figures += sensitivity_figures(varied.table, settings.replications)
    varied.table.to_csv(out / "sensitivity.csv", index=False)


def _api(settings: RunSettings) -> dict[str, object]:
    """``settings`` as the keywords of the `flowsim.api` functions."""
    return {"replications": settings.replications, "workers": settings.workers, **settings.model}


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


def _report_auto(algorithm: ReplicationsAlgorithm, precision: float) -> None:
    from flowsim.report import kpi_label

    widths = algorithm.half_widths()
    if algorithm.met:
        assert algorithm.solution is not None
        common.stdout.print(
            Text(
                f"Precision ±{precision:.0%} reached at {algorithm.solution} replications and "
                f"held for {algorithm.n - algorithm.solution} more (Hoad, Robinson & Davies "
                f"2010); results use all {algorithm.n}."
            )
        )
        return
    loose = [f"{kpi_label(k)} (±{w:.1%})" for k, w in widths.items() if not w <= precision]
    common.stderr.print(
        Text(
            f"Stopped at the cap of {algorithm.n} replications before every CI was within "
            f"±{precision:.0%}: {'; '.join(loose)}. Run longer (--days), raise "
            "--max-replications, or accept a looser --precision.",
            style="yellow",
        )
    )


def _summary_table(summary: pd.DataFrame, name: str, replications: int) -> Table:
    from flowsim.analysis import PRIMARY_KPIS
    from flowsim.report import format_ci, format_value, kpi_label
    from flowsim.report.labels import clip_interval

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
            format_ci(
                *clip_interval(float(row["ci_low"]), float(row["ci_high"]), unit), unit, like=mean
            ),
            unit,
        )
    if replications < 2:
        table.caption = "A confidence interval needs at least 2 replications."
    return table


def warmup(
    file: Annotated[Path, argument("SCENARIO", "Scenario file.")],
    replications: Annotated[int, typer.Option(min=1, help="Replications to average over.")] = 5,
    days: Annotated[
        float | None,
        typer.Option(
            min=20,
            help="Days to simulate from empty. [default: the scenario's warm-up plus horizon, "
            "at least 365]",
            show_default=False,
        ),
    ] = None,
    seed: Seed = None,
    workers: Workers = None,
    out: Annotated[
        Path | None, out_option("results/warmup_ and the file name, e.g. results/warmup_baseline")
    ] = None,
) -> None:
    """Recommend a warm-up: run from empty and find where the key occupancies settle (MSER-5).

    Plots the daily occupancy of ED cubicles, G&A beds and the community services across
    replications with MSER-5's truncation point (White, Cobb & Spratt 2000) for each, and
    recommends the longest, rounded up to a whole week. DIR gets warmup.png and warmup.csv.
    """
    from flowsim.api import warmup as find_warmup
    from flowsim.report.figures import figure_png, warmup_figure

    scenario = load_scenario(file)
    out = common.out_folder(out, f"warmup_{common.folder_name(file.stem)}")
    started = time.perf_counter()
    found = common.run_with_progress(
        "replications",
        replications,
        lambda tick: find_warmup(
            scenario,
            replications=replications,
            days=days,
            seed=seed,
            workers=workers,
            progress=tick,
        ),
    )
    found.series.to_csv(out / "warmup.csv", index=False)
    fig = warmup_figure(found.series, found.truncation, found.days)
    (out / "warmup.png").write_bytes(figure_png(fig))

    table = Table(title=Text(f"{scenario.name}: where each occupancy settles (MSER-5)"))
    table.add_column("unit")
    table.add_column("settled after", justify="right")
    table.add_column("mean occupied after that", justify="right")
    for row in found.truncation.itertuples(index=False):
        table.add_row(str(row.unit), f"{row.truncation_days:g} days", f"{row.settled_mean:.1f}")
    common.print_table(table)
    current = scenario.run.warm_up_days
    advice = (
        "enough"
        if current >= found.days
        else f"too short: set run.warm_up_days to at least {found.days:g}"
    )
    common.stdout.print(
        Text.assemble(
            "Recommended warm-up: ",
            (f"{found.days:g} days", "bold"),
            f" ({replications} replications of {found.horizon_days:g} days from empty). "
            f"The scenario's run.warm_up_days is {current:g}: {advice}.",
        )
    )
    if found.days > found.horizon_days / 4:
        common.stderr.print(
            Text(
                "note: the recommendation is over a quarter of the run; run longer (--days) to "
                "confirm the series have settled.",
                style="yellow",
            )
        )
    common.stdout.print(Text(f"Results in {out}/ ({time.perf_counter() - started:.0f} s)"))


def snapshot(
    file: Annotated[Path, argument("SCENARIO", "Scenario file to run and take the census of.")],
    day: Annotated[
        float, typer.Option(min=1, help="Day of the run (from empty) to take the census on.")
    ] = 120,
    seed: Seed = None,
    replication: Annotated[int, typer.Option(min=0, help="Which replication to run.")] = 0,
    warm_up: Annotated[
        float,
        typer.Option("--warm-up", min=0, help="Warm-up days the new scenario file sets."),
    ] = 14,
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Scenario file to write. [default: SCENARIO's name with _warm.yaml]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write a scenario that starts warm: SCENARIO with the occupancy of its AMU, AFU, wards and
    community services on DAY of a run from empty (a simulated census).

    The new file extends SCENARIO and adds a warm_start section (patients per unit and how long
    each had been there), so runs of it need only a short warm-up instead of months.
    """
    import yaml

    from flowsim.analysis.warmup import snapshot as take_snapshot
    from flowsim.model.build import simulate
    from flowsim.scenario.warm_start import LOOKAHEAD_DAYS

    scenario = load_scenario(file)
    out = file.with_name(f"{file.stem}_warm.yaml") if out is None else out
    run_days = day + LOOKAHEAD_DAYS  # on past the day, to know each delayed patient's pathway
    with common.stderr.status(f"running {scenario.name} for {run_days:g} days"):
        log = simulate(scenario, replication, seed=seed, horizon_days=run_days, warm_up_days=0.0)
    census = take_snapshot(log, day * 24.0)
    try:
        extends = Path(file).resolve().relative_to(out.resolve().parent)
    except ValueError:
        extends = Path(file).resolve()
    body = {
        "extends": str(extends),
        "name": f"{scenario.name} (warm start)",
        "run": {"warm_up_days": warm_up},
        "warm_start": census.warm_start,
    }
    header = (
        f"# {scenario.name}, starting from its state on day {day:g} of a run from empty "
        f"(seed {log.meta['seed']}, replication {replication}), written by 'flowsim snapshot'.\n"
        "# elapsed_days: how long each patient had been in the unit at that moment.\n"
        "# returns: patients sent home before that day who come back after it (after_hours: "
        "when, from the start of the run).\n"
    )
    out.write_text(
        header + yaml.safe_dump(body, sort_keys=False, width=100, default_flow_style=None),
        encoding="utf-8",
    )
    table = Table(title=Text(f"Census on day {day:g}"))
    table.add_column("unit")
    table.add_column("patients", justify="right")
    for unit, n in census.occupied.items():
        table.add_row(unit, str(n))
    owed = sum(len(g["after_hours"]) for g in census.warm_start.get("returns", []))
    table.add_row(Text("coming back later (returns)", style="dim"), str(owed))
    common.print_table(table)
    for note in census.notes:
        common.stderr.print(Text(f"note: {note}", style="yellow"))
    common.stdout.print(Text(f"Wrote {out}; run it with: flowsim run {out}"))


KPI_DICTIONARY = Path("docs/kpis.md")


def kpis(
    markdown: Annotated[
        bool, typer.Option("--markdown", help=f"Write the KPI dictionary ({KPI_DICTIONARY}).")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Where to write it with --markdown. [default: the docs/ file above]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """The KPI dictionary: every KPI of kpis.csv with its unit, definition and how the measured
    window is handled, from src/flowsim/analysis/kpi_definitions.py.

    Prints it; with --markdown, writes docs/kpis.md instead (a test fails while the committed
    file differs from what this writes).
    """
    from flowsim.analysis.kpi_definitions import (
        KPI_DEFINITIONS,
        MEASURED_PERIOD,
        kpi_dictionary_markdown,
    )

    if markdown:
        path = out or KPI_DICTIONARY

        def write(p: Path) -> None:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(kpi_dictionary_markdown(), encoding="utf-8")

        common.write_or_fail(path, write, "; choose another --out")
        common.stdout.print(Text(f"Wrote {path}"))
        return
    table = Table(title=Text(f"KPI dictionary ({len(KPI_DEFINITIONS)} entries)"))
    for column in ("KPI", "unit", "definition", "window"):
        table.add_column(column, no_wrap=column in ("KPI", "unit"))  # names whole, to grep
    for d in KPI_DEFINITIONS:
        table.add_row(d.name, d.unit, d.definition, d.window)
    table.caption = MEASURED_PERIOD
    common.print_table(table)


COMMANDS = {"run": run, "warmup": warmup, "snapshot": snapshot, "kpis": kpis}
