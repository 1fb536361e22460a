"""Warm start: patients already in AMU, AFU, the wards and community services at time 0.

A run from empty needs weeks before the wards fill and months before community caseloads do;
a run that starts from a census needs only a week or two to settle. Each patient placed here is
drawn like any other (their fate from a stream of their own) and begins in the unit with the
rest of their stay to go. Who they are depends on ``warm_start.mix``:

- ``in_progress`` (what a census from `flowsim.analysis.warmup.snapshot` says): as a patient
  found in the unit would be (`_as_found`): a stream's share is its arrivals times how long its
  stays last or, given the time already spent, times the chance its stays last that long; with
  the census's counts by frailty band, the bands follow them. A stay in treatment that has
  outlasted the first draws is given the rest of a long one (`_from_the_tail`);
- ``arrivals`` (the default, as before December 2026): in proportion to the arrival streams that
  can reach the unit; a ward patient whose elapsed time is beyond every draw has finished
  treatment (medically optimised, waiting for their discharge pathway), and anyone else that
  far in the tail is given the remaining time of a stay in progress.

With ``elapsed_days`` given, the stay is drawn from the unit's distribution given that it has
lasted that long (rejection sampling); without it, the remaining stay is that of a stay in
progress in steady state: a stay drawn in proportion to its length (the longer a stay, the
likelier it is in progress at a given moment), of which a uniform share remains.

A ward's ``delayed`` patients (medically optimised, waiting to leave; `_delayed`) start with
their treatment over, on their own pathway: the ``referred`` queue for a place at once, the
``assessing`` have the rest of an assessment in progress to go. They are placed first, so they
hold beds: in a census they came first. Places a census had open beyond the base (``opened``:
escalation beds, the full-capacity protocol) are opened at time 0 by `flowsim.model.build`.

Their random numbers come from streams named ``warm_start/<unit>/...``, so a warm start leaves
every other stream, and so common random numbers between scenarios, untouched.

What each has already spent is written to ``EventLog.meta["warm_start"]`` (`ELAPSED_FIELDS`,
one list per field, one entry per placed patient), so an analysis can count the whole stay of a
patient who was already in hospital at time 0 (`flowsim.analysis.kpis` counts lengths of stay
over discharges). The events stay as they were (a warm-start patient arrives at time 0): the
meta is not part of the event log, so logs and their digests are unchanged.

- ``elapsed_hours``: time already spent in the census unit: the census's ``elapsed_days`` as
  drawn, or, without them, the part already gone of the length-biased stay in progress;
- ``spell_elapsed_hours``: time already spent in hospital (AMU, AFU and wards; 0 in a community
  service). A ward census counts time on the ward only, so the AMU or AFU stay before it is the
  patient's own drawn one (``amu_hours``/``afu_hours`` of their fate: AFU if their disposition
  is AFU, none if it is straight to a ward, else AMU): an estimate, without any wait for the
  ward bed (which the census does not know).
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np

from flowsim.model import community, readmission, wards
from flowsim.model.arrivals import arrival_streams
from flowsim.model.fate import draw_fate_table, draw_fates
from flowsim.model.kernel import URGENT, call_later, start
from flowsim.model.movement import leave
from flowsim.model.patient import admit
from flowsim.model.system import ARRIVE, DEPART, QUEUE, START, Patient, System
from flowsim.random import Streams, sample
from flowsim.scenario.distributions import _Dist as DistSpec
from flowsim.scenario.schema import (
    AGE_BANDS,
    DISPOSITIONS,
    FRAILTY_BANDS,
    PATHWAYS,
    WarmStartDelayed,
    WarmStartReturns,
    WarmStartUnit,
)
from flowsim.scenario.units import is_ward, ward_name

_CANDIDATES = 32
"""Draws per patient for the length-biased and the conditional stays."""
_TAIL_CANDIDATES = 4096
"""Further draws for a census stay that has outlasted the first ``_CANDIDATES`` (a ward stay
in treatment for months): 1 in 4,096 resolves the tail of the longest stays."""

ELAPSED_FIELDS = ("patient", "unit", "elapsed_hours", "spell_elapsed_hours")
"""Lists of ``EventLog.meta["warm_start"]``: who was placed at time 0, where, and how long they
had already been there and in hospital (see the module docstring)."""


def _ward(unit: str) -> str:
    name = ward_name(unit)
    assert name is not None, unit
    return name


def place_patients(system: System, streams: Streams) -> None:
    """Schedule every warm-start patient to take their place at time 0 (before any arrival)."""
    ws = system.scenario.warm_start
    if ws is None:
        return
    carried: dict[str, list] = {name: [] for name in ELAPSED_FIELDS}
    for unit, spec in ws.units().items():
        for generator in _patients(system, streams, unit, spec, carried):
            call_later(system.env, 0.0, [lambda _e, g=generator: start(system.env, g)], URGENT)
    system.log.meta["warm_start"] = carried
    for group in ws.returns:
        _returns(system, streams, group)


def _returns(system: System, streams: Streams, group: WarmStartReturns) -> None:
    """The census's returns of one arrival stream, each at its time, with a fate of its own
    (from ``warm_start/returns/...``, so every other stream is untouched), in its season."""
    s = system.scenario
    name = f"warm_start/returns/{group.place}/{group.age_band}/{group.frailty}/{group.route}"
    fates = draw_fates(s, streams, name, group.frailty, group.route, len(group.after_hours))
    place = [p.name for p in s.population.places].index(group.place)
    age = AGE_BANDS.index(group.age_band)

    def back(fate: object) -> None:
        fate = system.readmissions.in_season(system, fate, group.frailty)
        readmission.arrive(system, place, age, group.frailty, group.route, fate, -1, True)

    for hours, fate in zip(group.after_hours, fates, strict=True):
        call_later(system.env, float(hours), [lambda _e, f=fate: back(f)])


def opened(scenario: object) -> set[tuple[str, str]]:
    """(unit, kind) of the places beyond the base a census had open (``opened``), for the
    escalation rules to open at time 0 (`flowsim.model.build`)."""
    ws = scenario.warm_start  # type: ignore[attr-defined]
    if ws is None:
        return set()
    return {(unit, kind) for unit, spec in ws.units().items() for kind in spec.opened}


def _patients(
    system: System,
    streams: Streams,
    unit: str,
    spec: WarmStartUnit,
    carried: dict[str, list],
) -> list[Generator]:
    sources = arrival_streams(system.scenario)
    out = []
    for pathway, waiting in spec.delayed.items():  # first: they came first, and hold their beds
        if waiting.patients > 0:
            out += _delayed(system, streams, unit, sources, pathway, waiting, carried)
    return out + _in_treatment(system, streams, unit, sources, spec, carried)


def _in_treatment(
    system: System,
    streams: Streams,
    unit: str,
    sources: list,
    spec: WarmStartUnit,
    carried: dict[str, list],
) -> list[Generator]:
    s = system.scenario
    n = spec.in_treatment
    weights = _arriving(system, unit, sources)
    if s.warm_start is not None and s.warm_start.mix == "in_progress":
        return _as_found(system, streams, unit, spec, sources, weights, carried)
    who = streams.generator(f"warm_start/{unit}/who").choice(
        len(sources), size=n, p=weights / weights.sum()
    )
    out = []
    for k in np.unique(who):
        st, count = sources[k], int(np.sum(who == k))
        band = FRAILTY_BANDS[st.frailty]
        rng = streams.generator(f"warm_start/{unit}/{st.name}/remaining")
        elapsed = None
        if spec.elapsed_days is not None:
            elapsed = sample(spec.elapsed_days, rng, count) * _stay(system, unit, band)[1]
        name = f"warm_start/{unit}/{st.name}"
        out += _place(system, streams, unit, st, name, count, rng, elapsed, carried, tail=False)
    return out


def _arriving(system: System, unit: str, sources: list) -> np.ndarray:
    """Each arrival stream's rate into ``unit`` (every stream's rate if none reaches it)."""
    weights = np.array([st.rate_per_hour * _reaches(system, unit, st) for st in sources])
    if weights.sum() <= 0:
        weights = np.array([st.rate_per_hour for st in sources])
    return weights


def _as_found(
    system: System,
    streams: Streams,
    unit: str,
    spec: WarmStartUnit,
    sources: list,
    weights: np.ndarray,
    carried: dict[str, list],
) -> list[Generator]:
    """``warm_start.mix: in_progress``: who each patient is, as a patient found in the unit
    would be. In a steady state the chance that someone in the unit came by stream k is
    proportional to k's arrivals times how long its stays last, and, given they have been
    there ``e`` days, to its arrivals times the chance a stay lasts that long, ``S_k(e)``:
    frail patients' long stays make up more of a ward than of its admissions (the baseline's
    census day: 44% of ward patients frail or severely frail, 24% drawn in proportion to
    arrivals)."""
    n = spec.in_treatment
    if n <= 0:
        return []
    rng = streams.generator(f"warm_start/{unit}/found")
    bands = sorted({st.frailty for st in sources})
    pools, per_day = {}, 1.0
    for b in bands:
        stay_spec, per_day = _stay(system, unit, FRAILTY_BANDS[b])
        pools[b] = np.sort(sample(stay_spec, rng, _TAIL_CANDIDATES))
    of_band = np.array([st.frailty for st in sources])
    counted = spec.frailty
    if counted is not None:  # a band's census count = its admissions x its mean stay
        admitted = {b: counted.get(FRAILTY_BANDS[b], 0) / max(pools[b].mean(), 1e-9) for b in bands}
    else:
        admitted = {b: weights[of_band == b].sum() for b in bands}
    elapsed = None if spec.elapsed_days is None else _census_elapsed(spec, rng, n) * per_day
    if elapsed is None:
        lasting = np.array([[pools[b].mean()] for b in bands])
    else:
        lasting = np.array(
            [
                1.0 - np.searchsorted(pools[b], elapsed, side="right") / _TAIL_CANDIDATES
                for b in bands
            ]
        )
    chance = np.array([[admitted[b]] for b in bands]) * np.maximum(lasting, 0.5 / _TAIL_CANDIDATES)
    who = _streams_of(np.asarray(bands)[_choose(chance, rng, n)], sources, weights, rng)
    out = []
    for k in np.unique(who):
        st, mine = sources[k], np.flatnonzero(who == k)
        name = f"warm_start/{unit}/found/{st.name}"
        own = streams.generator(f"{name}/remaining")
        given = None if elapsed is None else elapsed[mine]
        out += _place(system, streams, unit, st, name, len(mine), own, given, carried, tail=True)
    return out


def _streams_of(
    bands: np.ndarray, sources: list, weights: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """For each patient of frailty band ``bands[i]``, the arrival stream they came by: one of
    that band's streams, in proportion to ``weights``."""
    of_band = np.array([st.frailty for st in sources])
    who = np.empty(len(bands), dtype=int)
    for b in np.unique(bands):
        mine = np.flatnonzero(bands == b)
        within = np.where(of_band == b, weights, 0.0)
        within = within if within.sum() > 0 else (of_band == b).astype(float)
        who[mine] = rng.choice(len(sources), size=len(mine), p=within / within.sum())
    return who


def _choose(chance: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """Row index drawn for each of ``n`` columns of ``chance`` (rows x 1 or rows x n)."""
    chance = np.where(chance.sum(axis=0) > 0, chance, 1.0)
    cumulative = np.cumsum(chance / chance.sum(axis=0), axis=0)
    return np.minimum((cumulative < rng.uniform(size=n)).sum(axis=0), len(chance) - 1)


def _census_elapsed(spec: WarmStartUnit, rng: np.random.Generator, n: int) -> np.ndarray:
    """The census's elapsed days of the ``n`` patients in treatment: its own list when it has
    one value per patient (a census names each), else drawn from the distribution."""
    given = spec.elapsed_days
    values = getattr(given, "values", None)
    if values is not None and len(values) == n and getattr(given, "weights", None) is None:
        return np.asarray(values, dtype=float)
    return sample(given, rng, n)


def _place(
    system: System,
    streams: Streams,
    unit: str,
    st: object,
    name: str,
    count: int,
    rng: np.random.Generator,
    elapsed: np.ndarray | None,
    carried: dict[str, list],
    *,
    tail: bool,
) -> list[Generator]:
    """Patients of one arrival stream placed in ``unit`` at time 0, each with the rest of a
    stay in progress (given ``elapsed``, in the stay's unit, when the census has it)."""
    s = system.scenario
    band = FRAILTY_BANDS[st.frailty]  # type: ignore[attr-defined]
    table = draw_fate_table(s, streams, name, band, st.route, count)  # type: ignore[attr-defined]
    stay_spec, per_day = _stay(system, unit, band)
    remaining, gone = stays_in_progress(
        stay_spec, rng, count, elapsed, done_when_beyond=is_ward(unit), tail=tail
    )
    if unit == "afu":  # found in progress, the cap is on the whole stay
        cap = np.maximum(s.afu.max_stay_hours - gone, 0.0) if tail else s.afu.max_stay_hours
        remaining = np.minimum(remaining, cap)
    gone_hours = gone * (24.0 / per_day)
    out = []
    for i in range(count):
        p = _new_patient(system, st, band, table.fate(i), unit, float(gone_hours[i]), carried)
        out.append(_journey(system, p, unit, float(remaining[i])))
    return out


def _new_patient(
    system: System,
    st: object,
    band: str,
    fate: object,
    unit: str,
    gone_hours: float,
    carried: dict[str, list],
) -> Patient:
    """A patient of stream ``st`` placed in ``unit``, what they had spent carried in the meta."""
    p = Patient(system.next_id, st.place_index, st.age_band, band, st.route, fate)  # type: ignore[attr-defined]
    system.next_id += 1
    carried["patient"].append(p.id)
    carried["unit"].append(unit)
    carried["elapsed_hours"].append(gone_hours)
    carried["spell_elapsed_hours"].append(_in_hospital(unit, fate, gone_hours))
    return p


def _delayed(
    system: System,
    streams: Streams,
    unit: str,
    sources: list,
    pathway: str,
    waiting: WarmStartDelayed,
    carried: dict[str, list],
) -> list[Generator]:
    """Ward patients already medically optimised, waiting to leave on ``pathway``: chosen in
    proportion to the streams that reach the ward and take that pathway, with their treatment
    over; the ``referred`` go straight to the pathway's queue, the ``assessing`` have the rest
    of an assessment in progress to go (length-biased, as a stay without a census)."""
    s = system.scenario
    name = f"warm_start/{unit}/delayed/{pathway}"
    n = waiting.patients
    reach = _arriving(system, unit, sources)
    share = np.array(
        [s.discharge.pathway.get(FRAILTY_BANDS[st.frailty]).get(pathway, 0.0) for st in sources]
    )
    weights = reach * share
    if weights.sum() <= 0:
        weights = reach
    rng_who = streams.generator(f"{name}/who")
    if waiting.frailty is None:
        who = rng_who.choice(len(sources), size=n, p=weights / weights.sum())
    else:  # the census's bands; each patient's stream within their band as above
        counts = {FRAILTY_BANDS.index(b): k for b, k in waiting.frailty.items()}
        bands = rng_who.permutation(np.repeat(list(counts), list(counts.values())))
        who = _streams_of(bands, sources, weights, rng_who)
    index = PATHWAYS.index(pathway)
    ward = system.ward_names.index(_ward(unit))
    out = []
    for k in np.unique(who):
        st, placed = sources[k], np.flatnonzero(who == k)
        count = len(placed)
        band = FRAILTY_BANDS[st.frailty]
        table = draw_fate_table(s, streams, f"{name}/{st.name}", band, st.route, count)
        rng = streams.generator(f"{name}/{st.name}/remaining")
        stay_spec, _ = _stay(system, unit, band)
        on_ward = sample(waiting.elapsed_days or stay_spec, rng, count)
        left = _assessment_left(s, pathway, rng, count)
        left[placed < waiting.referred] = 0.0
        community = getattr(s.community, pathway.lower(), None)
        package_days = sample(community.duration_days, rng, count) if community else np.zeros(count)
        for i in range(count):
            f = table.fate(i)
            wait = {"p0_delay_hours": left[i]} if pathway == "P0" else {"referral_days": left[i]}
            fate = f._replace(
                ward=ward,
                ward_los_days=0.0,
                pathway=index,
                death_u=1.0,
                step_down_u=1.0,
                community_days=float(package_days[i]),
                **{key: float(v) for key, v in wait.items()},
            )
            p = _new_patient(system, st, band, fate, unit, float(on_ward[i]) * 24.0, carried)
            system.register(p, fate.cfs, fate.acuity)
            out.append(_from(system, p, unit, 0.0))
    return out


def _assessment_left(s: object, pathway: str, rng: np.random.Generator, n: int) -> np.ndarray:
    """What is left of ``n`` assessments in progress before discharge on ``pathway``: days of
    ``referral_days`` for P1-P3, hours of ``p0_delay_hours`` for P0 (none if not given)."""
    discharge = s.discharge  # type: ignore[attr-defined]
    spec = discharge.p0_delay_hours if pathway == "P0" else discharge.referral_days.get(pathway)
    if spec is None:
        return np.zeros(n)
    return stays_in_progress(spec, rng, n, None)[0]


_AFU = DISPOSITIONS.index("afu")
_WARD = DISPOSITIONS.index("ward")


def _in_hospital(unit: str, fate: object, in_unit_hours: float) -> float:
    """Hours a patient placed in ``unit`` has already been in hospital (see the module
    docstring: a ward patient's AMU or AFU stay before the ward is their own drawn one)."""
    if unit in ("amu", "afu"):
        return in_unit_hours
    if not is_ward(unit):
        return 0.0
    disposition = fate.disposition  # type: ignore[attr-defined]
    if disposition == _WARD:
        return in_unit_hours
    before = fate.afu_hours if disposition == _AFU else fate.amu_hours  # type: ignore[attr-defined]
    return in_unit_hours + float(before)


def remaining_stays(
    spec: DistSpec,
    rng: np.random.Generator,
    n: int,
    elapsed: np.ndarray | None,
    *,
    done_when_beyond: bool = False,
) -> np.ndarray:
    """What is left of ``n`` stays in progress (see the module docstring), in the spec's unit.

    A stay that has already lasted longer than every draw is ``done_when_beyond`` (0 left: a
    ward patient past any treatment time is waiting to leave) or else given the remaining time
    of a stay in progress, as without a census (a long community package is still going on).
    """
    return stays_in_progress(spec, rng, n, elapsed, done_when_beyond=done_when_beyond)[0]


def stays_in_progress(
    spec: DistSpec,
    rng: np.random.Generator,
    n: int,
    elapsed: np.ndarray | None,
    *,
    done_when_beyond: bool = False,
    tail: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """`remaining_stays` and what has already gone of each stay, in the spec's unit, from
    the same random numbers: ``elapsed`` when given, else the part of the length-biased stay
    in progress already spent. With ``tail``, a stay that has lasted longer than every draw
    is given the rest of one from a larger batch (`_from_the_tail`)."""
    draws = sample(spec, rng, n * _CANDIDATES).reshape(n, _CANDIDATES)
    rows = np.arange(n)
    weights = np.cumsum(draws, axis=1)
    u = rng.uniform(size=(n, 1)) * weights[:, -1:]
    chosen = np.minimum((weights < u).sum(axis=1), _CANDIDATES - 1)
    in_progress = rng.uniform(size=n) * draws[rows, chosen]
    if elapsed is None:
        return in_progress, draws[rows, chosen] - in_progress
    longer = draws > elapsed[:, None]
    left = draws[rows, longer.argmax(axis=1)] - elapsed
    if tail:
        return _from_the_tail(spec, rng, elapsed, left, longer.any(axis=1), in_progress)
    beyond = 0.0 if done_when_beyond else in_progress
    return np.where(longer.any(axis=1), left, beyond), np.asarray(elapsed, dtype=float)


def _from_the_tail(
    spec: DistSpec,
    rng: np.random.Generator,
    elapsed: np.ndarray,
    left: np.ndarray,
    found: np.ndarray,
    in_progress: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``left`` where a first draw outlasted the elapsed time; elsewhere the rest of a stay
    drawn from ``_TAIL_CANDIDATES`` more, so a long stay in treatment stays long (none longer:
    the rest of a stay in progress)."""
    missing = np.flatnonzero(~found)
    left = left.copy()
    if len(missing):
        more = sample(spec, rng, len(missing) * _TAIL_CANDIDATES).reshape(len(missing), -1)
        longer = more > elapsed[missing, None]
        rest = more[np.arange(len(missing)), longer.argmax(axis=1)] - elapsed[missing]
        left[missing] = np.where(longer.any(axis=1), rest, in_progress[missing])
    return left, np.asarray(elapsed, dtype=float)


def _reaches(system: System, unit: str, st: object) -> float:
    """How much of a stream's arrivals could be in ``unit`` (0 if none)."""
    s = system.scenario
    band = FRAILTY_BANDS[st.frailty]  # type: ignore[attr-defined]
    if unit == "afu":
        old_enough = st.age_band >= AGE_BANDS.index(s.afu.min_age_band)  # type: ignore[attr-defined]
        return float(band in s.afu.eligible_frailty and old_enough)
    if is_ward(unit):
        return s.ward_routing.get(band).get(_ward(unit), 0.0)
    if unit in ("p1", "p2", "p3"):
        return s.discharge.pathway.get(band).get(unit.upper(), 0.0)
    return 1.0


def _stay(system: System, unit: str, band: str) -> tuple[DistSpec, float]:
    """The unit's stay distribution and its units per day (hours for AMU/AFU, else days)."""
    s = system.scenario
    if unit == "amu":
        return s.amu.stay_hours, 24.0
    if unit == "afu":
        return s.afu.stay_hours, 24.0
    if is_ward(unit):
        return s.wards[_ward(unit)].los_days.get(band), 1.0
    if unit == "virtual_ward":
        return s.community.virtual_ward.duration_days, 1.0
    return getattr(s.community, unit).duration_days, 1.0


def _journey(system: System, p: Patient, unit: str, remaining: float) -> Generator:
    """Register the patient and carry on from inside ``unit``, as `patient.journey` would."""
    f = p.fate
    if unit in ("amu", "afu"):
        p.fate = f._replace(**{f"{unit}_hours": remaining})
    elif is_ward(unit):
        p.fate = f._replace(ward=system.ward_names.index(_ward(unit)), ward_los_days=remaining)
    elif unit == "virtual_ward":
        p.fate = f._replace(virtual_ward_days=remaining)
    else:
        p.fate = f._replace(pathway=PATHWAYS.index(unit.upper()))
    system.register(p, p.fate.cfs, p.fate.acuity)
    return _from(system, p, unit, remaining)


def _from(system: System, p: Patient, unit: str, remaining: float) -> Generator:
    system.record(p.id, ARRIVE, system.code[p.route])
    if unit in ("amu", "afu"):
        yield from admit(system, p, unit, holding=None)
    elif is_ward(unit):
        yield from wards.ward_stay(system, p, holding=None)
    elif unit == "virtual_ward":
        yield from community.virtual_ward_stay(system, p, holding=None)
    else:
        service = getattr(system.units, unit)
        system.record(p.id, QUEUE, service.code)
        place = service.request()
        if place is not None:
            yield place
        system.record(p.id, START, service.code)
        if remaining > 0:
            yield remaining * 24.0
        leave(system, p, service)
        system.record(p.id, DEPART, system.code[unit.upper()])
