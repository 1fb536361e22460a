"""What the workshop app computes, without Streamlit: run settings, uploads, the worker pool,
the comparison and what is drawn from it (levers in `flowsim.app.levers`, re-exported here).

Kept apart from the page (`flowsim.app.main`) so it can be tested and reused from a notebook,
and so worker processes import flowsim only, never Streamlit.

Why a warm start: a comparison must answer in seconds in front of a room. A run from empty needs
months before the wards and community caseloads fill; a run from a census of the baseline's
calibrated year (`flowsim.app.census`, taken once per baseline, kept on disk) needs a week.
Every scenario of a comparison starts from the same censuses (cut to its own places), so the
replications stay paired.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import math
import os
import sys
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
from flowsim.app.census import CENSUS_DAY, CENSUSES, Census, census, with_warm_start
from flowsim.app.levers import Lever, lever_changes, lever_values, levers
from flowsim.app.scenarios import (
    MAX_UPLOAD_BYTES,
    library,
    load_upload,
    scenario_key,
    scenarios_folder,
)
from flowsim.experiment import ReplicationTask
from flowsim.experiment import settings as experiment
from flowsim.experiment.pool import Session, WorkerPool
from flowsim.experiment.runner import run_replication
from flowsim.log import EventLog
from flowsim.scenario import Scenario, diff_settings

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
            f"measured after a {self.warm_up_days:g}-day warm-up from censuses of the baseline "
            f"on day {self.census_day:g} of {CENSUSES} runs from empty ({where})"
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
    chains: Mapping[str, Bottlenecks]
    wall_seconds: float = 0.0
    cached: list[bool] = field(default_factory=list)
    identical: dict[str, str] = field(default_factory=dict)
    """Changes that made no difference at all, by label: why, in words (`no_difference`)."""
    key: Any = None
    """The `run_key` of the choices and settings that produced it (None: not recorded)."""
    replications: int = 0
    """Paired replications landed (every scenario has replications 0 to this - 1)."""
    trends: pd.DataFrame | None = None
    """`trend_kpis` rows of every replication with ``scenario`` and ``replication``, for the
    report's first page; None when a record was reduced without them (the report says so)."""

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
    bottleneck tables, trends, the log's digest). ``on_done(replication)`` as each finishes."""
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


class _LazyChains(Mapping[str, Bottlenecks]):
    """Each scenario's `combine_bottlenecks`, combined when first read: a partial result's
    cards do not read them, and combining takes a good part of a second, on the way to the
    first cards."""

    def __init__(self, tables: dict[str, list[Any]]) -> None:
        self._tables = tables
        self._chains: dict[str, Bottlenecks] | None = None

    def _all(self) -> dict[str, Bottlenecks]:
        if self._chains is None:
            self._chains = {k: combine_bottlenecks(v) for k, v in self._tables.items()}
        return self._chains

    def __getitem__(self, label: str) -> Bottlenecks:
        return self._all()[label]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)


def compare_scenarios(
    scenarios: Sequence[Scenario],
    labels: Sequence[str],
    results: Sequence[Sequence[Mapping[str, Any]]],
    settings: ComparisonSettings,
) -> Comparison:
    """The paired comparison of ``scenarios`` (the first is the baseline) from the results of
    `run_scenario` for each (the same number of replications each). Each scenario's
    bottlenecks are combined when first read."""

    def tagged(name: str) -> pd.DataFrame:
        return pd.concat(
            [
                r[name].assign(scenario=label)
                for label, rs in zip(labels, results, strict=True)
                for r in rs
            ],
            ignore_index=True,
        )

    kpis = tagged("kpis")[["scenario", "replication", "kpi", "unit", "value"]]
    los = tagged("los")
    trends = tagged("trends") if all("trends" in r for rs in results for r in rs) else None
    chains = _LazyChains(
        {label: [r["bottlenecks"] for r in rs] for label, rs in zip(labels, results, strict=True)}
    )
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
        trends=trends,
    )


def stream_comparison(
    scenarios: Sequence[Scenario],
    labels: Sequence[str],
    settings: ComparisonSettings,
    pool: WorkerPool,
    cache: ResultCache | None = None,
    on_done: Callable[[int], None] | None = None,
    *,
    background: bool = False,
) -> Iterator[Comparison]:
    """The comparison of `compare_scenarios`, again each time another paired replication has
    landed for every scenario, so the page shows its first cards once replication 0 of each
    is in and tightens the intervals as the rest arrive. The last one yielded is complete.

    Every replication not cached is asked of the pool at once, replication 0 of every scenario
    first, then 1, ...: with two workers, the baseline's and the change's first replications
    run side by side. Each is cached by (scenario, run settings but the count, *r*), as it
    finishes (in the worker's thread, so one still running when the caller stops is kept):
    the baseline of an earlier comparison, or more replications of the same one, run only
    what is new; and one already running for another caller (the baseline prefetched when the
    page loaded, another table's comparison) is waited for, not run twice. ``on_done(i)`` as
    each task finishes. A caller that stops iterating drops what has not started.
    ``background``: the pool runs this only when nothing else waits (`prefetch`).
    """
    total = settings.replications
    rkey = settings.replication_key()
    keys = [scenario_key(s) for s in scenarios]
    have: list[dict[int, Any]] = [{} for _ in scenarios]
    if cache is not None:
        for i, k in enumerate(keys):
            for r in range(total):
                if (found := cache.get((k, rkey, r))) is not None:
                    have[i][r] = found
    cached = [len(h) == total for h in have]

    def landed() -> int:
        n = 0
        while n < total and all(n in h for h in have):
            n += 1
        return n

    def result(n: int) -> Comparison:
        out = compare_scenarios(
            scenarios, labels, [[h[r] for r in range(n)] for h in have], settings
        )
        out.cached = cached
        return out

    shown = landed()
    if shown == total or shown > 0:
        yield result(shown)
    if shown == total:
        return
    jobs = [(i, r) for r in range(total) for i in range(len(scenarios)) if r not in have[i]]
    names = [(keys[i], rkey, r) for i, r in jobs]
    calls = [
        (
            ReplicationTask.of(
                scenarios[i],
                r,
                seed=settings.seed,
                horizon_days=settings.horizon_days,
                warm_up_days=settings.warm_up_days,
            ),
            comparison_record,
        )
        for i, r in jobs
    ]

    def keep(j: int, found: Any) -> None:
        if cache is not None:
            cache.put(names[j], found)

    done = pool.map_unordered(
        run_replication,
        calls,
        keys=[("comparison_record", *name) for name in names],
        background=background,
        on_result=keep,
    )
    with contextlib.closing(done):
        for j, found in done:
            i, r = jobs[j]
            have[i][r] = found
            if on_done is not None:
                on_done(j)
            n = landed()
            if n > shown:
                shown = n
                yield result(n)


def prefetch(
    scenario: Scenario,
    label: str,
    settings: ComparisonSettings,
    pool: WorkerPool,
    cache: ResultCache,
) -> threading.Thread:
    """Start running ``scenario``'s replications (as `stream_comparison` would, under
    ``label``) in a background thread, into ``cache``, as background work of the pool (only
    while nothing else waits, never on every worker): the app does it for the baseline at its
    default settings when the page first loads, so the first comparison runs only the change
    (a baseline replication still running is waited for, one not started becomes the
    comparison's own) and its first cards come after one replication of the change alone."""

    def work() -> None:
        named = scenario.model_copy(update={"name": label})
        # a prefetch that fails (the pool closing, a model error) costs only the time it saves:
        # the comparison then runs those replications itself, and reports any error
        with contextlib.suppress(Exception):
            for _ in stream_comparison([named], [label], settings, pool, cache, background=True):
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
