"""Facilitator presets: ready-made exercises, each a question for the room, what to set and
what to look for once the results are on the screen.

Each preset compares the baseline with library scenarios and/or "your change" (the baseline
with some levers moved). Lever keys are those of `flowsim.app.engine.levers`; ``relative``
values multiply the baseline's value, so a preset still makes sense after the baseline changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PRESETS", "Preset"]


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

    def values(self, current: dict[str, object]) -> dict[str, object]:
        """The lever values of "your change", given the baseline's ``current`` values."""
        out: dict[str, object] = dict(self.levers)
        for key, factor in self.relative.items():
            value = current[key]
            out[key] = round(value * factor) if isinstance(value, int) else value * factor
        for key, extra in self.add.items():
            out[key] = current[key] + extra  # type: ignore[operator]
        return out


PRESETS: tuple[Preset, ...] = (
    Preset(
        "Add ED cubicles: why doesn't it help?",
        "ED is crowded and ambulances queue outside. We add 20 cubicles. How much better does "
        "the 4-hour standard get?",
        "Look at the 4-hour and handover cards, then the blocking chain: where does the chain "
        "start? Patients waiting for a ward bed fill the new cubicles within hours; the "
        "constraint is downstream, in the wards and the discharge pathways.",
        add={"ed.cubicles": 20},
    ),
    Preset(
        "Eight more frailty beds",
        "What if we opened eight more beds on the acute frailty unit?",
        "Compare the AFU change with the baseline: does G&A occupancy fall? Is the AFU full "
        "often enough for more beds to matter? Then look at the length of stay of frail and "
        "severely frail patients.",
        add={"afu.beds": 8},
    ),
    Preset(
        "Fix the back door: more P1 packages",
        "Home-care and reablement (P1) packages run 15% short of demand. What if we bought 15% "
        "more?",
        "Delayed discharges and G&A occupancy first, then ED: does the improvement reach the "
        "front door? Compare with the cubicles exercise.",
        relative={"community.p1.capacity": 1.15},
    ),
    Preset(
        "Close the frailty unit",
        "Budgets are tight: the AFU closes and its patients go to AMU. What happens?",
        "Length of stay by frailty band, G&A occupancy and the 4-hour standard. Who bears the "
        "cost?",
        levers={"afu.open": False},
    ),
    Preset(
        "Winter: 5% more demand",
        "Demand rises 5% in a cold spell. Does performance fall by 5%?",
        "Non-linearity: a system near full bends more than in proportion, but it does not "
        "break: compare the % change in demand with the % change in handover delays and "
        "12-hour waits, then see what took the strain (escalation beds, outliers, the "
        "discharge push, spot-purchased community places) and whether admissions rose with "
        "need.",
        levers={"demand_profile.growth": 1.05},
    ),
    Preset(
        "Library: the programme's changes side by side",
        "Which of the programme's changes buys most flow at the front door?",
        "Rank the scenarios by their effect on the 4-hour standard and on G&A occupancy. Which "
        "results have intervals that include no change?",
        library=("afu_expansion", "sdec_extended_hours", "p1_discharge_to_assess"),
    ),
)
