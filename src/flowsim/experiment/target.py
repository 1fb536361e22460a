"""Goal seeking: the smallest capacity, the largest demand growth or the smallest length-of-stay
reduction at which a KPI meets a target with 95% confidence.

A lever is a whole number ``k`` turned into a scenario (places of a unit; demand growth in steps
of a per cent; ward length of stay cut in steps of a per cent). Every point of a search runs the
same replication numbers on the same seed, so the points share their random numbers (common
random numbers): the curve of the KPI against ``k`` is smooth, and the monotonicity that
``tests/properties`` asserts (more places never lengthen a queue) holds point to point, which is
what makes bisection sound.

A point **meets** the target when the whole 95% confidence interval of the KPI's mean lies on the
right side of it, **fails** when the whole interval lies on the wrong side, and is **unsure**
otherwise. An unsure point gets more replications, a batch at a time, up to a cap (the stopping
rule: stop as soon as the interval clears the target, or at the cap, when the point stays unsure
and counts as not meeting it). Points are compared on the same replications: once a point has
needed n replications, every point the search returns to is brought up to n, and the bisections
run twice so the second pass judges each boundary on the topped-up points (otherwise a point
with 3 lucky replications could beat its neighbour with 6). Bisection finds three boundaries:

- the **answer**: the first ``k`` that meets the target with 95% confidence;
- the **estimate**: the first ``k`` whose mean meets it;
- the **plausible** end: the first ``k`` that does not fail it.

"335 P1 packages (320-350)" is ``estimate (plausible-answer)``: below 320 the target is missed
with 95% confidence, from 350 it is met with 95% confidence. For a lever that makes things worse
as it grows (demand), "first" means the largest ``k``.

`cheapest_mix` is a small, honest search over several capacity levers with a cost a day each:
from the current capacities it adds, one step at a time, the step that improves the KPI most per
pound (paired differences on common random numbers), until the target is met with 95%
confidence or the budget of steps runs out. Greedy: it finds a good mix cheaply, not a proven
optimum, and says so.

Imports the scenario and experiment layers only: the KPI values of a log come from the
``measure`` the caller passes in (a picklable function of an `EventLog`, returning a mapping of
KPI name to value).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import stats

from flowsim.experiment.executors import Executor, choose_executor
from flowsim.experiment.runner import run_paired
from flowsim.experiment.settings import RunSettings
from flowsim.log import EventLog
from flowsim.scenario import apply_changes
from flowsim.scenario.schema import FRAILTY_BANDS, Scenario
from flowsim.scenario.units import setting, spec_of, unit_capacity_key

__all__ = [
    "Goal",
    "Lever",
    "MixResult",
    "Point",
    "Search",
    "TargetResult",
    "capacity_curve",
    "capacity_lever",
    "cheapest_mix",
    "demand_growth_lever",
    "los_reduction_lever",
    "seek_target",
]

Measure = Callable[[EventLog], Mapping[str, float]]
Verdict = Literal["meets", "fails", "unsure"]


@dataclass(frozen=True)
class Goal:
    """KPI ``kpi`` at most (``at_most``) or at least ``target``, with ``confidence``."""

    kpi: str
    target: float
    at_most: bool = True
    confidence: float = 0.95

    def __str__(self) -> str:
        return f"{self.kpi} {'<=' if self.at_most else '>='} {self.target:g}"


@dataclass(frozen=True)
class Lever:
    """A whole number ``k`` in ``[low, high]`` turned into a scenario by ``apply``.

    ``improves``: a larger ``k`` moves the KPI towards the target (places, LOS reduction);
    False for demand growth. ``value(k)`` is the setting in people's units (places, % growth)
    and ``unit`` names them.
    """

    name: str
    label: str
    unit: str
    low: int
    high: int
    improves: bool
    apply: Callable[[Scenario, int], Scenario]
    value: Callable[[int], float]
    current: int


def capacity_lever(
    scenario: Scenario, unit: str, low: int | None = None, high: int | None = None
) -> Lever:
    """Places of one unit (``p1``, ``ward:care_of_elderly``, ``amu``...); by default from a
    quarter to three times the scenario's own."""
    key = unit_capacity_key(unit)
    current = setting(scenario, key)
    if not isinstance(current, int):
        raise ValueError(f"{unit}: {key} is not a single number of places; choose another unit")
    spec = spec_of(unit)
    label = spec.label if spec else unit
    place = spec.place if spec else "place"
    lo = max(0, current // 4) if low is None else low
    hi = max(3 * current, lo + 2) if high is None else high
    if not lo < hi:
        raise ValueError(f"the range of {unit} must have low < high, got {lo}..{hi}")
    return Lever(
        unit,
        label,
        place + "s",
        lo,
        hi,
        True,
        lambda s, k: apply_changes(s, {key: int(k)}),
        float,
        current,
    )


def demand_growth_lever(step_pct: float = 1.0, max_pct: float = 30.0) -> Lever:
    """Demand ``k x step_pct`` per cent above the scenario's own (``demand_profile.growth``)."""

    def apply(s: Scenario, k: int) -> Scenario:
        factor = s.demand_profile.growth * (1.0 + k * step_pct / 100.0)
        return apply_changes(s, {"demand_profile.growth": factor})

    return Lever(
        "demand_growth",
        "demand growth",
        "% more demand",
        0,
        max(1, round(max_pct / step_pct)),
        False,
        apply,
        lambda k: k * step_pct,
        0,
    )


_SCALED = ("value", "mean", "median", "sd", "low", "mode", "high")


def _scaled(dist: Any, factor: float) -> dict[str, Any]:
    data = dist.model_dump(by_alias=True)
    for key in _SCALED:
        if key in data and data[key] is not None:
            data[key] = data[key] * factor
    if "values" in data:
        data["values"] = [v * factor for v in data["values"]]
    return data


def los_reduction_lever(step_pct: float = 1.0, max_pct: float = 40.0) -> Lever:
    """Every ward group's length of stay (to medically optimised) cut by ``k x step_pct`` per
    cent: each distribution scaled, so each patient's stay shrinks by the same share."""

    def apply(s: Scenario, k: int) -> Scenario:
        factor = 1.0 - k * step_pct / 100.0
        changes = {
            f"wards.{w}.los_days.{band}": _scaled(ward.los_days.get(band), factor)
            for w, ward in s.wards.items()
            for band in FRAILTY_BANDS
        }
        return apply_changes(s, changes)

    return Lever(
        "los_reduction",
        "ward length-of-stay reduction",
        "% shorter stays",
        0,
        max(1, round(max_pct / step_pct)),
        True,
        apply,
        lambda k: k * step_pct,
        0,
    )


@dataclass
class Point:
    """One lever setting: its KPI values by replication (every measured KPI) and the verdict."""

    k: int
    value: float
    values: dict[str, list[float]] = field(default_factory=dict)
    verdict: Verdict = "unsure"

    @property
    def n(self) -> int:
        return len(next(iter(self.values.values()), []))

    def interval(self, kpi: str, confidence: float = 0.95) -> tuple[float, float, float]:
        """Mean and Student-t interval of ``kpi`` across replications."""
        x = np.asarray(self.values.get(kpi, []), dtype=float)
        x = x[~np.isnan(x)]
        if len(x) == 0:
            return math.nan, math.nan, math.nan
        mean = float(x.mean())
        if len(x) < 2:
            return mean, -math.inf, math.inf
        half = float(
            stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
        )
        return mean, mean - half, mean + half


def judge(point: Point, goal: Goal) -> Verdict:
    """Whether a point's interval clears the target, misses it, or straddles it."""
    mean, low, high = point.interval(goal.kpi, goal.confidence)
    if math.isnan(mean):
        return "unsure"
    good, bad = (high, low) if goal.at_most else (low, high)

    def on_good_side(x: float) -> bool:
        return x <= goal.target if goal.at_most else x >= goal.target

    if on_good_side(good):
        return "meets"
    if not on_good_side(bad):
        return "fails"
    return "unsure"


def mean_meets(point: Point, goal: Goal) -> bool:
    mean = point.interval(goal.kpi)[0]
    return not math.isnan(mean) and (mean <= goal.target if goal.at_most else mean >= goal.target)


@dataclass
class TargetResult:
    """What `seek_target` found. ``answer``/``estimate``/``plausible`` are lever steps ``k``
    (None: not found in the range); `value` turns them into the lever's units."""

    lever: Lever
    goal: Goal
    answer: int | None
    estimate: int | None
    plausible: int | None
    points: list[Point]
    elapsed_seconds: float
    replications: int
    note: str = ""

    def value(self, k: int | None) -> float | None:
        return None if k is None else self.lever.value(k)

    def sentence(self) -> str:
        """The answer in words, with its uncertainty."""
        lv, g = self.lever, self.goal
        if self.answer is None:
            return (
                f"{g} is not met with 95% confidence anywhere in {lv.label} "
                f"{lv.value(lv.low):g}-{lv.value(lv.high):g}. {self.note}".strip()
            )
        lo, hi = sorted(
            v for v in (self.value(self.plausible), self.value(self.answer)) if v is not None
        )
        est = self.value(self.estimate)
        est_text = f"{est:g}" if est is not None else "?"
        gap = "" if lv.unit.startswith("%") else " "
        answer = f"{self.value(self.answer):g}{gap}{lv.unit}"
        if lv.improves:
            head = f"{answer} ({lv.label}) meet {g} with 95% confidence"
        else:
            head = f"Up to {answer} ({lv.label}), {g} is still met with 95% confidence"
        return f"{head}; estimate {est_text} ({lo:g}-{hi:g}). {self.note}".strip()


class Search:
    """The points of one search, run on demand and kept (one pool for all of them)."""

    def __init__(
        self,
        scenario: Scenario,
        lever: Lever,
        goal: Goal,
        measure: Measure,
        settings: RunSettings,
        *,
        first_replications: int = 3,
        max_replications: int = 10,
        batch: int | None = None,
        executor: Executor | None = None,
        on_point: Callable[[Point], None] | None = None,
    ) -> None:
        if first_replications < 2:
            raise ValueError("a point needs at least 2 replications for a confidence interval")
        if max_replications < first_replications:
            raise ValueError("max_replications must be at least first_replications")
        self.scenario, self.lever, self.goal, self.measure = scenario, lever, goal, measure
        self.settings = settings
        self.first, self.most = first_replications, max_replications
        self.batch = batch or max(1, settings.workers)
        self.executor = executor
        self.on_point = on_point
        self.points: dict[int, Point] = {}
        self.replications = 0
        self.floor = first_replications
        """Replications every point revisited is brought up to: the most an unsure point has
        needed, so points near the boundary are judged on the same replications (common
        random numbers keep the curve monotone only across the same replication numbers)."""

    def _run(self, point: Point, n: int) -> None:
        s = self.lever.apply(self.scenario, point.k)
        first = point.n
        found = run_paired(
            [s],
            self.settings.but(replications=n, workers=min(self.settings.workers, n)),
            self.measure,
            first_replication=first,
            executor=self.executor,
        )
        for r in sorted(found):
            for kpi, v in found[r].items():
                point.values.setdefault(kpi, []).append(float(v))
        self.replications += n

    def at(self, k: int) -> Point:
        """The point at ``k``: run with the first replications, then more while unsure (the
        stopping rule), up to the cap."""
        k = min(max(k, self.lever.low), self.lever.high)
        point = self.points.get(k)
        if point is not None and point.n >= self.floor:
            return point
        new = point is None
        if point is None:
            point = Point(k, self.lever.value(k))
            self._run(point, self.first)
        else:
            self._run(point, self.floor - point.n)
        point.verdict = judge(point, self.goal)
        unsure = point.verdict == "unsure"
        while point.verdict == "unsure" and point.n < self.most:
            self._run(point, min(self.batch, self.most - point.n))
            point.verdict = judge(point, self.goal)
        if unsure:
            self.floor = max(self.floor, point.n)
        self.points[k] = point
        if self.on_point is not None and (new or unsure):
            self.on_point(point)
        return point

    def boundary(self, good: Callable[[Point], bool]) -> int | None:
        """The first ``k`` (smallest if the lever improves things, else largest) whose point is
        ``good``, by bisection, assuming ``good`` is monotone in ``k``; None if not even the
        best end of the range is good."""
        lv = self.lever
        best, worst = (lv.high, lv.low) if lv.improves else (lv.low, lv.high)
        if not good(self.at(best)):
            return None
        if good(self.at(worst)):
            return worst
        yes, no = best, worst
        while abs(yes - no) > 1:
            mid = (yes + no) // 2
            if good(self.at(mid)):
                yes = mid
            else:
                no = mid
        return yes


def seek_target(
    scenario: Scenario,
    lever: Lever,
    goal: Goal,
    measure: Measure,
    settings: RunSettings,
    *,
    first_replications: int = 3,
    max_replications: int = 10,
    on_point: Callable[[Point], None] | None = None,
) -> TargetResult:
    """The answer, the estimate and the plausible end of ``goal`` over ``lever`` (see the
    module), every point evaluated and the time it took."""
    started = time.perf_counter()
    with choose_executor(settings.workers) as executor:
        search = Search(
            scenario,
            lever,
            goal,
            measure,
            settings,
            first_replications=first_replications,
            max_replications=max_replications,
            executor=executor,
            on_point=on_point,
        )
        for _ in range(2):  # the second pass sees every point it visits topped up to the floor
            answer = search.boundary(lambda p: p.verdict == "meets")
            estimate = search.boundary(lambda p: mean_meets(p, goal))
            plausible = search.boundary(lambda p: p.verdict != "fails")
    points = [search.points[k] for k in sorted(search.points)]
    note = ""
    unsure = [p for p in points if p.verdict == "unsure"]
    if unsure:
        note = (
            f"{len(unsure)} point(s) stayed unsure after {max_replications} replications "
            "and count as not meeting the target."
        )
    return TargetResult(
        lever,
        goal,
        answer,
        estimate,
        plausible,
        points,
        time.perf_counter() - started,
        search.replications,
        note,
    )


# ---------------------------------------------------------------- several levers


@dataclass
class MixResult:
    """What `cheapest_mix` found: the places added to each lever, the cost a day of the
    additions, whether the target was met with 95% confidence, and each step taken."""

    goal: Goal
    added: dict[str, int]
    cost_per_day: float
    met: bool
    steps: list[dict[str, Any]]
    elapsed_seconds: float
    replications: int
    stopped: str = ""
    """Why the search ended: the target met, no step helping any more, or the step budget."""


def cheapest_mix(
    scenario: Scenario,
    levers: Sequence[tuple[str, int, float]],
    goal: Goal,
    measure: Measure,
    settings: RunSettings,
    *,
    max_steps: int = 12,
) -> MixResult:
    """Greedy: from the scenario's capacities, add the step of the lever ``(unit, places a step,
    £ a place a day)`` that moves the KPI most towards the target per pound, one step at a time,
    until the target is met with 95% confidence (``settings.replications`` paired
    replications at each candidate) or ``max_steps`` steps have been taken."""
    started = time.perf_counter()
    settings.require_paired("the cheapest-mix search")
    keys = {unit: unit_capacity_key(unit) for unit, _, _ in levers}
    added = dict.fromkeys(keys, 0)
    steps: list[dict[str, Any]] = []
    runs = 0

    def variant(extra: Mapping[str, int]) -> Scenario:
        return apply_changes(
            scenario, {keys[u]: int(setting(scenario, keys[u])) + n for u, n in extra.items()}
        )

    def values(found: Mapping[tuple[int, int], Mapping[str, float]], i: int) -> np.ndarray:
        return np.array([found[(i, r)][goal.kpi] for r in range(settings.replications)], float)

    sign = 1.0 if goal.at_most else -1.0
    met = False
    stopped = f"the budget of {max_steps} steps ran out"
    with choose_executor(settings.workers) as executor:
        for _ in range(max_steps + 1):
            candidates = [dict(added)] + [{**added, u: added[u] + size} for u, size, _ in levers]
            found = run_paired(
                [variant(c) for c in candidates], settings, measure, executor=executor
            )
            runs += len(candidates) * settings.replications
            now = values(found, 0)
            point = Point(0, 0.0, {goal.kpi: list(now)})
            met = judge(point, goal) == "meets"
            cost = sum(added[u] * size_cost for u, _, size_cost in levers)
            steps.append(
                {"added": dict(added), "mean": float(now.mean()), "met": met, "cost_per_day": cost}
            )
            if met:
                stopped = "the target is met with 95% confidence"
                break
            if len(steps) > max_steps:
                break
            gains = []
            for j, (u, size, price) in enumerate(levers, start=1):
                gain = float(np.mean(sign * (now - values(found, j))))  # paired
                gains.append((gain / (size * price) if price > 0 else gain, u, size))
            best = max(gains)
            if best[0] <= 0:
                stopped = "no step of any lever moves the KPI towards the target"
                break
            added[best[1]] += best[2]
    cost = sum(added[u] * price for u, _, price in levers)
    return MixResult(goal, added, cost, met, steps, time.perf_counter() - started, runs, stopped)


def capacity_curve(
    scenario: Scenario,
    unit: str,
    places: Sequence[int],
    measure: Measure,
    settings: RunSettings,
    *,
    on_done: Callable[[int, int], None] | None = None,
) -> dict[int, list[Mapping[str, float]]]:
    """``measure`` of every replication at each number of ``places`` of ``unit``, all in one
    pool on common random numbers (the cost curve of Wood et al. 2023 is one of these)."""
    key = unit_capacity_key(unit)
    variants = [apply_changes(scenario, {key: int(n)}) for n in places]
    found = run_paired(variants, settings, measure, on_done=on_done)
    return {
        int(n): [found[(i, r)] for r in sorted(r for j, r in found if j == i)]
        for i, n in enumerate(places)
    }
