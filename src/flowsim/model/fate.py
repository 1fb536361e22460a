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

import struct
from bisect import bisect_right
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from flowsim.random import Streams, sample
from flowsim.scenario.schema import CFS_BY_BAND, DISPOSITIONS, FRAILTY_BANDS, PATHWAYS, Scenario
from flowsim.scenario.seasons import for_key


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
    season_admit_u: float  # drawn only with seasons.admission_multiplier, else 1.0
    patience_hours: float  # ed.leave_before_seen; inf: waits however long it takes
    reattend_u: float  # ed.leave_before_seen.re_attend_share, else 1.0


_OPTIONAL_UNIFORMS = ("season_admit_u", "reattend_u")
"""Uniforms of optional mechanisms, drawn only when the mechanism is on (1.0 otherwise, which
no share exceeds), so a run without them costs nothing more."""
_UNIFORMS = [f for f in Fate._fields if f.endswith("_u") and f not in _OPTIONAL_UNIFORMS]
_ADMITTING = np.array([DISPOSITIONS.index(d) for d in ("amu", "afu", "ward")])
_INT_FIELDS = ("acuity", "cfs", "disposition", "ward", "pathway")
_FLOAT_FIELDS = Fate._fields[len(_INT_FIELDS) :]
assert Fate._fields[: len(_INT_FIELDS)] == _INT_FIELDS


_ROW = struct.Struct(f"<{len(_INT_FIELDS)}q{len(_FLOAT_FIELDS)}d")
"""One fate as stored: the integer fields, then the float fields (no padding)."""
_ROW_DTYPE = np.dtype(
    [("ints", "<i8", (len(_INT_FIELDS),)), ("floats", "<f8", (len(_FLOAT_FIELDS),))]
)
assert _ROW_DTYPE.itemsize == _ROW.size


class FateTable:
    """The fates of one arrival stream as one numpy array; a `Fate` is built only when needed.

    A year of patients as Python tuples would hold ~1 KB each from the start of the run, so
    each is made when its patient arrives, by `struct` straight from the array's bytes (one C
    call for the 38 numbers; converting rows with ``tolist`` was about a tenth of a run).
    ``ints`` and ``floats`` are views of the two groups of columns.
    """

    __slots__ = ("_rows", "floats", "ints")

    def __init__(self, ints: np.ndarray, floats: np.ndarray) -> None:
        rows = np.empty(len(ints), _ROW_DTYPE)
        rows["ints"] = ints
        rows["floats"] = floats
        self._rows = rows
        self.ints = rows["ints"]
        self.floats = rows["floats"]

    def __len__(self) -> int:
        return len(self._rows)

    def fate(self, i: int) -> Fate:
        if not 0 <= i < len(self._rows):
            raise IndexError(f"fate {i} of a table of {len(self._rows)}")
        return _new_tuple(Fate, _unpack_row(self._rows, i * _ROW.size))


_unpack_row = _ROW.unpack_from
_new_tuple = tuple.__new__  # what Fate._make does, without its call


def draw_fates(
    scenario: Scenario,
    streams: Streams,
    stream_name: str,
    frailty: str,
    route: str,
    n: int,
) -> list[Fate]:
    """The fates of the first ``n`` patients of one arrival stream, as tuples."""
    table = draw_fate_table(scenario, streams, stream_name, frailty, route, n)
    return [table.fate(i) for i in range(n)]


_QUANTITIES_ASKED: dict[str, None] = {}
"""Every quantity a fate table has drawn so far in this process (they depend on the scenario's
wards and mechanisms), whose streams the next table seeds together up front; one not yet in it
is seeded when it is asked for, so what is drawn never depends on it."""


def draw_fate_table(
    scenario: Scenario,
    streams: Streams,
    stream_name: str,
    frailty: str,
    route: str,
    n: int,
    months: np.ndarray | None = None,
) -> FateTable:
    """The fates of the first ``n`` patients of one arrival stream.

    ``months``: the calendar month (0 for January) of each patient's arrival, for `seasons`;
    None leaves every seasonal profile out (readmissions get theirs from `seasonal_fate`).
    """

    streams.prefetch(f"{stream_name}/{q}" for q in _QUANTITIES_ASKED)

    def rng(quantity: str) -> np.random.Generator:
        _QUANTITIES_ASKED[quantity] = None
        return streams.generator(f"{stream_name}/{quantity}")

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
    disp_shares = np.array([disp.get(d, 0.0) for d in DISPOSITIONS])
    cols["disposition"] = _categorical(rng("disposition"), disp_shares, n)
    seasons = s.seasons
    admission_profile = None if seasons is None else for_key(seasons.admission_multiplier, frailty)
    if admission_profile is not None:
        cols["season_admit_u"] = rng("season_admit_u").random(n)
        if months is not None:
            cols["disposition"] = seasonal_disposition(
                cols["disposition"],
                cols["season_admit_u"],
                np.asarray(admission_profile)[months],
                disp_shares,
            )
    else:
        cols["season_admit_u"] = np.ones(n)
    _draw_patience(s, rng, route, cols, n)
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
    los_profiles = {} if seasons is None else seasons.ward_los_multiplier
    if los_profiles and months is not None:
        for i, w in enumerate(ward_names):
            profile = for_key(los_profiles, w)
            if profile is not None:
                los = np.where(ward == i, los * np.asarray(profile)[months], los)
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


def seasonal_disposition(
    disposition: np.ndarray, u: np.ndarray, multiplier: np.ndarray, shares: np.ndarray
) -> np.ndarray:
    """Where each patient goes after ED once the month's admission multiplier is applied.

    Thinning on the patient's own uniform ``u``, so the fewest patients change: with a multiplier
    ``m`` above 1, a patient heading home is admitted if ``u < admitted * (m - 1) / home`` (to
    amu, afu or ward in their usual proportions, chosen by the same ``u`` rescaled); below 1, a
    patient heading for a bed goes home if ``u < 1 - m``. The admitted share becomes
    ``admitted * m`` (`flowsim.scenario.seasons.check` makes sure home can give that much).
    """
    out = disposition.copy()
    weights = shares[_ADMITTING]
    admitted, home = float(weights.sum()), float(shares[0])
    if admitted > 0 and home > 0:
        convert = np.where(multiplier > 1, admitted * (multiplier - 1) / home, 0.0)
        up = (disposition == 0) & (u < convert)
        if up.any():
            rescaled = u[up] / convert[up]
            cum = np.cumsum(weights) / admitted
            pick = np.minimum(np.searchsorted(cum, rescaled, side="right"), len(weights) - 1)
            out[up] = _ADMITTING[pick]
    down = (multiplier < 1) & np.isin(disposition, _ADMITTING) & (u < 1 - multiplier)
    out[down] = 0
    return out


def seasonal_fate(scenario: Scenario, fate: Fate, frailty: str, month: int) -> Fate:
    """A readmission's fate (drawn in a batch, before its arrival time was known) with the
    seasonal profiles of the month it arrives in, as `draw_fate_table` applies them."""
    if scenario.seasons is None:
        return fate
    return SeasonalFates(scenario)(fate, frailty, month)


class SeasonalFates:
    """`seasonal_fate` for one scenario, with what it reads from the scenario worked out once.

    A run applies it to every readmission (tens of thousands a year), one fate at a time: the
    vectorised `seasonal_disposition` on one-element arrays cost about a tenth of a baseline
    run. The same arithmetic on Python floats gives the same result, bit for bit (the shares'
    sums are still numpy's own, worked out once per frailty band).
    """

    __slots__ = ("_admission", "_los", "enabled")

    def __init__(self, scenario: Scenario) -> None:
        seasons = scenario.seasons
        self.enabled = seasons is not None
        """False: no seasons section, every fate is returned as it is."""
        self._admission: dict[str, tuple[list[float], _OneDisposition] | None] = {}
        self._los: list[list[float] | None] = []
        if seasons is None:
            return
        for band in FRAILTY_BANDS:
            profile = for_key(seasons.admission_multiplier, band)
            if profile is None:
                self._admission[band] = None
                continue
            disp = scenario.ed.disposition.get(band)
            shares = np.array([disp.get(d, 0.0) for d in DISPOSITIONS])
            self._admission[band] = (list(profile), _OneDisposition(shares))
        self._los = [for_key(seasons.ward_los_multiplier, w) for w in sorted(scenario.wards)]

    def __call__(self, fate: Fate, frailty: str, month: int) -> Fate:
        if not self.enabled:
            return fate
        changes: dict[str, float | int] = {}
        admission = self._admission[frailty]
        if admission is not None:
            profile, rule = admission
            changes["disposition"] = rule(fate.disposition, fate.season_admit_u, profile[month])
        los = self._los[fate.ward]
        if los is not None:
            changes["ward_los_days"] = fate.ward_los_days * los[month]
        return fate._replace(**changes) if changes else fate


class _OneDisposition:
    """`seasonal_disposition` for one patient, its shares' sums computed by numpy as there."""

    __slots__ = ("_admitted", "_admitting", "_cum", "_home", "_thin_up")

    def __init__(self, shares: np.ndarray) -> None:
        weights = shares[_ADMITTING]
        self._admitted, self._home = float(weights.sum()), float(shares[0])
        self._thin_up = self._admitted > 0 and self._home > 0
        self._cum = (np.cumsum(weights) / self._admitted).tolist() if self._thin_up else []
        self._admitting = _ADMITTING.tolist()

    def __call__(self, disposition: int, u: float, multiplier: float) -> int:
        if self._thin_up:
            if disposition == 0 and multiplier > 1:
                convert = self._admitted * (multiplier - 1) / self._home
                if u < convert:
                    pick = bisect_right(self._cum, u / convert)
                    return self._admitting[min(pick, len(self._admitting) - 1)]
            if multiplier < 1 and disposition in self._admitting and u < 1 - multiplier:
                return 0
            return disposition
        if multiplier < 1 and disposition in self._admitting and u < 1 - multiplier:
            return 0
        return disposition


def _draw_patience(
    s: Scenario, rng: Callable[[str], np.random.Generator], route: str, cols: dict, n: int
) -> None:
    """How long each patient would wait to be seen before leaving (``ed.leave_before_seen``).

    By triage category: a patient of a category with a patience distribution would leave with
    that category's ``would_leave_share`` (a uniform of their own), after a patience drawn from
    the category's own stream; everyone else, and patients heading for a bed unless
    ``admitted_may_leave``, waits however long it takes (inf).
    """
    cfg = s.ed.leave_before_seen
    patience = np.full(n, np.inf)
    cols["reattend_u"] = np.ones(n)
    if cfg is not None and route in cfg.routes:
        leaves = rng("leave_before_seen_u").random(n)
        if not cfg.admitted_may_leave:
            leaves[np.isin(cols["disposition"], _ADMITTING)] = 1.0
        acuity = cols["acuity"]
        for category, spec in sorted(cfg.patience_hours.items()):
            share = cfg.would_leave_share.get(category, 1.0)
            draws = sample(spec, rng(f"patience_hours/{category}"), n)
            patience = np.where((acuity == category) & (leaves < share), draws, patience)
        if cfg.re_attend_share > 0:
            cols["reattend_u"] = rng("reattend_u").random(n)
    cols["patience_hours"] = patience


def _categorical(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """Category indices by inverse CDF of one uniform each (stable under small weight changes)."""
    cum = np.cumsum(weights, dtype=float)
    total = cum[-1]
    if total <= 0:
        return np.zeros(n, dtype=np.int64)
    idx = np.searchsorted(cum / total, rng.random(n), side="right")
    return np.minimum(idx, len(weights) - 1)
