"""Parallel efficiency of replications, and the latency of a workshop-sized comparison.

    .venv/bin/python benchmarks/bench_experiments.py [--replications 8] [--days 60] [--no-append]

1. **Parallel efficiency**: the same ``--replications`` replications of the baseline (``--days``
   after its warm-up) run one after another in this process, then on all usable cores
   (`flowsim.experiment.default_workers`); speed-up = serial time / parallel time, measured in one
   run so a busy shared machine slows both alike. The logs must be identical (checked).
2. **Workshop comparison**: ``flowsim.compare`` of the baseline against the AFU expansion, 10
   paired replications of 90 days after the baseline's warm-up, on all cores: the time a
   facilitator waits for an answer (target on this 2-core machine: 10 s).

Appends both to ``benchmarks/results.md`` with the machine's description.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench_baseline import RESULTS, machine, markdown, table

import flowsim
from flowsim.api import replication_kpis
from flowsim.experiment import default_workers, run_replications
from flowsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
AFU = ROOT / "scenarios" / "afu_expansion.yaml"


def parallel_efficiency(replications: int, days: float) -> list[tuple[str, str]]:
    """Each replication reduced to its KPI table where it runs, as `flowsim compare`, `batch`
    and the app do: the work an analyst parallelises, without shipping whole logs back."""
    scenario = load_scenario(BASELINE)
    workers = default_workers(replications)
    settings = {"horizon_days": days, "reduce": replication_kpis}
    began = time.perf_counter()
    serial = run_replications(scenario, replications, workers=1, **settings)
    serial_s = time.perf_counter() - began
    began = time.perf_counter()
    parallel = run_replications(scenario, replications, workers=workers, **settings)
    parallel_s = time.perf_counter() - began
    same = all(a.equals(b) for a, b in zip(serial, parallel, strict=True))
    speed_up = serial_s / parallel_s
    return [
        (
            "replications",
            f"{replications} x ({days:g} days + {scenario.run.warm_up_days:g} warm-up), baseline, "
            "KPIs computed in the worker",
        ),
        ("serial", f"{serial_s:.1f} s"),
        (f"{workers} worker processes", f"{parallel_s:.1f} s (including starting them)"),
        (
            "speed-up (efficiency)",
            f"{speed_up:.2f}x ({100 * speed_up / workers:.0f}% of {workers} cores; target 1.8x)",
        ),
        ("KPIs identical serial vs parallel", "yes" if same else "NO"),
    ]


def workshop_comparison(replications: int = 10, days: float = 90.0) -> list[tuple[str, str]]:
    began = time.perf_counter()
    table_ = flowsim.compare(BASELINE, AFU, replications=replications, horizon_days=days)
    wall = time.perf_counter() - began
    row = table_.set_index("kpi").loc["occupancy_mean_general_acute"]
    return [
        (
            "workshop comparison",
            f"baseline vs AFU expansion, {replications} paired replications x {days:g} days",
        ),
        ("comparison wall time", f"{wall:.1f} s (target 10 s)"),
        (
            "G&A occupancy change",
            f"{row['difference']:+.2f} points ({row['ci_low']:+.2f} to {row['ci_high']:+.2f})",
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=8)
    parser.add_argument("--days", type=float, default=60.0)
    parser.add_argument("--no-append", action="store_true", help="do not write results.md")
    args = parser.parse_args(argv)
    rows = parallel_efficiency(args.replications, args.days) + workshop_comparison()
    about = machine()
    print(table(rows))
    if not args.no_append:
        with RESULTS.open("a", encoding="utf-8") as out:
            out.write(markdown(rows, about).replace("## ", "## experiments, ", 1) + "\n")
        print(f"\nappended to {RESULTS}")


if __name__ == "__main__":
    main()
