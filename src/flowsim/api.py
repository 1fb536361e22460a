"""The Python API for notebooks and scripts: compare scenarios, choose a warm-up, choose how many
replications — the same functions the ``flowsim`` commands call.

A thin façade: run settings, the runner, the executor and the stopping rule are
`flowsim.experiment`'s, the statistics `flowsim.analysis`'s. Each log is reduced to KPIs where
it is made, so memory holds one year-long log at a time, not all of them. The run options
(``seed``, ``horizon_days``, ``warm_up_days``, ``workers``: `RunOptions`) are keywords of every
function that runs replications; each left out is the (first) scenario's ``run`` setting.

    import flowsim
    table = flowsim.compare("scenarios/baseline.yaml", "scenarios/afu_expansion.yaml")
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Unpack

import pandas as pd

from flowsim.analysis import PRIMARY_KPIS
from flowsim.analysis.bottlenecks import Bottlenecks, bottleneck_tables
from flowsim.analysis.compare import paired_comparison
from flowsim.analysis.reducers import (
    bottleneck_kpis,
    comparison_tables,
    replication_kpis,
    warmup_series_of,
)
from flowsim.analysis.warmup import WARMUP_UNITS, recommend_warm_up
from flowsim.experiment import RunSettings, replications_in_order, run_paired
from flowsim.experiment.replications import ReplicationsAlgorithm, run_until_precise
from flowsim.experiment.settings import RunOptions
from flowsim.log import EventLog
from flowsim.scenario import Scenario, load_scenario

__all__ = [
    "AutoReplications",
    "ValueOfOneMore",
    "Warmup",
    "auto_replications",
    "bottlenecks",
    "compare",
    "comparison_tables",  # the reducers, re-exported for callers of the API
    "replication_kpis",
    "run_kpis",
    "scenario_labels",
    "value_of_one_more",
    "warmup",
]

ScenarioLike = Scenario | str | Path
Progress = Callable[[str, int], None]
"""Called as ``progress(scenario label, replication)`` when a replication finishes."""


def _scenario(s: ScenarioLike) -> Scenario:
    return s if isinstance(s, Scenario) else load_scenario(s)


def scenario_labels(scenarios: Sequence[Scenario], files: Sequence[object] = ()) -> list[str]:
    """Names to tell scenarios apart in tables: each scenario's name, or where names repeat (a
    file that extends another without a name of its own) the file names, else numbered."""
    names = [s.name for s in scenarios]
    if len(set(names)) == len(names):
        return names
    stems = [Path(str(f)).stem if isinstance(f, str | Path) else "" for f in files]
    if len(stems) == len(names) and all(stems) and len(set(stems)) == len(stems):
        return stems
    return [f"{name} ({i + 1})" if names.count(name) > 1 else name for i, name in enumerate(names)]


def _paired_kpis(
    scenarios: Sequence[Scenario],
    labels: Sequence[str],
    settings: RunSettings,
    reduce: Callable[[EventLog], pd.DataFrame] = replication_kpis,
    *,
    first_replication: int = 0,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """``reduce`` of every replication of every scenario, in one pool, as tidy rows with a
    ``scenario`` column of ``labels``, in scenario then replication order."""
    results = run_paired(
        scenarios,
        settings,
        reduce,
        first_replication=first_replication,
        on_done=None if progress is None else (lambda i, r: progress(labels[i], r)),
    )
    frames = [results[key].assign(scenario=labels[key[0]]) for key in sorted(results)]
    return pd.concat(frames, ignore_index=True)


def run_kpis(
    scenarios: Sequence[ScenarioLike],
    replications: int,
    *,
    first_replication: int = 0,
    progress: Progress | None = None,
    **options: Unpack[RunOptions],
) -> pd.DataFrame:
    """KPIs of replications ``first_replication ..`` of each scenario, on common random numbers.

    Every scenario runs on the same seed, horizon and warm-up — the first scenario's unless
    given — so replication *r* of each shares its random numbers with the others wherever the
    structure is the same, and differences are paired. Returns tidy rows ``scenario,
    replication, kpi, unit, value``.
    """
    loaded = [_scenario(s) for s in scenarios]
    if not loaded:
        raise ValueError("no scenarios to run")
    settings = RunSettings.resolve(
        loaded[0], replications=replications, scenarios=len(loaded), **options
    )
    labels = scenario_labels(loaded, list(scenarios))
    out = _paired_kpis(
        loaded, labels, settings, first_replication=first_replication, progress=progress
    )
    return out[["scenario", "replication", "kpi", "unit", "value"]]


def compare(
    baseline: ScenarioLike,
    *alternatives: ScenarioLike,
    replications: int | None = None,
    kpis: Sequence[str] | None = None,
    progress: Progress | None = None,
    **options: Unpack[RunOptions],
) -> pd.DataFrame:
    """Each alternative against the baseline, on common random numbers: per KPI the two means,
    the paired difference with its 95% CI, % change and a verdict in words.

    ``replications`` defaults to the baseline's ``run.replications``; ``kpis`` to every KPI.
    See `flowsim.analysis.compare.paired_comparison` for the columns.
    """
    if not alternatives:
        raise ValueError("compare needs a baseline and at least one alternative scenario")
    everyone = [_scenario(s) for s in (baseline, *alternatives)]
    labels = scenario_labels(everyone, [baseline, *alternatives])
    named = [s.model_copy(update={"name": n}) for s, n in zip(everyone, labels, strict=True)]
    base = everyone[0]
    k = len(everyone)
    settings = RunSettings.resolve(base, replications=replications, scenarios=k, **options)
    settings.require_paired("a comparison")
    table = _paired_kpis(named, labels, settings, progress=progress)
    out = paired_comparison(table[["scenario", "replication", "kpi", "unit", "value"]], labels[0])
    if kpis is not None:
        out = out[out["kpi"].isin(list(kpis))].reset_index(drop=True)
    return out


@dataclass
class Warmup:
    """What `warmup` found: the recommendation in days, MSER-5's cut per unit, and the series."""

    days: float
    truncation: pd.DataFrame
    series: pd.DataFrame
    horizon_days: float


def warmup(
    scenario: ScenarioLike,
    *,
    replications: int = 5,
    days: float | None = None,
    seed: int | None = None,
    workers: int | None = None,
    units: Sequence[str] = WARMUP_UNITS,
    progress: Progress | None = None,
) -> Warmup:
    """Run from empty with no warm-up for ``days`` (default: the scenario's warm-up plus
    horizon, at least a year) and recommend a warm-up by MSER-5 on the daily occupancy of the
    key units, averaged over replications."""
    s = _scenario(scenario)
    days = max(365.0, s.run.warm_up_days + s.run.horizon_days) if days is None else days
    settings = RunSettings.resolve(s, seed, days, 0.0, replications, workers)
    frames = []
    reduce = warmup_series_of(units)
    for table in replications_in_order(s, settings, reduce):
        frames.append(table)
        if progress is not None:
            progress(s.name, int(table["replication"].iloc[0]))
    series = pd.concat(frames, ignore_index=True)
    recommended, table = recommend_warm_up(series)
    return Warmup(recommended, table, series, days)


@dataclass
class AutoReplications:
    """What `auto_replications` found: the KPIs of every replication run and the algorithm's
    state (``algorithm.met``: the precision was reached and confirmed)."""

    kpis: pd.DataFrame
    algorithm: ReplicationsAlgorithm
    history: list[dict[str, float]] = field(default_factory=list)

    @property
    def replications(self) -> int:
        """The number the algorithm recommends (the count run when the precision was not met)."""
        a = self.algorithm
        return a.solution if a.met and a.solution is not None else a.n


def auto_replications(
    scenario: ScenarioLike,
    *,
    precision: float = 0.05,
    kpis: Sequence[str] = PRIMARY_KPIS,
    max_replications: int = 50,
    progress: Progress | None = None,
    **options: Unpack[RunOptions],
) -> AutoReplications:
    """Run replications until the 95% CI of each of ``kpis`` is within ``precision`` of its
    mean (Hoad, Robinson & Davies 2010), or ``max_replications``.

    Replications run in batches of ``workers`` (all cores by default); a batch may run a few
    past the point of stopping, and those are kept: they only narrow the intervals. The loop is
    `flowsim.experiment.replications.run_until_precise`, as ``flowsim run --replications auto``.
    """
    s = _scenario(scenario)
    settings = RunSettings.resolve(s, replications=max_replications, **options)
    algorithm = ReplicationsAlgorithm(list(kpis), precision, max_replications=max_replications)
    frames: list[pd.DataFrame] = []

    def record(table: pd.DataFrame) -> dict[str, float]:
        frames.append(table.assign(scenario=s.name))
        return dict(zip(table["kpi"], table["value"], strict=True))

    run_until_precise(
        s,
        settings,
        algorithm,
        record,
        replication_kpis,
        on_done=None if progress is None else (lambda r: progress(s.name, r)),
    )
    kept = pd.concat(frames, ignore_index=True)[["scenario", "replication", "kpi", "unit", "value"]]
    return AutoReplications(kept, algorithm, algorithm.history)


# ---------------------------------------------------------------- bottlenecks


VALUE_KPIS: tuple[str, ...] = (
    "waiting_hours",
    "delayed_patients_mean",
    "ambulance_hours_lost",
    "ed_time_mean",
)
"""What `value_of_one_more` measures by default: patient-hours of waiting for capacity per day
(from the bottleneck analysis), delayed bed-days per day, ambulance hours lost per day and the
mean time in ED."""


def bottlenecks(
    scenario: ScenarioLike,
    *,
    replications: int | None = None,
    progress: Progress | None = None,
    **options: Unpack[RunOptions],
) -> Bottlenecks:
    """`flowsim.analysis.bottlenecks.find_bottlenecks` over replications of a scenario: each
    log is reduced to small tables where it runs, so memory holds one log at a time."""
    from flowsim.analysis.bottlenecks import combine_bottlenecks

    s = _scenario(scenario)
    settings = RunSettings.resolve(s, replications=replications, **options)
    parts = []
    for tables in replications_in_order(s, settings, bottleneck_tables):
        parts.append(tables)
        if progress is not None:
            progress(s.name, len(parts) - 1)
    return combine_bottlenecks(parts)


@dataclass
class ValueOfOneMore:
    """What `value_of_one_more` found: the ranked table (`flowsim.analysis.bottlenecks.
    value_table`), the paired comparison behind it and every replication's KPIs."""

    table: pd.DataFrame
    comparison: pd.DataFrame
    kpis: pd.DataFrame


def value_of_one_more(
    scenario: ScenarioLike,
    *,
    step: float = 0.05,
    kpis: Sequence[str] = VALUE_KPIS,
    rank_by: str | None = None,
    capacities: Sequence[str] | None = None,
    replications: int | None = None,
    progress: Progress | None = None,
    **options: Unpack[RunOptions],
) -> ValueOfOneMore:
    """+k units at each capacity in turn (k = ``step`` of it, at least 1), on common random
    numbers with the scenario, and the paired change in ``kpis`` per added unit, ranked by
    ``rank_by`` (default the first of ``kpis``; the most reduced first).

    Every variant runs the scenario's seed and replications (or those given), so replication r
    of each meets the same patients and the differences are paired. ``capacities`` limits the
    variants to those resources (names as in the resources table: ``ed_cubicle``, ``p1``...).
    """
    from flowsim.analysis.bottlenecks import capacity_steps, step_scenarios, value_table

    base = _scenario(scenario)
    rank_by = kpis[0] if rank_by is None else rank_by
    steps = capacity_steps(base, step, only=capacities)
    variants = step_scenarios(base, steps)
    settings = RunSettings.resolve(
        base, replications=replications, scenarios=len(variants) + 1, **options
    )
    settings.require_paired("the value of one more unit")
    labels = [base.name, *(v.name for v in variants)]
    if len(set(labels)) != len(labels):
        base = base.model_copy(update={"name": f"{base.name} (as it is)"})
        labels[0] = base.name
    all_kpis = _paired_kpis([base, *variants], labels, settings, bottleneck_kpis, progress=progress)
    chosen = all_kpis[all_kpis["kpi"].isin(list(kpis))]
    missing = sorted(set(kpis) - set(chosen["kpi"]))
    if missing:
        raise ValueError(f"unknown KPI(s) {missing}: see flowsim.analysis.kpis for the names")
    comparison = paired_comparison(chosen, base.name)
    return ValueOfOneMore(value_table(comparison, steps, rank_by), comparison, all_kpis)


# ---------------------------------------------------------------- sensitivity


SENSITIVITY_KPIS: tuple[str, ...] = (
    "ed_within_4h",
    "handover_mean",
    "admissions",
    "los_mean",
    "occupancy_mean_general_acute",
    "delayed_share_of_ward_beds",
)
"""What `sensitivity` measures by default: headline KPIs of both work streams."""


@dataclass
class Sensitivity:
    """What `sensitivity` found: the ranked table (`flowsim.analysis.sensitivity.
    sensitivity_table`), the variants' design and every replication's KPIs."""

    table: pd.DataFrame
    design: pd.DataFrame
    kpis: pd.DataFrame


def sensitivity(
    scenario: ScenarioLike,
    *,
    params: Sequence[str] | None = None,
    kpis: Sequence[str] = SENSITIVITY_KPIS,
    replications: int | None = None,
    progress: Progress | None = None,
    **options: Unpack[RunOptions],
) -> Sensitivity:
    """One-at-a-time sensitivity over weak-evidence inputs, on common random numbers.

    Each of ``params`` (dotted keys of `flowsim.scenario.weak_evidence.WEAK_EVIDENCE`; default
    all of them) is set to its low and then its high value, one at a time; the scenario and
    every variant run in one `run_kpis` call, so replication r of each meets the same patients
    and each effect is a paired difference with a 95% CI. Why: a learning set should know which
    estimates its result depends on before quoting it.
    """
    from flowsim.analysis.sensitivity import sensitivity_table
    from flowsim.scenario.weak_evidence import sensitivity_variants

    base = _scenario(scenario)
    variants = sensitivity_variants(base, params)
    names = [v.scenario.name for v in variants]
    if base.name in names:
        base = base.model_copy(update={"name": f"{base.name} (as it is)"})
    design = pd.DataFrame(
        [
            (
                v.scenario.name,
                v.parameter.key,
                v.parameter.source,
                v.parameter.note,
                v.side,
                v.scenario.name.split(" = ", 1)[-1],
            )
            for v in variants
        ],
        columns=["scenario", "parameter", "source", "note", "side", "value"],
    )
    everyone = [base, *(v.scenario for v in variants)]
    settings = RunSettings.resolve(
        base, replications=replications, scenarios=len(everyone), **options
    )
    settings.require_paired("sensitivity")
    table = _paired_kpis(everyone, scenario_labels(everyone), settings, progress=progress)
    table = table[["scenario", "replication", "kpi", "unit", "value"]]
    ranked = sensitivity_table(table, design, base.name, list(kpis))
    return Sensitivity(ranked, design, table)


__all__ += ["SENSITIVITY_KPIS", "Sensitivity", "sensitivity"]


# ---------------------------------------------------------------- calibration (issue 9)


def synth_extract(
    scenario: ScenarioLike,
    *,
    days: float | None = None,
    replication: int = 0,
    seed: int | None = None,
) -> pd.DataFrame:
    """A synthetic extract (docs/extract-format.md) of one run of ``scenario``: what a hospital
    would hold for ``days`` after warm-up, so users can see the format and tests can round-trip."""
    from flowsim.analysis.extract import extract_from_log
    from flowsim.model.build import simulate

    s = _scenario(scenario)
    log = simulate(s, replication, seed=seed, horizon_days=days)
    return extract_from_log(log)


@dataclass
class Calibration:
    """What ``flowsim fit`` produces: the fit and the scenario text (the goodness-of-fit page
    is `flowsim.report.calibration.fit_report_html` of ``fit``)."""

    fit: object
    yaml_text: str
    census: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def fit_scenario(
    extract: str | Path,
    base: str | Path,
    out: str | Path,
    *,
    census_date: str | None = None,
) -> Calibration:
    """Fit a scenario extending ``base`` to ``extract``; the YAML text is for ``out`` (``extends``
    is written relative to it). With ``census_date`` the scenario starts warm from the extract's
    patients in hospital and community that day."""
    import datetime as dt

    from flowsim.analysis.extract import read_extract
    from flowsim.analysis.fit import census, fit_extract, fit_yaml

    df = read_extract(extract)
    base_scenario = load_scenario(base)
    fitted = fit_extract(df, base_scenario, source=str(extract))
    occupied: dict[str, int] = {}
    notes: list[str] = list(fitted.warnings)
    if census_date is not None:
        at = pd.Timestamp(dt.date.fromisoformat(census_date))
        section, occupied, census_notes = census(df, at, base_scenario)
        fitted.body["warm_start"] = section
        fitted.notes["warm_start"] = (
            f"census of the extract on {census_date}: {sum(occupied.values())} patients; "
            "elapsed_days = time each had been in the unit"
        )
        notes += census_notes
    out_dir = Path(out).resolve().parent
    try:
        extends = str(Path(base).resolve().relative_to(out_dir))
    except ValueError:
        extends = str(Path(base).resolve())
    header = (
        f"Fitted to {Path(extract).name} by 'flowsim fit' ({fitted.attendances} attendances, "
        f"{fitted.start:%Y-%m-%d} to {fitted.end:%Y-%m-%d}).\n"
        "Each value's comment says how it was estimated and from how many records;\n"
        f"everything else is {Path(base).name}'s. Goodness of fit: the HTML page beside this file."
    )
    text = fit_yaml(fitted, extends, f"{base_scenario.name} fitted to {Path(extract).stem}", header)
    return Calibration(fitted, text, occupied, notes)


def check_fit(
    scenario: ScenarioLike,
    extract: str | Path,
    replications: int | None = None,
    *,
    seed: int | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """The extract's observed KPIs beside the fitted scenario's, simulated over the extract's span
    on common random numbers: see `flowsim.analysis.fit_check.fit_check_table`."""
    from flowsim.analysis.extract import extract_end, extract_kpis, log_extract_kpis, read_extract
    from flowsim.analysis.fit_check import fit_check_table

    s = _scenario(scenario)
    df = read_extract(extract)
    days = (extract_end(df) - df["arrival_time"].min()).total_seconds() / 86400.0
    beds = sum(w.beds for w in s.wards.values())
    settings = RunSettings.resolve(s, seed, days, None, replications, workers)
    results = run_paired([s], settings, log_extract_kpis)
    return fit_check_table(extract_kpis(df, beds), [results[k] for k in sorted(results)])


# ---------------------------------------------------------------- what will we need (issue 15)


def offered_load(scenario: ScenarioLike) -> pd.DataFrame:
    """Each unit's offered load from the scenario alone, no simulation: see
    `flowsim.analysis.offered_load` (the ``warning`` column says where a unit is at 95%+)."""
    from flowsim.analysis.offered_load import offered_load as load

    return load(_scenario(scenario)).table


def target(
    scenario: ScenarioLike,
    kpi: str,
    goal: float,
    *,
    at_most: bool = True,
    capacity: str | None = None,
    demand_growth: bool = False,
    los_reduction: bool = False,
    low: int | None = None,
    high: int | None = None,
    step_pct: float = 1.0,
    first_replications: int = 3,
    max_replications: int = 10,
    **options: Unpack[RunOptions],
) -> Any:
    """The smallest ``capacity`` of a unit, the largest demand growth or the smallest LOS
    reduction at which ``kpi`` is at most (or at least) ``goal`` with 95% confidence: a
    `flowsim.experiment.target.TargetResult` (``sentence()`` says it in words)."""
    from flowsim.analysis.kpis import kpi_values
    from flowsim.experiment import target as t

    s = _scenario(scenario)
    if sum((capacity is not None, demand_growth, los_reduction)) != 1:
        raise ValueError("give exactly one of capacity, demand_growth or los_reduction")
    if capacity is not None:
        lever = t.capacity_lever(s, capacity, low, high)
    elif demand_growth:
        lever = t.demand_growth_lever(step_pct, (high or 30) * step_pct)
    else:
        lever = t.los_reduction_lever(step_pct, (high or 40) * step_pct)
    settings = RunSettings.resolve(s, replications=first_replications, **options)
    measure = functools.partial(kpi_values, costs=s.costs)
    return t.seek_target(
        s,
        lever,
        t.Goal(kpi, goal, at_most),
        measure,
        settings,
        first_replications=first_replications,
        max_replications=max_replications,
    )


__all__ += ["offered_load", "target"]
