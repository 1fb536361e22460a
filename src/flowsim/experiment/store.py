"""The result store: a folder of Parquet files, one per finished replication, that any number of
batches add to and that a killed batch never leaves half-written.

Layout (see the README, "Result store")::

    DIR/
      kpis/<scenario hash>-r<replication>.parquet    KPI rows and their provenance
      events/<scenario hash>-r<replication>.parquet  event log (only with keep_logs)
      scenarios/<scenario hash>.yaml                 each scenario exactly as run

Every file is written to a hidden temporary file in its own folder and then renamed into place
(`os.replace`, atomic on one file system), so a reader, or a batch started again after a crash,
sees whole files or none. The KPI file of a replication is written last: it marks the
replication as done, and `ResultStore.done` lists these marks so a batch started again skips
them. ``kpis/`` is a Parquet dataset on its own (``pandas.read_parquet("DIR/kpis")``); hidden
files are left out by Parquet readers.
A file damaged after the fact (cut short by a full disk or a partial copy, bytes changed) is
never read as a result: `ResultStore.set_aside_broken`, run by every batch before it chooses its
work, renames it to a hidden ``.<name>.broken`` so its replication runs again.

The scenario hash identifies what was simulated: the scenario as run (``run.seed``,
``run.horizon_days`` and ``run.warm_up_days`` included, ``run.replications`` left out, so asking
for more replications later adds to the same results), as canonical JSON (keys sorted), SHA-256,
first 16 hex digits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from flowsim._version import __version__
from flowsim.log import EventLog, Kind
from flowsim.scenario import scenario_to_yaml
from flowsim.scenario.schema import Scenario

__all__ = [
    "KPI_COLUMNS",
    "EventArrays",
    "Provenance",
    "ResultStore",
    "scenario_hash",
]

_FILE: Final = re.compile(r"(?P<hash>[0-9a-f]{16})-r(?P<replication>\d+)\.parquet")
_TEMP_SUFFIX: Final = ".tmp"
_BROKEN_SUFFIX: Final = ".broken"

_PROVENANCE_SCHEMA: Final = [
    ("sweep", pa.string()),
    ("scenario", pa.string()),
    ("scenario_file", pa.string()),
    ("scenario_index", pa.int32()),
    ("point", pa.string()),
    ("point_index", pa.int32()),
    ("parameters", pa.string()),
    ("scenario_hash", pa.string()),
    ("seed", pa.int64()),
    ("replication", pa.int32()),
    ("horizon_days", pa.float64()),
    ("warm_up_days", pa.float64()),
    ("flowsim_version", pa.string()),
    ("written_at", pa.timestamp("ms", tz="UTC")),
]
KPI_SCHEMA: Final = pa.schema(
    [*_PROVENANCE_SCHEMA, ("kpi", pa.string()), ("unit", pa.string()), ("value", pa.float64())]
)
KPI_COLUMNS: Final = tuple(KPI_SCHEMA.names)
"""Columns of every KPI file, in order: provenance, then ``kpi, unit, value``."""


def scenario_hash(scenario: Scenario) -> str:
    """16 hex digits that change whenever anything simulated changes (see the module notes)."""
    data = scenario.model_dump(mode="json", by_alias=True)
    data.get("run", {}).pop("replications", None)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Provenance:
    """Where a replication's results come from; a column of every row stored for it."""

    scenario: Scenario
    replication: int
    sweep: str = ""
    scenario_file: str = ""
    scenario_index: int = 0
    point: str = ""
    point_index: int = 0
    parameters: Mapping[str, Any] = field(default_factory=dict)
    hash: str = ""
    """`scenario_hash` of ``scenario`` (computed when left empty)."""

    def __post_init__(self) -> None:
        if not self.hash:
            object.__setattr__(self, "hash", scenario_hash(self.scenario))

    @property
    def key(self) -> tuple[str, int]:
        return self.hash, self.replication

    def columns(self) -> dict[str, Any]:
        run = self.scenario.run
        return {
            "sweep": self.sweep,
            "scenario": self.scenario.name,
            "scenario_file": self.scenario_file,
            "scenario_index": self.scenario_index,
            "point": self.point,
            "point_index": self.point_index,
            "parameters": json.dumps(dict(self.parameters), sort_keys=False, default=str),
            "scenario_hash": self.hash,
            "seed": run.seed,
            "replication": self.replication,
            "horizon_days": float(run.horizon_days),
            "warm_up_days": float(run.warm_up_days),
            "flowsim_version": __version__,
            "written_at": dt.datetime.now(dt.UTC),
        }


@dataclass(frozen=True)
class EventArrays:
    """A replication's event log as four numpy columns and the place names: about 20 bytes an
    event, against some 150 for the `EventLog`'s list of tuples, so it travels back from a
    worker cheaply."""

    time: np.ndarray
    patient: np.ndarray
    kind: np.ndarray
    place: np.ndarray
    places: list[str]

    @classmethod
    def from_log(cls, log: EventLog) -> EventArrays:
        arrays = log.event_arrays()
        return cls(
            arrays["time"], arrays["patient"], arrays["kind"], arrays["place"], list(log.places)
        )

    def table(self, scenario_hash: str, replication: int) -> pa.Table:
        kinds = pa.array([k.name for k in sorted(Kind)], pa.string())
        return pa.table(
            {
                "scenario_hash": pa.array(np.full(len(self.time), scenario_hash), pa.string()),
                "replication": pa.array(np.full(len(self.time), replication), pa.int32()),
                "time_hours": pa.array(self.time, pa.float64()),
                "patient": pa.array(self.patient, pa.int64()),
                "event": pa.DictionaryArray.from_arrays(self.kind.astype(np.int8), kinds),
                "place": pa.DictionaryArray.from_arrays(
                    self.place.astype(np.int16), pa.array(self.places, pa.string())
                ),
            }
        )


class ResultStore:
    """A result store folder (created on first write)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.kpis_dir = self.root / "kpis"
        self.events_dir = self.root / "events"
        self.scenarios_dir = self.root / "scenarios"

    # ---------------------------------------------------------------- writing

    def write(
        self, provenance: Provenance, kpis: pd.DataFrame, events: EventArrays | None = None
    ) -> Path:
        """Store one replication: its event log first (if given), then its KPIs, which mark it
        done. ``kpis`` has columns ``kpi, unit, value``. Returns the KPI file."""
        name = f"{provenance.hash}-r{provenance.replication}.parquet"
        self._write_scenario(provenance)
        if events is not None:
            table = events.table(provenance.hash, provenance.replication)
            _write_atomic(self.events_dir / name, table)
        columns = provenance.columns()
        n = len(kpis)
        data = {key: [value] * n for key, value in columns.items()}
        data["kpi"] = kpis["kpi"].astype(str).tolist()
        data["unit"] = kpis["unit"].astype(str).tolist()
        data["value"] = kpis["value"].astype(float).tolist()
        path = self.kpis_dir / name
        _write_atomic(path, pa.table(data, schema=KPI_SCHEMA))
        return path

    def _write_scenario(self, provenance: Provenance) -> None:
        path = self.scenarios_dir / f"{provenance.hash}.yaml"
        if path.exists():
            return
        text = (
            f"# Scenario {provenance.scenario.name!r} as run, hash {provenance.hash} (run."
            "replications is not part of the hash).\n" + scenario_to_yaml(provenance.scenario)
        )
        _write_atomic(path, text.encode("utf-8"))

    def remove_stale_temp_files(self) -> int:
        """Delete temporary files left by writers that are no longer running (a killed batch);
        returns how many. A running writer's files are kept."""
        removed = 0
        for folder in (self.kpis_dir, self.events_dir, self.scenarios_dir):
            for path in _temp_files(folder):
                pid = path.name.rsplit(".", 2)[-2]
                if pid.isdigit() and _running(int(pid)):
                    continue
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    # ---------------------------------------------------------------- reading

    def done(self, *, with_events: bool = False) -> set[tuple[str, int]]:
        """``(scenario hash, replication)`` of every replication stored whole (and, with
        ``with_events``, with its event log). A file that is not a whole Parquet file (cut
        short by a full disk or a copy, bytes damaged) is set aside as broken, so its
        replication counts as not done and is run again."""
        done = set(self._kpi_files())
        if with_events:
            done &= set(self._kpi_files(self.events_dir))
        return done

    def set_aside_broken(self) -> list[Path]:
        """Rename every stored file that cannot be read whole to a hidden ``.<name>.broken``
        (left out of listings and of Parquet readers, kept for a look); returns them.

        KPI files are read in full (they are small); event logs by their footer and schema.
        """
        broken = []
        for folder, full in ((self.kpis_dir, True), (self.events_dir, False)):
            for path in self._kpi_files(folder).values():
                if not _intact(path, full=full):
                    aside = path.with_name(f".{path.name}{_BROKEN_SUFFIX}")
                    os.replace(path, aside)
                    broken.append(aside)
        return broken

    def __len__(self) -> int:
        return len(self.done())

    def load(self) -> pd.DataFrame:
        """Every KPI row stored: `KPI_COLUMNS`, then one column per grid parameter (named by
        its dotted key; empty where a row's point does not set it). Empty if nothing is stored.
        A file that cannot be read whole is left out.
        """
        tables = []
        for path in sorted(self._kpi_files().values()):
            try:
                tables.append(pq.read_table(path, schema=KPI_SCHEMA))
            except (OSError, ValueError, pa.ArrowException):
                continue  # a damaged file is no result; the next batch sets it aside and reruns
        if not tables:
            return pd.DataFrame({name: pd.Series(dtype=object) for name in KPI_COLUMNS})
        table = pa.concat_tables(tables)
        df = table.to_pandas()
        parameters = {text: json.loads(text) for text in df["parameters"].unique()}
        keys = list(dict.fromkeys(key for values in parameters.values() for key in values))
        for key in keys:
            if key in df.columns:
                continue  # never hide a provenance column
            by_text = {text: values.get(key) for text, values in parameters.items()}
            df[key] = df["parameters"].map(by_text)
        return df

    def load_events(
        self, scenario_hash: str | None = None, replication: int | None = None
    ) -> pd.DataFrame:
        """Stored event logs: ``scenario_hash, replication, time_hours, patient, event, place``
        (``event`` and ``place`` categorical), for one scenario hash and replication if given."""
        paths = [
            path
            for (h, r), path in sorted(self._kpi_files(self.events_dir).items())
            if (scenario_hash is None or h == scenario_hash)
            and (replication is None or r == replication)
        ]
        if not paths:
            return pd.DataFrame(
                columns=["scenario_hash", "replication", "time_hours", "patient", "event", "place"]
            )
        frames = [pq.read_table(path).to_pandas() for path in paths]
        if len(frames) == 1:
            return frames[0]
        from pandas.api.types import union_categoricals

        for column in ("event", "place"):
            categories = union_categoricals([f[column] for f in frames]).categories
            for f in frames:
                f[column] = f[column].cat.set_categories(categories)
        return pd.concat(frames, ignore_index=True)

    def _kpi_files(self, folder: Path | None = None) -> dict[tuple[str, int], Path]:
        folder = self.kpis_dir if folder is None else folder
        found = {}
        for path in _listing(folder):
            match = _FILE.fullmatch(path.name)
            if match:
                found[match["hash"], int(match["replication"])] = path
        return found


def _intact(path: Path, *, full: bool) -> bool:
    """A whole Parquet file: footer, schema and (with ``full``) every page readable."""
    try:
        if full:
            table = pq.read_table(path)
            return table.num_rows > 0 and table.schema.names == list(KPI_COLUMNS)
        meta = pq.read_metadata(path)
        return meta.num_rows >= 0 and meta.num_columns > 0
    except (OSError, ValueError, pa.ArrowException):
        return False


def _listing(folder: Path) -> Iterator[Path]:
    try:
        yield from folder.iterdir()
    except FileNotFoundError:
        return


def _temp_files(folder: Path) -> Iterator[Path]:
    for path in _listing(folder):
        if path.name.startswith(".") and path.name.endswith(_TEMP_SUFFIX):
            yield path


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _write_atomic(path: Path, content: pa.Table | bytes) -> None:
    """Write ``path`` whole or not at all: a hidden temporary file in the same folder (so the
    rename stays on one file system), flushed to disk, then renamed over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}{_TEMP_SUFFIX}")
    try:
        with open(temp, "wb") as f:
            if isinstance(content, bytes):
                f.write(content)
            else:
                pq.write_table(content, f, compression="zstd")
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
