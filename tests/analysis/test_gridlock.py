"""The gridlock rule the stress curve and its test share: any one line makes a month gridlocked."""

from __future__ import annotations

import pandas as pd

from flowsim.analysis.gridlock import GRIDLOCK, GridlockRule


def _months(**cols: list[float]) -> pd.DataFrame:
    base = {
        "handover_mean": [35.0, 40.0],
        "ed_over_12h_share": [9.0, 12.0],
        "ed_boarding_mean": [2.0, 8.0],
    }
    return pd.DataFrame(base | cols)


def test_a_bending_year_is_not_gridlocked() -> None:
    assert not GRIDLOCK.gridlocked(_months())
    assert list(GRIDLOCK.reasons(_months())) == ["", ""]


def test_a_bed_queue_that_no_longer_clears_is_gridlock_even_while_crews_hand_over() -> None:
    months = _months(ed_boarding_mean=[2.0, 96.0])
    assert GRIDLOCK.gridlocked(months)
    assert list(GRIDLOCK.reasons(months)) == ["", "bed wait 96 h"]


def test_each_line_alone_and_together() -> None:
    assert GRIDLOCK.reasons(_months(handover_mean=[35.0, 250.0])).iloc[1] == "handover 250 min"
    assert GRIDLOCK.reasons(_months(ed_over_12h_share=[31.0, 12.0])).iloc[0] == "12 h 31%"
    both = _months(handover_mean=[300.0, 40.0], ed_boarding_mean=[30.0, 8.0])
    assert GRIDLOCK.reasons(both).iloc[0] == "handover 300 min, bed wait 30 h"


def test_lines_are_settable_and_a_missing_column_is_not_a_crossing() -> None:
    strict = GridlockRule(bed_wait_hours=4.0)
    assert strict.gridlocked(_months())
    assert not GRIDLOCK.gridlocked(pd.DataFrame({"handover_mean": [30.0]}))
