"""Peak memory of the parent process of ``flowsim run`` against the number of replications.

    .venv/bin/python benchmarks/bench_run_memory.py [--days 365] [--replications 5 20]
        [--workers 2] [--scenario scenarios/baseline.yaml]

Each measurement runs ``flowsim run SCENARIO --days D --replications N --workers W`` in a fresh
Python process and reads that process's own high-water mark,
``resource.getrusage(RUSAGE_SELF).ru_maxrss``, when the command has finished: the parent only,
not its worker processes (each of which holds one replication at a time). Events and patients
stream to Parquet as replications finish (`flowsim.report.outputs.RunResults`), so the figure
should stay flat as N grows. With ``--workers 1`` the replications run in the parent itself and
its peak includes one replication's simulation.

Before the fix below, measured 2026-12-01/02 (2 shared cores, load average 5-13 from other
work, so walls are slow), scenarios/baseline.yaml (60-day warm-up), 2 workers:

| replications | days | parent peak RSS (MB) | wall (s) |
|---:|---:|---:|---:|
| 2 | 20 | 397 | 60 |
| 6 | 20 | 398 | 109 |
| 5 | 90 | 413 | 165 |
| 20 | 90 | 424 | 733 |
| 5 | 365 | 448 | 513 |
| 20 | 365 | 577 | 395 |

Where the megabytes went (profiled 2026-12-02 with an RSS sampler in the parent, phases marked):
about 215 MB is imports alone (pandas ~77, scipy.stats ~61, numpy ~27, matplotlib ~26; the
analysis and experiment modules import scipy at the top); reading a year's part file of events
whole to append it took ~165 MB more at the moment of appending (and pyarrow's mimalloc pool
kept 25-50 MB of it afterwards); the parent kept every replication's time in ED, handover
waits and finished stays (~3 MB a replication-year), and drawing the report's distribution
figures sorted, masked and copied the pooled arrays several times over: for 20 replications
of a year (arrays of the same sizes, drawn by the old figure code on their own) time in ED
took +176 MB at its peak, length of stay +154 MB and handover +41 MB over the ~70 MB held.
That is the growth with N.

After (commits 41f1dc0, c00b0cf): the distributions travel and are kept as fixed-edge
histograms that add up (`flowsim.report.histograms`), part files are written and appended one
row group of at most 65,536 rows at a time, and the command sets pyarrow's allocator to
jemalloc. Measured 2026-12-02, same machine and load, ``--days 365 --replications 5 20
--workers 2``:

| replications | days | parent peak RSS (MB) | wall (s) |
|---:|---:|---:|---:|
| 5 | 365 | 361 | 349 |
| 20 | 365 | 368 | 1202 |

Flat and under the 500 MB target: 7 MB more for 15 more replications (the per-replication KPI,
daily occupancy, trend and bottleneck tables, about 0.5 MB each), against 129 MB before. The
walls are long because other work kept the load average at 10-14 on the 2 cores; the peak is
the parent's own high-water mark and does not depend on the load. The working tree held other
helpers' uncommitted changes (analysis/kpis.py, model/warm_start.py, scenario/schema.py) then.

With events streamed by the parent but logs still sent back whole from the workers, 2 and 6
replications of 20 days peaked at 530 and 824 MB (about 73 MB more a
replication), and the issue measured ~1.5 GB for ``make run`` (5 replications of a year).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import resource, sys
from flowsim.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    print("PEAK_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def parent_peak_mb(scenario: Path, days: float, replications: int, workers: int) -> float:
    with tempfile.TemporaryDirectory(prefix="flowsim-mem-") as tmp:
        args = [
            "run",
            str(scenario),
            "--days",
            f"{days:g}",
            "--replications",
            str(replications),
            "--workers",
            str(workers),
            "--out",
            str(Path(tmp) / "out"),
        ]
        done = subprocess.run(
            [sys.executable, "-c", CHILD, *args], capture_output=True, text=True, check=False
        )
        peak = [line for line in done.stderr.splitlines() if line.startswith("PEAK_KB")]
        if done.returncode != 0 or not peak:
            raise SystemExit(f"flowsim run failed:\n{done.stderr[-2000:]}")
        return int(peak[-1].split()[1]) / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.yaml")
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--replications", type=int, nargs="+", default=[5, 20])
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    print("| replications | days | workers | parent peak RSS (MB) | wall (s) |")
    print("|---:|---:|---:|---:|---:|")
    for n in options.replications:
        started = time.perf_counter()
        peak = parent_peak_mb(options.scenario, options.days, n, options.workers)
        wall = time.perf_counter() - started
        print(
            f"| {n} | {options.days:g} | {options.workers} | {peak:.0f} | {wall:.0f} |", flush=True
        )


if __name__ == "__main__":
    main()
