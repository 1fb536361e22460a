"""What the workshop app computes, without Streamlit: run settings, uploads, the worker pool,
the comparison and what is drawn from it (levers in `flowsim.app.levers`, re-exported here).

Kept apart from the page (`flowsim.app.main`) so it can be tested and reused from a notebook,
and so worker processes import flowsim only, never Streamlit.

Why a warm start: a comparison must answer in seconds in front of a room. A run from empty needs
months before the wards and community caseloads fill; a run from a census of the baseline's
calibrated year (`flowsim.app.census`, taken once per baseline, kept on disk) needs a week.
Every scenario of a comparison starts from the same census (cut to its own places), so the
replications stay paired.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from flowsim.analysis import PRIMARY_KPIS, summarise
from flowsim.analysis.bottlenecks import Bottlenecks, combine_bottlenecks
from flowsim.analysis.compare import paired_comparison
from flowsim.analysis.reducers import comparison_tables
from flowsim.app.cache import DiskCache, default_folder
from flowsim.app.census import CENSUS_DAY, Census, census, with_warm_start
from flowsim.app.levers import Lever, lever_changes, lever_values, levers
from flowsim.errors import ScenarioError
from flowsim.experiment import ReplicationTask
from flowsim.experiment import settings as experiment
from flowsim.experiment.pool import Session, WorkerPool
from flowsim.log import EventLog
from flowsim.scenario import Scenario, diff_settings, load_scenario
from flowsim.scenario.library import read_entry

__all__ = [
    "CENSUS_DAY",
    "MAX_UPLOAD_BYTES",
    "Census",
    "Comparison",
    "ComparisonSettings",
    "Lever",
    "ResultCache",
    "RunKey",
    "WorkerPool",
    "census",
    "compare_scenarios",
    "comparison_record",
    "default_settings",
    "lever_changes",
    "lever_values",
    "levers",
    "library",
    "load_upload",
    "log_digest",
    "no_difference",
    "precision_note",
    "prefetch",
    "run_key",
    "scenario_key",
    "scenarios_folder",
    "shared_pool",
    "stale_reason",
    "stream_comparison",
    "with_warm_start",
]

MAX_UPLOAD_BYTES = 256_000
"""Largest scenario file the app accepts. The baseline, written out in full, is about 20 kB; a
file ten times that size is not a scenario someone wrote by hand."""


# ---------------------------------------------------------------- run settings


@dataclass(frozen=True)
class ComparisonSettings:
    """How much simulation one comparison runs. The defaults answer in well under 10 s on a
    2-core laptop; more replications or days narrow the intervals at the cost of waiting.
    Resolved into a `flowsim.experiment.settings.RunSettings` for each scenario it runs."""

    replications: int = 4
    horizon_days: float = 21.0
    warm_up_days: float = 7.0
    census_day: float = CENSUS_DAY
    """Day of the baseline's run from empty whose census starts every run warm, and whose date
    the runs continue from (`flowsim.app.census`)."""
    seed: int | None = None
    """None: the baseline's ``run.seed``."""

    def describe(self) -> str:
        """What was run, in words for the screen."""
        where = "the baseline's calendar from that day on"
        if self.census_day == CENSUS_DAY and self.warm_up_days == 7.0:
            where = "from 24 November of the calibrated year"
            if self.horizon_days == 21.0:
                where = "24 November to 15 December of the calibrated year, near its KPIs"
        return (
            f"{self.replications} paired replications of {self.horizon_days:g} days each, "
            f"measured after a {self.warm_up_days:g}-day warm-up from a census of the baseline "
            f"on day {self.census_day:g} of its run from empty ({where})"
        )

    def key(self) -> str:
        """Canonical text of the settings, for cache keys."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    def replication_key(self) -> str:
        """`key` without the number of replications: replication *r* is the same run
        whatever the total, so raising the replications reuses the ones already run."""
        return json.dumps(
            {k: v for k, v in dataclasses.asdict(self).items() if k != "replications"},
            sort_keys=True,
        )


def default_settings() -> ComparisonSettings:
    """`ComparisonSettings` with any of ``FLOWSIM_APP_REPLICATIONS``, ``FLOWSIM_APP_DAYS``,
    ``FLOWSIM_APP_WARM_UP`` and ``FLOWSIM_APP_CENSUS_DAY`` from the environment, so tests and
    slower machines can run less without changing the page."""
    env = os.environ
    base = ComparisonSettings()
    return ComparisonSettings(
        replications=int(env.get("FLOWSIM_APP_REPLICATIONS", base.replications)),
        horizon_days=float(env.get("FLOWSIM_APP_DAYS", base.horizon_days)),
        warm_up_days=float(env.get("FLOWSIM_APP_WARM_UP", base.warm_up_days)),
        census_day=float(env.get("FLOWSIM_APP_CENSUS_DAY", base.census_day)),
    )


# ---------------------------------------------------------------- the scenario library


def scenarios_folder() -> Path:
    """Where the library is: ``FLOWSIM_SCENARIOS``, else ./scenarios, else the repository's."""
    given = os.environ.get("FLOWSIM_SCENARIOS")
    if given:
        return Path(given)
    here = Path.cwd() / "scenarios"
    if (here / "baseline.yaml").is_file():
        return here
    return Path(__file__).resolve().parents[3] / "scenarios"


def library(folder: Path) -> dict[str, tuple[Path, str]]:
    """Scenario files of ``folder`` by file stem, baseline first: (path, one-line title)."""
    out: dict[str, tuple[Path, str]] = {}
    paths = sorted(folder.glob("*.yaml"), key=lambda p: (p.stem != "baseline", p.stem))
    for path in paths:
        if path.stem.endswith("_warm"):
            continue
        try:
            title = read_entry(path).title
        except (ScenarioError, OSError, ValueError):
            title = ""
        short = title.split(":")[0].strip().rstrip(".")  # the name before the details
        out[path.stem] = (path, short or path.stem.replace("_", " "))
    return out


def load_upload(name: str, data: bytes, folder: Path) -> Scenario:
    """An uploaded scenario file, read with the same safe, size-limited loader as the command
    line. ``extends:`` may name only a file of the library folder (``extends: baseline.yaml``;
    no path, no symlink out of it), and errors never quote another file, so an upload cannot
    read the server's files. Problems are a `ScenarioError` naming the uploaded file.
    """
    shown = Path(name).name or "uploaded.yaml"
    if len(data) > MAX_UPLOAD_BYTES:
        raise ScenarioError(
            shown,
            "",
            f"is {len(data) / 1000:.0f} kB; the app takes scenario files up to "
            f"{MAX_UPLOAD_BYTES // 1000} kB. Upload a short file that extends baseline.yaml "
            "with only the settings you change",
        )
    with tempfile.TemporaryDirectory(prefix="flowsim-upload-") as tmp:
        upload = Path(tmp) / "upload.yaml"
        upload.write_bytes(data)
        return load_scenario(upload, library_only=folder, shown=shown)


def scenario_key(scenario: Scenario) -> str:
    """A short hash of the scenario's canonical JSON: equal settings, equal key."""
    text = scenario.model_dump_json(by_alias=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------- worker pool


@functools.cache
def shared_pool() -> WorkerPool:
    """The process-wide `flowsim.experiment.pool.WorkerPool` (``FLOWSIM_APP_WORKERS``
    workers, default every usable CPU). Work asked for from a Streamlit session is tied to it
    (`streamlit_session`): once the session's browser has gone, its queued replications are
    dropped, so the room's other tables get the workers."""
    workers = os.environ.get("FLOWSIM_APP_WORKERS")
    return WorkerPool(int(workers) if workers else None, session_of=streamlit_session)


_sessions: dict[str, Session] = {}
_sessions_lock = threading.Lock()


def streamlit_session() -> Session | None:
    """The `Session` of the Streamlit session whose script is running in this thread, alive
    while its browser is connected; None outside a Streamlit server (a notebook, AppTest, a
    worker). Streamlit is only looked at when the process has already imported it,
    so nothing here imports Streamlit into a worker."""
    if "streamlit" not in sys.modules:
        return None
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None or not runtime.exists():
        return None
    server, session_id = runtime.get_instance(), ctx.session_id
    if not isinstance(server, runtime.Runtime):  # AppTest's stand-in knows no browsers
        return None
    with _sessions_lock:
        for gone in [k for k, s in _sessions.items() if not s.alive]:
            del _sessions[gone]
        found = _sessions.get(session_id)
        if found is None:
            found = Session(functools.partial(server.is_active_session, session_id))
            _sessions[session_id] = found
        return found


class ResultCache:
    """Results by key (scenario hash, run settings, replication, ...), shared by every session
    of the app and kept on disk across restarts (`flowsim.app.cache.DiskCache`), in
    ``FLOWSIM_APP_CACHE`` (default ``~/.cache/flowsim/app-results``), the oldest used out first
    past ``FLOWSIM_APP_CACHE_MB`` megabytes (default 500) or ``max_entries`` entries. A key
    includes the code version, so a new flowsim never answers from an old one's runs.

    Caches of one folder share it and one bound (the most entries any asked for), so a small
    cache cannot evict a large one's entries; ``name`` gives a cache a folder and bound of its
    own (a subfolder).
    """

    def __init__(
        self,
        max_entries: int = 256,
        *,
        name: str | None = None,
        folder: str | os.PathLike[str] | None = None,
        max_bytes: int | None = None,
    ) -> None:
        if max_bytes is None:
            max_bytes = int(float(os.environ.get("FLOWSIM_APP_CACHE_MB", "500")) * 1_000_000)
        place = Path(default_folder() if folder is None else folder)
        place = (place / name if name else place).resolve()
        with _disks_lock:
            disk = _disks.get(place)
            if disk is None:
                disk = _disks[place] = DiskCache(
                    place, max_bytes=max_bytes, max_entries=max_entries
                )
            else:
                disk.max_entries = max(disk.max_entries or 0, max_entries)
                disk.max_bytes = max(disk.max_bytes, max_bytes)
        self.max_entries = max_entries
        self.disk = disk

    def get(self, key: Any) -> Any | None:
        """The cached value, or None."""
        return self.disk.get(key)

    def put(self, key: Any, value: Any) -> None:
        """Keep ``value``, dropping the oldest entries past the bound (a disk that refuses
        it only costs a rerun later)."""
        self.disk.put(key, value)


_disks: dict[Path, DiskCache] = {}
_disks_lock = threading.Lock()


# ---------------------------------------------------------------- a comparison


def log_digest(log: EventLog) -> str:
    """A hash of every patient's journey in ``log`` (each event's time, patient, kind and
    place, and each patient's record): two replications with equal digests treated every
    patient alike, event for event. Capacities are left out, so places never used do not
    count as a difference."""
    h = hashlib.blake2b(digest_size=16)
    h.update(json.dumps(log.places).encode())
    for column in (log.events.times, log.events.patients, log.events.codes):
        h.update(column.tobytes())
    h.update(repr(log.patients).encode())
    return h.hexdigest()


def comparison_record(log: EventLog) -> dict[str, object]:
    """`flowsim.analysis.reducers.comparison_tables` of one replication and its
    `log_digest`, computed in the worker so only small tables come back."""
    return {**comparison_tables(log), "digest": log_digest(log)}


@dataclass
class Comparison:
    """Everything the page shows of one comparison, complete or with the replications
    landed so far (``planned`` is how many were asked for)."""

    labels: list[str]
    scenarios: list[Scenario]
    settings: ComparisonSettings
    kpis: pd.DataFrame
    table: pd.DataFrame
    los: pd.DataFrame
    chains: dict[str, Bottlenecks]
    wall_seconds: float = 0.0
    cached: list[bool] = field(default_factory=list)
    identical: dict[str, str] = field(default_factory=dict)
    """Changes that made no difference at all, by label: why, in words (`no_difference`)."""
    key: Any = None
    """The `run_key` of the choices and settings that produced it (None: not recorded)."""
    replications: int = 0
    """Paired replications landed (every scenario has replications 0 to this - 1)."""

    @property
    def complete(self) -> bool:
        """Every replication asked for has landed."""
        return self.replications >= self.settings.replications

    @property
    def headline(self) -> pd.DataFrame:
        """The comparison rows of the headline KPIs."""
        return self.table[self.table["kpi"].isin(PRIMARY_KPIS)]

    def summary(self) -> pd.DataFrame:
        """Mean and 95% CI of every KPI per scenario (``scenario, kpi, unit, mean, ci_low,
        ci_high, n``)."""
        frames = [
            summarise(rows.drop(columns="scenario")).assign(scenario=name)
            for name, rows in self.kpis.groupby("scenario", sort=False)
        ]
        return pd.concat(frames, ignore_index=True)


def run_scenario(
    scenario: Scenario,
    settings: ComparisonSettings,
    pool: WorkerPool,
    on_done: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """`comparison_record` of each replication of one scenario (KPIs, lengths of stay,
    bottleneck tables, the log's digest). ``on_done(replication)`` as each finishes."""
    run = experiment.RunSettings.resolve(
        scenario,
        seed=settings.seed,
        horizon_days=settings.horizon_days,
        warm_up_days=settings.warm_up_days,
        replications=settings.replications,
    )
    done = None if on_done is None else (lambda _i, r: on_done(r))
    found = pool.run_paired([scenario], run, comparison_record, done)
    return [found[0, r] for r in range(run.replications)]


def no_difference(
    base: Scenario,
    alt: Scenario,
    base_results: Sequence[Mapping[str, Any]],
    alt_results: Sequence[Mapping[str, Any]],
) -> str | None:
    """Why ``alt`` is exactly the baseline, in words, or None when it is not: either no
    setting differs (names and the starting census aside), or every paired replication
    treated every patient exactly alike (equal `log_digest`). Such a change needs no more
    replications: more would only repeat the same zero."""
    changed = [row for row in diff_settings(base, alt) if not str(row[0]).startswith("warm_start")]
    if not changed:
        return (
            "this change made no difference to any patient: it sets nothing the baseline "
            "does not already have (no setting differs)"
        )
    digests = [r.get("digest") for r in base_results], [r.get("digest") for r in alt_results]
    n = len(digests[0])
    if n and None not in digests[0] and digests[0] == digests[1]:
        keys = ", ".join(str(row[0]) for row in changed[:3]) + (" …" if len(changed) > 3 else "")
        return (
            f"this change made no difference to any patient: in each of the {n} paired "
            f"replication{'s' if n != 1 else ''} every patient's journey was exactly the "
            f"baseline's, event for event, so what it changes ({keys}) was never what held a "
            "patient up. More replications would only repeat the same zero"
        )
    return None


def compare_scenarios(
    scenarios: Sequence[Scenario],
    labels: Sequence[str],
    results: Sequence[Sequence[Mapping[str, Any]]],
    settings: ComparisonSettings,
) -> Comparison:
    """The paired comparison of ``scenarios`` (the first is the baseline) from the results of
    `run_scenario` for each (the same number of replications each)."""
    kpis = pd.concat(
        [
            r["kpis"].assign(scenario=label)
            for label, rs in zip(labels, results, strict=True)
            for r in rs
        ],
        ignore_index=True,
    )[["scenario", "replication", "kpi", "unit", "value"]]
    los = pd.concat(
        [
            r["los"].assign(scenario=label)
            for label, rs in zip(labels, results, strict=True)
            for r in rs
        ],
        ignore_index=True,
    )
    chains = {
        label: combine_bottlenecks([r["bottlenecks"] for r in rs])
        for label, rs in zip(labels, results, strict=True)
    }
    table = paired_comparison(kpis, labels[0])
    identical = {
        label: why
        for label, s, rs in zip(labels[1:], scenarios[1:], results[1:], strict=True)
        if (why := no_difference(scenarios[0], s, results[0], rs)) is not None
    }
    return Comparison(
        list(labels),
        list(scenarios),
        settings,
        kpis,
        table,
        los,
        chains,
        identical=identical,
        replications=min(len(rs) for rs in results),
    )


def stream_comparison(
    scenarios: Sequence[Scenario],
    labels: Sequence[str],
    settings: ComparisonSettings,
    pool: WorkerPool,
    cache: ResultCache | None = None,
    on_done: Callable[[int], None] | None = None,
) -> Iterator[Comparison]:
    """The comparison of `compare_scenarios`, again after each batch of paired replications
    lands, so the page can show its first cards after one replication and tighten the
    intervals as the rest arrive. The last one yielded is complete.

    A batch is replication *r* (or, with workers to spare, the next few) of every scenario
    still lacking it, so the workers run the scenarios of a pair side by side. Each
    replication is cached by (scenario, run settings but the count, *r*): the baseline of an
    earlier comparison, or more replications of the same one, run only what is new.
    ``on_done(i)`` as each task of a batch finishes. A caller that stops iterating stops the
    run after the current batch.
    """
    total = settings.replications
    rkey = settings.replication_key()
    keys = [scenario_key(s) for s in scenarios]
    have: list[dict[int, Any]] = [{} for _ in scenarios]

    def from_cache() -> None:  # again before each batch: another session may have run it
        if cache is not None:
            for i, k in enumerate(keys):
                for r in range(total):
                    if r not in have[i] and (found := cache.get((k, rkey, r))) is not None:
                        have[i][r] = found

    from_cache()
    cached = [len(h) == total for h in have]

    def landed() -> int:
        n = 0
        while n < total and all(n in h for h in have):
            n += 1
        return n

    shown = -1
    while True:
        n = landed()
        if n > shown and (n == total or n > 0):
            shown = n
            result = compare_scenarios(
                scenarios, labels, [[h[r] for r in range(n)] for h in have], settings
            )
            result.cached = cached
            yield result
        if n == total:
            return
        from_cache()
        if landed() > n:
            continue
        missing = [r for r in range(n, total) if any(r not in h for h in have)]
        lacking = max(1, sum(1 for h in have if missing[0] not in h))
        batch = missing[: max(1, pool.workers // lacking)]
        jobs = [(i, r) for r in batch for i in range(len(scenarios)) if r not in have[i]]
        tasks = [
            ReplicationTask.of(
                scenarios[i],
                r,
                seed=settings.seed,
                horizon_days=settings.horizon_days,
                warm_up_days=settings.warm_up_days,
            )
            for i, r in jobs
        ]
        for (i, r), found in zip(jobs, pool.map(tasks, comparison_record, on_done), strict=True):
            have[i][r] = found
            if cache is not None:
                cache.put((keys[i], rkey, r), found)


def prefetch(
    scenario: Scenario,
    label: str,
    settings: ComparisonSettings,
    pool: WorkerPool,
    cache: ResultCache,
) -> threading.Thread:
    """Start running ``scenario``'s replications (as `stream_comparison` would, under
    ``label``) in a background thread, into ``cache``: the app does it for the baseline at its
    default settings when the page first loads, so the first comparison runs only the change
    and its first cards come after one replication of the change alone."""

    def work() -> None:
        named = scenario.model_copy(update={"name": label})
        for _ in stream_comparison([named], [label], settings, pool, cache):
            pass

    thread = threading.Thread(target=work, name=f"flowsim-prefetch-{label}", daemon=True)
    thread.start()
    return thread


def precision_note(result: Comparison) -> str:
    """How precise the headline differences are so far, in words for the screen: the mean
    half-width of their 95% intervals as a share of the baseline's value."""
    n, planned = result.replications, result.settings.replications
    done = f"{n} of {planned} paired replications"
    if n < 2:
        return f"{done}: intervals need a second replication"
    rows = result.headline
    rows = rows[~rows["scenario"].isin(list(result.identical))]
    half = (rows["ci_high"] - rows["ci_low"]) / 2.0
    share = 100.0 * half / rows["baseline_mean"].abs()
    share = share[share.map(finite)]
    if share.empty:
        return f"{done}: no change left to measure (each made no difference)"
    return (
        f"{done}: headline differences known to about ±{share.mean():.1f}% of the baseline's "
        "value (mean half-width of their 95% intervals)"
    )


RunKey = tuple[tuple[tuple[str, str], ...], str]
"""What a comparison was run on: (label, `scenario_key`) of each scenario and the settings."""


def run_key(choices: Sequence[tuple[str, Scenario]], settings: ComparisonSettings) -> RunKey:
    """The `RunKey` of comparing ``choices`` (baseline first) with ``settings``."""
    return tuple((label, scenario_key(s)) for label, s in choices), settings.key()


def stale_reason(shown: RunKey | None, now: RunKey) -> str | None:
    """What has changed since the results on screen were run, in words, or None when they
    are the results of the current choices and settings."""
    if shown is None or shown == now:
        return None
    reasons = []
    old, new = dict(shown[0]), dict(now[0])
    if list(old) != list(new):
        added = [k for k in new if k not in old]
        dropped = [k for k in old if k not in new]
        words = [f"{', '.join(added)} added" if added else "", f"{', '.join(dropped)} removed"]
        reasons.append("the scenarios changed (" + "; ".join(w for w in words if w) + ")")
    moved = [k for k in new if k in old and old[k] != new[k]]
    if moved:
        reasons.append(f"the settings of {', '.join(moved)} changed")
    if shown[1] != now[1]:
        reasons.append("the run settings changed")
    return "; ".join(reasons) or "the scenarios were reordered"


def finite(value: float) -> bool:
    """True for a number that is neither NaN nor infinite."""
    return isinstance(value, int | float) and math.isfinite(value)
