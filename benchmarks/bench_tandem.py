"""flowsim against a bare SimPy model of the same network, timed in one process run.

The network: ED 5 cubicles -> AMU 3 beds -> ward 10 beds, Poisson arrivals 0.85/h, exponential
stays with means 4.25 h, 2.55 h and 8.5 h, each patient keeping the cubicle/bed until the next is
free (blocking after service). flowsim is configured as that network through scenario data only
(`tandem_scenario`), so the comparison prices everything flowsim does per patient: named streams,
fates drawn at arrival, the event log, the full patient journey with its zero-length steps.

Timed: the bare model's run, and flowsim's `simulate()` on the scenario built beforehand (as in
bench_baseline.py; times in system are read from the log afterwards, off the clock). Reported as a
ratio of wall times measured back to back, because this machine is shared; ``--repeat`` runs the
pair several times, alternating, and the ratio of the best times is the figure (the one least
disturbed by other work), with every pair's own ratio printed too.
Usage: python benchmarks/bench_tandem.py [--patients 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from pathlib import Path

import numpy as np
import simpy

from flowsim.log import EventLog, Kind
from flowsim.model.build import simulate
from flowsim.scenario import apply_changes, load_scenario

ARRIVALS_PER_HOUR = 0.85
MEANS_HOURS = (4.25, 2.55, 8.5)
CAPACITIES = (5, 3, 10)
BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"


def bare_simpy(n_patients: int, seed: int = 1) -> list[float]:
    """The whole model in plain SimPy: times in system of the first ``n_patients``."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    ed, amu, ward = (simpy.Resource(env, capacity=c) for c in CAPACITIES)
    times: list[float] = []

    def patient(env: simpy.Environment):
        arrived = env.now
        cubicle = ed.request()
        yield cubicle
        yield env.timeout(rng.exponential(MEANS_HOURS[0]))
        bed = amu.request()
        yield bed
        ed.release(cubicle)
        yield env.timeout(rng.exponential(MEANS_HOURS[1]))
        ward_bed = ward.request()
        yield ward_bed
        amu.release(bed)
        yield env.timeout(rng.exponential(MEANS_HOURS[2]))
        ward.release(ward_bed)
        times.append(env.now - arrived)

    def arrivals(env: simpy.Environment):
        for _ in range(n_patients):
            yield env.timeout(rng.exponential(1 / ARRIVALS_PER_HOUR))
            env.process(patient(env))

    env.process(arrivals(env))
    env.run()
    return times


def tandem_scenario(days: float):
    """The baseline, reduced by scenario data alone to the three-stage tandem."""
    s = load_scenario(BASELINE)
    people = 1000
    segment = {
        "age_band": "18-64",
        "frailty": "fit",
        "people": people,
        "ambulance_per_person_year": 0.0,
        "walk_in_per_person_year": ARRIVALS_PER_HOUR * 24 * 365.25 / people,
        "gp_referral_per_person_year": 0.0,
    }
    fixed0 = {"dist": "fixed", "value": 0.0}
    by_band = lambda value: {"fit": value, "frail": value, "severe": value}  # noqa: E731
    return apply_changes(
        s,
        {
            "run.horizon_days": days,
            "run.warm_up_days": 0,
            "seasons": None,
            "pressure": None,
            "population.places": [{"name": "Tandem", "segments": [segment]}],
            "demand_profile": {"hourly": [1] * 24, "weekday": [1] * 7, "monthly": [1] * 12},
            "ucr.teams": 0,
            "ed.cubicles": CAPACITIES[0],
            "ed.clinicians_by_hour": [10_000] * 24,
            "ed.triage_minutes": fixed0,
            "ed.assessment_minutes": fixed0,
            "ed.handover_minutes": fixed0,
            "ed.treatment_hours": {"dist": "exponential", "mean": MEANS_HOURS[0]},
            "ed.corridor_boarding_after_hours": None,
            "ed.crowding": None,
            "ed.escalation.beds": 0,
            "ed.disposition": by_band(
                {"home": 0, "sdec": 0, "amu": 1.0, "afu": 0, "ward": 0, "virtual_ward": 0}
            ),
            "sdec.chairs": 0,
            "amu.beds": CAPACITIES[1],
            "amu.stay_hours": {"dist": "exponential", "mean": MEANS_HOURS[1]},
            "amu.discharge_share": by_band(0.0),
            "amu.turnaround_hours": 0.0,
            "amu.escalation.beds": 0,
            "afu.beds": 0,
            "wards": {
                "ward": {
                    "beds": CAPACITIES[2],
                    "los_days": by_band({"dist": "exponential", "mean": MEANS_HOURS[2] / 24}),
                    "death_probability": by_band(0.0),
                    "turnaround_hours": 0.0,
                }
            },
            "ward_routing": by_band({name: 0.0 for name in s.wards} | {"ward": 1.0}),
            "discharge.pathway": by_band({"P0": 1.0, "P1": 0, "P2": 0, "P3": 0}),
            "discharge.window_start_hour": 0,
            "discharge.window_end_hour": 24,
            "discharge.weekend_discharge_factor": 1.0,
            "discharge.p0_delay_hours": fixed0,
            "community.virtual_ward.step_down_share": by_band(0.0),
            "community.readmission.probability": {
                key: by_band(0.0) for key in s.community.readmission.probability
            },
        },
    )


def flowsim_times(log: EventLog) -> list[float]:
    """Times in system of the patients who left, in order of leaving."""
    ev = log.event_arrays()
    arrived = np.full(len(log.patients), np.nan)
    is_arrive = ev["kind"] == Kind.ARRIVE
    arrived[ev["patient"][is_arrive]] = ev["time"][is_arrive]
    is_depart = ev["kind"] == Kind.DEPART
    return (ev["time"][is_depart] - arrived[ev["patient"][is_depart]]).tolist()


def ci95(x: list[float], batches: int = 20) -> tuple[float, float]:
    """Mean and half-width from batch means (the times are autocorrelated)."""
    a = np.asarray(x[len(x) // 10 :])
    means = [b.mean() for b in np.array_split(a, batches)]
    return float(np.mean(means)), 2.09 * statistics.stdev(means) / np.sqrt(batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3, help="timed pairs, alternating (3)")
    args = parser.parse_args()
    n = args.patients
    days = n / ARRIVALS_PER_HOUR / 24
    scenario = tandem_scenario(days)

    t_bares, t_ourss = [], []
    for _ in range(args.repeat):
        gc.collect()
        t0 = time.perf_counter()
        bare = bare_simpy(n)
        t_bares.append(time.perf_counter() - t0)
        del bare
        gc.collect()
        t0 = time.perf_counter()
        log = simulate(scenario, 0)
        t_ourss.append(time.perf_counter() - t0)
        del log
    bare = bare_simpy(n)
    log = simulate(scenario, 0)
    ours = flowsim_times(log)
    t_bare, t_ours = min(t_bares), min(t_ourss)

    (m_bare, h_bare), (m_ours, h_ours) = ci95(bare), ci95(ours)
    print(f"tandem ED 5 -> AMU 3 -> ward 10, {n:,} patients ({days:,.0f} days)")
    print(f"  bare SimPy : {t_bare:6.2f} s  mean time in system {m_bare:5.2f} ± {h_bare:.2f} h")
    print(f"  flowsim    : {t_ours:6.2f} s  mean time in system {m_ours:5.2f} ± {h_ours:.2f} h")
    print(f"               ({len(ours):,} patients left, {len(log.events):,} events logged)")
    pairs = "  ".join(f"{o / b:.2f}x" for b, o in zip(t_bares, t_ourss, strict=True))
    print(f"  best of {args.repeat} each; ratio of each pair: {pairs}")
    print(f"  ratio flowsim / bare SimPy: {t_ours / t_bare:.2f}x (target <= 1.3x)")
    overlap = abs(m_bare - m_ours) <= h_bare + h_ours
    print(f"  means agree within their CIs: {'yes' if overlap else 'NO'}")


if __name__ == "__main__":
    main()
