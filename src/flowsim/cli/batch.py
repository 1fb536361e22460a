"""``flowsim batch`` and ``flowsim results``: sweeps run into a result store, and its summary.

Like ``run``, the commands import the experiment, analysis and report layers when they run, so
other commands start quickly.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from flowsim.cli import common
from flowsim.cli.common import argument

if TYPE_CHECKING:
    import pandas as pd

    from flowsim.experiment import Executor

SUMMARY_FILE = "summary.csv"
COMPARISON_FILE = "comparison.csv"


def batch(
    file: Annotated[Path, argument("SWEEP", "Sweep file: scenarios, a grid of settings.")],
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Result store folder (created if need be; run the same command again to resume)."
            " [default: results/ and the sweep file's name]",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Local processes running replications side by side. [default: one per CPU]",
            show_default=False,
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            metavar="tcp://HOST:PORT",
            help="Run on the Dask cluster whose scheduler is at this address.",
            show_default=False,
        ),
    ] = None,
    dask_local: Annotated[
        int | None,
        typer.Option(
            "--dask-local",
            min=1,
            metavar="N",
            help="Run on a Dask cluster of N worker processes started on this computer.",
            show_default=False,
        ),
    ] = None,
    keep_logs: Annotated[
        bool,
        typer.Option(
            "--keep-logs", help="Also store every replication's event log. [default: the sweep's]"
        ),
    ] = False,
    replications: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Replications of every point. [default: the sweep's, else each scenario's]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run every scenario of a sweep at every point of its grid, into a result store.

    Each replication is stored as soon as it finishes, so a batch that is stopped (or crashes)
    loses nothing finished: run the same command again and it skips what is stored. Summarise
    the store with 'flowsim results DIR'.
    """
    from flowsim.analysis import compute_kpis
    from flowsim.experiment.batch import Batch
    from flowsim.experiment.store import ResultStore
    from flowsim.scenario.sweep import load_sweep

    if scheduler is not None and dask_local is not None:
        raise common.fail(
            "give --scheduler or --dask-local, not both: one Dask cluster runs a batch"
        )
    if workers is not None and (scheduler is not None or dask_local is not None):
        raise common.fail(
            "--workers sets local processes; on Dask, the cluster's workers run the batch, so "
            "leave out --workers (with --dask-local N, N sets the workers)"
        )
    plan = load_sweep(file)  # every point checked before anything runs
    out = Path("results") / common.folder_name(Path(file).stem) if out is None else out
    store = ResultStore(out)
    work = Batch(plan, store, replications=replications, keep_logs=True if keep_logs else None)
    scenarios = len({point.scenario_index for point in plan.points})
    points = len(plan.points) // max(1, scenarios)
    common.stdout.print(
        Text.assemble(
            "Sweep ",
            (plan.name, "bold"),
            f": {scenarios} scenario(s) × {points} point(s), {len(work.tasks)} replication(s) "
            f"in all, into {out}/.",
        )
    )
    for aside in work.broken:  # cut short or damaged: never read, run again
        original = aside.with_name(aside.name.removeprefix(".").removesuffix(".broken"))
        common.stdout.print(
            Text(f"Set aside damaged {original} as {aside.name}; its replication runs again.")
        )
    if work.skipped:
        common.stdout.print(f"Skipping {work.skipped} replication(s) already in {out}/.")
    if not work.pending:
        common.stdout.print(f"Nothing left to run. Summarise with: flowsim results {out}")
        return
    common.make_out(out)

    executor = _executor(workers, scheduler, dask_local, len(work.pending))
    started = time.perf_counter()
    with executor:
        common.stdout.print(
            f"Running {len(work.pending)} replication(s) on {executor.description}."
        )
        ran = common.run_with_progress(
            "replications", len(work.pending), lambda tick: work.run(executor, compute_kpis, tick)
        )
    common.stdout.print(
        f"Stored {ran} replication(s) in {out}/ ({time.perf_counter() - started:.0f} s). "
        f"Summarise with: flowsim results {out}"
    )


def _executor(
    workers: int | None,
    scheduler: str | None,
    dask_local: int | None,
    pending: int,
) -> Executor:
    from flowsim.experiment.executors import DaskExecutor, choose_executor, workers_for

    # an ExecutorError (no Dask, a scheduler that does not answer) is printed by common.Commands
    if scheduler is not None:
        return DaskExecutor(scheduler)
    if dask_local is not None:
        return DaskExecutor(local_workers=dask_local)
    return choose_executor(workers_for(pending, workers))


def results(
    folder: Annotated[Path, argument("DIR", "Result store folder written by 'flowsim batch'.")],
    baseline: Annotated[
        str | None,
        typer.Option(
            help="What the others are compared with: its number (#) in the tables, or its name "
            "as in summary.csv's variant column. [default: 1, the sweep's first]",
            show_default=False,
        ),
    ] = None,
    all_kpis: Annotated[
        bool, typer.Option("--all", help="Show every measure, not only the headline ones.")
    ] = False,
) -> None:
    """Summarise a result store: each scenario and point, and how it differs from the first.

    Prints, for each headline measure, the mean and 95% confidence interval over the
    replications, and the difference from the baseline measured replication by replication
    (paired: all ran on the same random numbers). Writes summary.csv and comparison.csv, with
    every measure, into DIR.
    """
    from flowsim.analysis import PRIMARY_KPIS
    from flowsim.analysis.compare import paired_comparison
    from flowsim.experiment.store import ResultStore

    kpis = ResultStore(folder).load() if folder.is_dir() else None
    if kpis is None or kpis.empty:
        raise common.fail(
            f"no results in {folder}: give the folder that 'flowsim batch SWEEP --out DIR' wrote"
        )
    kpis, variants = _variants(kpis)
    names = list(variants.index)
    if baseline is None:
        baseline = names[0]
    elif baseline.isdigit() and 1 <= int(baseline) <= len(names):
        baseline = names[int(baseline) - 1]
    elif baseline not in names:
        raise common.fail(
            f"--baseline {baseline!r} is not in {folder}: give a number from 1 to {len(names)} "
            "(the # column of the tables) or a name from the variant column of summary.csv"
        )
    summary = _summary(kpis, variants)
    comparison = None
    if len(names) > 1:
        comparison = paired_comparison(kpis, baseline, scenario_col="variant")
        comparison = comparison.rename(columns={"scenario": "variant"})
        comparison.insert(1, "baseline", baseline)
    written = [folder / SUMMARY_FILE]
    try:
        summary.to_csv(written[0], index=False)
        if comparison is not None:
            written.append(folder / COMPARISON_FILE)
            comparison.to_csv(written[1], index=False)
    except OSError as error:
        raise common.fail(f"cannot write the tables into {folder}: {error.strerror}") from None

    reps = summary.groupby("variant", sort=False)["n"].max()
    count = f"{reps.min()}" if reps.min() == reps.max() else f"{reps.min()} to {reps.max()}"
    common.stdout.print(
        Text.assemble(
            (str(folder), "bold"),
            f": {len(names)} scenario(s)/point(s), {count} replication(s) each"
            + (
                f"; differences are paired, against #{names.index(baseline) + 1}"
                if comparison is not None
                else ""
            ),
        )
    )
    for kpi in list(dict.fromkeys(summary["kpi"])) if all_kpis else PRIMARY_KPIS:
        rows = summary[summary["kpi"] == kpi]
        if not rows.empty:
            common.print_table(_kpi_table(kpi, rows, variants, comparison, baseline))
    common.stdout.print(Text("Every measure in: " + ", ".join(str(p) for p in written)))


def _variants(kpis: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A ``variant`` column naming each scenario hash, and a table of the variants in sweep
    order: ``scenario`` (as shown), ``point``, ``scenario_hash`` and one column per grid key.

    A variant is named by its scenario and grid values. Two hashes with one name (the same sweep
    run again with another horizon, say) get the hash's start added, so their replications are
    never pooled.
    """
    from flowsim.experiment.store import KPI_COLUMNS

    keys = [c for c in kpis.columns if c not in KPI_COLUMNS]
    first = kpis.groupby("scenario_hash", sort=False).first()
    order = kpis.groupby("scenario_hash", sort=False)["written_at"].min()
    info = first.assign(written_at=order).sort_values(
        ["scenario_index", "point_index", "written_at"], kind="stable"
    )
    shown = info["scenario"].copy()
    label = shown.where(info["point"] == "", shown + " (" + info["point"] + ")")
    repeated = label.duplicated(keep=False)
    suffix = " #" + info.index.str[:6]
    shown[repeated] += suffix[repeated]
    label[repeated] += suffix[repeated]
    variants = info[["point", *keys]].assign(scenario=shown, scenario_hash=info.index)
    variants.index = pd_index(label)
    kpis = kpis.assign(variant=kpis["scenario_hash"].map(label))
    rank = {name: i for i, name in enumerate(label)}
    kpis = kpis.sort_values(
        ["variant", "replication"], key=lambda c: c.map(rank) if c.name == "variant" else c
    )
    return kpis, variants[["scenario", "point", *keys, "scenario_hash"]]


def pd_index(values: pd.Series) -> pd.Index:
    import pandas as pd

    return pd.Index(values.to_numpy(), name="variant")


def _summary(kpis: pd.DataFrame, variants: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    from flowsim.analysis import summarise

    frames = []
    for name, about in variants.iterrows():
        table = summarise(kpis[kpis["variant"] == name])
        for column, value in reversed(list(about.items())):
            table.insert(0, column, value)
        table.insert(0, "variant", name)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def _kpi_table(
    kpi: str,
    rows: pd.DataFrame,
    variants: pd.DataFrame,
    comparison: pd.DataFrame | None,
    baseline: str,
) -> Table:
    """One measure: a row per variant, named by its grid values (and scenario, if several)."""
    from flowsim.report import format_ci, format_value, kpi_label
    from flowsim.report.labels import clip_interval

    keys = [c for c in variants.columns if c not in ("scenario", "point", "scenario_hash")]
    names = ["scenario"] if variants["scenario"].nunique() > 1 or not keys else []
    unit = str(rows["unit"].iloc[0])
    table = Table(title=Text(kpi_label(kpi) + (f" ({unit})" if unit else ""), style="bold"))
    table.add_column("#", justify="right")
    for column in (*names, *keys):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    table.add_column("mean", justify="right")
    table.add_column("95% CI", justify="right")
    if comparison is not None:
        table.add_column("difference (95% CI)", justify="right")
        table.add_column("")
        differences = comparison[comparison["kpi"] == kpi].set_index("variant")
    number = {name: i + 1 for i, name in enumerate(variants.index)}
    for row in rows.itertuples(index=False):
        mean = float(row.mean)
        about = variants.loc[row.variant]
        cells = [str(number[row.variant])]
        cells += [_plain(about[column]) for column in (*names, *keys)]
        cells += [
            format_value(mean, unit),
            format_ci(*clip_interval(float(row.ci_low), float(row.ci_high), unit), unit, like=mean),
        ]
        if comparison is not None:
            if row.variant == baseline:
                cells += ["", "baseline"]
            elif row.variant in differences.index:
                d = differences.loc[row.variant]
                value = float(d["difference"])
                ci = format_ci(float(d["ci_low"]), float(d["ci_high"]), unit, like=mean)
                sign = "+" if value > 0 else ""
                cells.append(f"{sign}{format_value(value, unit, like=mean)} ({ci})")
                cells.append(", ".join(w for w in (d["verdict"], d["assessment"]) if w))
            else:
                cells += ["", ""]
        table.add_row(*cells)
    return table


def _plain(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


COMMANDS = {"batch": batch, "results": results}
