"""What a run leaves on disk: tidy KPI tables, the event and patient tables, the resolved
scenario and the one-page report.

`RunResults` takes the replications' logs one at a time (`add`) and keeps only compact tables
and figure data, so a caller never needs every full log in memory; `write` writes the files.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pandas.api.types import union_categoricals

from flowsim.analysis import EventFrame, compute_kpis, occupancy_series, summarise
from flowsim.analysis.bottlenecks import Bottlenecks, bottleneck_tables, combine_bottlenecks
from flowsim.analysis.figure_data import flow_links, hour_weekday_table, los_table, patient_paths
from flowsim.log import OUTCOMES, EventLog
from flowsim.report.figures import (
    UNIT_GROUPS,
    ed_time_figure,
    flow_figure,
    handover_figure,
    hour_weekday_figure,
    los_figure,
    occupancy_figure,
    occupancy_units,
)
from flowsim.report.html import render_run_report
from flowsim.scenario import diff_settings, load_scenario, scenario_to_yaml
from flowsim.scenario.schema import Scenario
from flowsim.scenario.sources import extends_chain, parameter_sources

__all__ = ["OUTPUT_FILES", "RunResults", "event_table", "patient_table"]

OUTPUT_FILES = (
    "kpis.csv",
    "summary.csv",
    "events.parquet",
    "patients.parquet",
    "scenario.yaml",
    "report.html",
)
"""The files `RunResults.write` writes, in the order it writes them."""


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


class RunResults:
    """The replications of one run, reduced as they arrive."""

    def __init__(self) -> None:
        self._kpis: list[pd.DataFrame] = []
        self._events: list[pd.DataFrame] = []
        self._patients: list[pd.DataFrame] = []
        self._occupancy: list[pd.DataFrame] = []
        self._ed_hours: list[np.ndarray] = []
        self._handover_minutes: list[np.ndarray] = []
        self._hour_weekday: list[pd.DataFrame] = []
        self._los: list[pd.DataFrame] = []
        self._paths: list[pd.DataFrame] = []
        self._measured_days = 0.0
        self._bottlenecks: list[tuple[pd.DataFrame, pd.DataFrame]] = []
        self.extra_figures: list[tuple[str, Figure]] = []
        """Caption and figure pairs added to the report after the run's own (sensitivity)."""
        self.value_of_one_more: pd.DataFrame | None = None
        """`flowsim.api.value_of_one_more` table, when asked for: shown in the report."""

    def add(self, log: EventLog) -> None:
        """Keep the KPIs, tables and figure data of one replication's log."""
        ef = EventFrame(log)
        r = int(log.meta.get("replication", len(self._kpis)))
        kpis = compute_kpis(ef)
        kpis.insert(2, "replication", r)
        self._kpis.append(kpis)
        self._events.append(event_table(ef, r))
        self._patients.append(patient_table(ef, r))
        units = occupancy_units(ef.units)
        self._occupancy.append(occupancy_series(ef, units, bin_hours=24.0).assign(replication=r))
        v = ef.ed_visits
        v = v[(v["arrival"] >= ef.warm_up) & (v["arrival"] < ef.end)]
        self._ed_hours.append(v["time_in_ed"].to_numpy())
        wait = v.loc[v["ambulance"], "handover_wait"].dropna().to_numpy()
        self._handover_minutes.append(wait * 60.0)
        self._hour_weekday.append(hour_weekday_table(ef).assign(replication=r))
        self._los.append(los_table(ef))
        self._paths.append(patient_paths(ef))
        self._measured_days += (ef.end - ef.warm_up) / 24.0
        self._bottlenecks.append(bottleneck_tables(ef))

    @property
    def replications(self) -> int:
        return len(self._kpis)

    @property
    def bottlenecks(self) -> Bottlenecks | None:
        """`flowsim.analysis.bottlenecks.Bottlenecks` over the replications so far."""
        return combine_bottlenecks(self._bottlenecks) if self._bottlenecks else None

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
        return _concat(self._events)

    def patients(self) -> pd.DataFrame:
        return _concat(self._patients)

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
            "still in ED at the end count with their time so far.": ed_time_figure(
                np.concatenate(self._ed_hours) if self._ed_hours else np.zeros(0)
            ),
            f"Handover delay of ambulance arrivals in the measured period ({pooled}).": (
                handover_figure(
                    np.concatenate(self._handover_minutes)
                    if self._handover_minutes
                    else np.zeros(0)
                )
            ),
            "ED occupancy, boarding and handover delay by weekday and hour of day "
            f"({pooled}).": hour_weekday_figure(
                pd.concat(self._hour_weekday, ignore_index=True)
                if self._hour_weekday
                else pd.DataFrame()
            ),
            f"Length of hospital stay by frailty band, spells begun and ended in the measured "
            f"period ({pooled}).": los_figure(
                pd.concat(self._los, ignore_index=True) if self._los else pd.DataFrame()
            ),
            "Where patients go: patients a day along each path, mean over replications.": (
                flow_figure(flow_links(self._paths, per=max(self._measured_days, 1e-9)))
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
        self.events().to_parquet(paths["events.parquet"], index=False, compression="zstd")
        self.patients().to_parquet(paths["patients.parquet"], index=False, compression="zstd")
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
        )
        paths["report.html"].write_text(html, encoding="utf-8")
        return paths
