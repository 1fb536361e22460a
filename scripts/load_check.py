"""Load check of the workshop app (not run in CI): ten sessions at once, each choosing a
different library scenario and running its comparison with the baseline, as a room of ten
tables might press Run together. Prints each session's time from pressing Run to its KPI cards.

    .venv/bin/python scripts/load_check.py [--sessions 10]

Sessions are Streamlit AppTest instances in threads of this process, sharing the app's one
worker pool and result cache exactly as browser sessions on one server do. Uses the app's
default run settings unless FLOWSIM_APP_* variables say otherwise; on a busy machine,
``FLOWSIM_APP_REPLICATIONS=2 FLOWSIM_APP_DAYS=3 FLOWSIM_APP_WARM_UP=1 FLOWSIM_APP_CENSUS_DAY=20``
shows the same thing in a fraction of the time.

Every session opens its page, then all press Run at once. Each AppTest run compiles the page
with a script cache of its own, where a server compiles it once under a lock; CPython 3.11's
parser is not safe to run from several threads at the same moment ("AST constructor recursion
depth mismatch"), so compiling is serialised here as the server does. The result cache starts
empty (a temporary folder, unless FLOWSIM_APP_CACHE names one), so nothing is answered from an
earlier check.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.testing.v1 import AppTest

from flowsim.app import MAIN_SCRIPT, engine

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_SECONDS = 1800

_compiling = threading.Lock()
_get_bytecode = ScriptCache.get_bytecode


def _get_bytecode_one_at_a_time(self: ScriptCache, script_path: str) -> object:
    with _compiling:
        return _get_bytecode(self, script_path)


ScriptCache.get_bytecode = _get_bytecode_one_at_a_time  # type: ignore[method-assign]


def session(choice: str, out: dict[str, tuple[float, str]], together: threading.Barrier) -> None:
    """One facilitator: open the page, choose ``choice``, wait for the room, run, wait for
    the cards."""
    try:
        at = AppTest.from_file(str(MAIN_SCRIPT), default_timeout=TIMEOUT_SECONDS)
        at.run()
        at.multiselect(key="alts").set_value([choice]).run()
    except Exception as error:  # a load check reports every failure, whatever it is
        out[choice] = (0.0, f"FAILED opening the page: {error!r}")
        together.wait()
        return
    together.wait()
    started = time.perf_counter()
    try:
        at.button(key="run").click().run()
        problems = [e.value for e in [*at.exception, *at.error]]
        ok = len(at.metric) == 14 and not problems
        out[choice] = (
            time.perf_counter() - started,
            "ok" if ok else f"FAILED {len(at.metric)} cards, {problems}",
        )
    except Exception as error:
        out[choice] = (time.perf_counter() - started, f"FAILED {error!r}")


def main() -> None:
    """Run the sessions and print the times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    args = parser.parse_args()
    os.environ.setdefault("FLOWSIM_SCENARIOS", str(ROOT / "scenarios"))
    cache = None
    if not os.environ.get("FLOWSIM_APP_CACHE"):
        cache = tempfile.TemporaryDirectory(prefix="flowsim-load-check-")
        os.environ["FLOWSIM_APP_CACHE"] = cache.name
    stems = [s for s in engine.library(ROOT / "scenarios") if s != "baseline"]
    choices = [stems[i % len(stems)] for i in range(args.sessions)]
    settings = engine.default_settings()
    print(f"{args.sessions} sessions, each: {settings.describe()}")
    print(f"worker processes: {engine.shared_pool().workers}")
    print(f"result cache: {os.environ['FLOWSIM_APP_CACHE']} (empty at the start)")
    opened = time.perf_counter()
    AppTest.from_file(str(MAIN_SCRIPT), default_timeout=TIMEOUT_SECONDS).run()  # census, once
    results: dict[str, tuple[float, str]] = {}
    together = threading.Barrier(args.sessions + 1)
    threads = [threading.Thread(target=session, args=(c, results, together)) for c in choices]
    for t in threads:
        t.start()
    together.wait()
    print(f"pages open after {time.perf_counter() - opened:.1f} s; every session presses Run")
    started = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    for choice in choices:
        seconds, status = results[choice]
        print(f"  {choice:28s} {seconds:6.1f} s  {status}")
    times = [s for s, status in results.values() if status == "ok"]
    failures = sum(1 for _, s in results.values() if s != "ok")
    print(
        f"all {len(results)} done in {wall:.1f} s; of the {len(times)} that completed, "
        f"median {statistics.median(times) if times else float('nan'):.1f} s, "
        f"max {max(times, default=float('nan')):.1f} s; failures: {failures}"
    )
    engine.shared_pool().close()
    if cache is not None:
        cache.cleanup()
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
