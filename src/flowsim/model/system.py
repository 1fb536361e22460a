"""The simulated system: the clock, every unit, the event log and the patients' shared context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flowsim._version import __version__
from flowsim.errors import ModelError
from flowsim.log import KIND_SHIFT, ROUTES, EventLog, Kind
from flowsim.model.calendar import Calendar
from flowsim.model.fate import Fate
from flowsim.model.kernel import Environment, PriorityUnit, Unit, recorder
from flowsim.scenario.schema import AGE_BANDS, FRAILTY_BANDS, Scenario
from flowsim.scenario.units import log_places, ward_unit

if TYPE_CHECKING:
    from flowsim.model.opel import PressureState
    from flowsim.model.readmission import Readmissions

# Plain ints, not enum members: they are stored in millions of event tuples.
ARRIVE, QUEUE, START, END, HANDOVER, OPTIMISED, DEPART, RESERVE = (int(k) for k in Kind)


_FRAILTY_INDEX = {band: i for i, band in enumerate(FRAILTY_BANDS)}
_ROUTE_INDEX = {route: i for i, route in enumerate(ROUTES)}

CORRIDOR_SPACES = 1_000_000
"""Corridors are not a capacity anyone plans; they hold whoever has nowhere else to be."""


class Patient:
    __slots__ = ("age_band", "fate", "frailty", "id", "place", "readmission_of", "route")

    def __init__(
        self,
        pid: int,
        place: int,
        age_band: int,
        frailty: str,
        route: str,
        fate: Fate,
        readmission_of: int = -1,
    ) -> None:
        self.id = pid
        self.place = place
        self.age_band = age_band
        self.frailty = frailty
        self.route = route
        self.fate = fate
        self.readmission_of = readmission_of


@dataclass
class Units:
    ucr: Unit
    cubicles: PriorityUnit
    corridor: Unit
    clinicians: PriorityUnit
    frailty_team: PriorityUnit
    sdec: Unit
    amu: Unit
    afu: Unit
    wards: list[Unit]
    p1: Unit
    p2: Unit
    p3: Unit
    virtual_ward: Unit


class System:
    """Shared state of one replication. Services read it; only `record` writes the log.

    ``readmissions`` (made by `flowsim.model.build`, which knows the journey and the streams):
    None only for a system that is built to be looked at, not run. ``pressure``: what the
    pressure responses share, given by `flowsim.model.opel.install` before the run starts.
    """

    pressure: PressureState

    def __init__(
        self,
        scenario: Scenario,
        warm_up_hours: float,
        end_hours: float,
        readmissions: Readmissions | None = None,
    ) -> None:
        s = scenario
        self.scenario = s
        self.env = Environment()
        self.end_hours = end_hours
        self.calendar = Calendar(s.run.start_date, int(end_hours // 24) + 1)
        self.ward_names = sorted(s.wards)
        places = log_places(s)
        if len(places) > 1 << KIND_SHIFT:
            raise ModelError(f"{len(self.ward_names)} ward groups: too many places to record")
        self.log = EventLog(
            places=places,
            population_places=[p.name for p in s.population.places],
            warm_up_hours=warm_up_hours,
            end_hours=end_hours,
            capacities={},
        )
        self.code = {name: i for i, name in enumerate(places)}
        env = self.env
        self.record = recorder(env, self.log.events)
        capacity_log = self.log.capacity

        def record_capacity(t: float, place: int, capacity: int) -> None:
            capacity_log.append((t, place, capacity))

        def unit(
            name: str, capacity: int, turnaround_hours: float = 0.0, kind: type = Unit
        ) -> Unit:
            self.log.capacities[name] = capacity
            return kind(env, name, self.code[name], capacity, record_capacity, turnaround_hours)

        fdf = s.ed.front_door_frailty
        self.units = Units(
            ucr=unit("ucr", s.ucr.teams),
            cubicles=unit("ed_cubicle", s.ed.cubicles, kind=PriorityUnit),
            corridor=Unit(
                env,
                "corridor",
                self.code["corridor"],
                CORRIDOR_SPACES if s.ed.corridor_spaces is None else s.ed.corridor_spaces,
                record_capacity,
            ),
            clinicians=unit("ed_clinician", s.ed.clinicians_by_hour[0], kind=PriorityUnit),
            frailty_team=unit("frailty_team", fdf.assessors if fdf else 0, kind=PriorityUnit),
            sdec=unit("sdec", s.sdec.chairs),
            amu=unit("amu", s.amu.beds, s.amu.turnaround_hours),
            afu=unit("afu", s.afu.beds, s.afu.turnaround_hours),
            wards=[
                unit(ward_unit(w), s.wards[w].beds, s.wards[w].turnaround_hours)
                for w in self.ward_names
            ],
            p1=unit("p1", s.community.p1.capacity),
            p2=unit("p2", s.community.p2.capacity),
            p3=unit("p3", s.community.p3.capacity),
            virtual_ward=unit("virtual_ward", s.community.virtual_ward.capacity),
        )
        self.next_id = 0
        self.boarding = 0
        """Admitted patients in ED (cubicle or corridor) waiting for a bed now."""
        self.readmissions = readmissions

    def register(self, p: Patient, cfs: int, acuity: int) -> None:
        self.log.patients.append(
            (
                p.id,
                p.place,
                p.age_band,
                _FRAILTY_INDEX[p.frailty],
                cfs,
                acuity,
                _ROUTE_INDEX[p.route],
                p.readmission_of,
            )
        )

    def age_at_least(self, p: Patient, band: str) -> bool:
        return p.age_band >= AGE_BANDS.index(band)


def run_meta(
    scenario: Scenario, seed: int, replication: int, horizon_days: float, warm_up_days: float
) -> dict[str, object]:
    """What a replication's ``EventLog.meta`` says about its run: the facts of the scenario the
    analysis needs (readmission window, unit costs) travel with the log, which it reads alone."""
    return {
        "scenario": scenario.name,
        "seed": seed,
        "replication": replication,
        "horizon_days": horizon_days,
        "warm_up_days": warm_up_days,
        "start_date": scenario.run.start_date.isoformat(),
        "readmission_within_days": scenario.community.readmission.within_days,
        "costs": scenario.costs.model_dump(mode="json"),
        "flowsim_version": __version__,
    }
