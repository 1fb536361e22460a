"""Time one simulated year of the baseline and record the figures.

    .venv/bin/python benchmarks/bench_baseline.py [--days 365] [--no-tracemalloc] [--no-append]
    .venv/bin/python benchmarks/bench_baseline.py --against c78db48 [--rounds 3]

Runs replication 0 of ``scenarios/baseline.yaml`` for ``--days`` days after the scenario's own
warm-up, prints a table and appends it, with a description of the machine, to
``benchmarks/results.md``.

What is measured, and how:

- **wall time** and CPU time of ``simulate()`` alone (the scenario is loaded beforehand; nothing
  else runs while the clock is on).
- **patients**: every patient the run described (population arrivals and re-presentations,
  warm-up included); **patients/s** = patients / wall time.
- **scheduler events**: events the SimPy scheduler actually processed (popped from its queue),
  counted by the model's run loop (`flowsim.model.kernel.Environment.steps`).
- **SimPy-equivalent events**: event ids issued (the ``_eid`` counter) minus those still queued
  when the run stopped. The model gives an id, without scheduling it, to each event it handles in
  line because SimPy would process it next anyway (a place granted on the spot, a delay that ends
  before anything else is due, a process start, a release with nobody waiting), so this is close
  to the number of events plain SimPy processes and resources would have needed (it leaves out the
  event SimPy schedules when a process ends, about one a patient). ``--verify-events``
  repeats the run with ``Environment.step`` wrapped in a counter and checks that the run loop
  never calls it (the loop does its own stepping; that run is not timed).
- **log events**: entries in ``EventLog.events`` (what the KPIs are computed from).
- **peak RSS**: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` after the timed run: the whole
  process's high-water mark (interpreter, imports and scenario included).
- **tracemalloc peak**: the peak of Python allocations during a second, untimed run under
  ``tracemalloc`` (which slows allocation down, hence a separate run); ``--no-tracemalloc`` skips
  it, which makes the benchmark several times quicker.
- **event log in memory**: the bytes of the two arrays of ``EventLog.events`` (`record.Events`:
  16 bytes an event), and the same events as numpy columns (``EventLog.event_arrays``).
- **event log as Parquet**: the numpy columns (``time`` float64, ``patient`` int64, ``kind``
  int8, ``place`` int16) written by pyarrow with its default (snappy) compression, in bytes.

``--against REV`` compares instead: the tree of git revision ``REV`` (its code *and* its own
``scenarios/baseline.yaml``, e.g. c78db48, the last commit before the pressure work of issue 14) is
extracted to a temporary folder, and each of ``--rounds`` rounds times one year of each baseline in
a fresh process, the two alternating (this machine is shared, and absolute times vary several-fold
with the load; back-to-back runs see about the same load), or with ``--together`` side by side, one
on each core, so that both see the same load from others at the same moments. Reported per round
and as the median and best of the rounds: CPU and wall time of ``simulate()``, patients,
scheduler events, and the ratio of CPU times (this tree over ``REV``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import simpy

import flowsim
from flowsim.log import EventLog
from flowsim.model import build
from flowsim.model.system import System
from flowsim.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
RESULTS = Path(__file__).resolve().parent / "results.md"


# ---------------------------------------------------------------- running


def run_capturing_env(
    scenario: Scenario, replication: int, days: float, seed: int | None
) -> tuple[EventLog, simpy.Environment]:
    """`simulate`, keeping hold of the SimPy environment it built (for its event counter)."""
    systems: list[System] = []

    class Spy(System):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            systems.append(self)

    build.System = Spy  # type: ignore[misc]
    try:
        log = build.simulate(scenario, replication, seed=seed, horizon_days=days)
    finally:
        build.System = System  # type: ignore[misc]
    return log, systems[0].env


def simpy_events_processed(env: simpy.Environment) -> int:
    """Event ids issued minus events still queued: what SimPy would have processed."""
    scheduled = next(env._eid)  # type: ignore[attr-defined]
    return scheduled - len(env._queue)  # type: ignore[attr-defined]


def count_steps(scenario: Scenario, replication: int, days: float, seed: int | None) -> int:
    """The same run with ``Environment.step`` wrapped in a counter (not timed): calls of SimPy's
    own stepping, which the model's run loop replaces (so 0)."""
    original: Callable[[simpy.Environment], None] = simpy.Environment.step
    steps = 0

    def counting_step(self: simpy.Environment) -> None:
        nonlocal steps
        steps += 1
        original(self)

    simpy.Environment.step = counting_step  # type: ignore[method-assign]
    try:
        build.simulate(scenario, replication, seed=seed, horizon_days=days)
    finally:
        simpy.Environment.step = original  # type: ignore[method-assign]
    return steps


def tracemalloc_peak(
    scenario: Scenario, replication: int, days: float, seed: int | None
) -> tuple[int, float]:
    """Peak traced bytes of a run under tracemalloc, and how long that (slowed) run took."""
    gc.collect()
    wall0 = time.perf_counter()
    tracemalloc.start()
    try:
        log = build.simulate(scenario, replication, seed=seed, horizon_days=days)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del log
    return peak, time.perf_counter() - wall0


# ---------------------------------------------------------------- sizes


def parquet_bytes(columns: dict[str, np.ndarray]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    return buffer.getbuffer().nbytes


def peak_rss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024  # bytes on macOS, KiB on Linux


# ---------------------------------------------------------------- the machine


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head}{' (with uncommitted changes)' if dirty else ''}" if head else "unknown"


def machine() -> dict[str, str]:
    return {
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "cpu": cpu_model(),
        "cores": f"{usable_cores()} usable of {os.cpu_count()}",
        "simpy / numpy": f"{simpy.__version__} / {np.__version__}",
        "flowsim": f"{flowsim.__version__}, commit {git_commit()}",
    }


# ---------------------------------------------------------------- report


def mib(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB"


def measure(args: argparse.Namespace) -> list[tuple[str, str]]:
    scenario = load_scenario(args.scenario)
    warm_up = scenario.run.warm_up_days
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    log, env = run_capturing_env(scenario, args.replication, args.days, args.seed)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    rss = peak_rss_bytes()

    processed = env.steps  # type: ignore[attr-defined]
    equivalent = simpy_events_processed(env)
    patients, log_events = len(log.patients), len(log.events)
    columns = log.event_arrays()
    rows = [
        ("scenario", f"{scenario.name} ({Path(args.scenario).name})"),
        (
            "simulated",
            f"{args.days:g} days after {warm_up:g} days warm-up, replication {args.replication}",
        ),
        ("wall time", f"{wall:.2f} s (CPU {cpu:.2f} s)"),
        ("patients", f"{patients:,}"),
        ("patients/s", f"{patients / wall:,.0f}"),
        ("scheduler events processed", f"{processed:,}"),
        ("scheduler events/s", f"{processed / wall:,.0f}"),
        ("SimPy-equivalent events", f"{equivalent:,}"),
        ("SimPy-equivalent events/s", f"{equivalent / wall:,.0f}"),
        ("log events", f"{log_events:,}"),
        ("log events/s", f"{log_events / wall:,.0f}"),
        ("peak RSS (process)", mib(rss)),
    ]
    if args.verify_events:
        steps = count_steps(scenario, args.replication, args.days, args.seed)
        if steps != 0:
            raise SystemExit(f"Environment.step ran {steps} times; the run loop should step")
        rows.append(("Environment.step calls", "0 (the run loop steps itself)"))
    rows += [
        ("event log in memory (record.Events)", mib(log.events.nbytes)),
        ("event log as numpy columns", mib(sum(c.nbytes for c in columns.values()))),
        ("event log as Parquet (snappy)", mib(parquet_bytes(columns))),
    ]
    del log, env, columns
    if not args.no_tracemalloc:
        peak, traced_wall = tracemalloc_peak(scenario, args.replication, args.days, args.seed)
        rows.append(
            ("tracemalloc peak (separate run)", f"{mib(peak)} ({traced_wall:.0f} s traced)")
        )
    return rows


# ---------------------------------------------------------------- against another revision

_ONE_YEAR = """
import gc, json, sys, time
sys.path.insert(0, sys.argv[1] + "/src")
from flowsim.model import build
from flowsim.model.system import System
from flowsim.scenario import load_scenario
scenario = load_scenario(sys.argv[1] + "/scenarios/baseline.yaml")
systems = []
class Spy(System):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        systems.append(self)
build.System = Spy
gc.collect()
cpu0, wall0 = time.process_time(), time.perf_counter()
log = build.simulate(scenario, int(sys.argv[3]), horizon_days=float(sys.argv[2]))
wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
print(json.dumps({"cpu": cpu, "wall": wall, "patients": len(log.patients),
                  "steps": getattr(systems[0].env, "steps", -1)}))
"""
"""One year of a tree's own baseline in a fresh process (the tree's ``src`` first on the path)."""


def one_year(root: Path, days: float, replication: int) -> subprocess.Popen[str]:
    """Start one year of a tree's own baseline in a fresh process (`result` reads it)."""
    return subprocess.Popen(
        [sys.executable, "-c", _ONE_YEAR, str(root), str(days), str(replication)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": ""},
    )


def result(run: subprocess.Popen[str]) -> dict[str, float]:
    out, _ = run.communicate()
    if run.returncode:
        raise SystemExit(f"a timed run failed (exit {run.returncode})")
    return json.loads(out.strip().splitlines()[-1])


def extract(revision: str, folder: Path) -> Path:
    """The tree of a git revision, written to ``folder``."""
    archive = subprocess.run(
        ["git", "archive", revision], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def compare(args: argparse.Namespace) -> list[tuple[str, str]]:
    """This tree against revision ``args.against``, alternating, ``args.rounds`` rounds."""
    with tempfile.TemporaryDirectory(prefix="flowsim-bench-") as tmp:
        old = extract(args.against, Path(tmp) / "old")
        new = ROOT if args.this is None else extract(args.this, Path(tmp) / "new")
        runs: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
        for k in range(args.rounds):
            order = [("old", old), ("new", new)] if k % 2 == 0 else [("new", new), ("old", old)]
            if args.together:  # side by side: both see the same load from others
                started = [
                    (name, one_year(root, args.days, args.replication)) for name, root in order
                ]
                for name, run in started:
                    runs[name].append(result(run))
            else:
                for name, root in order:
                    runs[name].append(result(one_year(root, args.days, args.replication)))
            o, n = runs["old"][-1], runs["new"][-1]
            print(
                f"round {k + 1}: {args.against} CPU {o['cpu']:.2f} s (wall {o['wall']:.1f}), "
                f"this tree CPU {n['cpu']:.2f} s (wall {n['wall']:.1f}): "
                f"{n['cpu'] / o['cpu']:.2f}x",
                flush=True,
            )
    ratios = [n["cpu"] / o["cpu"] for o, n in zip(runs["old"], runs["new"], strict=True)]

    def cpu(name: str) -> str:
        times = [r["cpu"] for r in runs[name]]
        walls = [r["wall"] for r in runs[name]]
        return (
            f"CPU median {statistics.median(times):.2f} s, best {min(times):.2f} s "
            f"(wall median {statistics.median(walls):.1f} s)"
        )

    first_old, first_new = runs["old"][0], runs["new"][0]
    best = min(r["cpu"] for r in runs["new"]) / min(r["cpu"] for r in runs["old"])
    return [
        (
            "compared",
            f"{args.this or 'this tree'} against {args.against}, each with its own baseline.yaml",
        ),
        ("simulated", f"{args.days:g} days after warm-up, replication {args.replication}"),
        (
            "rounds",
            f"{args.rounds}, a fresh process each run, "
            + ("the two side by side" if args.together else "the two alternating"),
        ),
        (f"{args.against}", cpu("old")),
        (args.this or "this tree", cpu("new")),
        (
            f"CPU ratio ({args.this or 'this tree'} / {args.against})",
            f"median {statistics.median(ratios):.2f}x (rounds {min(ratios):.2f}-"
            f"{max(ratios):.2f}x), best over best {best:.2f}x",
        ),
        ("patients", f"{first_old['patients']:,} / {first_new['patients']:,}"),
        ("scheduler events", f"{first_old['steps']:,} / {first_new['steps']:,}"),
    ]


def table(rows: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def markdown(rows: list[tuple[str, str]], about: dict[str, str]) -> str:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"## {when}", "", "| measure | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    lines += ["", "| machine | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in about.items()]
    return "\n".join(lines) + "\n"


RESULTS_HEADER = """# Benchmark results

Appended by `benchmarks/bench_baseline.py` (`make bench`): one simulated year of the baseline,
replication 0. How each figure is measured is described at the top of that script. Compare
figures from the same machine only.

"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(BASELINE), help="scenario file (baseline)")
    parser.add_argument("--days", type=float, default=365.0, help="days after warm-up (365)")
    parser.add_argument("--replication", type=int, default=0)
    parser.add_argument("--seed", type=int, default=None, help="run seed (the scenario's)")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the traced run")
    parser.add_argument(
        "--verify-events", action="store_true", help="recount SimPy events by wrapping step()"
    )
    parser.add_argument("--no-append", action="store_true", help="do not write results.md")
    parser.add_argument(
        "--against", metavar="REV", help="compare with git revision REV (its own baseline)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --against (3)")
    parser.add_argument(
        "--together", action="store_true", help="with --against: run each pair at the same time"
    )
    parser.add_argument(
        "--this", metavar="REV", help="with --against: time revision REV, not the working tree"
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="markdown file to append")
    args = parser.parse_args(argv)

    rows = compare(args) if args.against else measure(args)
    about = machine()
    print(table(rows))
    print()
    print(table(list(about.items())))
    if not args.no_append:
        new = not args.results.exists()
        with args.results.open("a", encoding="utf-8") as out:
            if new:
                out.write(RESULTS_HEADER)
            out.write(markdown(rows, about) + "\n")
        print(f"\nappended to {args.results}")


if __name__ == "__main__":
    main()
