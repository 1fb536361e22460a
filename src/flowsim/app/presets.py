"""Facilitator presets: ready-made exercises, each a question for the room, what to set and
what to look for once the results are on the screen, and what the screen will show.

Each preset compares the baseline with library scenarios and/or "your change" (the baseline
with some levers moved). Lever keys are those of `flowsim.app.engine.levers`; ``relative``
values multiply the baseline's value, so a preset still makes sense after the baseline changes.

Why ``expect``: a preset whose text promises what the model does not show teaches the room the
wrong lesson, and it goes wrong silently when the baseline is recalibrated. So each preset
states its result in machine-readable form, as the library files' ``Expect:`` headers do, and
tests/app/test_presets.py runs every preset and asserts it. The numbers quoted in the texts are
the paired differences at the app's default settings (4 replications of 21 days after a 7-day
warm-up from the baseline's census of day 287, Monday 17 November 2025, so measured 24 November
to 15 December 2025: `flowsim.app.census`) on the baseline of commit 2380a07 (the discharge push
on bed demand and spot-purchased P2/P3 places), with length of stay over the discharges in the
window.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

__all__ = ["DIRECTIONS", "PRESETS", "YOUR_CHANGE", "Direction", "Preset"]

Direction = Literal["higher", "lower", "no clear change"]
DIRECTIONS: Final[tuple[str, ...]] = ("higher", "lower", "no clear change")
YOUR_CHANGE: Final = "your change"
"""The key of ``expect`` for the baseline with the preset's levers moved (the app's label)."""


@dataclass(frozen=True)
class Preset:
    """One exercise."""

    title: str
    question: str
    look_for: str
    library: tuple[str, ...] = ()
    """Library scenarios (file stems) to compare with the baseline."""
    levers: dict[str, object] = field(default_factory=dict)
    """Levers of "your change": absolute values."""
    relative: dict[str, float] = field(default_factory=dict)
    """Levers of "your change": multiples of the baseline's value."""
    add: dict[str, int] = field(default_factory=dict)
    """Levers of "your change": added to the baseline's value."""
    expect: Mapping[str, Mapping[str, Direction]] = field(default_factory=dict)
    """What the comparison shows, by scenario (`YOUR_CHANGE` or a library file stem) and KPI:
    "higher" or "lower" (the paired 95% CI of the difference lies wholly on that side of 0)
    or "no clear change" (the CI includes 0)."""

    def values(self, current: dict[str, object]) -> dict[str, object]:
        """The lever values of "your change", given the baseline's ``current`` values."""
        out: dict[str, object] = dict(self.levers)
        for key, factor in self.relative.items():
            value = current[key]
            out[key] = round(value * factor) if isinstance(value, int) else value * factor
        for key, extra in self.add.items():
            out[key] = current[key] + extra  # type: ignore[operator]
        return out

    def expect_lines(self) -> list[str]:
        """``expect`` in words, one line per scenario: ``your change: 4-hour standard higher;
        ...``, for the screen."""
        from flowsim.report import kpi_label

        return [
            f"{scenario}: "
            + "; ".join(f"{kpi_label(kpi)} {direction}" for kpi, direction in kpis.items())
            for scenario, kpis in self.expect.items()
        ]


PRESETS: tuple[Preset, ...] = (
    Preset(
        "Add ED cubicles: what does it fix, and what not?",
        "ED is crowded and ambulances queue outside. We add 20 cubicles. What gets better, and "
        "does it reach the wards?",
        "The front door improves: the 4-hour standard (about +6 points), handover delays "
        "(about 11 minutes, nearly a third shorter) and 12-hour waits (about 1.5 points "
        "fewer). Now look at G&A "
        "occupancy and delayed discharges: they barely move (a tenth of a point at most). More "
        "cubicles treat people faster, but the wards stay as full and the same patients wait "
        "to go home: the constraint behind the front door is untouched.",
        add={"ed.cubicles": 20},
        expect={
            YOUR_CHANGE: {
                "ed_within_4h": "higher",
                "handover_mean": "lower",
                "ed_over_12h_share": "lower",
                "delayed_share_of_ward_beds": "no clear change",
            }
        },
    ),
    Preset(
        "Eight more frailty beds",
        "What if we opened eight more beds on the acute frailty unit?",
        "The AFU is full only part of the time (about 70% occupied): its occupancy "
        "drops, G&A occupancy falls a little (about 0.4 points), and the 4-hour standard "
        "does not clearly move. Extra beds help only when the existing ones would have been "
        "full. Then look at the length of stay of frail and severely frail patients.",
        add={"afu.beds": 8},
        expect={
            YOUR_CHANGE: {
                "occupancy_mean_afu": "lower",
                "occupancy_mean_general_acute": "lower",
                "ed_within_4h": "no clear change",
            }
        },
    ),
    Preset(
        "Fix the back door: is it more P1 packages?",
        "People wait in hospital beds for home care and reablement (P1). What if we bought 15% "
        "more P1 packages? Compare with discharge to assess, where the assessment happens at "
        "home in about 2 days instead of 4 in a ward bed.",
        "Your change (15% more P1 places) changes little (delayed discharges about "
        "0.3 points fewer, inside the noise): patients seldom wait for a free P1 place. The "
        "wait is the assessment before a package is asked "
        "for. Discharge to assess shortens it, and delayed discharges fall by about a fifth "
        "(its extra places add nothing: the shorter assessment alone does the same). Fix what "
        "holds patients up, not what looks short.",
        library=("p1_discharge_to_assess",),
        relative={"community.p1.capacity": 1.15},
        expect={
            YOUR_CHANGE: {"delayed_share_of_ward_beds": "no clear change"},
            "p1_discharge_to_assess": {"delayed_share_of_ward_beds": "lower"},
        },
    ),
    Preset(
        "Close the frailty unit",
        "Budgets are tight: the AFU closes and its patients go to AMU. What happens?",
        "More people wait 12 hours in ED (about +3 points on 10%) and patients wait longer "
        "in ED for a bed (about 2 hours more on average). AMU fills (about +2.5 points of "
        "occupancy) and G&A occupancy rises about a point: the AFU's patients now stay on "
        "AMU and the wards, which are already about 96% full in late November. The 4-hour "
        "standard falls too (about 3.5 points), but in three weeks not clearly: it swings "
        "with the week, while the queue for a bed shows the cost at once. Admissions and "
        "length of stay barely move in three weeks. Then length of stay by frailty band: "
        "who bears the cost?",
        levers={"afu.open": False},
        expect={
            YOUR_CHANGE: {
                "ed_over_12h_share": "higher",
                "ed_boarding_mean": "higher",
                "occupancy_mean_amu": "higher",
                "occupancy_mean_general_acute": "higher",
            }
        },
    ),
    Preset(
        "Winter: 10% more demand",
        "Demand rises 10% in a cold spell. Does performance fall by 10%?",
        "Non-linearity: admissions rise only about 5% (the beds cannot take everyone at "
        "once), the 4-hour standard falls about 6 points (an eighth of its 47%), but the "
        "share waiting 12 hours in ED nearly doubles (about +8 points on 10%) and patients "
        "wait about 5 hours longer in ED for a bed: in late November the escalation beds "
        "are already open, so little is left to open. A system near full bends more than "
        "in proportion where the queue forms, but it does not break: see what took the "
        "strain (escalation beds, outliers, the discharge push, spot-purchased community "
        "places). Try 5% too: admissions rise about 3%, the 4-hour standard falls about 2 "
        "points and 12-hour waits rise about 2 points; twice the pressure does more than "
        "twice the harm in ED.",
        levers={"demand_profile.growth": 1.10},
        expect={
            YOUR_CHANGE: {
                "admissions": "higher",
                "ed_within_4h": "lower",
                "ed_over_12h_share": "higher",
                "ed_boarding_mean": "higher",
            }
        },
    ),
    Preset(
        "Library: the programme's changes side by side",
        "Which of the programme's changes buys most flow at the front door?",
        "Rank the scenarios by their effect on the 4-hour standard and on G&A occupancy. "
        "Longer SDEC hours cut admissions (about 5 a day) and lift the 4-hour standard most "
        "(about 2.5 points); discharge to assess cuts "
        "delayed discharges by about a fifth (2 points of ward beds) but does not clearly "
        "move the 4-hour standard in three weeks; the bigger AFU (36 beds) frees its "
        "own beds (its occupancy falls by "
        "about 22 points) and lowers G&A occupancy by about half a point, but does not "
        "clearly move the 4-hour standard. The front door gains most from a change at the "
        "front door; a change further back must travel through full wards before it shows "
        "in ED, and its gains are small against a full hospital's week-to-week swings, so "
        "judge them on longer runs (more replications or days in the settings).",
        library=("afu_expansion", "sdec_extended_hours", "p1_discharge_to_assess"),
        expect={
            "afu_expansion": {
                "occupancy_mean_afu": "lower",
                "occupancy_mean_general_acute": "lower",
                "ed_within_4h": "no clear change",
            },
            "sdec_extended_hours": {"admissions": "lower"},
            "p1_discharge_to_assess": {"delayed_share_of_ward_beds": "lower"},
        },
    ),
)
