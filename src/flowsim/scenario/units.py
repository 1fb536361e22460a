"""The units of a system, described once: what the event log calls each, which scenario key sets
its capacity, what people call it, its group and its place on the pathway.

Every layer reads this catalogue instead of spelling units out: the model names its units and
log places with `log_places`, the warm start checks and fills units through `warm_start_path`,
analysis groups them (`ED_UNITS`, `COMMUNITY_UNITS`, `is_inpatient`, `unit_order`), figures and
reports label them with `unit_label`, the value-of-one-more steps and the app's levers take
their capacity keys, and calibration writes its census by unit. Ward groups are the only units
whose names come from the scenario: ``ward:<name>``, built by `ward_unit` and read back by
`ward_name`, nowhere else.

Pure data: imports nothing of flowsim at run time (the scenario type only for type checking),
so `flowsim.scenario.schema` and `flowsim.log` can both import it without a cycle.

**Adding a unit** (a new service):

1. add its section and capacity to `flowsim.scenario.schema` (and a warm-start entry if a run
   can start with people in it);
2. add a `UnitSpec` to `_SPECS` below, in pathway order, with its log name, capacity key,
   labels, group and whether it is a physical place; give its place in `_LOG_ORDER` (new units
   go just before the community services or at the end: the position of a place in the log is
   its code, and moving existing ones changes every saved log);
3. write the model module that uses it (``self.units`` in `flowsim.model.system`).

Analysis, figures, bottleneck steps, levers and warm start then pick it up from here. A new
outcome or route goes to `OUTCOMES` or `ROUTES` (at the end, for the same reason) with a label
in `_PLACE_LABELS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowsim.scenario.schema import Scenario

__all__ = [
    "ACUTE_UNITS",
    "COMMUNITY_UNITS",
    "DISCHARGE_PATHWAY_UNITS",
    "ED_PLACES",
    "ED_UNITS",
    "ENTRY_UNITS",
    "GROUPS",
    "OUTCOMES",
    "ROUTES",
    "SERVICES",
    "WARD_PREFIX",
    "WARM_START_UNITS",
    "Unit",
    "UnitSpec",
    "capacity_of",
    "catalogue",
    "in_group",
    "is_inpatient",
    "is_ward",
    "log_places",
    "log_unit_names",
    "openable",
    "put_warm_start",
    "setting",
    "spec_of",
    "unit_capacity_key",
    "unit_from_slug",
    "unit_label",
    "unit_order",
    "ward_name",
    "ward_unit",
    "warm_start_entries",
    "warm_start_limit",
    "warm_start_path",
]

ROUTES = ("ambulance", "walk_in", "gp_referral")
"""How a need reaches hospital; the first places of the log."""
OUTCOMES = (
    "home",
    "died",
    "P0",
    "P1",
    "P2",
    "P3",
    "ucr_home",
    "virtual_ward_home",
    "left_before_seen",
)
"""How a patient leaves the system; the last places of the log."""

WARD_PREFIX = "ward:"

GROUPS = ("ed", "ucr", "sdec", "acute", "ward", "community")
"""Unit groups in pathway order: ED (cubicles, clinicians, corridor, frailty team), urgent
community response, same-day emergency care, acute units (AMU, AFU), wards, community
services (P1-P3, virtual ward)."""


@dataclass(frozen=True)
class UnitSpec:
    """One kind of unit, independent of any scenario.

    ``name``: as in the event log; ``capacity_key``: the dotted scenario key of its places
    (``{ward}`` for the ward group's name; None for the corridor, which no one plans);
    ``label``: the unit for people; ``place``: one place of it ("AMU bed"), for "one more";
    ``lever``: the app's slider for its places, with ``lever_help`` (None: not a lever);
    ``group``: one of `GROUPS`; ``location``: a place where a patient physically is (False for
    services given where the patient is: clinicians, the frailty team, UCR);
    ``discharge_pathway``: P1-P3 for the community services a discharge reserves;
    ``warm_start``: the key of its entry under ``warm_start`` (None: a run cannot start with
    people in it); ``entry``: for a unit where a patient's journey can begin (the first service
    queued for), what the flow diagram calls that start.
    """

    name: str
    capacity_key: str | None
    label: str
    place: str
    group: str
    lever: str | None = None
    lever_help: str = ""
    location: bool = True
    discharge_pathway: str | None = None
    warm_start: str | None = None
    entry: str | None = None


_WARD = UnitSpec(
    name=WARD_PREFIX + "{ward}",
    capacity_key="wards.{ward}.beds",
    label="ward: {words}",
    place="{words} bed",
    group="ward",
    lever="{Words} ward beds",
    lever_help="Beds of the {ward} wards.",
    warm_start="wards.{ward}",
)
"""Every ward group, with ``{ward}`` its name (``{words}`` in words, ``{Words}`` capitalised)."""

_SPECS: tuple[UnitSpec, ...] = (
    UnitSpec(
        "ed_cubicle",
        "ed.cubicles",
        "ED cubicles",
        "ED cubicle",
        "ed",
        lever="ED cubicles",
        lever_help="All ED spaces.",
        entry="ED",
    ),
    UnitSpec(
        "ed_clinician",
        "ed.clinicians_by_hour",
        "ED clinicians",
        "ED clinician (every hour)",
        "ed",
        location=False,
    ),
    UnitSpec("corridor", None, "ED corridor", "ED corridor space", "ed"),
    UnitSpec(
        "frailty_team",
        "ed.front_door_frailty.assessors",
        "front-door frailty team",
        "frailty assessor",
        "ed",
        location=False,
    ),
    UnitSpec(
        "ucr",
        "ucr.teams",
        "UCR (urgent community response)",
        "UCR team",
        "ucr",
        lever="UCR teams at once",
        lever_help="Urgent community response: visits that can be under way at once.",
        location=False,
        entry="UCR at home",
    ),
    UnitSpec("sdec", "sdec.chairs", "SDEC", "SDEC chair", "sdec", entry="SDEC"),
    UnitSpec(
        "amu",
        "amu.beds",
        "AMU",
        "AMU bed",
        "acute",
        lever="AMU beds",
        lever_help="Acute medical unit beds.",
        warm_start="amu",
    ),
    UnitSpec(
        "afu",
        "afu.beds",
        "AFU",
        "AFU bed",
        "acute",
        lever="AFU beds",
        lever_help="Acute frailty unit beds.",
        warm_start="afu",
    ),
    _WARD,
    UnitSpec(
        "p1",
        "community.p1.capacity",
        "P1 (home with support)",
        "P1 package",
        "community",
        lever="P1: home with support",
        lever_help="Reablement and home-care packages.",
        discharge_pathway="P1",
        warm_start="p1",
    ),
    UnitSpec(
        "p2",
        "community.p2.capacity",
        "P2 (rehabilitation bed)",
        "P2 bed",
        "community",
        lever="P2: rehabilitation beds",
        lever_help="Intermediate-care beds.",
        discharge_pathway="P2",
        warm_start="p2",
    ),
    UnitSpec(
        "p3",
        "community.p3.capacity",
        "P3 (care home)",
        "P3 placement",
        "community",
        lever="P3: care-home places",
        lever_help="Discharge-to-assess care-home places.",
        discharge_pathway="P3",
        warm_start="p3",
    ),
    UnitSpec(
        "virtual_ward",
        "community.virtual_ward.capacity",
        "virtual ward",
        "virtual ward place",
        "community",
        lever="Virtual ward places",
        lever_help="Hospital at home.",
        warm_start="virtual_ward",
    ),
)
"""Every kind of unit in pathway order (the ward entry stands for every ward group)."""

_BY_NAME = {s.name: s for s in _SPECS if s is not _WARD}

_LOG_ORDER: tuple[str, ...] = (
    "ucr",
    "ed_cubicle",
    "ed_clinician",
    "frailty_team",
    "sdec",
    "amu",
    "afu",
    _WARD.name,
    "p1",
    "p2",
    "p3",
    "virtual_ward",
)
"""Units in the order of the log's place codes (the corridor comes first, after the routes):
fixed by the saved logs, so it differs from the pathway order."""

_PLACE_LABELS: dict[str, str] = {
    "ambulance": "ambulance",
    "walk_in": "walk-in",
    "gp_referral": "GP referral",
    "home": "home",
    "ucr_home": "home after UCR",
    "virtual_ward_home": "home from virtual ward",
    "left_before_seen": "left ED before being seen",
    "died": "died",
    "P0": "P0 (home, no new support)",
    **{s.discharge_pathway: s.label for s in _SPECS if s.discharge_pathway},
}
"""Routes and outcomes in words; units take their `UnitSpec.label`."""


def _names(group: str) -> tuple[str, ...]:
    return tuple(s.name for s in _SPECS if s.group == group and s is not _WARD)


ED_UNITS = _names("ed")
"""Units used during an ED attendance; a ``QUEUE`` anywhere else is a decision to leave ED."""
ED_PLACES = tuple(n for n in ED_UNITS if _BY_NAME[n].location)
"""Places where a patient physically is "in ED" (from arrival to leaving ED)."""
ACUTE_UNITS = _names("acute")
COMMUNITY_UNITS = _names("community")
DISCHARGE_PATHWAY_UNITS = tuple(s.name for s in _SPECS if s.discharge_pathway)
"""Community services a discharge waits for and reserves (P1-P3)."""
SERVICES = tuple(s.name for s in _SPECS if not s.location)
"""Units that serve a patient where they are: never a location."""
ENTRY_UNITS = tuple(s.name for s in _SPECS if s.entry)
"""Units where a journey can begin: the first service a patient queues for."""
WARM_START_UNITS = tuple(s.warm_start.split(".")[0] for s in _SPECS if s.warm_start)
"""Entries of a scenario's ``warm_start`` section in pathway order (``wards`` holds every ward
group's)."""


# ---------------------------------------------------------------- ward groups


def ward_unit(ward: str) -> str:
    """The log name of a ward group: ``care_of_elderly`` -> ``ward:care_of_elderly``."""
    return WARD_PREFIX + ward


def ward_name(unit: str) -> str | None:
    """The ward group of a unit (``ward:care_of_elderly`` -> ``care_of_elderly``), else None."""
    return unit[len(WARD_PREFIX) :] if unit.startswith(WARD_PREFIX) else None


def unit_from_slug(slug: str) -> str:
    """The unit a KPI name writes as ``slug`` (``ward_care_of_elderly`` -> ``ward:care_of_elderly``;
    other units are their own slug)."""
    return ward_unit(slug.removeprefix("ward_")) if slug.startswith("ward_") else slug


def is_ward(unit: str) -> bool:
    return unit.startswith(WARD_PREFIX)


def is_inpatient(unit: str) -> bool:
    """AMU, AFU and ward groups: the general and acute (G&A) beds."""
    return unit in ACUTE_UNITS or is_ward(unit)


# ---------------------------------------------------------------- one unit


def _ward_spec(ward: str) -> UnitSpec:
    words = ward.replace("_", " ")
    fill = {"ward": ward, "words": words, "Words": words.capitalize()}

    def f(text: str | None) -> Any:
        return None if text is None else text.format(**fill)

    s = _WARD
    return UnitSpec(
        f(s.name),
        f(s.capacity_key),
        f(s.label),
        f(s.place),
        s.group,
        f(s.lever),
        f(s.lever_help),
        s.location,
        s.discharge_pathway,
        f(s.warm_start),
        s.entry,
    )


def spec_of(unit: str) -> UnitSpec | None:
    """The `UnitSpec` of a log name (a ward group's filled in), or None for a name that is no
    unit (a route, an outcome, a cause such as ``discharge_window``)."""
    ward = ward_name(unit)
    if ward is not None:
        return _ward_spec(ward)
    return _BY_NAME.get(unit)


def in_group(unit: str, group: str) -> bool:
    """Whether a log name belongs to one of `GROUPS`."""
    spec = spec_of(unit)
    return spec is not None and spec.group == group


def unit_label(name: str) -> str | None:
    """A unit, route or outcome in words for people (``ward:care_of_elderly`` -> ``ward: care
    of elderly``, ``p1`` -> ``P1 (home with support)``), or None for a name the catalogue does
    not know."""
    spec = spec_of(name)
    if spec is not None:
        return spec.label
    return _PLACE_LABELS.get(name)


def warm_start_path(unit: str) -> str | None:
    """Where a unit's entry sits under ``warm_start`` (``amu``, ``wards.care_of_elderly``), or
    None for a unit a warm start cannot fill."""
    spec = spec_of(unit)
    return None if spec is None else spec.warm_start


def put_warm_start(section: dict[str, Any], unit: str, entry: Any) -> None:
    """Put a unit's entry into a ``warm_start`` section (a plain dict, as in YAML): ``amu`` at
    ``section["amu"]``, ``ward:x`` at ``section["wards"]["x"]``."""
    path = warm_start_path(unit)
    if path is None:
        raise KeyError(f"{unit!r}: a warm start cannot fill this unit")
    *parents, last = path.split(".")
    for key in parents:
        section = section.setdefault(key, {})
    section[last] = entry


def warm_start_entries(section: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """``(unit, entry)`` of every unit in a ``warm_start`` section (a plain dict), in the
    section's order (settings such as ``mix`` left out); the inverse of `put_warm_start`."""
    for key, value in section.items():
        if key == "wards":
            for ward, entry in value.items():
                yield ward_unit(ward), entry
        elif key in WARM_START_UNITS:
            yield key, value


def unit_order(units: Iterable[str]) -> list[str]:
    """Units in pathway order: ED, UCR, SDEC, AMU, AFU, wards (as given), community; names the
    catalogue does not know last, as given."""
    units = list(dict.fromkeys(units))
    rank = {s.name: i for i, s in enumerate(_SPECS)}
    ward_rank = rank[_WARD.name]
    known = [u for u in units if u in rank or is_ward(u)]
    ordered = sorted(known, key=lambda u: ward_rank if is_ward(u) else rank[u])  # stable
    seen = set(known)
    return ordered + [u for u in units if u not in seen]


# ---------------------------------------------------------------- a scenario's units


@dataclass(frozen=True)
class Unit:
    """One unit of a scenario: its `UnitSpec` and the places the scenario gives it at the start
    (``capacity``; the first hour of the ED clinician rota; 0 for a service switched off)."""

    spec: UnitSpec
    capacity: int

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def capacity_key(self) -> str | None:
        return self.spec.capacity_key

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def group(self) -> str:
        return self.spec.group


def setting(scenario: Scenario, key: str) -> Any:
    """The value at a dotted scenario key (``community.p1.capacity``), None where a section on
    the way is switched off (``ed.front_door_frailty`` unset)."""
    node: Any = scenario
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
        if node is None:
            return None
    return node


def unit_capacity_key(unit: str) -> str:
    """The dotted scenario key of a unit's places (``wards.care_of_elderly.beds``)."""
    spec = spec_of(unit)
    if spec is None or spec.capacity_key is None:
        raise KeyError(f"{unit!r} is no unit with a planned capacity")
    return spec.capacity_key


def capacity_of(scenario: Scenario, unit: str) -> int:
    """The places ``scenario`` gives ``unit`` at the start (0 when its service is off)."""
    value = setting(scenario, unit_capacity_key(unit))
    if value is None:
        return 0
    if isinstance(value, list | tuple):  # a rota by hour: the first hour is in force at 0
        return int(value[0])
    return int(value)


def _scenario_units(scenario: Scenario, order: Iterable[str], wards: list[str]) -> Iterator[str]:
    for name in order:
        if name == _WARD.name:
            yield from (ward_unit(w) for w in wards)
        else:
            yield name


def catalogue(scenario: Scenario) -> list[Unit]:
    """Every unit of ``scenario`` in pathway order, ward groups as the scenario lists them."""
    names = _scenario_units(scenario, (s.name for s in _SPECS), list(scenario.wards))
    out = []
    for name in names:
        spec = spec_of(name)
        assert spec is not None
        cap = 0 if spec.capacity_key is None else capacity_of(scenario, name)
        out.append(Unit(spec, cap))
    return out


def log_unit_names(scenario: Scenario) -> list[str]:
    """The units the model creates, in the order of their place codes (ward groups sorted)."""
    return list(_scenario_units(scenario, _LOG_ORDER, sorted(scenario.wards)))


def log_places(scenario: Scenario) -> list[str]:
    """``EventLog.places`` of a run of ``scenario``: routes, the corridor, the units, outcomes."""
    return [*ROUTES, "corridor", *log_unit_names(scenario), *OUTCOMES]


def warm_start_limit(scenario: Scenario, unit: str) -> int:
    """Most patients a warm start may place in ``unit``: its places and, when it has any, the
    places it can open under pressure (escalation beds, and a ward group's full-capacity
    protocol share), which a census taken under pressure holds; those beyond the places wait
    for a bed from time 0."""
    return max(capacity_of(scenario, unit), 0) + sum(_beyond_base(scenario, unit).values())


def openable(scenario: Scenario, unit: str) -> set[str]:
    """The places beyond its base ``unit`` can open (`warm_start_limit`'s parts), as a warm
    start's ``opened`` names them: ``escalation`` (its escalation beds) and, for a ward group,
    ``full_capacity_protocol`` (its share of the protocol's places)."""
    return {kind for kind, places in _beyond_base(scenario, unit).items() if places > 0}


def _beyond_base(scenario: Scenario, unit: str) -> dict[str, int]:
    """Places ``unit`` can open beyond its base, by kind (none for a unit without beds)."""
    base = capacity_of(scenario, unit)
    key = unit_capacity_key(unit)
    if base <= 0 or not key.endswith(".beds"):
        return {}
    escalation = setting(scenario, key.removesuffix("beds") + "escalation.beds") or 0
    protocol = scenario.pressure.full_capacity_protocol if scenario.pressure else None
    extra = round(protocol.extra_share_of_beds * base) if protocol and is_ward(unit) else 0
    return {"escalation": int(escalation), "full_capacity_protocol": int(extra)}
