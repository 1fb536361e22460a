"""``flowsim schema``, ``flowsim library`` and ``flowsim sensitivity``: commands registered on
`flowsim.cli.app` for the scenario reference, the scenario library and sensitivity analysis."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated

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

REFERENCE_MD = Path("docs/scenario-reference.md")
REFERENCE_JSON = Path("docs/scenario.schema.json")
LIBRARY_MD = Path("docs/scenarios.md")


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        stderr.print(Text(f"cannot write {path}: {error.strerror}; choose another --out", "red"))
        raise typer.Exit(2) from None
    stdout.print(Text(f"Wrote {path}"))


@app.command()
def schema(
    markdown: Annotated[
        bool, typer.Option("--markdown", help=f"Write the reference ({REFERENCE_MD}).")
    ] = False,
    json: Annotated[
        bool, typer.Option("--json", help=f"Write the JSON Schema ({REFERENCE_JSON}).")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Where to write (with exactly one of --markdown, --json). [default: the docs/ "
            "file above]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write the scenario reference generated from the schema: every key with its type, unit,
    default, allowed range and description (--markdown), and a JSON Schema for editors (--json).

    With neither option, writes both. Run it after changing src/flowsim/scenario/schema.py; a
    test fails while the committed docs differ from what this writes.
    """
    from flowsim.scenario.reference import json_schema_text, reference_markdown

    if not (markdown or json):
        markdown = json = True
    if out is not None and markdown and json:
        raise typer.BadParameter(
            "give --markdown or --json with --out, not both (they are different files)",
            param_hint="'--out'",
        )
    if markdown:
        _write(out or REFERENCE_MD, reference_markdown())
    if json:
        _write(out or REFERENCE_JSON, json_schema_text())


@app.command()
def library(
    folder: Annotated[
        Path, typer.Argument(metavar="FOLDER", help="Folder of the library and its baseline.yaml.")
    ] = Path("scenarios"),
    markdown: Annotated[
        bool,
        typer.Option("--markdown", help="Also write the table as Markdown (see --out)."),
    ] = False,
    replications: Annotated[
        int, typer.Option(min=2, help="Paired replications of the baseline and each file.")
    ] = 5,
    days: Annotated[
        float, typer.Option(min=1, help="Simulated days measured, after the baseline's warm-up.")
    ] = 180.0,
    warm_up: WarmUp = None,
    seed: Seed = None,
    workers: Workers = None,
    out: Annotated[
        Path,
        typer.Option(metavar="FILE", help="Markdown file written with --markdown."),
    ] = LIBRARY_MD,
) -> None:
    """Run every scenario of the library against its baseline and tabulate what each changes,
    its evidence, the expected direction and the measured effect (paired 95% CI).

    Each file's header (Stream, Changes, Evidence, Expect) gives the words; every file runs on
    the baseline's seed and warm-up, so differences are paired. With --markdown the table is
    written to docs/scenarios.md (refresh it after changing a library file).
    """
    from flowsim.api import compare
    from flowsim.experiment import default_workers
    from flowsim.report.library import agreement, library_markdown
    from flowsim.scenario.library import library_entries

    baseline_file = folder / "baseline.yaml"
    base = load_scenario(baseline_file)
    entries = library_entries(folder)
    if not entries:
        stderr.print(Text(f"no scenario files besides baseline.yaml in {folder}/", "red"))
        raise typer.Exit(2)
    scenarios = [load_scenario(e.path) for e in entries]
    names = {e.path.name: s.name for e, s in zip(entries, scenarios, strict=True)}
    warm_up = base.run.warm_up_days if warm_up is None else warm_up
    seed = base.run.seed if seed is None else seed
    workers = default_workers(replications) if workers is None else workers
    stdout.print(
        Text(
            f"Running {base.name} and {len(entries)} library scenario(s): {replications} paired "
            f"replication(s) each of {days:g} days after {warm_up:g} days' warm-up, seed {seed}."
        )
    )
    started = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task("replications", total=replications * (len(entries) + 1))
        table = compare(
            base,
            *scenarios,
            replications=replications,
            seed=seed,
            horizon_days=days,
            warm_up_days=warm_up,
            workers=workers,
            progress=lambda *_: progress.advance(task),
        )
    shown = Table(title=Text(f"Library against {base.name}: expected effects, paired 95% CI"))
    for column in ("scenario", "expected", "change (95% CI)", "agreement"):
        shown.add_column(column)
    for entry in entries:
        rows = table[table["scenario"] == names[entry.path.name]].set_index("kpi")
        for i, e in enumerate(entry.expect):
            if e.kpi not in rows.index:
                continue
            row = rows.loc[e.kpi]
            lo, hi = float(row["ci_low"]), float(row["ci_high"])
            verdict = agreement(e, lo, hi)
            style = {"as expected": "green", "opposite": "red"}.get(verdict, "")
            shown.add_row(
                names[entry.path.name] if i == 0 else "",
                str(e),
                f"{float(row['difference']):+.3g} ({lo:+.3g} to {hi:+.3g}) {row['unit']}",
                Text(verdict, style=style),
            )
    stdout.print(shown)
    if markdown:
        run = {
            "replications": replications,
            "horizon_days": days,
            "warm_up": warm_up,
            "seed": seed,
            "version": __version__,
            "date": f"{dt.date.today():%Y-%m-%d}",
        }
        _write(out, library_markdown(entries, table, names, run))
    stdout.print(Text(f"Done in {time.perf_counter() - started:.0f} s."))


@app.command()
def sensitivity(
    file: Annotated[Path, _argument("SCENARIO", "Scenario file to vary.")],
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
        stdout.print(listing)
        return

    from flowsim.api import SENSITIVITY_KPIS
    from flowsim.api import sensitivity as run_sensitivity
    from flowsim.experiment import default_workers
    from flowsim.report.figures import figure_png, tornado_figure
    from flowsim.report.labels import kpi_label

    scenario = load_scenario(file)
    keys = _split(params)
    chosen = _split(kpis) or list(SENSITIVITY_KPIS)
    n = scenario.run.replications if replications is None else replications
    if n < 2:
        raise typer.BadParameter(
            f"{file} sets run.replications to {n}; sensitivity needs at least 2 "
            "(use --replications)",
            param_hint="'--replications'",
        )
    count = len(keys) if keys else len(WEAK_EVIDENCE)
    workers = default_workers(n) if workers is None else min(workers, n)
    out = make_out(
        Path("results") / f"sensitivity_{_folder_name(file.stem)}" if out is None else out
    )
    r = scenario.run
    stdout.print(
        Text(
            f"Varying {count} setting(s) of {scenario.name} one at a time: "
            f"{2 * count + 1} scenarios x {n} paired replication(s) of "
            f"{(days or r.horizon_days):g} days after "
            f"{(r.warm_up_days if warm_up is None else warm_up):g} days' warm-up."
        )
    )
    started = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task("replications", total=n * (2 * count + 1))
        try:
            found = run_sensitivity(
                scenario,
                params=keys,
                kpis=chosen,
                replications=n,
                seed=seed,
                horizon_days=days,
                warm_up_days=warm_up,
                workers=workers,
                progress=lambda *_: progress.advance(task),
            )
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="'--kpis'") from None
    found.table.to_csv(out / "sensitivity.csv", index=False)
    found.kpis.to_csv(out / "kpis.csv", index=False)
    title = f"{scenario.name}: one-at-a-time sensitivity ({n} paired replications)"
    (out / "tornado.png").write_bytes(figure_png(tornado_figure(found.table, title)))
    (out / "run.txt").write_text(
        f"flowsim {__version__} sensitivity, {dt.datetime.now():%Y-%m-%d %H:%M}\n"
        f"scenario: {file}\nparameters: {', '.join(found.design['parameter'].unique())}\n"
        f"seed {seed if seed is not None else r.seed}, replications {n}, horizon "
        f"{(days or r.horizon_days):g} days, warm-up "
        f"{(r.warm_up_days if warm_up is None else warm_up):g} days\n",
        encoding="utf-8",
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
        stdout.print(shown)
    stdout.print(Text(f"Results in {out}/ ({time.perf_counter() - started:.0f} s):"))
    for f in ("sensitivity.csv", "kpis.csv", "tornado.png", "run.txt"):
        stdout.print(Text(f"  {out / f}"))


def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()] or None
