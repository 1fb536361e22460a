"""Patients who come back: readmissions within the window, and anyone else re-presenting.

A patient who leaves (home from ED, home from AMU or AFU, or by a discharge pathway) returns
within ``community.readmission.within_days`` with the probability of what they left after and
their frailty band, raised by the odds ratio of a pushed discharge (pressure.md L6). A returning
patient, and a virtual-ward patient admitted after all or a leaver re-attending ED, is a new
arrival of the same place, age and frailty, with a fate of their own.

Those fates cannot be drawn with the arrivals (nobody knows in advance how many will come back),
so they are drawn in batches from streams named ``readmission/<frailty>/<route>/batch<k>``, the
k-th batch of a (frailty, route) taken when the one before runs out: a readmission's fate
depends only on how many readmissions of its kind came before it.

The journey a returning patient starts is handed in by `flowsim.model.build` (the journey
itself calls into this module, which therefore cannot import it).
"""

from __future__ import annotations

from collections.abc import Callable, Generator

from flowsim.model.fate import Fate, SeasonalFates, draw_fates
from flowsim.model.kernel import URGENT, call_later, start
from flowsim.model.system import Patient, System
from flowsim.random import Streams
from flowsim.scenario.schema import FRAILTY_BANDS, Scenario

Journey = Callable[[System, Patient], Generator[object, None, None]]

BATCH = 512
"""Readmission fates drawn at a time, per (frailty, route)."""


class Readmissions:
    """Who may come back, and the fates they come back with, in one replication."""

    __slots__ = ("_batches", "_fates", "_seasonal", "journey", "probability", "streams")

    def __init__(self, scenario: Scenario, streams: Streams, journey: Journey) -> None:
        self.streams = streams
        self.journey = journey
        self.probability = {
            (after, band): by_band.get(band)
            for after, by_band in scenario.community.readmission.probability.items()
            for band in FRAILTY_BANDS
        }
        """Chance of a return within the window, by (what the patient left after, frailty)."""
        self._fates: dict[tuple[str, str], list[Fate]] = {}
        self._batches: dict[tuple[str, str], int] = {}
        self._seasonal = SeasonalFates(scenario)

    def fate(self, system: System, frailty: str, route: str) -> Fate:
        """The next fate of a returning (frailty, route), with the month it arrives in."""
        key = (frailty, route)
        queue = self._fates.get(key)
        if not queue:
            drawn = self._batches.get(key, 0)
            batch = draw_fates(
                system.scenario,
                self.streams,
                f"readmission/{frailty}/{route}/batch{drawn}",
                frailty,
                route,
                BATCH,
            )
            self._batches[key] = drawn + 1
            batch.reverse()
            queue = self._fates[key] = batch
        return self.in_season(system, queue.pop(), frailty)

    def in_season(self, system: System, fate: Fate, frailty: str) -> Fate:
        """``fate`` (drawn before its arrival time was known) in the month it arrives in."""
        if not self._seasonal.enabled:
            return fate
        return self._seasonal(fate, frailty, system.calendar.month(system.env.now))


def maybe_readmit(system: System, p: Patient, after: str) -> None:
    """Schedule a return within the readmission window, by pathway and frailty band."""
    probability = system.readmissions.probability.get((after, p.frailty))
    if probability is None:
        return
    push = system.pressure.config.discharge_push
    if push is not None and p.id in system.pressure.pushed:
        probability = with_odds_ratio(probability, push.readmission_odds_ratio)
    if p.fate.readmit_u >= probability:
        return
    delay_hours = p.fate.readmit_delay_u * system.scenario.community.readmission.within_days * 24.0
    call_later(system.env, delay_hours, [lambda _event: re_present(system, p, p.route, True)])


def re_present(system: System, p: Patient, route: str, at_once: bool = False) -> None:
    """Bring a patient back as a new arrival by ``route``.

    ``at_once``: start the journey now, for a caller with nothing else to do at this instant
    (a callback of its own); otherwise it starts from an urgent event, as a SimPy process.
    """
    fate = system.readmissions.fate(system, p.frailty, route)
    arrive(system, p.place, p.age_band, p.frailty, route, fate, p.id, at_once)


def arrive(
    system: System,
    place: int,
    age_band: int,
    frailty: str,
    route: str,
    fate: Fate,
    readmission_of: int,
    at_once: bool,
) -> None:
    """A returning patient's arrival now (`re_present`; a census's returns,
    `flowsim.model.warm_start`, whose stay before is not in this run: ``readmission_of`` -1)."""
    new = Patient(system.next_id, place, age_band, frailty, route, fate, readmission_of)
    system.next_id += 1
    system.register(new, fate.cfs, fate.acuity)
    env, journey = system.env, system.readmissions.journey
    if at_once:
        start(env, journey(system, new))
    else:  # as SimPy starts a process: an urgent event at this instant
        call_later(env, 0.0, [lambda _event: start(env, journey(system, new))], URGENT)


def with_odds_ratio(probability: float, odds_ratio: float) -> float:
    """A probability with its odds multiplied (pressure.md L6 reports odds ratios)."""
    if probability >= 1.0 or odds_ratio == 1.0:
        return probability
    odds = probability / (1.0 - probability) * odds_ratio
    return odds / (1.0 + odds)
