"""The Python API for notebooks and scripts: compare scenarios, choose a warm-up, choose how many
replications — the same functions the ``flowsim`` commands call.

Everything here runs replications through `flowsim.experiment` and reduces each log to KPIs as
soon as it arrives, so memory holds one year-long log at a time, not all of them.

    import flowsim
    table = flowsim.compare("scenarios/baseline.yaml", "scenarios/afu_expansion.yaml")
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from flowsim.analysis import PRIMARY_KPIS, compute_kpis
from flowsim.analysis.compare import paired_comparison
from flowsim.analysis.replications import ReplicationsAlgorithm
from flowsim.analysis.warmup import WARMUP_UNITS, recommend_warm_up, warmup_series
from flowsim.experiment import iter_replications
from flowsim.model.record import EventLog
from flowsim.scenario import Scenario, load_scenario

__all__ = [
    "AutoReplications",
    "Warmup",
    "auto_replications",
    "compare",
    "run_kpis",
    "scenario_labels",
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


def replication_kpis(log: EventLog) -> pd.DataFrame:
    """`compute_kpis` with the log's replication number: run where the replication runs, so
    only a small table travels back from a worker."""
    return compute_kpis(log).assign(replication=int(log.meta["replication"]))


def run_kpis(
    scenarios: Sequence[ScenarioLike],
    replications: int,
    *,
    seed: int | None = None,
    horizon_days: float | None = None,
    warm_up_days: float | None = None,
    workers: int | None = None,
    first_replication: int = 0,
    progress: Progress | None = None,
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
    labels = scenario_labels(loaded, list(scenarios))
    run = loaded[0].run
    seed = run.seed if seed is None else seed
    horizon_days = run.horizon_days if horizon_days is None else horizon_days
    warm_up_days = run.warm_up_days if warm_up_days is None else warm_up_days
    frames = []
    for label, scenario in zip(labels, loaded, strict=True):
        results = iter_replications(
            scenario,
            replications,
            seed=seed,
            horizon_days=horizon_days,
            warm_up_days=warm_up_days,
            workers=workers,
            first_replication=first_replication,
            reduce=replication_kpis,
        )
        for kpis in results:
            r = int(kpis["replication"].iloc[0])
            frames.append(kpis.assign(scenario=label))
            if progress is not None:
                progress(label, r)
    out = pd.concat(frames, ignore_index=True)
    return out[["scenario", "replication", "kpi", "unit", "value"]]


def compare(
    baseline: ScenarioLike,
    *alternatives: ScenarioLike,
    replications: int | None = None,
    seed: int | None = None,
    horizon_days: float | None = None,
    warm_up_days: float | None = None,
    workers: int | None = None,
    kpis: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Each alternative against the baseline, on common random numbers: per KPI the two means,
    the paired difference with its 95% CI, % change and a verdict in words.

    ``replications`` defaults to the baseline's ``run.replications``; ``kpis`` to every KPI.
    See `flowsim.analysis.compare.paired_comparison` for the columns.
    """
    if not alternatives:
        raise ValueError("compare needs a baseline and at least one alternative scenario")
    scenarios = [_scenario(s) for s in (baseline, *alternatives)]
    labels = scenario_labels(scenarios, [baseline, *alternatives])
    named = [
        s.model_copy(update={"name": label}) for s, label in zip(scenarios, labels, strict=True)
    ]
    n = scenarios[0].run.replications if replications is None else replications
    if n < 2:
        raise ValueError("a comparison needs at least 2 replications for a confidence interval")
    table = run_kpis(
        named,
        n,
        seed=seed,
        horizon_days=horizon_days,
        warm_up_days=warm_up_days,
        workers=workers,
        progress=progress,
    )
    out = paired_comparison(table, labels[0])
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
    frames = []
    reduce = functools.partial(_warmup_series, units=tuple(units))
    for table in iter_replications(
        s,
        replications,
        seed=seed,
        horizon_days=days,
        warm_up_days=0.0,
        workers=workers,
        reduce=reduce,
    ):
        frames.append(table)
        if progress is not None:
            progress(s.name, int(table["replication"].iloc[0]))
    series = pd.concat(frames, ignore_index=True)
    recommended, table = recommend_warm_up(series)
    return Warmup(recommended, table, series, days)


def _warmup_series(log: EventLog, units: tuple[str, ...]) -> pd.DataFrame:
    return warmup_series(log, units).assign(replication=int(log.meta["replication"]))


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
    seed: int | None = None,
    horizon_days: float | None = None,
    warm_up_days: float | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> AutoReplications:
    """Run replications until the 95% CI of each of ``kpis`` is within ``precision`` of its
    mean (Hoad, Robinson & Davies 2010), or ``max_replications``.

    Replications run in batches of ``workers`` (all cores by default); a batch may run a few
    past the point of stopping, and those are kept: they only narrow the intervals.
    """
    from flowsim.experiment import default_workers

    s = _scenario(scenario)
    algorithm = ReplicationsAlgorithm(list(kpis), precision, max_replications=max_replications)
    workers = default_workers(max_replications) if workers is None else workers
    frames: list[pd.DataFrame] = []
    history: list[dict[str, float]] = []
    while not algorithm.done:
        batch = max(algorithm.still_needed(), min(workers, max_replications - algorithm.n))
        table = run_kpis(
            [s],
            batch,
            seed=seed,
            horizon_days=horizon_days,
            warm_up_days=warm_up_days,
            workers=min(workers, batch),
            first_replication=algorithm.n,
            progress=progress,
        )
        frames.append(table)
        for _, rows in table.groupby("replication", sort=True):
            if algorithm.done:
                break
            algorithm.add(dict(zip(rows["kpi"], rows["value"], strict=True)))
            history.append({"replications": algorithm.n, **algorithm.half_widths()})
    kept = pd.concat(frames, ignore_index=True)
    kept = kept[kept["replication"] < algorithm.n].reset_index(drop=True)
    return AutoReplications(kept, algorithm, history)
