"""``flowsim target`` (goal seeking: how many places, how much growth, how much shorter stays
meet a target with 95% confidence; or the cheapest mix of several capacities) and ``flowsim
cost-curve`` (total cost a day against community capacity, with its minimum)."""

from __future__ import annotations

import functools
import math
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from flowsim.cli import common
from flowsim.cli.common import Days, Seed, WarmUp, Workers, argument, out_option
from flowsim.scenario import load_scenario


def target(
    file: Annotated[Path, argument("SCENARIO", "Scenario file.")],
    kpi: Annotated[str, typer.Option(help="KPI to meet (a name of the KPI table).")],
    at_most: Annotated[
        float | None, typer.Option(help="Target: the KPI at most this.", show_default=False)
    ] = None,
    at_least: Annotated[
        float | None, typer.Option(help="Target: the KPI at least this.", show_default=False)
    ] = None,
    capacity: Annotated[
        str | None,
        typer.Option(
            metavar="UNIT",
            help="Lever: the places of one unit (p1, p2, p3, virtual_ward, amu, afu, "
            "ward:care_of_elderly, ed_cubicle, ucr, sdec): the smallest that meets the target.",
            show_default=False,
        ),
    ] = None,
    demand_growth: Annotated[
        bool, typer.Option("--demand-growth", help="Lever: the largest demand growth (%).")
    ] = False,
    los_reduction: Annotated[
        bool,
        typer.Option("--los-reduction", help="Lever: the smallest cut in ward stays (%)."),
    ] = False,
    mix: Annotated[
        list[str] | None,
        typer.Option(
            metavar="UNIT:STEP",
            help="Cheapest mix instead: a capacity lever and its step (repeat, e.g. --mix p1:10 "
            "--mix p2:5), priced at the scenario's costs (G&A bed-day for beds).",
            show_default=False,
        ),
    ] = None,
    low: Annotated[
        int | None, typer.Option(help="Lowest lever step or places.", show_default=False)
    ] = None,
    high: Annotated[
        int | None, typer.Option(help="Highest lever step or places.", show_default=False)
    ] = None,
    step: Annotated[float, typer.Option(min=0.1, help="Per cent per step (growth, LOS).")] = 1.0,
    first_replications: Annotated[
        int, typer.Option(min=2, help="Paired replications at each point first.")
    ] = 3,
    max_replications: Annotated[
        int, typer.Option(min=2, help="Replications at most, for a point near the target.")
    ] = 8,
    days: Days = None,
    warm_up: WarmUp = None,
    seed: Seed = None,
    workers: Workers = None,
    out: Annotated[
        Path | None, out_option("results/target_ and the file name, e.g. results/target_baseline")
    ] = None,
) -> None:
    """Goal seeking on common random numbers: the smallest capacity of a unit, the largest
    demand growth or the smallest ward length-of-stay reduction at which KPI meets the target
    with 95% confidence, by bisection (points near the target get more replications). Prints
    the answer with its uncertain range and every point; DIR gets points.csv, target.png (the
    KPI against the lever with its 95% band) and target.html."""
    from flowsim.analysis.kpis import kpi_values
    from flowsim.experiment import target as t

    if (at_most is None) == (at_least is None):
        raise typer.BadParameter("give exactly one of --at-most and --at-least")
    levers = sum((capacity is not None, demand_growth, los_reduction, bool(mix)))
    if levers != 1:
        raise typer.BadParameter(
            "give exactly one lever: --capacity UNIT, --demand-growth, --los-reduction or --mix"
        )
    scenario = load_scenario(file)
    settings = common.settings_of(scenario, seed, days, warm_up, first_replications, workers)
    goal = t.Goal(kpi, at_most if at_most is not None else at_least, at_most is not None)  # type: ignore[arg-type]
    measure = functools.partial(kpi_values, costs=scenario.costs)
    out = common.out_folder(out, f"target_{common.folder_name(file.stem)}")
    started = time.perf_counter()
    if mix:
        _mix(scenario, file, mix, goal, measure, settings, out, started)
        return
    try:
        if capacity is not None:
            lever = t.capacity_lever(scenario, capacity, low, high)
        elif demand_growth:
            lever = t.demand_growth_lever(step, (high or 30) * step)
        else:
            lever = t.los_reduction_lever(step, (high or 40) * step)
    except (KeyError, ValueError) as error:
        raise common.fail(str(error).strip("'\"")) from None
    common.stdout.print(
        Text.assemble(
            ("Target", "bold"),
            f" {goal} over {lever.label} {lever.value(lever.low):g}-{lever.value(lever.high):g} "
            f"of {scenario.name}: {common.span_seed_workers(settings)}.",
        )
    )

    def shown(point: t.Point) -> None:
        mean, lo, hi = point.interval(goal.kpi)
        common.stderr.print(
            Text(
                f"  {lever.label} {point.value:g}: {mean:.4g} ({lo:.4g} to {hi:.4g}), "
                f"{point.n} replication(s): {point.verdict}"
            )
        )

    result = t.seek_target(
        scenario,
        lever,
        goal,
        measure,
        settings,
        first_replications=first_replications,
        max_replications=max_replications,
        on_point=shown,
    )
    from flowsim.report.style import figure_png
    from flowsim.report.target import render_target_report, target_figure, target_points

    points = target_points(result)
    points.to_csv(out / "points.csv", index=False)
    fig = target_figure(result)
    (out / "target.png").write_bytes(figure_png(fig))
    table = Table(title=Text(f"Every point evaluated ({result.replications} replications)"))
    for column in (lever.label, "replications", "mean", "95% CI", "verdict", "total £/day"):
        table.add_column(column)
    for row in points.to_dict("records"):
        cost = row.get("cost_total_mean", math.nan)
        table.add_row(
            f"{row[lever.name]:g}",
            str(row["replications"]),
            f"{row['mean']:.4g}",
            f"{row['ci_low']:.4g} to {row['ci_high']:.4g}",
            row["verdict"],
            "-" if math.isnan(cost) else f"{cost:,.0f}",
        )
    common.print_table(table)
    sentence = result.sentence()
    took = (
        f"{len(result.points)} points, {result.replications} replications, "
        f"{result.elapsed_seconds:.0f} s."
    )
    common.stdout.print(Text(sentence, style="bold"))
    common.stdout.print(Text(took))
    meta = _meta(settings, file, first_replications, max_replications, result.elapsed_seconds)
    page = render_target_report(
        scenario,
        "flowsim target",
        [sentence, took],
        [(f"{goal.kpi} against {lever.label}, 95% band", fig)],
        [(lever.name, points)],
        meta,
    )
    (out / "target.html").write_text(page, encoding="utf-8")
    common.write_run_txt(out, "target", [f"scenario: {file}", f"goal: {goal}"], settings)
    files = ["points.csv", "target.png", "target.html", "run.txt"]
    common.print_results(out, [out / f for f in files], started)


def _meta(settings: Any, file: Path, first: int, most: int, seconds: float) -> dict[str, Any]:
    return {
        "scenario_file": str(file),
        "seed": settings.seed,
        "horizon_days": settings.horizon_days,
        "warm_up_days": settings.warm_up_days,
        "replications": f"{first} at each point, up to {most} near the target",
        "wall_seconds": seconds,
    }


def _price(scenario: Any, unit: str) -> float:
    from flowsim.scenario.units import in_group, is_inpatient

    if in_group(unit, "community"):
        return scenario.costs.community_day(unit)
    if is_inpatient(unit):
        return scenario.costs.ga_bed_day
    raise common.fail(
        f"--mix {unit}: no unit cost for it in the costs section; use P1-P3, the "
        "virtual ward, AMU, AFU or a ward group"
    )


def _mix(
    scenario: Any,
    file: Path,
    mix: list[str],
    goal: Any,
    measure: Any,
    settings: Any,
    out: Path,
    started: float,
) -> None:
    import pandas as pd

    from flowsim.experiment.target import cheapest_mix

    levers = []
    for item in mix:
        unit, _, size = item.partition(":")
        try:
            places = int(size or 1)
        except ValueError:
            raise common.fail(f"--mix {item}: write UNIT:STEP, e.g. p1:10") from None
        levers.append((unit, places, _price(scenario, unit)))
    common.stdout.print(
        Text(
            f"Cheapest mix for {goal} over {', '.join(mix)} (greedy: the step "
            "with the most gain per pound each time; not a proven optimum)."
        )
    )
    result = common.run_with_progress(
        "steps", None, lambda _tick: cheapest_mix(scenario, levers, goal, measure, settings)
    )
    steps = pd.DataFrame(
        [
            {
                **{f"added_{u}": n for u, n in s["added"].items()},
                **{k: v for k, v in s.items() if k != "added"},
            }
            for s in result.steps
        ]
    )
    steps.to_csv(out / "mix_steps.csv", index=False)
    common.stdout.print(Text(steps.to_string(index=False)))
    added = ", ".join(f"+{n} {u}" for u, n in result.added.items() if n) or "nothing"
    verdict = "meets" if result.met else "does not meet"
    common.stdout.print(
        Text(
            f"{added} ({'£' + format(result.cost_per_day, ',.0f')}/day) {verdict} {goal} with 95% "
            f"confidence ({result.stopped}); {result.replications} replications, "
            f"{result.elapsed_seconds:.0f} s.",
            style="bold",
        )
    )
    common.write_run_txt(out, "target --mix", [f"scenario: {file}", f"goal: {goal}"], settings)
    common.print_results(out, [out / "mix_steps.csv", out / "run.txt"], started)


def cost_curve(
    file: Annotated[Path, argument("SCENARIO", "Scenario file.")],
    capacity: Annotated[
        str, typer.Option(metavar="UNIT", help="Community service: p1, p2, p3 or virtual_ward.")
    ] = "p1",
    low: Annotated[
        int | None, typer.Option(help="Fewest places. [default: half]", show_default=False)
    ] = None,
    high: Annotated[
        int | None, typer.Option(help="Most places. [default: twice]", show_default=False)
    ] = None,
    points: Annotated[int, typer.Option(min=3, help="Capacities on the curve.")] = 6,
    replications: Annotated[int, typer.Option(min=2, help="Paired replications of each.")] = 3,
    days: Days = None,
    warm_up: WarmUp = None,
    seed: Seed = None,
    workers: Workers = None,
    out: Annotated[Path | None, out_option("results/cost_curve_ and the file name")] = None,
) -> None:
    """The cost a day of delayed discharges plus community places against the places of one
    community service, on common random numbers, with the minimum marked (Wood et al. 2023:
    eliminating delayed discharges costs more in community capacity than it saves). DIR gets
    cost_curve.csv, cost_curve.png and cost_curve.html."""
    import numpy as np
    import pandas as pd

    from flowsim.analysis.kpis import kpi_values
    from flowsim.experiment.target import capacity_curve
    from flowsim.report.style import figure_png
    from flowsim.report.target import cost_curve_figure, render_target_report
    from flowsim.scenario.units import capacity_of, in_group, unit_label

    scenario = load_scenario(file)
    if not in_group(capacity, "community"):
        raise common.fail(
            f"--capacity {capacity}: choose a community service (p1, p2, p3, virtual_ward)"
        )
    now = capacity_of(scenario, capacity)
    lo = max(1, now // 2) if low is None else low
    hi = 2 * now if high is None else high
    grid = sorted({round(float(x)) for x in np.linspace(lo, hi, points)})
    settings = common.settings_of(scenario, seed, days, warm_up, replications, workers)
    out = common.out_folder(out, f"cost_curve_{common.folder_name(file.stem)}")
    started = time.perf_counter()
    common.stdout.print(
        Text(
            f"Cost curve of {scenario.name} over {capacity} {grid}: "
            f"{replications} paired replications each, "
            f"{common.span_seed_workers(settings)}."
        )
    )
    measure = functools.partial(kpi_values, costs=scenario.costs)
    found = common.run_with_progress(
        "replications",
        len(grid) * replications,
        lambda tick: capacity_curve(scenario, capacity, grid, measure, settings, on_done=tick),
    )
    rows = []
    names = (
        "cost_delay_and_community",
        "cost_delayed_discharges",
        "cost_community",
        "cost_total",
        "delayed_patients_mean",
    )
    for n in grid:
        row: dict[str, float] = {"places": n}
        for name in names:
            x = np.array([r[name] for r in found[n]], float)
            half = float(np.std(x, ddof=1) / math.sqrt(len(x)) * _t(len(x)))
            row[f"{name}_mean"], row[f"{name}_low"], row[f"{name}_high"] = (
                float(x.mean()),
                float(x.mean()) - half,
                float(x.mean()) + half,
            )
        rows.append(row)
    curve = pd.DataFrame(rows)
    curve.to_csv(out / "cost_curve.csv", index=False)
    label = unit_label(capacity) or capacity
    fig = cost_curve_figure(curve, f"{label}: places")
    (out / "cost_curve.png").write_bytes(figure_png(fig))
    best = curve.loc[curve["cost_delay_and_community_mean"].idxmin()]
    sentence = (
        f"Delayed discharges plus community places cost least at {best['places']:.0f} {capacity} "
        f"places: £{best['cost_delay_and_community_mean']:,.0f}/day "
        f"(£{best['cost_delay_and_community_low']:,.0f}-"
        f"{best['cost_delay_and_community_high']:,.0f}), "
        f"with {best['delayed_patients_mean_mean']:.0f} delayed patients (now {now} places)."
    )
    table = Table(title=Text("Cost a day by places (mean of paired replications)"))
    for column in (
        "places",
        "delays + community £",
        "delayed £",
        "community £",
        "total £",
        "delayed patients",
    ):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(
            f"{r['places']:.0f}",
            f"{r['cost_delay_and_community_mean']:,.0f}",
            f"{r['cost_delayed_discharges_mean']:,.0f}",
            f"{r['cost_community_mean']:,.0f}",
            f"{r['cost_total_mean']:,.0f}",
            f"{r['delayed_patients_mean_mean']:.1f}",
        )
    common.print_table(table)
    common.stdout.print(Text(sentence, style="bold"))
    meta = _meta(settings, file, replications, replications, time.perf_counter() - started)
    page = render_target_report(
        scenario,
        "flowsim cost-curve",
        [sentence],
        [("Cost a day against community capacity", fig)],
        [("cost curve", curve)],
        meta,
    )
    (out / "cost_curve.html").write_text(page, encoding="utf-8")
    common.write_run_txt(out, "cost-curve", [f"scenario: {file}", f"{capacity}: {grid}"], settings)
    files = ["cost_curve.csv", "cost_curve.png", "cost_curve.html", "run.txt"]
    common.print_results(out, [out / f for f in files], started)


def _t(n: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.975, n - 1))


COMMANDS = {"target": target, "cost-curve": cost_curve}
