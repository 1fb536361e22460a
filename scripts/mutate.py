"""Deliberate bugs in the model and the KPIs, one at a time: do the tests notice?

Each mutant replaces one small snippet of code in a copy of ``src/flowsim`` under a temporary
folder (the working tree is never touched) and runs pytest with that copy first on
``PYTHONPATH``, first on the tests aimed at the mechanism, then, if those pass, on the rest of
the fast suite. A mutant is

- ``caught (aimed)`` when a test aimed at it fails, ``caught (other)`` when only another fast test
  does (caught, but perhaps not for the right reason), ``survived`` when every fast test passes;
- ``snippet not found`` when the code it edits has changed (edit the mutant, not the model).

``survivor`` marks the bugs that an earlier spot-check found no test for (issue 13). The golden
log test is left out: it fails for any change of behaviour, so it says nothing about whether a
test understands the mechanism. Not run in CI (a few minutes on 2 cores):

    .venv/bin/python scripts/mutate.py            # every mutant
    .venv/bin/python scripts/mutate.py -k window,sdec  # names containing "window" or "sdec"
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MECHANISMS = "tests/model/test_mechanisms.py"
CONSERVATION = "tests/model/test_model_conservation.py"
KPIS = "tests/analysis/test_kpis.py"
WARM_START = "tests/model/test_warm_start.py"
RETURNS = "tests/model/test_warm_start_returns.py"
FAST_SUITE = [MECHANISMS, CONSERVATION, KPIS]
"""Run after the aimed tests when those pass: whatever else in the fast suite notices."""


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    old: str
    new: str
    aimed: tuple[str, ...]
    survivor: bool = False


def m(name: str, path: str, old: str, new: str, *aimed: str, survivor: bool = False) -> Mutant:
    return Mutant(name, path, old, new, aimed, survivor)


def k(test_file: str, expression: str) -> str:
    return f"{test_file}::-k::{expression}"


MUTANTS = [
    # ---- the survivors of the issue-13 spot-check
    m(
        "P2 and P3 capacities swapped",
        "model/system.py",
        'p2=unit("p2", s.community.p2.capacity),\n'
        '            p3=unit("p3", s.community.p3.capacity),',
        'p2=unit("p2", s.community.p3.capacity),\n'
        '            p3=unit("p3", s.community.p2.capacity),',
        k(CONSERVATION, "conserves"),
        survivor=True,
    ),
    m(
        "discharge window end hour ignored",
        "model/calendar.py",
        "    if hour < end_hour:\n        return t",
        "    if hour < 24.0:\n        return t",
        k(MECHANISMS, "window"),
        survivor=True,
    ),
    m(
        "escalation beds never close",
        "model/build.py",
        "elif waiting == 0 and occupied < calm",
        "elif False and waiting == 0 and occupied < calm",
        k(MECHANISMS, "escalation"),
        survivor=True,
    ),
    m(
        "warm start: census elapsed_days not used",
        "model/warm_start.py",
        "if spec.elapsed_days is not None:",
        "if False:",
        k(MECHANISMS, "warm_start or remaining"),
        survivor=True,
    ),
    m(
        "warm start: elapsed time not taken off the stay",
        "model/warm_start.py",
        "left = draws[rows, longer.argmax(axis=1)] - elapsed",
        "left = draws[rows, longer.argmax(axis=1)]",
        k(MECHANISMS, "warm_start or remaining"),
        survivor=True,
    ),
    m(
        "triage priority inverted",
        "model/ed.py",
        "return 0 if p.fate.acuity <= 2 else 1",
        "return 1 if p.fate.acuity <= 2 else 0",
        k(MECHANISMS, "triage"),
        survivor=True,
    ),
    m(
        "4-hour KPI counted from the cubicle",
        "analysis/kpis.py",
        'tin = v["time_in_ed"].to_numpy()',
        'tin = (v["time_in_ed"] - (v["cubicle"] - v["arrival"]).fillna(0.0)).to_numpy()',
        k(KPIS, "ed_times or four_hour"),
        survivor=True,
    ),
    # ---- SDEC
    m(
        "SDEC open at weekends regardless",
        "model/acute.py",
        "if not cfg.open_weekends and system.calendar.is_weekend(t):",
        "if False:",
        k(MECHANISMS, "sdec"),
    ),
    m(
        "SDEC never closes in the evening",
        "model/acute.py",
        "return cfg.open_hour <= t % 24 < cfg.close_hour",
        "return cfg.open_hour <= t % 24",
        k(MECHANISMS, "sdec"),
    ),
    m(
        "SDEC opens at midnight",
        "model/acute.py",
        "return cfg.open_hour <= t % 24 < cfg.close_hour",
        "return t % 24 < cfg.close_hour",
        k(MECHANISMS, "sdec"),
    ),
    m(
        "SDEC admit share inverted",
        "model/acute.py",
        "if p.fate.sdec_admit_u < system.scenario.sdec.admit_share.get(p.frailty):",
        "if p.fate.sdec_admit_u >= system.scenario.sdec.admit_share.get(p.frailty):",
        k(MECHANISMS, "sdec"),
    ),
    # ---- discharge
    m(
        "discharge window start ignored",
        "model/calendar.py",
        "    if hour < start_hour:\n        return day_start + start_hour",
        "    if False:\n        return day_start + start_hour",
        k(MECHANISMS, "window"),
    ),
    m(
        "after the window, next day at midnight",
        "model/calendar.py",
        "return day_start + 24.0 + start_hour",
        "return day_start + 24.0",
        k(MECHANISMS, "window"),
    ),
    m(
        "weekend factor inverted",
        "model/discharge.py",
        "while system.calendar.is_weekend(target) and weekend_u >= factor:",
        "while system.calendar.is_weekend(target) and weekend_u < factor:",
        k(MECHANISMS, "weekend"),
    ),
    m(
        "weekend waiters skip a day too many",
        "model/discharge.py",
        "target = math.floor(target / 24.0) * 24.0 + 24.0 + start",
        "target = math.floor(target / 24.0) * 24.0 + 48.0 + start",
        k(MECHANISMS, "weekend"),
    ),
    # ---- escalation
    m(
        "escalation opens after one pressed hour",
        "model/build.py",
        "if hours_over >= esc.open_after_hours:",
        "if hours_over >= 1.0:",
        k(MECHANISMS, "escalation"),
    ),
    m(
        "escalation ignores the waiting trigger",
        "model/build.py",
        "pressed = occupied >= full and waiting >= queue_to_open",
        "pressed = occupied >= full",
        k(MECHANISMS, "escalation"),
    ),
    m(
        "escalation opens twice the beds",
        "model/build.py",
        "                unit.set_capacity(unit.capacity + esc.beds)",
        "                unit.set_capacity(unit.capacity + 2 * esc.beds)",
        k(MECHANISMS, "escalation"),
    ),
    m(
        "escalation closes below the opening level, not the closing one",
        "model/build.py",
        "elif waiting == 0 and occupied < calm",
        "elif waiting == 0 and occupied < full",
        k(MECHANISMS, "escalation"),
    ),
    # ---- ED
    m(
        "handover limit read as half-hours",
        "model/ed.py",
        "yield first_of(system.env, cubicle, max_wait / 60.0)",
        "yield first_of(system.env, cubicle, max_wait / 30.0)",
        k(MECHANISMS, "hand_over"),
    ),
    m(
        "handover limit never applied",
        "model/ed.py",
        "if max_wait is not None and not cubicle.triggered:",
        "if False:",
        k(MECHANISMS, "hand_over"),
    ),
    m(
        "corridor threshold doubled",
        "model/movement.py",
        "yield first_of(system.env, place, corridor_after)",
        "yield first_of(system.env, place, 2 * corridor_after)",
        k(MECHANISMS, "corridor"),
    ),
    m(
        "boarders never counted off",
        "model/movement.py",
        "            system.boarding -= 1",
        "            system.boarding -= 0",
        k(MECHANISMS, "crowding"),
    ),
    m(
        "crowding threshold one lower",
        "model/ed.py",
        "system.boarding >= cfg.boarding_threshold",
        "system.boarding >= cfg.boarding_threshold - 1",
        k(MECHANISMS, "crowding"),
    ),
    m(
        "crowding share doubled",
        "model/ed.py",
        "p.fate.crowding_u < cfg.admission_avoided_share",
        "p.fate.crowding_u < 2 * cfg.admission_avoided_share",
        k(MECHANISMS, "crowding"),
    ),
    m(
        "clinician rota an hour late",
        "model/ed.py",
        "        clinicians.set_capacity(rota[int(env.now % 24)])\n        call_later",
        "        clinicians.set_capacity(rota[int(env.now % 24) - 1])\n        call_later",
        k(MECHANISMS, "rota"),
    ),
    # ---- wards, virtual ward, readmission
    m(
        "step-down saves half the days",
        "model/wards.py",
        "vw.step_down_days_saved * 24.0",
        "vw.step_down_days_saved * 12.0",
        k(MECHANISMS, "step_down"),
    ),
    m(
        "no virtual-ward place: early part of the stay counted twice",
        "model/wards.py",
        "        treatment_hours -= early_hours\n",
        "        pass\n",
        k(MECHANISMS, "step_down"),
    ),
    m(
        "nobody dies",
        "model/wards.py",
        "dies = f.death_u < ",
        "dies = False and f.death_u < ",
        k(CONSERVATION, "conserves"),
    ),
    m(
        "virtual-ward admission share inverted",
        "model/community.py",
        "if p.fate.virtual_ward_admit_u < system.scenario.community.virtual_ward.admission_share:",
        "if p.fate.virtual_ward_admit_u >= system.scenario.community.virtual_ward.admission_share:",
        k(MECHANISMS, "virtual_ward"),
    ),
    m(
        "readmission window halved",
        "model/readmission.py",
        "readmission.within_days * 24.0",
        "readmission.within_days * 12.0",
        k(MECHANISMS, "readmission"),
    ),
    m(
        "readmission probability halved",
        "model/readmission.py",
        "p.fate.readmit_u >= probability",
        "p.fate.readmit_u >= probability / 2",
        k(MECHANISMS, "readmission"),
    ),
    m(
        "warm start: ward patients past every stay not yet done",
        "model/warm_start.py",
        "done_when_beyond=is_ward(unit)",
        "done_when_beyond=False",
        k(MECHANISMS, "warm_start"),
    ),
    m(
        "warm start: the census's returns never come back",
        "model/warm_start.py",
        "        _returns(system, streams, group)",
        "        pass",
        RETURNS,
    ),
    m(
        "warm start: every replication from the first census",
        "model/build.py",
        "censuses[replication % len(censuses)]",
        "censuses[0]",
        RETURNS,
    ),
    # ---- KPIs
    m(
        "4 hours exactly counts as a breach",
        "analysis/kpis.py",
        'out.add("ed_within_4h", _pct(tin <= 4.0))',
        'out.add("ed_within_4h", _pct(tin < 4.0))',
        k(KPIS, "four_hour"),
    ),
    m(
        "12 hours exactly counts as a 12-hour wait",
        "analysis/kpis.py",
        'out.add("ed_over_12h", np.count_nonzero(tin > 12.0) / days)',
        'out.add("ed_over_12h", np.count_nonzero(tin >= 12.0) / days)',
        k(KPIS, "twelve_hour"),
    ),
    m(
        "ED KPIs include warm-up arrivals",
        "analysis/kpis.py",
        'v = v[(v["arrival"] >= w) & (v["arrival"] < e)]\n    tin = ',
        'v = v[v["arrival"] < e]\n    tin = ',
        k(KPIS, "warm_up"),
    ),
]


def select(test: str) -> list[str]:
    """``file::-k::expr`` as pytest arguments."""
    path, _, expression = test.partition("::-k::")
    return [path, "-k", expression] if expression else [path]


def pytest_fails(args: list[str], src: Path, timeout_s: float) -> tuple[bool, str]:
    """Whether pytest fails on ``args`` with the copy at ``src`` first on the path; the first
    failing test (or why it could not tell)."""
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-rf", *args]
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s
        )
    except subprocess.TimeoutExpired:
        return True, f"timed out after {timeout_s:.0f} s"
    failed = [line[7:] for line in done.stdout.splitlines() if line.startswith("FAILED ")]
    if done.returncode == 5:  # no tests selected: the aim is wrong, not a catch
        return False, "no test selected"
    if done.returncode not in (0, 1):
        return True, f"pytest exit {done.returncode}: {done.stdout.strip().splitlines()[-1:]}"
    return done.returncode == 1, (failed[0].split(" - ")[0] if failed else "")


def run_mutant(mutant: Mutant, pristine: Path, work: Path, timeout_s: float) -> tuple[str, str]:
    target = work / "flowsim" / mutant.path
    shutil.copyfile(pristine / "flowsim" / mutant.path, target)
    code = target.read_text(encoding="utf-8")
    if code.count(mutant.old) != 1:
        return "snippet not found", f"{code.count(mutant.old)} matches in {mutant.path}"
    target.write_text(code.replace(mutant.old, mutant.new), encoding="utf-8")
    try:
        aimed_args = [a for test in mutant.aimed for a in select(test)]
        caught, why = pytest_fails(aimed_args, work, timeout_s)
        if caught:
            return "caught (aimed)", why
        caught, why_other = pytest_fails(FAST_SUITE, work, timeout_s)
        return ("caught (other)", why_other) if caught else ("survived", why)
    finally:
        shutil.copyfile(pristine / "flowsim" / mutant.path, target)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "-k", default="", help="only mutants whose name contains this (or any of a,b,c)"
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds per pytest run")
    args = parser.parse_args()
    wanted = [w.strip().lower() for w in args.k.split(",")]
    chosen = [mu for mu in MUTANTS if any(w in mu.name.lower() for w in wanted)]
    with tempfile.TemporaryDirectory(prefix="flowsim-mutants-") as tmp:
        pristine, work = Path(tmp) / "pristine", Path(tmp) / "work"
        for folder in (pristine, work):
            shutil.copytree(ROOT / "src" / "flowsim", folder / "flowsim")
        started = time.monotonic()
        broken, why = pytest_fails(FAST_SUITE, work, args.timeout)
        if broken:
            print(f"the unmutated code fails its own tests ({why}); fix that first")
            return 2
        rows = []
        for mutant in chosen:
            t0 = time.monotonic()
            verdict, why = run_mutant(mutant, pristine, work, args.timeout)
            rows.append((mutant, verdict, why))
            flag = " [survivor]" if mutant.survivor else ""
            print(f"{verdict:18} {time.monotonic() - t0:5.0f} s  {mutant.name}{flag}  {why}")
            sys.stdout.flush()
    print_table(rows, time.monotonic() - started)
    missed = [r for r in rows if r[0].survivor and r[1] != "caught (aimed)"]
    return 1 if missed else 0


def print_table(rows: list[tuple[Mutant, str, str]], seconds: float) -> None:
    print()
    print("| mutant | file | verdict | first failing test |\n|---|---|---|---|")
    for mutant, verdict, why in rows:
        name = mutant.name + (" (survivor)" if mutant.survivor else "")
        print(f"| {name} | {mutant.path} | {verdict} | {why} |")
    tried = [r for r in rows if r[1] != "snippet not found"]
    for label, group in (
        ("issue-13 survivors", [r for r in tried if r[0].survivor]),
        ("other pathway mutants", [r for r in tried if not r[0].survivor]),
        ("all", tried),
    ):
        aimed = sum(r[1] == "caught (aimed)" for r in group)
        caught = sum(r[1].startswith("caught") for r in group)
        n = len(group) or 1
        print(
            f"{label}: {caught}/{len(group)} caught by the fast suite ({100 * caught / n:.0f}%), "
            f"{aimed} by the test aimed at them"
        )
    missing = [r[0].name for r in rows if r[1] == "snippet not found"]
    if missing:
        print(f"snippet not found (code changed; update the mutant): {', '.join(missing)}")
    print(f"{seconds / 60:.1f} min")


if __name__ == "__main__":
    sys.exit(main())
