"""The STRESS-DES checklist (Monks et al. 2019, "Strengthening the reporting of empirical
simulation studies") filled in from the scenario and the run, for the report's appendix.

A learning set's result is only as credible as its reporting: STRESS-DES lists what a reader
needs to judge and reproduce a discrete-event simulation study. Most items follow from the
scenario and the run settings, so they are written here rather than by hand each time; the
items that need the study's own words (objectives, the change being tested) say so.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from typing import Any

from flowsim.scenario.schema import Scenario

__all__ = ["stress_des"]


def stress_des(
    scenario: Scenario, meta: Mapping[str, Any], changes: int | None = None
) -> list[tuple[str, str, str]]:
    """Rows ``(section, item, text)`` of the checklist for one run (or comparison)."""
    s = scenario
    reps = meta.get("replications", s.run.replications)
    horizon = meta.get("horizon_days", s.run.horizon_days)
    warm_up = meta.get("warm_up_days", s.run.warm_up_days)
    seed = meta.get("seed", s.run.seed)
    wards = ", ".join(f"{name} ({w.beds} beds)" for name, w in s.wards.items())
    people = sum(seg.people for place in s.population.places for seg in place.segments)
    change_text = (
        f"{changes} setting(s) differ from the scenario it extends (listed in 'What this "
        "scenario changes')."
        if changes
        else "The scenario as written; see its description."
    )
    warm = (
        "Starts with the warm_start census in AMU, AFU, wards and community services, then a "
        f"warm-up of {warm_up:g} days."
        if s.warm_start is not None
        else f"Starts empty; a warm-up of {warm_up:g} days is simulated and not measured "
        "(`flowsim warmup` recommends one by MSER-5)."
    )
    return [
        ("1 Objectives", "1.1 Purpose of the model", _own_words(s.description)),
        (
            "1 Objectives",
            "1.2 Model outputs",
            "ED 4-hour and 12-hour performance, ambulance handover delay, admissions, length of "
            "stay, G&A bed occupancy, delayed discharges and community waits, each as a mean "
            "with a 95% confidence interval over replications (all KPIs in the results tables).",
        ),
        ("1 Objectives", "1.3 Experimentation aims", change_text),
        (
            "2 Logic",
            "2.1 Base model overview",
            "Patients arise from the population by place, age band and frailty band (999 calls, "
            "walk-ins, GP referrals); UCR may see frail 999 callers at home; ED (handover, "
            "triage, assessment, treatment); SDEC; AMU and AFU; ward groups; discharge pathways "
            "P0-P3 into community services; virtual ward; readmissions.",
        ),
        (
            "2 Logic",
            "2.2 Base model logic",
            "A patient keeps each place until the next one is granted (blocking after service), "
            "so waits for community capacity propagate upstream to the wards, AMU, ED boarding "
            "and ambulance handover.",
        ),
        ("2 Logic", "2.3 Scenario logic", change_text),
        (
            "2 Logic",
            "2.4 Algorithms",
            "Non-homogeneous Poisson arrivals by inversion of the cumulative hourly rate; "
            "stays and durations sampled from the distributions named in the scenario.",
        ),
        (
            "2 Logic",
            "2.5 Components",
            f"Entities: patients ({people:,} residents). Resources: {s.ed.cubicles} ED "
            f"cubicles; ED clinicians by hour ({min(s.ed.clinicians_by_hour)}-"
            f"{max(s.ed.clinicians_by_hour)}); {s.sdec.chairs} SDEC chairs; {s.amu.beds} AMU "
            f"and {s.afu.beds} AFU beds; wards {wards}; {s.ucr.teams} UCR teams; community P1 "
            f"{s.community.p1.capacity}, P2 {s.community.p2.capacity}, P3 "
            f"{s.community.p3.capacity}, virtual ward {s.community.virtual_ward.capacity}. "
            "Queues: first come first served, ED by clinical priority.",
        ),
        (
            "3 Data",
            "3.1 Data sources",
            "Published sources cited per parameter in the scenario file (see 'Parameters and "
            "sources'); the domain brief's parameter table gives each with its confidence.",
        ),
        (
            "3 Data",
            "3.2 Pre-processing",
            "None in the run: parameters are read as written; calibration is documented in "
            "docs/calibration.md.",
        ),
        ("3 Data", "3.3 Input parameters", "Every setting: the resolved scenario.yaml."),
        (
            "3 Data",
            "3.4 Assumptions",
            "Parameters marked 'estimate' or confidence L are assumptions: test them with "
            "`flowsim sensitivity` before relying on a result that depends on them.",
        ),
        ("4 Experimentation", "4.1 Initialisation", warm),
        (
            "4 Experimentation",
            "4.2 Run length",
            f"{horizon:g} days measured after the warm-up, from {s.run.start_date}.",
        ),
        (
            "4 Experimentation",
            "4.3 Estimation approach",
            f"{reps} independent replications; Student-t 95% intervals over replications; "
            "comparisons are paired on common random numbers. `--replications auto` chooses "
            "the number by the method of Hoad, Robinson & Davies (2010).",
        ),
        (
            "5 Implementation",
            "5.1 Software",
            f"flowsim {meta.get('flowsim_version', '')} (Python {platform.python_version()}, "
            "SimPy, NumPy, pandas).",
        ),
        (
            "5 Implementation",
            "5.2 Random sampling",
            f"Seed {seed}; one PCG64 stream per stochastic quantity, seeded from (seed, "
            "replication, stream name), so results are identical on any number of workers.",
        ),
        (
            "5 Implementation",
            "5.3 Model execution",
            "Discrete-event simulation, next-event time advance; replications in parallel "
            "processes, each deterministic.",
        ),
        (
            "5 Implementation",
            "5.4 System specification",
            f"{platform.system()} {platform.machine()}; wall time "
            f"{meta.get('wall_seconds', '–')} s.",
        ),
        (
            "6 Code access",
            "6.1 Computer model sharing",
            "flowsim is open source; this report, the scenario.yaml beside it and the seed "
            "reproduce every number.",
        ),
    ]


def _own_words(description: str) -> str:
    text = description.strip()
    return text or "(not stated: give the scenario a description)"
