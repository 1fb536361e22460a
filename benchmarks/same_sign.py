"""Does the app tell the same story as the annual horizon? Each library scenario's headline
effect at the app's default settings against the direction its header expects (the direction
docs/scenarios.md finds at the long horizon for every headline).

    .venv/bin/python benchmarks/same_sign.py [--replications 4] [--days 21] [--workers 2]

Runs every library file against the baseline in one paired comparison, exactly as the app
does (`flowsim.app.census.census`, `with_warm_start`, `flowsim.app.engine.stream_comparison`:
every scenario from the same census, on the same days, the same replications), and prints,
for each file's headline KPI (the first ``Expect:`` of its header), the paired difference with
its 95% interval, whether its sign is the expected one, and whether the interval is clear of 0.
Exit status 1 when a sign disagrees. Expensive (17 scenarios x 4 replications of 28 days plus
the census): an opt-in check, not part of ``make test``; ``make check-truth`` runs it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from flowsim.app import census as census_module
from flowsim.app import engine
from flowsim.app.engine import ComparisonSettings
from flowsim.scenario import load_scenario
from flowsim.scenario.library import read_entry

ROOT = Path(__file__).resolve().parents[1]


def main(argv: Sequence[str] | None = None) -> int:
    base_settings = ComparisonSettings()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--folder", default=str(ROOT / "scenarios"))
    p.add_argument("--replications", type=int, default=base_settings.replications)
    p.add_argument("--days", type=float, default=base_settings.horizon_days)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--only", nargs="*", default=None, help="file stems to check (default all)")
    a = p.parse_args(argv)
    settings = ComparisonSettings(replications=a.replications, horizon_days=a.days)
    folder = Path(a.folder)
    base = load_scenario(folder / "baseline.yaml")
    entries = {
        path.stem: read_entry(path)
        for path in sorted(folder.glob("*.yaml"))
        if path.stem != "baseline" and (a.only is None or path.stem in a.only)
    }
    t0 = time.perf_counter()
    pool = engine.WorkerPool(a.workers)
    try:
        start = census_module.census(base, settings, pool)
        choices = {"baseline": base, **{k: load_scenario(e.path) for k, e in entries.items()}}
        named = [
            census_module.with_warm_start(s, start).model_copy(update={"name": k})
            for k, s in choices.items()
        ]
        *_, result = engine.stream_comparison(named, list(choices), settings, pool)
    finally:
        pool.close()
    table = result.table.set_index(["scenario", "kpi"])
    print(f"{settings.describe()}; {time.perf_counter() - t0:.0f} s\n")
    print(f"{'scenario':28s} {'headline':34s} {'diff':>9s} {'95% CI':>20s}  sign   clear")
    agree = clear = 0
    for stem, entry in entries.items():
        head = entry.headline
        row = table.loc[(stem, head.kpi)]
        diff, lo, hi = float(row["difference"]), float(row["ci_low"]), float(row["ci_high"])
        want = 1.0 if head.direction == "higher" else -1.0
        same = diff * want > 0
        sure = same and lo * want > 0 and hi * want > 0
        agree += same
        clear += sure
        print(
            f"{stem:28s} {head!s:34s} {diff:+9.3f} {f'({lo:+.3f} to {hi:+.3f})':>20s}  "
            f"{'same' if same else 'OPPOSITE':8s} {'yes' if sure else 'no'}"
        )
    n = len(entries)
    print(f"\nsame sign as the annual horizon: {agree} of {n}; interval clear of 0: {clear} of {n}")
    return 0 if agree == n else 1


if __name__ == "__main__":
    sys.exit(main())
