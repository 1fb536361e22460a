"""``flowsim export-log``: a command registered on `flowsim.cli.app`."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from flowsim.cli import (
    EXIT_BAD_INPUT,
    Days,
    Seed,
    WarmUp,
    Workers,
    _argument,
    _folder_name,
    app,
    make_out,
    progress_bar,
    stderr,
    stdout,
)
from flowsim.scenario import load_scenario


class LogFormat(StrEnum):
    vidigi = "vidigi"
    process_mining = "process-mining"


class FileType(StrEnum):
    csv = "csv"
    parquet = "parquet"


@app.command("export-log")
def export_log(
    file: Annotated[Path, _argument("SCENARIO", "Scenario file to run.")],
    log_format: Annotated[
        LogFormat,
        typer.Option(
            "--format",
            help="vidigi: the event log vidigi's animate_activity_log reads (time in minutes). "
            "process-mining: case_id, activity, timestamp, lifecycle, resource, for pm4py, "
            "bupaR, Disco and the like.",
        ),
    ] = LogFormat.process_mining,
    file_type: Annotated[FileType, typer.Option("--as", help="File type written.")] = FileType.csv,
    replications: Annotated[
        int,
        typer.Option(
            min=1,
            help="Replications to export, told apart by a column (run_number or replication).",
        ),
    ] = 1,
    days: Days = None,
    warm_up: WarmUp = None,
    seed: Seed = None,
    workers: Workers = None,
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="File to write (its folder is created if need be). [default: "
            "results/<scenario>_<format>.<csv|parquet>]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run a scenario and write its event log for animation (vidigi) or process mining.

    Every event of the run, warm-up included, one row each: arrivals, waits, places taken and
    left, handovers, medically optimised, departures. Runs longer than a few weeks make large
    files: use --days, or --as parquet.
    """
    from flowsim.analysis.export import concat_logs, process_mining_log, vidigi_log
    from flowsim.experiment import default_workers
    from flowsim.experiment.runner import iter_replications

    scenario = load_scenario(file)
    days = scenario.run.horizon_days if days is None else days
    warm_up = scenario.run.warm_up_days if warm_up is None else warm_up
    seed = scenario.run.seed if seed is None else seed
    workers = default_workers(replications) if workers is None else min(workers, replications)
    suffix = log_format.value.replace("-", "_")
    default = Path("results") / f"{_folder_name(file.stem)}_{suffix}.{file_type.value}"
    out = default if out is None else out
    make_out(out.parent)
    reduce = vidigi_log if log_format is LogFormat.vidigi else process_mining_log
    stdout.print(
        Text(
            f"Exporting {scenario.name}: {replications} replication(s) of {days:g} days after "
            f"{warm_up:g} days' warm-up, seed {seed}, as a {log_format.value} log."
        )
    )
    started = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task("replications", total=replications)
        tables = list(
            iter_replications(
                scenario,
                replications,
                seed=seed,
                horizon_days=days,
                warm_up_days=warm_up,
                workers=workers,
                on_done=lambda *_: progress.advance(task),
                reduce=reduce,
            )
        )
    import pandas as pd

    table = concat_logs(tables)
    try:
        if file_type is FileType.csv:
            table.to_csv(out, index=False)
        else:
            table.to_parquet(out, index=False, compression="zstd")
    except OSError as error:
        stderr.print(Text(f"cannot write {out}: {error.strerror}", style="red"))
        raise typer.Exit(EXIT_BAD_INPUT) from None
    cases = table["entity_id" if "entity_id" in table else "case_id"]
    runs = table["run_number" if "run_number" in table else "replication"]
    n_cases = int(pd.MultiIndex.from_arrays([runs, cases]).nunique())
    stdout.print(
        Text(
            f"Wrote {len(table):,} events of {n_cases:,} patients to {out} "
            f"({out.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - started:.0f} s)."
        )
    )
    if log_format is LogFormat.vidigi and replications > 1:
        stdout.print(Text("vidigi animates one run at a time: filter on run_number first."))
