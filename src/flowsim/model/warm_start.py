"""Warm start: patients already in AMU, AFU, the wards and community services at time 0.

A run from empty needs weeks before the wards fill and months before community caseloads do;
a run that starts from a census needs only a week or two to settle. Each patient placed here is
drawn like any other (who they are in proportion to the arrival streams that can reach the unit,
their fate from a stream of their own) and begins in the unit with the rest of their stay to go:

- with ``elapsed_days`` given (a census), the stay is drawn from the unit's distribution given
  that it has lasted that long (rejection sampling); a ward patient whose elapsed time is beyond
  every draw has finished treatment (medically optimised, waiting for their discharge pathway),
  and anyone else that far in the tail is given the remaining time of a stay in progress;
- without it, the remaining stay is that of a stay in progress in steady state: a stay drawn in
  proportion to its length (the longer a stay, the likelier it is in progress at a given
  moment), of which a uniform share remains.

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

from flowsim.model import community, wards
from flowsim.model.arrivals import arrival_streams
from flowsim.model.fate import draw_fate_table
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
    WarmStartUnit,
)
from flowsim.scenario.units import is_ward, ward_name

_CANDIDATES = 32
"""Draws per patient for the length-biased and the conditional stays."""

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


def _patients(
    system: System,
    streams: Streams,
    unit: str,
    spec: WarmStartUnit,
    carried: dict[str, list],
) -> list[Generator]:
    s = system.scenario
    n = spec.occupied
    sources = arrival_streams(s)
    weights = np.array([st.rate_per_hour * _reaches(system, unit, st) for st in sources])
    if weights.sum() <= 0:
        weights = np.array([st.rate_per_hour for st in sources])
    who = streams.generator(f"warm_start/{unit}/who").choice(
        len(sources), size=n, p=weights / weights.sum()
    )
    out = []
    for k in np.unique(who):
        st, count = sources[k], int(np.sum(who == k))
        band = FRAILTY_BANDS[st.frailty]
        table = draw_fate_table(s, streams, f"warm_start/{unit}/{st.name}", band, st.route, count)
        stay_spec, per_day = _stay(system, unit, band)
        rng = streams.generator(f"warm_start/{unit}/{st.name}/remaining")
        elapsed = None
        if spec.elapsed_days is not None:
            elapsed = sample(spec.elapsed_days, rng, count) * per_day
        remaining, gone = stays_in_progress(
            stay_spec, rng, count, elapsed, done_when_beyond=is_ward(unit)
        )
        if unit == "afu":
            remaining = np.minimum(remaining, s.afu.max_stay_hours)
        gone_hours = gone * (24.0 / per_day)
        for i in range(count):
            fate = table.fate(i)
            p = Patient(system.next_id, st.place_index, st.age_band, band, st.route, fate)
            system.next_id += 1
            carried["patient"].append(p.id)
            carried["unit"].append(unit)
            carried["elapsed_hours"].append(float(gone_hours[i]))
            carried["spell_elapsed_hours"].append(_in_hospital(unit, fate, float(gone_hours[i])))
            out.append(_journey(system, p, unit, float(remaining[i])))
    return out


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
) -> tuple[np.ndarray, np.ndarray]:
    """`remaining_stays` and what has already gone of each stay, in the spec's unit, from
    the same random numbers: ``elapsed`` when given, else the part of the length-biased stay
    in progress already spent."""
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
    beyond = 0.0 if done_when_beyond else in_progress
    return np.where(longer.any(axis=1), left, beyond), np.asarray(elapsed, dtype=float)


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
