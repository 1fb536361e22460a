"""``flowsim export-log``: a run's event log for animation (vidigi) or process mining."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from flowsim.cli import common
from flowsim.cli.common import Days, Seed, WarmUp, Workers, argument
from flowsim.scenario import load_scenario


class LogFormat(StrEnum):
    vidigi = "vidigi"
    process_mining = "process-mining"


class FileType(StrEnum):
    csv = "csv"
    parquet = "parquet"


def export_log(
    file: Annotated[Path, argument("SCENARIO", "Scenario file to run.")],
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
    from flowsim.experiment.runner import replications_in_order

    scenario = load_scenario(file)
    settings = common.settings_of(scenario, seed, days, warm_up, replications, workers)
    suffix = log_format.value.replace("-", "_")
    default = Path("results") / f"{common.folder_name(file.stem)}_{suffix}.{file_type.value}"
    out = default if out is None else out
    common.make_out(out.parent)
    reduce = vidigi_log if log_format is LogFormat.vidigi else process_mining_log
    common.stdout.print(
        Text(
            f"Exporting {scenario.name}: {replications} replication(s) of {common.span(settings)}, "
            f"seed {settings.seed}, as a {log_format.value} log."
        )
    )
    started = time.perf_counter()
    tables = common.run_with_progress(
        "replications",
        replications,
        lambda tick: list(replications_in_order(scenario, settings, reduce, on_done=tick)),
    )
    import pandas as pd

    table = concat_logs(tables)
    if file_type is FileType.csv:
        common.write_or_fail(out, lambda path: table.to_csv(path, index=False))
    else:
        common.write_or_fail(
            out, lambda path: table.to_parquet(path, index=False, compression="zstd")
        )
    cases = table["entity_id" if "entity_id" in table else "case_id"]
    runs = table["run_number" if "run_number" in table else "replication"]
    n_cases = int(pd.MultiIndex.from_arrays([runs, cases]).nunique())
    common.stdout.print(
        Text(
            f"Wrote {len(table):,} events of {n_cases:,} patients to {out} "
            f"({out.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - started:.0f} s)."
        )
    )
    if log_format is LogFormat.vidigi and replications > 1:
        common.stdout.print(Text("vidigi animates one run at a time: filter on run_number first."))


COMMANDS = {"export-log": export_log}
