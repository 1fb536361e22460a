"""Offline check that the validation intervals mean what they say (not run by pytest).

The tests run each case on one fixed seed. A 95% interval should hold the theory value for about
95% of seeds; much less would mean the model or the interval is wrong (too narrow, biased), and
the fixed seed merely lucky. This reruns every case on seeds ``1..N`` and reports, per check, the
share of seeds that passed with a 95% Clopper-Pearson interval, and the share of seeds on which
the test suite (each check at `helpers.TEST_LEVEL`) passes: at least 95% by design.

    cd tests && ../.venv/bin/python -m validation.seed_coverage --seeds 100 --jobs 2
    cd tests && ../.venv/bin/python -m validation.seed_coverage --seeds 20 mmc-rho0.9

It takes about a minute of CPU per seed for the whole suite.
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
import time
from collections.abc import Callable

from scipy import stats

from validation import (
    test_arrivals_and_samplers,
    test_erlang_b,
    test_littles_law_baseline,
    test_mginf,
    test_mmc,
    test_tandem_blocking,
)
from validation.helpers import Check

CASES: dict[str, Callable[[int], list[Check]]] = {
    "mmc-rho0.7": functools.partial(test_mmc.checks, 0.7),
    "mmc-rho0.9": functools.partial(test_mmc.checks, 0.9),
    **{
        f"erlang-b-{name}": functools.partial(test_erlang_b.checks, name)
        for name in test_erlang_b.CASES
    },
    "mginf": test_mginf.checks,
    "littles-law": test_littles_law_baseline.checks,
    "arrivals": test_arrivals_and_samplers.arrival_checks,
    **{
        f"sampler-{name}": functools.partial(test_arrivals_and_samplers.sampler_checks, name)
        for name in [*test_arrivals_and_samplers.CONTINUOUS, *test_arrivals_and_samplers.DISCRETE]
    },
    "tandem": test_tandem_blocking.checks,
}


def _run(task: tuple[str, int]) -> tuple[str, int, list[tuple[str, bool, bool]]]:
    case, seed = task
    return case, seed, [(c.name, c.passed, c.holds) for c in CASES[case](seed)]


def clopper_pearson(k: int, n: int) -> tuple[float, float]:
    low = stats.beta.ppf(0.025, k, n - k + 1) if k > 0 else 0.0
    high = stats.beta.ppf(0.975, k + 1, n - k) if k < n else 1.0
    return float(low), float(high)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help=f"default: all of {', '.join(CASES)}")
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    cases = args.cases or list(CASES)
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        parser.error(f"unknown case(s) {unknown}; choose from {', '.join(CASES)}")
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    tasks = [(case, seed) for seed in seeds for case in cases]

    began = time.perf_counter()
    passed: dict[str, dict[int, bool]] = {}
    held: dict[str, dict[int, bool]] = {}
    case_of: dict[str, str] = {}
    with multiprocessing.Pool(args.jobs) as pool:
        for case, seed, results in pool.imap_unordered(_run, tasks):
            for name, ok, holds in results:
                passed.setdefault(name, {})[seed] = ok
                held.setdefault(name, {})[seed] = holds
                case_of[name] = case
            print(f"  {case} seed {seed}: {sum(r[1] for r in results)}/{len(results)}", flush=True)

    print(
        f"\n{len(tasks)} runs in {time.perf_counter() - began:.0f} s, seeds {seeds[0]}..{seeds[-1]}"
    )
    print("\n| case | check | passed | coverage | 95% interval |\n|---|---|---|---|---|")
    for name, by_seed in passed.items():
        k, n = sum(by_seed.values()), len(by_seed)
        low, high = clopper_pearson(k, n)
        print(f"| {case_of[name]} | {name} | {k}/{n} | {k / n:.0%} | {low:.0%} to {high:.0%} |")
    every = [s for s in seeds if all(by_seed[s] for by_seed in passed.values())]
    print(f"\nseeds on which every check passed at 95% ({len(every)}/{len(seeds)}): {every}")
    suite = [s for s in seeds if all(by_seed[s] for by_seed in held.values())]
    low, high = clopper_pearson(len(suite), len(seeds))
    print(
        f"seeds on which the test suite passes (every check at the test level): "
        f"{len(suite)}/{len(seeds)} ({low:.0%} to {high:.0%}; designed for >= 95%)"
    )
    print(f"seeds on which it fails: {[s for s in seeds if s not in suite]}")


if __name__ == "__main__":
    main()
