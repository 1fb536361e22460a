"""``flowsim compare`` and ``flowsim warmup``: commands registered on `flowsim.cli.app`."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from flowsim import __version__
from flowsim.cli import (
    Days,
    PairedReplications,
    Seed,
    WarmUp,
    Workers,
    _argument,
    _folder_name,
    app,
    make_out,
    out_option,
    progress_bar,
    stderr,
    stdout,
)
from flowsim.scenario import load_scenario

if TYPE_CHECKING:
    import pandas as pd

_STYLE = {"better": "green", "worse": "red"}


@app.command()
def compare(
    baseline: Annotated[Path, _argument("BASE", "The baseline scenario file.")],
    alternatives: Annotated[
        list[Path], _argument("ALT...", "One or more scenario files to compare with BASE.")
    ],
    replications: PairedReplications = None,
    days: Days = None,
    warm_up: WarmUp = None,
    seed: Seed = None,
    workers: Workers = None,
    all_kpis: Annotated[
        bool, typer.Option("--all", help="Show every KPI in the table, not only the headline ones.")
    ] = False,
    out: Annotated[
        Path | None, out_option("results/compare_ and the file names, e.g. results/compare_afu")
    ] = None,
) -> None:
    """Compare scenarios with BASE on common random numbers: paired differences with 95% CIs.

    Every scenario runs with BASE's seed, horizon and warm-up (unless given here), so replication
    r of each meets the same patients with the same needs wherever the pathway is unchanged, and
    the difference is measured replication by replication. DIR gets compare.csv (every KPI: the
    means, the difference, its CI, % change and a verdict), kpis.csv (every KPI of every
    replication) and forest.png (headline changes with their CIs).
    """
    import pandas as pd

    from flowsim.analysis import PRIMARY_KPIS
    from flowsim.analysis.bottlenecks import combine_bottlenecks
    from flowsim.analysis.compare import paired_comparison
    from flowsim.api import comparison_tables, run_reduced, scenario_labels
    from flowsim.experiment import default_workers
    from flowsim.report.figures import figure_png, forest_figure, los_figure
    from flowsim.report.html import render_compare_report
    from flowsim.scenario import diff_settings

    files = [baseline, *alternatives]
    scenarios = [load_scenario(f) for f in files]
    labels = scenario_labels(scenarios, files)
    named = [s.model_copy(update={"name": n}) for s, n in zip(scenarios, labels, strict=True)]
    base = scenarios[0].run
    n = base.replications if replications is None else replications
    if n < 2:
        raise typer.BadParameter(
            f"{baseline} sets run.replications to {n}; a comparison needs at least 2 "
            "(use --replications)",
            param_hint="'--replications'",
        )
    days = base.horizon_days if days is None else days
    warm_up = base.warm_up_days if warm_up is None else warm_up
    seed = base.seed if seed is None else seed
    workers = default_workers(n) if workers is None else min(workers, n)
    default_out = "compare_" + "_".join(_folder_name(f.stem) for f in alternatives)
    out = make_out(Path("results") / default_out if out is None else out)
    for f, s in zip(files[1:], scenarios[1:], strict=True):
        r = s.run
        if (r.seed, r.horizon_days, r.warm_up_days) != (
            base.seed,
            base.horizon_days,
            base.warm_up_days,
        ):
            stderr.print(
                Text(
                    f"note: {f} sets its own run seed/horizon/warm-up; the comparison uses "
                    f"BASE's (seed {seed}, {days:g} days after {warm_up:g}) for every scenario.",
                    style="yellow",
                )
            )
    stdout.print(
        Text.assemble(
            "Comparing ",
            *[(label, "bold") if i == 0 else f", {label}" for i, label in enumerate(labels)],
            f": {n} paired replication(s) each of {days:g} days after {warm_up:g} days' "
            f"warm-up, seed {seed}, {workers} worker process(es).",
        )
    )
    started = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task("replications", total=n * len(named))
        results = run_reduced(
            named,
            n,
            comparison_tables,
            seed=seed,
            horizon_days=days,
            warm_up_days=warm_up,
            workers=workers,
            on_done=lambda *_: progress.advance(task),
        )
    keys = sorted(results)
    kpis = pd.concat(
        [results[k]["kpis"].assign(scenario=labels[k[0]]) for k in keys], ignore_index=True
    )[["scenario", "replication", "kpi", "unit", "value"]]
    los = pd.concat(
        [results[k]["los"].assign(scenario=labels[k[0]]) for k in keys], ignore_index=True
    )
    chains = {
        label: combine_bottlenecks([results[k]["bottlenecks"] for k in keys if k[0] == i])
        for i, label in enumerate(labels)
    }
    table = paired_comparison(kpis, labels[0])
    table.to_csv(out / "compare.csv", index=False)
    kpis.to_csv(out / "kpis.csv", index=False)
    headline = table[table["kpi"].isin(PRIMARY_KPIS)]
    title = f"Change from {labels[0]}: % of its mean, paired 95% CI"
    forest = forest_figure(headline, title)
    (out / "forest.png").write_bytes(figure_png(forest))
    meta = {
        "scenario_file": " ".join(map(str, files)),
        "seed": seed,
        "replications": n,
        "horizon_days": days,
        "warm_up_days": warm_up,
        "workers": workers,
        "flowsim_version": __version__,
        "date": f"{dt.datetime.now():%Y-%m-%d %H:%M}",
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    figures = {
        f"Change from {labels[0]} in the headline measures, as % of its mean, with the paired "
        "95% confidence interval: green better, red worse, grey no clear difference.": forest,
        "Length of hospital stay by frailty band, each scenario (all replications pooled).": (
            los_figure(los)
        ),
    }
    changes = {
        label: diff_settings(scenarios[0], s)
        for label, s in zip(labels[1:], scenarios[1:], strict=True)
    }
    html = render_compare_report(
        scenarios,
        labels,
        table,
        figures,
        meta,
        changes=changes,
        bottlenecks=chains,
    )
    (out / "report.html").write_text(html, encoding="utf-8")
    (out / "run.txt").write_text(
        f"flowsim {__version__} compare, {dt.datetime.now():%Y-%m-%d %H:%M}\n"
        f"base: {baseline}\nalternatives: {' '.join(map(str, alternatives))}\n"
        f"seed {seed}, replications {n}, horizon {days:g} days, warm-up {warm_up:g} days\n",
        encoding="utf-8",
    )
    shown = table if all_kpis else headline
    for name in labels[1:]:
        stdout.print(_comparison_table(shown[shown["scenario"] == name], labels[0], name, n))
    for label, b in chains.items():
        stdout.print(Text(f"{label}: primary constraint {b.primary} ({b.chain_text()})"))
    stdout.print(Text(f"Results in {out}/ ({time.perf_counter() - started:.0f} s):"))
    for f in ("compare.csv", "kpis.csv", "forest.png", "report.html", "run.txt"):
        stdout.print(Text(f"  {out / f}"))


def _comparison_table(rows: pd.DataFrame, base: str, name: str, n: int) -> Table:
    from flowsim.report import format_value, kpi_label
    from flowsim.report.labels import format_difference

    table = Table(title=Text(f"{name} against {base}: mean of {n} paired replications"))
    table.add_column("measure")
    table.add_column(base, justify="right")
    table.add_column(name, justify="right")
    table.add_column("difference (95% CI)", justify="right")
    table.add_column("change", justify="right")
    table.add_column("verdict")
    for row in rows.itertuples(index=False):
        unit = str(row.unit)
        difference, change, verdict = format_difference(row)
        table.add_row(
            kpi_label(str(row.kpi)),
            f"{format_value(float(row.baseline_mean), unit)} {_short(unit)}",
            f"{format_value(float(row.scenario_mean), unit)} {_short(unit)}",
            difference,
            change,
            Text(verdict, style=_STYLE.get(str(row.assessment), "")),
        )
    table.caption = (
        "Verdict: the paired 95% CI of the difference excludes 0 (else 'no clear difference')."
    )
    return table


def _short(unit: str) -> str:
    return {"minutes": "min", "hours": "h", "days": "d", "per day": "/day"}.get(unit, unit)


@app.command()
def warmup(
    file: Annotated[Path, _argument("SCENARIO", "Scenario file.")],
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
    from flowsim.experiment import default_workers
    from flowsim.report.figures import figure_png, warmup_figure

    scenario = load_scenario(file)
    workers = default_workers(replications) if workers is None else workers
    out = make_out(Path("results") / f"warmup_{_folder_name(file.stem)}" if out is None else out)
    started = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task("replications", total=replications)
        found = find_warmup(
            scenario,
            replications=replications,
            days=days,
            seed=seed,
            workers=workers,
            progress=lambda *_: progress.advance(task),
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
    stdout.print(table)
    current = scenario.run.warm_up_days
    advice = (
        "enough"
        if current >= found.days
        else f"too short: set run.warm_up_days to at least {found.days:g}"
    )
    stdout.print(
        Text.assemble(
            "Recommended warm-up: ",
            (f"{found.days:g} days", "bold"),
            f" ({replications} replications of {found.horizon_days:g} days from empty). "
            f"The scenario's run.warm_up_days is {current:g}: {advice}.",
        )
    )
    if found.days > found.horizon_days / 4:
        stderr.print(
            Text(
                "note: the recommendation is over a quarter of the run; run longer (--days) to "
                "confirm the series have settled.",
                style="yellow",
            )
        )
    stdout.print(Text(f"Results in {out}/ ({time.perf_counter() - started:.0f} s)"))


@app.command()
def snapshot(
    file: Annotated[Path, _argument("SCENARIO", "Scenario file to run and take the census of.")],
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

    scenario = load_scenario(file)
    out = file.with_name(f"{file.stem}_warm.yaml") if out is None else out
    with stderr.status(f"running {scenario.name} for {day:g} days"):
        log = simulate(scenario, replication, seed=seed, horizon_days=day, warm_up_days=0.0)
    census = take_snapshot(log)
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
    stdout.print(table)
    for note in census.notes:
        stderr.print(Text(f"note: {note}", style="yellow"))
    stdout.print(Text(f"Wrote {out}; run it with: flowsim run {out}"))
