"""What will happen to a patient, drawn the moment they arrive.

Each patient's durations and chance outcomes are drawn up front from streams
named after the arrival stream and the quantity (``City/85+/frail/ambulance/
amu_hours``). The n-th patient of a stream therefore has the same AMU stay, the
same ward length of stay and the same discharge pathway in every scenario that
shares the structure, whatever the capacities: the strongest form of common
random numbers, and what makes "more beds never lengthens the queue"
testable. Chance outcomes are kept as uniforms and compared with the scenario's
share at the time of use (``u < share``), so changing a share moves the fewest
patients.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from flowsim.random import sample, stream
from flowsim.scenario.schema import CFS_BY_BAND, DISPOSITIONS, PATHWAYS, Scenario


class Fate(NamedTuple):
    acuity: int
    cfs: int
    disposition: int  # index into DISPOSITIONS
    ward: int  # index into the scenario's ward groups
    pathway: int  # index into PATHWAYS
    ucr_u: float
    ucr_home_u: float
    ucr_vw_u: float
    ucr_hours: float
    handover_minutes: float
    triage_minutes: float
    assessment_minutes: float
    treatment_hours: float
    frailty_assessment_hours: float
    frailty_avoid_u: float
    frailty_ucr_u: float
    crowding_u: float
    sdec_direct_u: float
    sdec_hours: float
    sdec_admit_u: float
    amu_hours: float
    amu_home_u: float
    afu_hours: float
    afu_home_u: float
    ward_los_days: float
    death_u: float
    step_down_u: float
    p0_delay_hours: float
    referral_days: float
    community_days: float
    virtual_ward_days: float
    virtual_ward_admit_u: float
    readmit_u: float
    readmit_delay_u: float
    weekend_u: float


_UNIFORMS = [f for f in Fate._fields if f.endswith("_u")]
_INT_FIELDS = ("acuity", "cfs", "disposition", "ward", "pathway")
_FLOAT_FIELDS = Fate._fields[len(_INT_FIELDS) :]
assert Fate._fields[: len(_INT_FIELDS)] == _INT_FIELDS


class FateTable:
    """The fates of one arrival stream as two numpy arrays; a `Fate` is built only when needed.

    A year of patients as Python tuples would hold ~1 KB each from the start of the run, so
    they are made a block at a time (patients of a stream arrive in order).
    """

    __slots__ = ("_block", "_block_start", "floats", "ints")

    BLOCK = 64

    def __init__(self, ints: np.ndarray, floats: np.ndarray) -> None:
        self.ints = ints
        self.floats = floats
        self._block: list[Fate] = []
        self._block_start = 0

    def __len__(self) -> int:
        return len(self.ints)

    def fate(self, i: int) -> Fate:
        j = i - self._block_start
        if 0 <= j < len(self._block):
            return self._block[j]
        end = i + self.BLOCK
        make = Fate._make
        self._block = [
            make(a + b)
            for a, b in zip(self.ints[i:end].tolist(), self.floats[i:end].tolist(), strict=True)
        ]
        self._block_start = i
        return self._block[0]


def draw_fates(
    scenario: Scenario,
    seed: int,
    replication: int,
    stream_name: str,
    frailty: str,
    route: str,
    n: int,
) -> list[Fate]:
    """The fates of the first ``n`` patients of one arrival stream, as tuples."""
    table = draw_fate_table(scenario, seed, replication, stream_name, frailty, route, n)
    return [table.fate(i) for i in range(n)]


def draw_fate_table(
    scenario: Scenario,
    seed: int,
    replication: int,
    stream_name: str,
    frailty: str,
    route: str,
    n: int,
) -> FateTable:
    """The fates of the first ``n`` patients of one arrival stream."""

    def rng(quantity: str) -> np.random.Generator:
        return stream(seed, replication, f"{stream_name}/{quantity}")

    s = scenario
    cols: dict[str, np.ndarray] = {}
    for name in _UNIFORMS:
        cols[name] = rng(name).random(n)

    acuity_w = np.asarray(s.population.acuity_weights[route], dtype=float)
    cols["acuity"] = 1 + _categorical(rng("acuity"), acuity_w, n)
    cfs_values = np.asarray(CFS_BY_BAND[frailty])
    cols["cfs"] = cfs_values[rng("cfs").integers(0, len(cfs_values), n)]

    cols["ucr_hours"] = sample(s.ucr.response_hours, rng("ucr_hours"), n)
    cols["handover_minutes"] = sample(s.ed.handover_minutes, rng("handover_minutes"), n)
    cols["triage_minutes"] = sample(s.ed.triage_minutes, rng("triage_minutes"), n)
    cols["assessment_minutes"] = sample(s.ed.assessment_minutes, rng("assessment_minutes"), n)
    cols["treatment_hours"] = sample(s.ed.treatment_hours, rng("treatment_hours"), n)
    disp = s.ed.disposition.get(frailty)
    cols["disposition"] = _categorical(
        rng("disposition"), np.array([disp.get(d, 0.0) for d in DISPOSITIONS]), n
    )
    fdf = s.ed.front_door_frailty
    cols["frailty_assessment_hours"] = (
        sample(fdf.assessment_hours, rng("frailty_assessment_hours"), n)
        if fdf is not None
        else np.zeros(n)
    )
    cols["sdec_hours"] = sample(s.sdec.stay_hours, rng("sdec_hours"), n)
    cols["amu_hours"] = sample(s.amu.stay_hours, rng("amu_hours"), n)
    cols["afu_hours"] = np.minimum(
        sample(s.afu.stay_hours, rng("afu_hours"), n), s.afu.max_stay_hours
    )

    ward_names = sorted(s.wards)  # by name, so the order wards are written in never matters
    routing = s.ward_routing.get(frailty)
    ward = _categorical(rng("ward"), np.array([routing.get(w, 0.0) for w in ward_names]), n)
    cols["ward"] = ward
    los = np.zeros(n)
    for i, w in enumerate(ward_names):
        draws = sample(s.wards[w].los_days.get(frailty), rng(f"ward_los_days/{w}"), n)
        los = np.where(ward == i, draws, los)
    cols["ward_los_days"] = los

    split = s.discharge.pathway.get(frailty)
    pathway = _categorical(rng("pathway"), np.array([split.get(p, 0.0) for p in PATHWAYS]), n)
    cols["pathway"] = pathway
    cols["p0_delay_hours"] = sample(s.discharge.p0_delay_hours, rng("p0_delay_hours"), n)
    referral = np.zeros(n)
    community = np.zeros(n)
    for i, p in enumerate(PATHWAYS[1:], start=1):
        service = getattr(s.community, p.lower())
        community = np.where(
            pathway == i, sample(service.duration_days, rng(f"community_days/{p}"), n), community
        )
        if p in s.discharge.referral_days:
            spec = s.discharge.referral_days[p]
            referral = np.where(pathway == i, sample(spec, rng(f"referral_days/{p}"), n), referral)
    cols["referral_days"] = referral
    cols["community_days"] = community
    cols["virtual_ward_days"] = sample(
        s.community.virtual_ward.duration_days, rng("virtual_ward_days"), n
    )

    ints = np.empty((n, len(_INT_FIELDS)), dtype=np.int64)
    floats = np.empty((n, len(_FLOAT_FIELDS)), dtype=np.float64)
    for j, f in enumerate(_INT_FIELDS):
        ints[:, j] = cols[f]
    for j, f in enumerate(_FLOAT_FIELDS):
        floats[:, j] = cols[f]
    return FateTable(ints, floats)


def _categorical(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """Category indices by inverse CDF of one uniform each (stable under small weight changes)."""
    cum = np.cumsum(weights, dtype=float)
    total = cum[-1]
    if total <= 0:
        return np.zeros(n, dtype=np.int64)
    idx = np.searchsorted(cum / total, rng.random(n), side="right")
    return np.minimum(idx, len(weights) - 1)
