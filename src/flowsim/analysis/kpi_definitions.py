"""What every KPI means, in one table: name, unit, definition and how the measured window is
handled, for analysts reading ``kpis.csv`` and for the KPI dictionary (``docs/kpis.md``,
written by ``flowsim kpis --markdown``).

`KPI_DEFINITIONS` is the single source: `kpi_dictionary_markdown` writes the dictionary from it,
and a test checks that every KPI `flowsim.analysis.kpis.compute_kpis` returns (pressure and cost
KPIs included) has exactly one definition here, in the unit compute_kpis gives it. A name with
``<unit>``, ``<band>`` or ``<n>`` stands for a family (``occupancy_mean_<unit>``:
``occupancy_mean_amu``, ``occupancy_mean_ward_care_of_elderly``...); `definition_of` finds the
entry of a KPI name. How each KPI is computed lives in `flowsim.analysis.kpis` (and
`pressure_kpis`, `costs`); a change there that changes a meaning changes its line here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "KPI_DEFINITIONS",
    "MEASURED_PERIOD",
    "KpiDefinition",
    "definition_of",
    "kpi_dictionary_markdown",
]


@dataclass(frozen=True)
class KpiDefinition:
    """One KPI (or family of KPIs): ``name`` as in ``kpis.csv`` (a family with ``<unit>``,
    ``<band>`` or ``<n>``), ``unit`` as compute_kpis gives it, ``definition`` in words, and
    ``window``: which patients or time of the measured period it counts."""

    name: str
    unit: str
    definition: str
    window: str

    @property
    def pattern(self) -> re.Pattern[str]:
        """The KPI names this entry stands for."""
        parts = re.split(r"<[a-z]+>", self.name)
        return re.compile("[a-z0-9_]+".join(re.escape(p) for p in parts) + r"\Z")


MEASURED_PERIOD = (
    "Every KPI is measured over one replication's measured period, from the end of the warm-up "
    "(log.warm_up_hours) to the end of the run (log.end_hours); the warm-up, while the system "
    "fills from its starting census, is never counted. 'Per day' divides by the length of the "
    "measured period in days. Across replications, summary.csv gives each KPI's mean and "
    "Student-t 95% confidence interval; a comparison gives the paired difference."
)

_ED = (
    "attendances arriving in the measured period; a patient still in ED at the end counts with "
    "the time so far (end − arrival)"
)
_HANDOVER = (
    "ambulance arrivals in the measured period; one still waiting at the end counts with the "
    "wait so far"
)
_COUNT = "events in the measured period, divided by its length in days"
_LOS = (
    "discharges: spells (or unit stays) that ended in the period, each with its whole length, "
    "begun in the warm-up or, for a patient a warm start placed in a bed, before time 0 (the "
    "log's meta warm_start carries the time already spent); stays still running at the end "
    "count when they end, in a later period"
)
_TIME = (
    "time-weighted over the measured period: whatever was in place between warm-up and end "
    "counts for that time, whenever it began"
)
_COST = "£ per day of the measured period, from the quantities above over the same window"
_PRESSURE = "over the measured period (a run with a pressure section only)"

KPI_DEFINITIONS: tuple[KpiDefinition, ...] = (
    KpiDefinition("ed_attendances", "per day", "ED attendances (QUEUE at ed_cubicle)", _ED),
    KpiDefinition("ed_within_4h", "%", "attendances leaving ED ≤ 4 h after arrival", _ED),
    KpiDefinition("ed_over_12h", "per day", "attendances in ED > 12 h from arrival", _ED),
    KpiDefinition(
        "ed_over_12h_share", "%", "attendances in ED > 12 h from arrival, as % of all", _ED
    ),
    KpiDefinition("ed_time_mean", "hours", "time from arrival to leaving ED, mean", _ED),
    KpiDefinition("ed_time_median", "hours", "time from arrival to leaving ED, median", _ED),
    KpiDefinition("ed_time_p95", "hours", "time from arrival to leaving ED, 95th percentile", _ED),
    KpiDefinition(
        "handover_mean", "minutes", "ambulance arrival at ED to crew released, mean", _HANDOVER
    ),
    KpiDefinition(
        "handover_over_30min_share", "%", "ambulance arrivals waiting > 30 min", _HANDOVER
    ),
    KpiDefinition(
        "handover_over_60min_share", "%", "ambulance arrivals waiting > 60 min", _HANDOVER
    ),
    KpiDefinition(
        "ambulance_hours_lost",
        "hours per day",
        "handover time beyond 15 minutes, summed over ambulance arrivals",
        _HANDOVER,
    ),
    KpiDefinition(
        "ed_boarding_mean",
        "hours",
        "decision to admit (QUEUE at AMU, AFU or a ward while in ED) to leaving ED, mean",
        _ED,
    ),
    KpiDefinition("ed_boarding_over_12h", "per day", "admitted attendances boarding > 12 h", _ED),
    KpiDefinition(
        "ed_boarding_over_12h_share",
        "%",
        "admitted attendances boarding > 12 h, as % of admitted attendances",
        _ED,
    ),
    KpiDefinition(
        "admissions",
        "per day",
        "hospital spells starting (first START at AMU, AFU or a ward; any route)",
        "spells starting in the measured period, divided by its length in days",
    ),
    KpiDefinition("ed_conversion", "%", "attendances leading to a spell (also via SDEC)", _ED),
    KpiDefinition(
        "ed_left_before_seen_share",
        "%",
        "attendances ending in DEPART left_before_seen (ed.leave_before_seen)",
        _ED,
    ),
    KpiDefinition(
        "los_mean",
        "days",
        "length of the hospital spell, first AMU/AFU/ward START to leaving the last inpatient "
        "unit, mean",
        _LOS,
    ),
    KpiDefinition("los_median", "days", "length of the hospital spell, median", _LOS),
    KpiDefinition(
        "los_mean_frailty_<band>",
        "days",
        "los_mean for one frailty band (fit, frail, severe)",
        _LOS,
    ),
    KpiDefinition(
        "los_mean_<unit>",
        "days",
        "time in one inpatient unit per stay (AMU, AFU, each ward group), mean",
        _LOS,
    ),
    KpiDefinition(
        "occupancy_mean_general_acute",
        "%",
        "G&A beds (AMU, AFU and every ward group together): place-hours held / place-hours in "
        "force (escalation beds and rota changes included), mean",
        _TIME,
    ),
    KpiDefinition(
        "occupancy_p95_general_acute",
        "%",
        "G&A beds held / in force, time-weighted 95th percentile (time with no capacity in "
        "force ignored)",
        _TIME,
    ),
    KpiDefinition(
        "occupancy_mean_<unit>",
        "%",
        "one unit with a capacity: place-hours held / place-hours in force, mean",
        _TIME,
    ),
    KpiDefinition(
        "occupancy_p95_<unit>",
        "%",
        "one unit with a capacity: held / in force, time-weighted 95th percentile",
        _TIME,
    ),
    KpiDefinition(
        "delayed_patients_mean",
        "patients",
        "medically optimised patients still in a bed (OPTIMISED until END), mean; also the "
        "delayed bed-days per day",
        _TIME,
    ),
    KpiDefinition(
        "delayed_share_of_ward_beds",
        "%",
        "delayed_patients_mean / ward beds in force",
        _TIME,
    ),
    KpiDefinition(
        "delayed_days_mean",
        "days",
        "length of a delay (OPTIMISED until leaving the bed), mean",
        "delays that began after the warm-up and ended by the end (still running: left out)",
    ),
    KpiDefinition(
        "community_wait_mean_<unit>",
        "days",
        "wait for a community service (QUEUE until START at P1, P2, P3, the virtual ward), mean",
        "waits whose queue began in the measured period; one still open at the end counts with "
        "end − queue",
    ),
    KpiDefinition(
        "readmission_rate",
        "%",
        "hospital discharges alive followed by a re-arrival naming them within the window "
        "(log.meta readmission_within_days, default 30), of such discharges; counted whether or "
        "not the re-arrival is admitted",
        "index discharges in [warm-up, end − window), so every one has its whole window observed",
    ),
    KpiDefinition(
        "admissions_avoided_ucr",
        "per day",
        "patients leaving as ucr_home, or to the virtual ward after UCR, never at ED or admitted "
        "(nor their re-presentation); overlaps the other two",
        "patients leaving the system (DEPART) in the measured period",
    ),
    KpiDefinition(
        "admissions_avoided_sdec",
        "per day",
        "SDEC patients leaving alive, never admitted",
        "patients leaving the system (DEPART) in the measured period",
    ),
    KpiDefinition(
        "admissions_avoided_virtual_ward",
        "per day",
        "virtual-ward patients never admitted, nor a re-presentation naming them (step-up: "
        "step-down patients were admitted)",
        "patients leaving the system (DEPART) in the measured period; a re-presentation after "
        "the end cannot be seen",
    ),
    KpiDefinition(
        "deaths_in_hospital", "per day", "DEPART died straight after an inpatient END", _COUNT
    ),
    KpiDefinition(
        "opel_level_share_<n>", "%", "time at OPEL level n (1-4), of the period", _PRESSURE
    ),
    KpiDefinition(
        "outlier_share",
        "%",
        "ward admissions (START at a ward) placed as outliers",
        _PRESSURE,
    ),
    KpiDefinition("electives_admitted", "per day", "elective admissions", _PRESSURE),
    KpiDefinition(
        "electives_cancelled",
        "per day",
        "electives cancelled for pressure (OPEL, occupancy)",
        _PRESSURE,
    ),
    KpiDefinition(
        "electives_cancelled_no_bed",
        "per day",
        "electives cancelled for lack of a free bed",
        _PRESSURE,
    ),
    KpiDefinition(
        "electives_cancelled_share",
        "%",
        "both kinds of cancellation, of electives scheduled",
        _PRESSURE,
    ),
    KpiDefinition(
        "elective_beds_mean",
        "beds",
        "elective inpatients in beds, time-weighted mean",
        _PRESSURE,
    ),
    KpiDefinition(
        "spot_places_mean_<unit>",
        "places",
        "spot-purchased community places open, time-weighted mean (place-days bought per day)",
        _PRESSURE,
    ),
    KpiDefinition(
        "cost_delayed_discharges",
        "£ per day",
        "delayed bed-days × the cost of an acute delayed day",
        _COST,
    ),
    KpiDefinition(
        "cost_acute_treatment",
        "£ per day",
        "G&A bed-days of patients not yet optimised × the G&A bed-day cost",
        _COST,
    ),
    KpiDefinition(
        "cost_escalation_beds",
        "£ per day",
        "escalation beds open (capacity in force above the base) × their bed-day cost",
        _COST,
    ),
    KpiDefinition(
        "cost_ambulance_handover",
        "£ per day",
        "ambulance hours lost at handover beyond 15 minutes × the ambulance hour cost",
        _COST,
    ),
    KpiDefinition(
        "cost_ed_attendances",
        "£ per day",
        "ED attendances × the cost of an attendance",
        _COST,
    ),
    KpiDefinition(
        "cost_cancelled_electives",
        "£ per day",
        "electives cancelled × the cost of a cancellation (a run with a pressure section only)",
        _COST,
    ),
    KpiDefinition(
        "cost_community_<unit>",
        "£ per day",
        "one community service (P1, P2, P3, virtual ward): places provided, or places occupied, "
        "as costs.community_charged_for says, × its day cost",
        _COST,
    ),
    KpiDefinition("cost_community", "£ per day", "the community services together", _COST),
    KpiDefinition(
        "cost_delay_and_community",
        "£ per day",
        "delayed discharges plus community services: the trade-off of Wood et al. (2023)",
        _COST,
    ),
    KpiDefinition("cost_total", "£ per day", "every cost above", _COST),
)
"""Every KPI compute_kpis can return, in the order of its table."""


def definition_of(kpi: str) -> KpiDefinition | None:
    """The entry that defines ``kpi`` (an exact name before a family), or None."""
    for d in KPI_DEFINITIONS:
        if d.name == kpi:
            return d
    families = [d for d in KPI_DEFINITIONS if "<" in d.name and d.pattern.match(kpi)]
    return max(families, key=lambda d: len(d.name.split("<")[0]), default=None)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def kpi_dictionary_markdown() -> str:
    """The KPI dictionary (``docs/kpis.md``): every `KPI_DEFINITIONS` entry as a table row."""
    lines = [
        "# KPI dictionary",
        "",
        "<!-- Generated from src/flowsim/analysis/kpi_definitions.py by "
        "`flowsim kpis --markdown`; do not edit by hand. -->",
        "",
        "The columns of `kpis.csv` and `summary.csv` (`kpi`, `unit`): what each KPI measures "
        "and which patients or time of the run it counts. A name with `<unit>` stands for one "
        "KPI per unit (`occupancy_mean_amu`, `los_mean_ward_care_of_elderly`: a ward group "
        "`ward:x` is written `ward_x`), `<band>` per frailty band, `<n>` per OPEL level.",
        "",
        "## The measured window",
        "",
        MEASURED_PERIOD,
        "",
        "## KPIs",
        "",
        "| KPI | unit | definition | window |",
        "|---|---|---|---|",
    ]
    for d in KPI_DEFINITIONS:
        lines.append(
            f"| `{d.name}` | {_cell(d.unit)} | {_cell(d.definition)} | {_cell(d.window)} |"
        )
    return "\n".join(lines) + "\n"
