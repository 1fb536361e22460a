"""When a month of a run is gridlocked: a queue that no longer clears, at the door or for beds.

A stress curve (benchmarks/stress_curve.py, tests/validation/test_stress_curve.py) asks whether
the system bends or snaps, so both need one rule for "snapped". A month is gridlocked when any of
these monthly means (`flowsim.analysis.periods.PERIOD_KPIS`) passes its line:

- ``handover_mean`` above 4 hours: no English trust's monthly mean comes near it; the worst
  winter weeks nationally average about an hour (pressure.md S46-S50, H);
- ``ed_over_12h_share`` above 30 %: more than twice England's worst months (12.5-12.7 % in
  December 2024 and January 2025, S22/S23; estimate, L);
- ``ed_boarding_mean`` above 24 hours: the mean admitted patient waits a day in ED for a bed,
  the bed queue no longer clearing. England's record month, January 2025, had 61,529 waits over
  12 hours from decision to admit (S25, H), a minority of its admissions; the line is an
  estimate (L).

The handover line alone misses a bed-side gridlock: ED escalation spaces and corridor boarding
let crews hand over while hundreds of admitted patients wait for beds.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["GRIDLOCK", "GridlockRule"]


@dataclass(frozen=True)
class GridlockRule:
    """The lines a month's means must stay under; see the module docstring for their sources."""

    handover_minutes: float = 240.0
    over_12h_pct: float = 30.0
    bed_wait_hours: float = 24.0

    def reasons(self, months: pd.DataFrame) -> pd.Series:
        """Per month (row), the lines it crossed, e.g. ``"bed wait 96 h"``; "" when none."""
        lines = (
            ("handover_mean", self.handover_minutes, "handover {:.0f} min"),
            ("ed_over_12h_share", self.over_12h_pct, "12 h {:.0f}%"),
            ("ed_boarding_mean", self.bed_wait_hours, "bed wait {:.0f} h"),
        )

        def crossed(month: pd.Series) -> str:
            return ", ".join(
                fmt.format(month[col]) for col, line, fmt in lines if month.get(col, 0.0) > line
            )

        return months.apply(crossed, axis=1) if len(months) else pd.Series("", index=months.index)

    def gridlocked(self, months: pd.DataFrame) -> bool:
        """Whether any month of one replication crossed a line."""
        return bool((self.reasons(months) != "").any())


GRIDLOCK = GridlockRule()
"""The rule the stress curve and its test use."""
