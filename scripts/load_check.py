"""Load check of the workshop app (not run in CI): ten sessions at once, each choosing a
different library scenario and running its comparison with the baseline, as a room of ten
tables might press Run together. Prints each session's time to its KPI cards.

    .venv/bin/python scripts/load_check.py [--sessions 10]

Sessions are Streamlit AppTest instances in threads of this process, sharing the app's one
worker pool and result cache exactly as browser sessions on one server do. Uses the app's
default run settings unless FLOWSIM_APP_* variables say otherwise.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from flowsim.app import MAIN_SCRIPT, engine

ROOT = Path(__file__).resolve().parents[1]


def session(choice: str, out: dict[str, tuple[float, str]]) -> None:
    """One facilitator: open the page, choose ``choice``, run, wait for the cards."""
    started = time.perf_counter()
    try:
        at = AppTest.from_file(str(MAIN_SCRIPT), default_timeout=600)
        at.run()
        at.multiselect(key="alts").set_value([choice]).run()
        at.button(key="run").click().run()
        problems = [e.value for e in [*at.exception, *at.error]]
        ok = len(at.metric) == 14 and not problems
        out[choice] = (time.perf_counter() - started, "ok" if ok else f"FAILED {problems}")
    except Exception as error:  # a load check reports every failure, whatever it is
        out[choice] = (time.perf_counter() - started, f"FAILED {error!r}")


def main() -> None:
    """Run the sessions and print the times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    args = parser.parse_args()
    os.environ.setdefault("FLOWSIM_SCENARIOS", str(ROOT / "scenarios"))
    stems = [s for s in engine.library(ROOT / "scenarios") if s != "baseline"]
    choices = [stems[i % len(stems)] for i in range(args.sessions)]
    settings = engine.default_settings()
    print(f"{args.sessions} sessions, each: {settings.describe()}")
    print(f"worker processes: {engine.shared_pool().workers}")
    AppTest.from_file(str(MAIN_SCRIPT), default_timeout=600).run()  # census once, as at start
    results: dict[str, tuple[float, str]] = {}
    threads = [threading.Thread(target=session, args=(c, results)) for c in choices]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    for choice in choices:
        seconds, status = results[choice]
        print(f"  {choice:28s} {seconds:6.1f} s  {status}")
    times = [s for s, _ in results.values()]
    print(
        f"all {len(times)} done in {wall:.1f} s; per session median {statistics.median(times):.1f}"
        f" s, max {max(times):.1f} s; failures: "
        f"{sum(1 for _, s in results.values() if s != 'ok')}"
    )
    engine.shared_pool().close()


if __name__ == "__main__":
    main()
