"""What a run leaves on disk: tidy KPI tables, the event and patient tables, the resolved
scenario and the report (its first page for a board).

`RunResults` takes the replications' logs one at a time (`add`) and keeps only compact tables
and figure data, so a caller never needs every full log in memory; `write` writes the files.
Given a folder to stream to, it writes each replication's events and patients to
``events.parquet`` and ``patients.parquet`` as it arrives (row groups of at most `PART_ROWS`
rows, in replication order, in one file each, read by ``pandas.read_parquet`` as before), so the
memory a run needs does not grow with its replications. The pooled distributions (time in ED,
handover, length of stay) are kept as histograms (`flowsim.report.histograms`), which add up
across replications, not as one value per attendance or stay.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from matplotlib.figure import Figure
from pandas.api.types import union_categoricals

from flowsim.analysis import EventFrame, compute_kpis, occupancy_series, summarise
from flowsim.analysis.bottlenecks import Bottlenecks, bottleneck_tables, combine_bottlenecks
from flowsim.analysis.figure_data import (
    FLOW_STAGES,
    flow_links,
    hour_weekday_table,
    los_table,
    patient_paths,
)
from flowsim.analysis.periods import trend_kpis
from flowsim.log import OUTCOMES, EventLog
from flowsim.report.figures import (
    ED_EDGES_HOURS,
    HANDOVER_EDGES_MINUTES,
    LOS_EDGES_DAYS,
    UNIT_GROUPS,
    ed_time_figure,
    flow_figure,
    handover_figure,
    hour_weekday_figure,
    los_figure,
    occupancy_figure,
    occupancy_units,
)
from flowsim.report.histograms import Histogram
from flowsim.report.html import render_run_report
from flowsim.scenario import diff_settings, load_scenario, scenario_to_yaml
from flowsim.scenario.schema import Scenario
from flowsim.scenario.sources import extends_chain, parameter_sources

__all__ = [
    "OUTPUT_FILES",
    "PART_ROWS",
    "Reduced",
    "RunResults",
    "event_table",
    "patient_table",
    "reduce_replication",
    "use_returning_memory_pool",
]

OUTPUT_FILES = (
    "kpis.csv",
    "summary.csv",
    "events.parquet",
    "patients.parquet",
    "scenario.yaml",
    "report.html",
)
"""The files `RunResults.write` writes, in the order it writes them."""

PART_ROWS = 65_536
"""Rows a Parquet row group of events or patients holds at most: the parent appends a
replication's part one row group at a time, so what it holds while appending does not grow with
the length of the run. Appending a year of the baseline's events (2.7 million) raised the
parent's RSS by about 28 MB in row groups of 65,536 rows, 53 MB in 262,144 and 118 MB in
1,048,576; read whole, as before, about 165 MB."""


def _frame(log: EventLog | EventFrame) -> EventFrame:
    return log if isinstance(log, EventFrame) else EventFrame(log)


def _replication(ef: EventFrame, replication: int | None) -> int:
    return int(ef.log.meta.get("replication", 0)) if replication is None else replication


def event_table(log: EventLog | EventFrame, replication: int | None = None) -> pd.DataFrame:
    """One row per event: ``replication, time_hours, patient, event, place`` (event and place
    named, as categoricals). ``replication`` defaults to the log's ``meta["replication"]``."""
    ef = _frame(log)
    ev = ef.events
    return pd.DataFrame(
        {
            "replication": np.full(len(ev), _replication(ef, replication), dtype=np.int16),
            "time_hours": ev["time"].to_numpy(),
            "patient": ev["patient"].to_numpy().astype(np.int32),
            "event": ev["kind"],
            "place": ev["place"],
        }
    )


def patient_table(log: EventLog | EventFrame, replication: int | None = None) -> pd.DataFrame:
    """One row per patient, decoded: ``replication, patient, place, age_band, frailty, cfs,
    acuity, route, readmission_of`` (-1: not a readmission), ``arrival_hours, depart_hours``
    (NaN: still in the system at the end) and ``outcome``."""
    ef = _frame(log)
    pts = ef.patients
    outcome = pts["outcome"]
    categories = list(dict.fromkeys([*OUTCOMES, *outcome.cat.categories]))
    return pd.DataFrame(
        {
            "replication": np.full(len(pts), _replication(ef, replication), dtype=np.int16),
            "patient": pts["patient"].to_numpy().astype(np.int32),
            "place": pts["place"],
            "age_band": pts["age_band"],
            "frailty": pts["frailty"],
            "cfs": pts["cfs"].to_numpy().astype(np.int8),
            "acuity": pts["acuity"].to_numpy().astype(np.int8),
            "route": pts["route"],
            "readmission_of": pts["readmission_of"].to_numpy().astype(np.int32),
            "arrival_hours": pts["arrival"].to_numpy(),
            "depart_hours": pts["depart"].to_numpy(),
            "outcome": outcome.cat.set_categories(categories),
        }
    )


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Stack tables, keeping categorical columns categorical even if their categories differ."""
    if not frames:
        return pd.DataFrame()
    frames = [f.copy(deep=False) for f in frames]
    for column, dtype in frames[0].dtypes.items():
        if isinstance(dtype, pd.CategoricalDtype):
            union = union_categoricals([f[column] for f in frames]).categories
            for f in frames:
                f[column] = f[column].cat.set_categories(union)
    return pd.concat(frames, ignore_index=True)


@dataclass
class Reduced:
    """What a run keeps of one replication: KPIs and figure data (small, a fixed size for the
    distributions: histograms, not one value per attendance), and, when reduced in a worker,
    the part files its events and patients were written to."""

    kpis: pd.DataFrame
    occupancy: pd.DataFrame
    ed_hours: Histogram
    handover_minutes: Histogram
    hour_weekday: pd.DataFrame
    los_days: dict[str, Histogram]
    """Frailty band -> stays begun and ended in the measured period (`los_table`)."""
    paths: pd.DataFrame
    measured_days: float
    bottlenecks: tuple[pd.DataFrame, pd.DataFrame]
    trends: pd.DataFrame = field(default_factory=pd.DataFrame)
    parts: dict[str, Path] = field(default_factory=dict)


def _reduce(ef: EventFrame, r: int) -> Reduced:
    kpis = compute_kpis(ef)
    kpis.insert(2, "replication", r)
    v = ef.ed_visits
    v = v[(v["arrival"] >= ef.warm_up) & (v["arrival"] < ef.end)]
    wait = v.loc[v["ambulance"], "handover_wait"].dropna().to_numpy()
    return Reduced(
        kpis=kpis,
        occupancy=occupancy_series(ef, occupancy_units(ef.units), bin_hours=24.0).assign(
            replication=r
        ),
        ed_hours=Histogram.of(v["time_in_ed"].to_numpy(), ED_EDGES_HOURS),
        handover_minutes=Histogram.of(wait * 60.0, HANDOVER_EDGES_MINUTES),
        hour_weekday=hour_weekday_table(ef).assign(replication=r),
        los_days=_los_histograms(los_table(ef)),
        paths=_path_counts(patient_paths(ef)),
        measured_days=(ef.end - ef.warm_up) / 24.0,
        bottlenecks=bottleneck_tables(ef),
        trends=trend_kpis(ef).assign(replication=r),
    )


def _los_histograms(los: pd.DataFrame) -> dict[str, Histogram]:
    bands = los["frailty"].astype(str)
    values = los["los_days"].to_numpy(dtype=np.float64)
    return {
        band: Histogram.of(values[(bands == band).to_numpy()], LOS_EDGES_DAYS)
        for band in dict.fromkeys(bands)
    }


def reduce_replication(log: EventLog, parts: Path) -> Reduced:
    """One replication reduced where it ran (a worker): its events and patients written to part
    files in ``parts`` (each complete before it takes its name), the rest returned. Top level,
    so it pickles; use ``functools.partial(reduce_replication, parts=folder)``."""
    ef = EventFrame(log)
    r = int(log.meta.get("replication", 0))
    reduced = _reduce(ef, r)
    parts.mkdir(parents=True, exist_ok=True)
    for name, table in (
        ("events.parquet", event_table(ef, r)),
        ("patients.parquet", patient_table(ef, r)),
    ):
        part = parts / f"{Path(name).stem}-{r:06d}.parquet"
        partial = part.with_name(part.name + ".partial")
        table.to_parquet(partial, index=False, compression="zstd", row_group_size=PART_ROWS)
        partial.replace(part)
        reduced.parts[name] = part
    return reduced


_STAGES = [stage for stage, _ in FLOW_STAGES]


def _path_counts(paths: pd.DataFrame) -> pd.DataFrame:
    """Each distinct path of `patient_paths` once, in the order first seen, with its patients:
    a few dozen rows a replication instead of one per patient."""
    return paths.groupby(_STAGES, sort=False).size().reset_index(name="count")


def _pooled_links(counts: list[pd.DataFrame], per: float) -> pd.DataFrame:
    """`flow_links` of the pooled replications, from their `_path_counts` (the same table: a
    link's first sighting is that of the first path through it, so the order is kept too)."""
    if not counts:
        return flow_links(pd.DataFrame(columns=_STAGES), per=per)
    df = pd.concat(counts, ignore_index=True)
    frames = []
    for a, b in itertools.pairwise(_STAGES):
        links = df.groupby([a, b], sort=False)["count"].sum().reset_index(name="patients")
        frames.append(
            pd.DataFrame(
                {
                    "source_stage": a,
                    "source": links[a].astype(str),
                    "target_stage": b,
                    "target": links[b].astype(str),
                    "patients": links["patients"].to_numpy(dtype=np.float64) / per,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[
        ["source_stage", "source", "target_stage", "target", "patients"]
    ]


class _PartWriter:
    """One Parquet file written a replication (a row group) at a time, under a temporary name
    until it is complete, so a run stopped half-way never leaves a file that looks finished."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._partial = path.with_name(path.name + ".partial")
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self._closed = False

    def write(self, frame: pd.DataFrame) -> None:
        for start in range(0, max(len(frame), 1), PART_ROWS):
            chunk = frame.iloc[start : start + PART_ROWS]
            self._write(pa.Table.from_pandas(chunk, preserve_index=False))

    def _write(self, table: pa.Table) -> None:
        if self._closed:
            raise RuntimeError(f"{self.path.name} is already complete")
        if self._writer is None:
            self._schema = _wide_dictionaries(table.schema)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self._partial, self._schema, compression="zstd")
        assert self._schema is not None
        self._writer.write_table(table.cast(self._schema))

    def append_part(self, part: Path) -> None:
        """Append a part file written by `reduce_replication`, one row group at a time, then
        delete it and hand the buffers back to the system (pyarrow's pool keeps them)."""
        with pq.ParquetFile(part) as source:
            metadata = source.schema_arrow.metadata
            for i in range(source.num_row_groups):
                self._write(source.read_row_group(i).replace_schema_metadata(metadata))
        part.unlink()
        pa.default_memory_pool().release_unused()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            pd.DataFrame().to_parquet(self.path, index=False, compression="zstd")
            return
        self._writer.close()
        self._writer = None
        self._partial.replace(self.path)


def use_returning_memory_pool() -> None:
    """Make pyarrow's allocator one that hands freed buffers back to the system (jemalloc, or
    the system allocator where pyarrow is built without it), for a process that appends many
    part files: with pyarrow's default (mimalloc) the parent of ``flowsim run`` kept 25-50 MB
    more after its first append (3 x 60 days: 309 MB at the end, 279 MB with jemalloc).
    Process-wide, so called by the command, not by `RunResults`."""
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:
        pool = pa.system_memory_pool()
    pa.set_memory_pool(pool)


def _wide_dictionaries(schema: pa.Schema) -> pa.Schema:
    """Categorical columns with 32-bit codes, so a later replication with more categories fits."""
    fields = [
        f.with_type(pa.dictionary(pa.int32(), f.type.value_type, f.type.ordered))
        if pa.types.is_dictionary(f.type)
        else f
        for f in schema
    ]
    return pa.schema(fields, metadata=schema.metadata)


class RunResults:
    """The replications of one run, reduced as they arrive.

    With ``stream_to`` (the run's output folder) events and patients go straight to their
    Parquet files in `add`, and `events` / `patients` read them back from there.
    """

    def __init__(self, stream_to: Path | None = None) -> None:
        self._streams = (
            None
            if stream_to is None
            else {
                name: _PartWriter(stream_to / name)
                for name in ("events.parquet", "patients.parquet")
            }
        )
        self._kpis: list[pd.DataFrame] = []
        self._events: list[pd.DataFrame] = []
        self._patients: list[pd.DataFrame] = []
        self._occupancy: list[pd.DataFrame] = []
        self._ed_hours = Histogram.empty(ED_EDGES_HOURS)
        self._handover_minutes = Histogram.empty(HANDOVER_EDGES_MINUTES)
        self._hour_weekday: list[pd.DataFrame] = []
        self._los_days: dict[str, Histogram] = {}
        self._paths: list[pd.DataFrame] = []
        self._measured_days = 0.0
        self._bottlenecks: list[tuple[pd.DataFrame, pd.DataFrame]] = []
        self._trends: list[pd.DataFrame] = []
        self.extra_figures: list[tuple[str, Figure]] = []
        """Caption and figure pairs added to the report after the run's own (sensitivity)."""
        self.value_of_one_more: pd.DataFrame | None = None
        """`flowsim.api.value_of_one_more` table, when asked for: shown in the report."""

    def add(self, log: EventLog) -> None:
        """Keep the KPIs, tables and figure data of one replication's log."""
        ef = EventFrame(log)
        r = int(log.meta.get("replication", len(self._kpis)))
        if self._streams is None:
            self._events.append(event_table(ef, r))
            self._patients.append(patient_table(ef, r))
        else:
            self._streams["events.parquet"].write(event_table(ef, r))
            self._streams["patients.parquet"].write(patient_table(ef, r))
        self._keep(_reduce(ef, r))

    def add_reduced(self, reduced: Reduced) -> None:
        """Keep one replication reduced where it ran (`reduce_replication`); its part files are
        appended to the run's Parquet files, in the order added, and deleted."""
        if reduced.parts:
            if self._streams is None:
                raise ValueError("part files need a RunResults made with stream_to")
            for name, part in reduced.parts.items():
                self._streams[name].append_part(part)
        self._keep(reduced)

    def _keep(self, reduced: Reduced) -> None:
        self._kpis.append(reduced.kpis)
        self._occupancy.append(reduced.occupancy)
        self._ed_hours += reduced.ed_hours
        self._handover_minutes += reduced.handover_minutes
        self._hour_weekday.append(reduced.hour_weekday)
        for band, hist in reduced.los_days.items():
            kept = self._los_days.get(band)
            self._los_days[band] = hist if kept is None else kept + hist
        self._paths.append(reduced.paths)
        self._measured_days += reduced.measured_days
        self._bottlenecks.append(reduced.bottlenecks)
        self._trends.append(reduced.trends)

    @property
    def replications(self) -> int:
        return len(self._kpis)

    @property
    def bottlenecks(self) -> Bottlenecks | None:
        """`flowsim.analysis.bottlenecks.Bottlenecks` over the replications so far."""
        return combine_bottlenecks(self._bottlenecks) if self._bottlenecks else None

    @property
    def trends(self) -> pd.DataFrame:
        """`flowsim.analysis.periods.trend_kpis` of every replication, with ``replication``."""
        parts = [t for t in self._trends if not t.empty]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    @property
    def latest_kpis(self) -> dict[str, float]:
        """KPI -> value of the replication added last (for stopping rules)."""
        last = self._kpis[-1]
        return dict(zip(last["kpi"], last["value"], strict=True))

    @property
    def kpis(self) -> pd.DataFrame:
        """``kpi, unit, replication, value``, one row per KPI and replication."""
        return (
            pd.concat(self._kpis, ignore_index=True)
            if self._kpis
            else pd.DataFrame(columns=["kpi", "unit", "replication", "value"])
        )

    @property
    def summary(self) -> pd.DataFrame:
        """`flowsim.analysis.summarise` of `kpis`: mean and 95% CI per KPI."""
        return summarise(self.kpis)

    def events(self) -> pd.DataFrame:
        if self._streams is not None:
            return self._streamed("events.parquet")
        return _concat(self._events)

    def patients(self) -> pd.DataFrame:
        if self._streams is not None:
            return self._streamed("patients.parquet")
        return _concat(self._patients)

    def _streamed(self, name: str) -> pd.DataFrame:
        assert self._streams is not None
        stream = self._streams[name]
        stream.close()
        return pd.read_parquet(stream.path)

    def figures(self) -> dict[str, Figure]:
        """Caption -> figure, pooling all replications."""
        occupancy = pd.concat(self._occupancy, ignore_index=True) if self._occupancy else None
        groups = ", ".join(UNIT_GROUPS)
        pooled = "all replications pooled"
        return {
            f"Occupancy of {groups}, daily means; dashed: capacity in force (with escalation "
            "beds when open).": occupancy_figure(
                occupancy if occupancy is not None else pd.DataFrame()
            ),
            f"Time in ED for attendances arriving in the measured period ({pooled}); patients "
            "still in ED at the end count with their time so far.": ed_time_figure(self._ed_hours),
            f"Handover delay of ambulance arrivals in the measured period ({pooled}).": (
                handover_figure(self._handover_minutes)
            ),
            "ED occupancy, boarding and handover delay by weekday and hour of day "
            f"({pooled}).": hour_weekday_figure(
                pd.concat(self._hour_weekday, ignore_index=True)
                if self._hour_weekday
                else pd.DataFrame()
            ),
            f"Length of hospital stay by frailty band, spells begun and ended in the measured "
            f"period ({pooled}).": los_figure(self._los_days),
            "Where patients go: patients a day along each path, mean over replications.": (
                flow_figure(_pooled_links(self._paths, per=max(self._measured_days, 1e-9)))
            ),
        }

    def write(
        self,
        out: Path,
        scenario: Scenario,
        meta: Mapping[str, Any],
        scenario_file: Path | None = None,
    ) -> dict[str, Path]:
        """Write `OUTPUT_FILES` into ``out`` (created if need be); returns name -> path.

        ``meta`` describes the run for the report (see `render_run_report`); with
        ``scenario_file`` the report also says what the scenario changes from the file it
        extends and lists the evidence its comments cite.
        """
        out.mkdir(parents=True, exist_ok=True)
        paths = {name: out / name for name in OUTPUT_FILES}
        kpis = self.kpis
        kpis[["kpi", "unit", "replication", "value"]].to_csv(paths["kpis.csv"], index=False)
        summary = summarise(kpis)
        summary.to_csv(paths["summary.csv"], index=False)
        if self._streams is None:
            self.events().to_parquet(paths["events.parquet"], index=False, compression="zstd")
            self.patients().to_parquet(paths["patients.parquet"], index=False, compression="zstd")
        else:
            for name, stream in self._streams.items():
                if stream.path != paths[name]:
                    raise ValueError(f"this run streams its {name} to {stream.path.parent}")
                stream.close()
        paths["scenario.yaml"].write_text(
            f"# Scenario {scenario.name!r} as run by 'flowsim run', with everything it extends "
            "filled in.\n" + scenario_to_yaml(scenario),
            encoding="utf-8",
        )
        changes, sources, base_name = [], None, None
        if scenario_file is not None:
            chain = extends_chain(scenario_file)
            if len(chain) > 1:
                base = load_scenario(chain[1])
                base_name = chain[1].name
                changes = diff_settings(base, scenario)
            sources = parameter_sources(scenario_file)
        if self.value_of_one_more is not None:
            self.value_of_one_more.to_csv(out / "value_of_one_more.csv", index=False)
        html = render_run_report(
            scenario,
            summary,
            [*self.figures().items(), *self.extra_figures],
            meta,
            bottlenecks=self.bottlenecks,
            value=self.value_of_one_more,
            changes=changes,
            base_name=base_name,
            sources=sources,
            trends=self.trends,
        )
        paths["report.html"].write_text(html, encoding="utf-8")
        return paths
