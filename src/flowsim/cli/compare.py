"""Commands that compare scenarios on common random numbers: ``compare`` (scenarios against a
baseline) and ``sensitivity`` (weak-evidence inputs varied one at a time)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from flowsim._version import __version__
from flowsim.cli import common
from flowsim.cli.common import Days, PairedReplications, Seed, WarmUp, Workers, argument, out_option
from flowsim.scenario import load_scenario

if TYPE_CHECKING:
    import pandas as pd

_STYLE = {"better": "green", "worse": "red"}


def compare(
    baseline: Annotated[Path, argument("BASE", "The baseline scenario file.")],
    alternatives: Annotated[
        list[Path], argument("ALT...", "One or more scenario files to compare with BASE.")
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
    from flowsim.analysis.reducers import comparison_tables
    from flowsim.api import scenario_labels
    from flowsim.experiment import run_paired
    from flowsim.report.figures import figure_png, forest_figure, los_figure
    from flowsim.report.html import render_compare_report
    from flowsim.scenario import diff_settings

    files = [baseline, *alternatives]
    scenarios = [load_scenario(f) for f in files]
    labels = scenario_labels(scenarios, files)
    named = [s.model_copy(update={"name": n}) for s, n in zip(scenarios, labels, strict=True)]
    settings = common.settings_of(scenarios[0], seed, days, warm_up, replications, workers)
    common.require_paired(settings, baseline, "a comparison")
    n = settings.replications
    out = common.out_folder(
        out, "compare_" + "_".join(common.folder_name(f.stem) for f in alternatives)
    )
    base = scenarios[0].run
    for f, s in zip(files[1:], scenarios[1:], strict=True):
        r = s.run
        if (r.seed, r.horizon_days, r.warm_up_days) != (
            base.seed,
            base.horizon_days,
            base.warm_up_days,
        ):
            common.stderr.print(
                Text(
                    f"note: {f} sets its own run seed/horizon/warm-up; the comparison uses "
                    f"BASE's (seed {settings.seed}, {settings.horizon_days:g} days after "
                    f"{settings.warm_up_days:g}) for every scenario.",
                    style="yellow",
                )
            )
    common.stdout.print(
        Text.assemble(
            "Comparing ",
            *[(label, "bold") if i == 0 else f", {label}" for i, label in enumerate(labels)],
            f": {n} paired replication(s) each of {common.span_seed_workers(settings)}.",
        )
    )
    started = time.perf_counter()
    results = common.run_with_progress(
        "replications",
        n * len(named),
        lambda tick: run_paired(named, settings, comparison_tables, on_done=tick),
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
        "seed": settings.seed,
        "replications": n,
        "horizon_days": settings.horizon_days,
        "warm_up_days": settings.warm_up_days,
        "workers": settings.workers,
        "flowsim_version": __version__,
        "date": common.now(),
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
    trends = pd.concat(
        [results[k]["trends"].assign(scenario=labels[k[0]]) for k in keys], ignore_index=True
    )
    html = render_compare_report(
        scenarios,
        labels,
        table,
        figures,
        meta,
        changes=changes,
        bottlenecks=chains,
        kpis=kpis,
        trends=trends,
    )
    (out / "report.html").write_text(html, encoding="utf-8")
    common.write_run_txt(
        out,
        "compare",
        [f"base: {baseline}", f"alternatives: {' '.join(map(str, alternatives))}"],
        settings,
    )
    shown = table if all_kpis else headline
    for name in labels[1:]:
        common.print_table(_comparison_table(shown[shown["scenario"] == name], labels[0], name, n))
    for label, b in chains.items():
        chain = f" Blocking chain: {b.chain_words()}." if b.chain else ""
        common.stdout.print(Text(f"{label}: {b.verdict_text()}{chain}"), soft_wrap=False)
    written = ("compare.csv", "kpis.csv", "forest.png", "report.html", "run.txt")
    common.print_results(out, [out / f for f in written], started)


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
        "Differences in each measure's own unit (shares in points). Verdict: 'shorter', "
        "'higher' ... when the whole paired 95% interval lies on one side of no change, so the "
        "direction is sure; 'no clear difference' when it reaches no change. report.html says "
        "how big each change is and how sure, in words."
    )
    return table


def _short(unit: str) -> str:
    return {"minutes": "min", "hours": "h", "days": "d", "per day": "/day"}.get(unit, unit)


def sensitivity(
    file: Annotated[Path, argument("SCENARIO", "Scenario file to vary.")],
    params: Annotated[
        str | None,
        typer.Option(
            metavar="KEY,KEY...",
            help="Weak-evidence settings to vary, comma-separated dotted keys (see --list). "
            "[default: all of them]",
            show_default=False,
        ),
    ] = None,
    kpis: Annotated[
        str | None,
        typer.Option(
            metavar="KPI,KPI...",
            help="KPIs to show, comma-separated names as in kpis.csv. [default: ed_within_4h, "
            "handover_mean, admissions, los_mean, occupancy_mean_general_acute, "
            "delayed_share_of_ward_beds]",
            show_default=False,
        ),
    ] = None,
    replications: PairedReplications = None,
    days: Days = None,
    warm_up: WarmUp = None,
    seed: Seed = None,
    workers: Workers = None,
    list_only: Annotated[
        bool, typer.Option("--list", help="List the weak-evidence settings and exit.")
    ] = False,
    out: Annotated[
        Path | None,
        out_option("results/sensitivity_ and the file name, e.g. results/sensitivity_baseline"),
    ] = None,
) -> None:
    """One-at-a-time sensitivity: set each weak-evidence input to its low, then high value and
    see how much each KPI moves, on common random numbers.

    The inputs are the baseline's low-confidence (L) estimates, each with the parameters.md row
    it stands for and a range to test (flowsim.scenario.weak_evidence). DIR gets
    sensitivity.csv (every effect with its paired 95% CI, ranked by swing), kpis.csv and
    tornado.png. It runs 2 variants per input: about 35 times a single run with every input.
    """
    from flowsim.scenario.weak_evidence import WEAK_EVIDENCE

    if list_only:
        listing = Table(title="Weak-evidence settings (one-at-a-time sensitivity)")
        for column in ("setting", "row", "low", "high", "what"):
            listing.add_column(column)
        for p in WEAK_EVIDENCE:
            low = f"x{1 - p.relative:g}" if p.relative is not None else f"{p.low:g}"
            high = f"x{1 + p.relative:g}" if p.relative is not None else f"{p.high:g}"
            listing.add_row(p.key, p.source, low, high, p.note)
        common.print_table(listing)
        return

    from flowsim.api import SENSITIVITY_KPIS
    from flowsim.api import sensitivity as run_sensitivity
    from flowsim.report.figures import figure_png, tornado_figure
    from flowsim.report.labels import kpi_label

    scenario = load_scenario(file)
    keys = _split(params)
    chosen = _split(kpis) or list(SENSITIVITY_KPIS)
    settings = common.settings_of(scenario, seed, days, warm_up, replications, workers)
    common.require_paired(settings, file, "sensitivity")
    n = settings.replications
    count = len(keys) if keys else len(WEAK_EVIDENCE)
    out = common.out_folder(out, f"sensitivity_{common.folder_name(file.stem)}")
    common.stdout.print(
        Text(
            f"Varying {count} setting(s) of {scenario.name} one at a time: "
            f"{2 * count + 1} scenarios x {n} paired replication(s) of {common.span(settings)}."
        )
    )
    started = time.perf_counter()
    try:
        found = common.run_with_progress(
            "replications",
            n * (2 * count + 1),
            lambda tick: run_sensitivity(
                scenario,
                params=keys,
                kpis=chosen,
                replications=n,
                seed=settings.seed,
                horizon_days=settings.horizon_days,
                warm_up_days=settings.warm_up_days,
                workers=settings.workers,
                progress=tick,
            ),
        )
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="'--kpis'") from None
    found.table.to_csv(out / "sensitivity.csv", index=False)
    found.kpis.to_csv(out / "kpis.csv", index=False)
    title = f"{scenario.name}: one-at-a-time sensitivity ({n} paired replications)"
    (out / "tornado.png").write_bytes(figure_png(tornado_figure(found.table, title)))
    parameters = ", ".join(found.design["parameter"].unique())
    common.write_run_txt(
        out, "sensitivity", [f"scenario: {file}", f"parameters: {parameters}"], settings
    )
    for kpi in dict.fromkeys(found.table["kpi"]):
        rows = found.table[(found.table["kpi"] == kpi) & (found.table["rank"] <= 5)]
        shown = Table(title=Text(f"{kpi_label(str(kpi))}: the 5 inputs that move it most"))
        for column in ("setting", "row", "value", "change (95% CI)", "swing"):
            shown.add_column(column)
        for row in rows.itertuples(index=False):
            shown.add_row(
                str(row.parameter),
                str(row.source),
                str(row.value),
                f"{row.difference:+.3g} ({row.ci_low:+.3g} to {row.ci_high:+.3g}) {row.unit}",
                f"{row.swing:.3g}",
            )
        common.print_table(shown)
    written = ("sensitivity.csv", "kpis.csv", "tornado.png", "run.txt")
    common.print_results(out, [out / f for f in written], started)


def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()] or None


COMMANDS = {"compare": compare, "sensitivity": sensitivity}
