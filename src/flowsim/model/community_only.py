"""Community only: P1-P3 fed by referrals, with their census and queue at time 0.

The model of a discharge-to-assess pathway on its own, as IPACS models one node: people ready
to leave hospital for the pathway are referred on each day at that day's rate (a Poisson number,
spread uniformly over the day), take a place if one is free and otherwise wait first come first
served, stay for a duration drawn from ``community.<p>.duration_days`` and leave. The section is
`flowsim.scenario.community_only`; nothing else of the scenario's hospital runs.

Each person is in the event log as any community patient after hospital is (``ARRIVE`` at
``gp_referral``: the log has no route for a referral from outside the model; ``QUEUE``,
``START`` and ``END`` at the pathway; ``DEPART`` to ``P1``..``P3``), so `flowsim.analysis`
reads occupancy and queues from it as from a whole-system run. Their patient rows are
placeholders (first population place, age 85+, frail, CFS 6, acuity 5): the mode has no
population. At time 0 the ``occupied`` take their places first, then the ``queued`` join the
line in front of any referral. The remaining stays of the ``occupied`` follow ``remaining_stay``
(`initial_remaining_days`), or, given ``elapsed_days``, are the rest of stays that have lasted
that long (`flowsim.model.warm_start.remaining_stays`).

Random numbers come from streams ``community_only/<p>/...`` (referral counts and times, the
stays of referrals, of the queue and the remaining stays of the census), so changing one
pathway's census or rule leaves its referrals, and every other pathway, unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Generator

import numpy as np

from flowsim.errors import ModelError
from flowsim.log import EventLog
from flowsim.model.kernel import NORMAL, URGENT, Unit, call_later, start
from flowsim.model.system import ARRIVE, DEPART, END, QUEUE, START, Patient, System, run_meta
from flowsim.model.warm_start import remaining_stays
from flowsim.random import Streams, sample
from flowsim.scenario.community_only import Referrals
from flowsim.scenario.distributions import _Dist as DistSpec
from flowsim.scenario.schema import AGE_BANDS, Scenario

__all__ = ["initial_remaining_days", "referral_days", "simulate"]

_ROUTE = "gp_referral"
_PLACE, _AGE_BAND, _FRAILTY, _CFS, _ACUITY = 0, AGE_BANDS.index("85+"), "frail", 6, 5
"""The placeholder patient row of everyone in this mode (it has no population)."""


def simulate(
    scenario: Scenario,
    replication: int = 0,
    *,
    seed: int | None = None,
    horizon_days: float | None = None,
    warm_up_days: float | None = None,
) -> EventLog:
    """Run one replication of the scenario's ``community_only`` pathways; return its log.

    As `flowsim.model.build.simulate`: the same (scenario, replication, seed) gives the same
    log, bit for bit, and ``None`` settings are the scenario's ``run`` settings.
    """
    section = scenario.community_only
    if section is None:
        raise ModelError(
            "the scenario has no community_only section: add one (see the scenario reference) "
            "or run the whole system with flowsim.model.build.simulate"
        )
    seed = scenario.run.seed if seed is None else seed
    horizon = scenario.run.horizon_days if horizon_days is None else horizon_days
    warm_up = scenario.run.warm_up_days if warm_up_days is None else warm_up_days
    end_hours = (warm_up + horizon) * 24.0
    streams = Streams(seed, replication)
    system = System(scenario, warm_up * 24.0, end_hours)
    env = system.env
    later: list[tuple[float, Generator]] = []
    for name, ref in section.pathways().items():
        unit: Unit = getattr(system.units, name)
        spec = getattr(scenario.community, name).duration_days
        at_zero, referred = _pathway(system, streams, name, unit, spec, ref, section.remaining_stay)
        for journey in at_zero:
            call_later(env, 0.0, [lambda _e, j=journey: start(env, j)], URGENT)
        later += referred
    later.sort(key=lambda x: x[0])
    for t_hours, journey in later:
        call_later(env, t_hours, [lambda _e, j=journey: start(env, j)], NORMAL)
    env.run(until=end_hours)
    system.log.meta.update(
        run_meta(scenario, seed, replication, horizon, warm_up),
        mode="community_only",
        remaining_stay=section.remaining_stay,
    )
    return system.log


def _pathway(
    system: System,
    streams: Streams,
    name: str,
    unit: Unit,
    spec: DistSpec,
    ref: Referrals,
    rule: str,
) -> tuple[list[Generator], list[tuple[float, Generator]]]:
    """The journeys of one pathway: those at time 0 (census, then queue) and the referrals."""
    end_days = system.end_hours / 24.0
    stream = f"community_only/{name}"
    rng = streams.generator(f"{stream}/remaining")
    if ref.elapsed_days is None:
        remaining = initial_remaining_days(spec, rule, rng, ref.occupied)
    else:
        elapsed = sample(ref.elapsed_days, rng, ref.occupied)
        remaining = remaining_stays(spec, rng, ref.occupied, elapsed)
    queued = sample(spec, streams.generator(f"{stream}/queued_days"), ref.queued)
    times = referral_days(ref, end_days, streams.generator(f"{stream}/referrals"))
    stays = sample(spec, streams.generator(f"{stream}/referral_days"), len(times))
    outcome = system.code[name.upper()]
    at_zero = [_journey(system, unit, days, outcome) for days in (*remaining, *queued)]
    referred = [
        (t * 24.0, _journey(system, unit, days, outcome))
        for t, days in zip(times.tolist(), stays.tolist(), strict=True)
    ]
    return at_zero, referred


def initial_remaining_days(
    spec: DistSpec, rule: str, rng: np.random.Generator, n: int
) -> np.ndarray:
    """What is left, in days, of the stays of ``n`` people in place at time 0.

    ``length_biased``: the stay in progress of a stationary pathway (`warm_start`'s rule: drawn
    in proportion to its length, a uniform share left; mean E[S²]/2E[S]). ``uniform``: IPACS's
    rule, uniform between 1 day and a stay S drawn as for anyone (S itself when under a day);
    its mean, about (1 + E[S])/2, is shorter, so the census empties sooner.
    """
    if rule == "length_biased":
        return remaining_stays(spec, rng, n, None)
    if rule == "uniform":
        stays = sample(spec, rng, n)
        return rng.uniform(np.minimum(1.0, stays), stays)
    raise ModelError(f"community_only.remaining_stay: unknown rule {rule!r}")  # pragma: no cover


def referral_days(ref: Referrals, end_days: float, rng: np.random.Generator) -> np.ndarray:
    """Referral times in days from time 0, sorted: day d's Poisson count, uniform within it."""
    days = math.ceil(end_days)
    rates = np.asarray(ref.referrals_per_day, dtype=float)
    if ref.repeat:
        rates = np.resize(rates, days)
    elif len(rates) < days:
        raise ModelError(
            f"community_only: referrals_per_day gives {len(rates)} days, the run lasts {days}; "
            "give a rate for every day, run fewer days or set repeat: true"
        )
    counts = rng.poisson(rates[:days])
    day_of = np.repeat(np.arange(days, dtype=float), counts)
    times = np.sort(day_of + rng.uniform(size=len(day_of)))
    return times[times < end_days]


def _journey(system: System, unit: Unit, days: float, outcome: int) -> Generator:
    pid = system.next_id
    system.next_id += 1
    p = Patient(pid, _PLACE, _AGE_BAND, _FRAILTY, _ROUTE, None)  # type: ignore[arg-type]
    return _stay(system, p, unit, days, outcome)


def _stay(system: System, p: Patient, unit: Unit, days: float, outcome: int) -> Generator:
    """Referred, wait for a place, hold it for ``days``, leave."""
    record = system.record
    system.register(p, _CFS, _ACUITY)
    record(p.id, ARRIVE, system.code[_ROUTE])
    record(p.id, QUEUE, unit.code)
    place = unit.request()
    if place is not None:
        yield place
    record(p.id, START, unit.code)
    yield days * 24.0
    unit.leave()
    record(p.id, END, unit.code)
    record(p.id, DEPART, outcome)
