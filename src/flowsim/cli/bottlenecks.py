"""``flowsim bottlenecks``: where the constraint is, and what one more unit of each capacity
would buy."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from flowsim.cli import common
from flowsim.cli.common import Days, PairedReplications, Seed, WarmUp, Workers, argument, out_option
from flowsim.scenario import load_scenario

if TYPE_CHECKING:
    import pandas as pd

    from flowsim.analysis.bottlenecks import Bottlenecks


def bottlenecks(
    file: Annotated[Path, argument("SCENARIO", "Scenario file.")],
    replications: PairedReplications = None,
    days: Days = None,
    warm_up: WarmUp = None,
    seed: Seed = None,
    workers: Workers = None,
    value: Annotated[
        bool,
        typer.Option(
            "--value/--no-value",
            help="Also run +k units at each capacity in turn (k = 5% of it, at least 1) and rank "
            "what one more unit buys. Runs the scenario once per capacity: about 14 times as long.",
        ),
    ] = True,
    out: Annotated[
        Path | None,
        out_option("results/bottlenecks_ and the file name, e.g. results/bottlenecks_baseline"),
    ] = None,
) -> None:
    """Find the constraint: resource use, where waiting happens and why, the blocking chain from
    the primary constraint to the front door, and the value of one more unit of each capacity.

    Waiting is traced to its cause through blocked places (a patient waiting for a ward bed
    holds an AMU bed, so AMU's queue is partly the ward's): the primary constraint is where
    waiting stops propagating. How sure that is: how often each cause was the primary across
    the replications, a near tie named as one, and why the answer changes with the length of
    the run when the two halves of the measured period disagree. DIR gets resources.csv,
    attribution.csv, chain.csv, constraints.csv (how often each was the primary) and, with
    --value, value_of_one_more.csv and value_kpis.csv.
    """
    from flowsim.api import bottlenecks as find
    from flowsim.api import value_of_one_more

    scenario = load_scenario(file)
    settings = common.settings_of(scenario, seed, days, warm_up, replications, workers)
    if value:
        common.require_paired(settings, file, "the value of one more unit", ", or --no-value")
    n = settings.replications
    out = common.out_folder(out, f"bottlenecks_{common.folder_name(file.stem)}")
    common.stdout.print(
        Text.assemble(
            ("Bottlenecks", "bold"),
            f" of {scenario.name}: {n} replication(s) of {common.span_seed_workers(settings)}.",
        ),
        soft_wrap=False,
    )
    started = time.perf_counter()
    api_settings = {"replications": n, "workers": settings.workers, **settings.model}
    found = common.run_with_progress(
        "replications", n, lambda tick: find(scenario, **api_settings, progress=tick)
    )
    found.resources.to_csv(out / "resources.csv", index=False)
    found.attribution.to_csv(out / "attribution.csv", index=False)
    _chain_frame(found).to_csv(out / "chain.csv", index=False)
    found.constraints.to_csv(out / "constraints.csv", index=False)
    common.print_table(_resources_table(found))
    common.print_table(_attribution_table(found))
    _print_chain(found)
    _print_verdict(found)
    files = ["resources.csv", "attribution.csv", "chain.csv", "constraints.csv"]

    if value:
        from flowsim.analysis.bottlenecks import capacity_steps

        variants = len(capacity_steps(scenario))
        worth = common.run_with_progress(
            "capacity variants",
            n * (variants + 1),
            lambda tick: value_of_one_more(scenario, **api_settings, progress=tick),
        )
        worth.table.to_csv(out / "value_of_one_more.csv", index=False)
        worth.kpis.to_csv(out / "value_kpis.csv", index=False)
        common.print_table(_value_table(worth.table, n))
        for line in worth.table["sentence"].head(3):
            common.stdout.print(Text(f"  {line}"))
        files += ["value_of_one_more.csv", "value_kpis.csv"]
    extra = f", value of one more unit: {'yes' if value else 'no'}"
    common.write_run_txt(out, "bottlenecks", [f"scenario: {file}"], settings, extra)
    files.append("run.txt")
    common.print_results(out, [out / f for f in files], started)


def _num(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}" if math.isfinite(x) else "–"


def _resources_table(found: Bottlenecks) -> Table:
    table = Table(
        title=Text(f"Resources: mean of {found.replications} replication(s)"),
    )
    for name, justify in (
        ("resource", "left"),
        ("places", "right"),
        ("use %", "right"),
        ("queue", "right"),
        ("full %", "right"),
        ("blocked h/day", "right"),
        ("blocked %", "right"),
        ("delayed h/day", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in found.resources.itertuples(index=False):
        blocked = float(r.blocked_pct)
        table.add_row(
            str(r.resource),
            _num(float(r.capacity_mean)),
            _num(float(r.utilisation_pct)),
            _num(float(r.queue_mean)),
            _num(float(r.full_pct)),
            _num(float(r.blocked_hours_per_day)),
            Text(_num(blocked), style="red" if blocked >= 10 else ""),
            _num(float(r.delayed_hours_per_day)),
        )
    table.caption = (
        "use: places held / in force; queue: patients waiting for it (time-weighted); blocked: "
        "patient-hours holding it while waiting for another unit; delayed: while waiting for the "
        "discharge referral or window."
    )
    return table


def _attribution_table(found: Bottlenecks) -> Table:
    att = found.attribution
    total = float(att["patient_hours_per_day"].sum())
    table = Table(title=Text("Waiting: patient-hours a day, by what for and where"))
    table.add_column("waiting for")
    table.add_column("where")
    table.add_column("patient-hours/day", justify="right")
    table.add_column("share", justify="right")
    for r in att.sort_values("patient_hours_per_day", ascending=False).itertuples(index=False):
        hours = float(r.patient_hours_per_day)
        if total > 0 and hours < 0.005 * total:
            continue
        table.add_row(str(r.cause), str(r.location), _num(hours), f"{100 * hours / total:.0f}%")
    table.caption = f"Total {_num(total)} patient-hours a day (rows under 0.5% not shown)."
    return table


def _print_chain(found: Bottlenecks) -> None:
    if not found.chain:
        common.stdout.print(Text("Nobody waited: no blocking chain.", style="green"))
        return
    common.stdout.print(Text.assemble("Blocking chain: ", (found.chain_text(), "bold")))
    links = ", ".join(f"{k} {_num(v)}" for k, v in found.chain_hours.items())
    common.stdout.print(Text(f"  patient-hours a day at each link: {links}"), soft_wrap=False)


def _print_verdict(found: Bottlenecks) -> None:
    """The primary constraint with how sure it is: how often each cause was the primary across
    the replications, a tie named as one, and why the answer drifts with the run length."""
    if not found.chain:
        return
    named = " and ".join(found.tied) if len(found.tied) > 1 else found.primary
    tie = " (a tie)" if len(found.tied) > 1 else ""
    common.stdout.print(Text.assemble("Primary constraint: ", (named, "bold red"), tie))
    common.print_table(_constraints_table(found))
    common.stdout.print(Text(found.verdict), soft_wrap=False)
    if found.horizon_note:
        common.stdout.print(Text(found.horizon_note, style="yellow"), soft_wrap=False)


def _constraints_table(found: Bottlenecks) -> Table:
    table = Table(
        title=Text(f"How often each is the primary constraint ({found.replications} replications)")
    )
    table.add_column("primary constraint")
    table.add_column("replications", justify="right")
    table.add_column("share", justify="right")
    table.add_column("waiting kept h/day (95% CI)", justify="right")
    for row in found.share_rows():
        table.add_row(*row)
    table.caption = (
        "Waiting kept: patient-hours a day of waiting that stop there (are not passed on to "
        "what blocked patients wait for)."
    )
    return table


def _chain_frame(found: Bottlenecks) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        {
            "position": range(len(found.chain)),
            "link": found.chain,
            "patient_hours_per_day": [found.chain_hours[c] for c in found.chain],
            "primary": [c == found.primary for c in found.chain],
        }
    )


def _value_table(rows: pd.DataFrame, n: int) -> Table:
    table = Table(
        title=Text(f"Value of one more unit: paired change per unit added, {n} replications")
    )
    table.add_column("rank", justify="right")
    table.add_column("one more", no_wrap=True)
    table.add_column("now", justify="right")
    table.add_column("+k", justify="right")
    table.add_column("waiting h/day (95% CI)", justify="right")
    table.add_column("delayed bed-days/day", justify="right")
    table.add_column("ambulance h/day", justify="right")
    for r in rows.to_dict("records"):
        ci = f"{_num(r['waiting_hours_ci_low'])} to {_num(r['waiting_hours_ci_high'])}"
        table.add_row(
            str(r["rank"]),
            str(r["label"]),
            _num(float(r["current"]), 0),
            str(r["k"]),
            f"{_num(r['waiting_hours_per_unit'])} ({ci})",
            _num(r.get("delayed_patients_mean_per_unit", math.nan), 2),
            _num(r.get("ambulance_hours_lost_per_unit", math.nan), 2),
        )
    table.caption = "Negative: less with the extra unit. Ranked by patient-hours of waiting saved."
    return table


COMMANDS = {"bottlenecks": bottlenecks}
