"""``flowsim ipacs-check``: flowsim against IPACS on IPACS's own inputs (Bristol P2, 12 variants).

Runs each variant in ``community_only`` mode under both rules for the people in place at day 0
(flowsim's length-biased remaining stays, IPACS's uniform ones), compares the daily mean queue
and occupancy with IPACS's archived mean and band, prints the share of days after day 30 inside
the band and writes the tables and figures. docs/validation.md says what the result means.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flowsim.cli import common
from flowsim.cli.common import Seed, out_option

DEFAULT_DATA = Path("tests/validation/ipacs_data")
DEFAULT_BASE = Path("scenarios/baseline.yaml")
RULES = ("length_biased", "uniform")


def ipacs_check(
    data: Annotated[
        Path,
        typer.Option(
            metavar="DIR",
            help="Folder of IPACS's reference case (arrivals.csv, capacity.csv, los.csv, "
            "initial_conditions.csv, reference_outputs.csv).",
        ),
    ] = DEFAULT_DATA,
    replications: Annotated[
        int, typer.Option(min=2, help="Replications of each variant and rule.")
    ] = 50,
    days: Annotated[
        float | None,
        typer.Option(
            help="Simulate fewer days than IPACS's 181 (a quicker look).", show_default=False
        ),
    ] = None,
    only: Annotated[
        str | None,
        typer.Option(
            metavar="TEXT",
            help="Only the variants whose name contains TEXT (e.g. BCap_Blos_BArr).",
            show_default=False,
        ),
    ] = None,
    base: Annotated[
        Path,
        typer.Option(
            metavar="FILE",
            help="Scenario the variants are made from (only its community section's other "
            "settings and its required sections matter: the run is community only).",
        ),
    ] = DEFAULT_BASE,
    seed: Seed = None,
    figures: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Also write ipacs_queue.png and ipacs_occupancy.png here (e.g. docs/figures).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[Path | None, out_option("results/ipacs_check")] = None,
) -> None:
    """Compare flowsim with IPACS on its Bristol P2 node (12 variants, both census rules): per
    variant, the share of days after day 30 on which flowsim's mean queue and occupancy lie in
    IPACS's band, and the mean gap. DIR gets summary.csv and daily.csv; docs/validation.md says
    what the result means."""
    import pandas as pd

    from flowsim.analysis import ipacs
    from flowsim.experiment.community_only import run_community_only
    from flowsim.report.ipacs import agreement_figure
    from flowsim.scenario import load_scenario

    try:
        case = ipacs.load_case(data)
    except FileNotFoundError as error:
        raise common.fail(str(error)) from None
    scenario_base = load_scenario(base)
    chosen = [v for v in ipacs.variants(case) if only is None or only in v.name]
    if not chosen:
        raise common.fail(f"--only {only!r}: no variant's name contains it")
    started = time.perf_counter()
    tables: dict[tuple[str, str], pd.DataFrame] = {}
    with common.progress_bar() as bar:
        task = bar.add_task("variants", total=len(chosen) * len(RULES))
        for variant in chosen:
            for rule in RULES:
                scenario = ipacs.variant_scenario(scenario_base, case, variant, rule, days)
                runs = run_community_only(scenario, replications, ipacs.daily_series, seed=seed)
                frame = pd.concat(
                    [r.assign(replication=i) for i, r in enumerate(runs)], ignore_index=True
                )
                tables[(variant.name, rule)] = ipacs.compare_variant(
                    frame, case.reference, variant.name
                )
                bar.advance(task)
    summary = ipacs.summary_table(tables)
    last_day = int(max(t["day"].max() for t in tables.values()))
    _print(summary, replications, last_day, time.perf_counter() - started)
    folder = out or Path("results/ipacs_check")
    folder.mkdir(parents=True, exist_ok=True)
    compared = pd.concat(
        [t.assign(variant=n, remaining_stay=r) for (n, r), t in tables.items()], ignore_index=True
    )
    common.write_or_fail(folder / "summary.csv", lambda p: summary.to_csv(p, index=False))
    common.write_or_fail(folder / "daily.csv", lambda p: compared.to_csv(p, index=False))
    written = [folder / "summary.csv", folder / "daily.csv"]
    if figures is not None:
        figures.mkdir(parents=True, exist_ok=True)
        theory = {
            v.name: ipacs.infinite_server_occupancy(case, v, RULES[0])
            for v in chosen
            if case.capacity[v.capacity] >= ipacs.UNLIMITED_BEDS
        }
        for measure, stem in (("queue", "ipacs_queue"), ("occupied", "ipacs_occupancy")):
            png = agreement_figure(
                tables, measure, theory=theory if measure == "occupied" else None
            )
            common.write_or_fail(figures / f"{stem}.png", lambda p, b=png: p.write_bytes(b))
            written.append(figures / f"{stem}.png")
    common.stdout.print("Wrote " + ", ".join(str(p) for p in written))


def _print(summary: object, replications: int, last_day: int, seconds: float) -> None:
    from flowsim.analysis.ipacs import COMPARED_FROM_DAY

    table = Table(
        title=f"flowsim against IPACS, Bristol P2 ({replications} replications each; "
        f"days {COMPARED_FROM_DAY}-{last_day}; band = IPACS's 2.5-97.5% of its 3 runs)"
    )
    for column in (
        "variant",
        "census",
        "queue in band",
        "queue gap",
        "occ. in band",
        "occ. gap",
    ):
        table.add_column(column, justify="left" if column in ("variant", "census") else "right")
    for row in summary.itertuples():  # type: ignore[attr-defined]
        table.add_row(
            row.variant.removeprefix("P2_B_"),
            row.remaining_stay.replace("_", "-"),
            f"{row.queue_in_band:.0%}",
            f"{row.queue_gap:+.1f}",
            f"{row.occupied_in_band:.0%}",
            f"{row.occupied_gap:+.1f}",
        )
    common.print_table(table)
    common.stdout.print(
        f"gap: flowsim's mean less IPACS's, averaged over the days compared. {seconds:.0f} s."
    )


COMMANDS = {"ipacs-check": ipacs_check}
