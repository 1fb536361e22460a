"""Saved runs whose event logs must not change: the behaviour a refactor has to keep.

Each case is a scenario frozen as resolved YAML in ``tests/golden/scenarios/`` (so later changes to
the baseline file do not move it) and a (seed, replication, horizon, warm-up). The digest hashes
every event as (time, patient, kind, place *name*), every patient row and every capacity change,
so adding a place to the log does not change the digest of a run that never visits it.

Regenerate only when behaviour is meant to change, and say so in the commit:
``.venv/bin/python tests/golden/logs.py --write``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"
DIGESTS = HERE / "digests.json"


@dataclass(frozen=True)
class Case:
    name: str
    scenario: str
    seed: int
    replication: int
    horizon_days: float
    warm_up_days: float


CASES = [
    *(Case(f"small_s{s}_r{r}", "small", s, r, 30, 10) for s in (1, 7) for r in (0, 1)),
    Case("baseline_60d", "baseline", 20261128, 0, 60, 0),
    Case("tandem", "tandem", 3, 0, 200, 20),
    Case("handover_limit", "handover_limit", 5, 0, 30, 10),
    Case("corridor_boarding", "corridor_boarding", 5, 0, 30, 10),
    Case("warm_start", "warm_start", 11, 0, 20, 2),
    Case("escalation", "escalation", 13, 0, 30, 10),
    Case("ties_fixed", "ties_fixed", 17, 0, 20, 5),
]


def digest(log) -> str:
    """SHA-256 of the log in a form independent of place numbering."""
    h = hashlib.sha256()
    ev = log.event_arrays()
    names = np.asarray(log.places, dtype=object)
    h.update(ev["time"].astype("<f8").tobytes())
    h.update(ev["patient"].astype("<i8").tobytes())
    h.update(ev["kind"].astype("<i1").tobytes())
    h.update("\x00".join(names[ev["place"]].tolist()).encode())
    pa = log.patient_arrays()
    for key in sorted(pa):
        h.update(key.encode())
        h.update(pa[key].astype("<i8").tobytes())
    cap = log.capacity_arrays()
    h.update(cap["time"].astype("<f8").tobytes())
    h.update("\x00".join(names[cap["place"]].tolist()).encode())
    h.update(cap["capacity"].astype("<i8").tobytes())
    return h.hexdigest()


def run_case(case: Case) -> str:
    from flowsim.model.build import simulate
    from flowsim.scenario import load_scenario

    scenario = load_scenario(SCENARIOS / f"{case.scenario}.yaml")
    log = simulate(
        scenario,
        case.replication,
        seed=case.seed,
        horizon_days=case.horizon_days,
        warm_up_days=case.warm_up_days,
    )
    return digest(log)


def _freeze_scenarios() -> None:
    """Write the scenarios of the cases from today's helpers (only with --freeze)."""
    root = HERE.parents[1]
    sys.path[:0] = [str(HERE.parent), str(root / "benchmarks")]
    import yaml
    from bench_tandem import tandem_scenario

    from flowsim.analysis.warmup import snapshot
    from flowsim.model.build import simulate
    from flowsim.scenario import apply_changes, load_scenario
    from helpers.model_helpers import small_scenario

    base = load_scenario(root / "scenarios" / "baseline.yaml")
    small = small_scenario(horizon_days=30, warm_up_days=10)
    cold = small_scenario(horizon_days=60, warm_up_days=0)
    shot = snapshot(simulate(cold, 0))
    fixed = {"dist": "fixed", "value": 1.0}
    variants = {
        "small": small,
        "baseline": base,
        "tandem": tandem_scenario(200),
        "handover_limit": apply_changes(small, {"ed.max_handover_minutes": 30}),
        "corridor_boarding": apply_changes(small, {"ed.corridor_boarding_after_hours": 1.0}),
        "warm_start": apply_changes(cold, {"warm_start": shot.warm_start}),
        "escalation": apply_changes(
            small,
            {"amu.escalation.open_when_waiting": 1, "amu.escalation.open_after_hours": 1},
        ),
        "ties_fixed": apply_changes(
            small,
            {
                "ed.triage_minutes": {"dist": "fixed", "value": 10.0},
                "ed.assessment_minutes": {"dist": "fixed", "value": 20.0},
                "ed.treatment_hours": fixed,
                "amu.stay_hours": {"dist": "fixed", "value": 12.0},
            },
        ),
    }
    SCENARIOS.mkdir(exist_ok=True)
    for name, sc in variants.items():
        data = sc.model_dump(mode="json", exclude_none=False)
        (SCENARIOS / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def main() -> None:
    if "--freeze" in sys.argv:
        _freeze_scenarios()
    digests = {c.name: run_case(c) for c in CASES}
    if "--write" in sys.argv:
        DIGESTS.write_text(json.dumps(digests, indent=2) + "\n")
    print(json.dumps(digests, indent=2))


if __name__ == "__main__":
    main()
