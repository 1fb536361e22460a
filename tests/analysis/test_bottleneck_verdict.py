"""The bottleneck verdict states its uncertainty: how often each cause is the primary constraint
across replications, a near tie named as a tie, and why the answer changes with the run length.
Planted on synthetic attribution tables (no simulation), so the numbers are known exactly.

The planted system: ED patients wait ``amu_hours`` a day for AMU, whose patients wait for
nothing, so AMU keeps all of it. They also wait 100 a day for a care-of-elderly bed, whose
patients wait 300 a day for the discharge referral; three quarters of the ward's load
(300 / (300 + 100)) is passed on, so the referral keeps 75 a day and the ward 25.
"""

from __future__ import annotations

import pandas as pd
import pytest

from flowsim.analysis.bottlenecks import (
    TIE_MARGIN,
    Bottlenecks,
    BottleneckTables,
    chain_labels,
    combine_bottlenecks,
)

WARD = "ward:care_of_elderly"


def attribution(amu_hours: float, referral_hours: float = 300.0) -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("amu", "ed_cubicle", amu_hours),
            (WARD, "ed_cubicle", 100.0),
            ("discharge_referral", WARD, referral_hours),
        ],
        columns=["cause", "location", "patient_hours_per_day"],
    )


NO_RESOURCES = pd.DataFrame({"resource": pd.Series(dtype=str)})


def replications(amu_hours: list[float], halves: bool = True) -> list[BottleneckTables]:
    """One replication per AMU figure; each half of the measured period like the whole."""
    parts = []
    for hours in amu_hours:
        att = attribution(hours)
        split = ((0.0, 15.0, att), (15.0, 30.0, att)) if halves else ()
        parts.append(BottleneckTables(att, NO_RESOURCES, split))
    return parts


def test_a_near_tie_is_called_a_tie_with_the_shares_of_each() -> None:
    found = combine_bottlenecks(replications([77.0, 72.0, 76.0, 74.0, 73.0]))
    assert set(found.tied) == {"amu", "discharge_referral"}
    assert found.tied[0] == found.primary
    shares = found.constraints.set_index("cause")
    assert shares.loc["amu", "primary_in"] == 2
    assert shares.loc["discharge_referral", "primary_in"] == 3
    assert shares["share"].sum() == pytest.approx(1.0)
    assert shares.loc["discharge_referral", "kept_mean"] == pytest.approx(75.0)
    assert shares.loc["amu", "kept_mean"] == pytest.approx(74.4)
    assert "about equally" in found.verdict
    assert found.primary_words() == "AMU and the discharge referral and assessment"
    assert found.verdict.startswith("AMU and the discharge referral and assessment, about")
    assert "2 of 5" in dict((r[0], r[1]) for r in found.share_rows()).get("AMU", "")
    assert found.horizon_note == ""  # both halves alike: no drift


def test_a_clear_leader_is_named_alone_with_how_often() -> None:
    found = combine_bottlenecks(replications([120.0, 110.0, 115.0]))
    assert found.primary == "amu"
    assert found.tied == ["amu"]
    assert found.verdict.startswith("AMU: the primary constraint in 3 of 3 replications")
    assert "about equally" not in found.verdict
    rows = found.share_rows()
    assert rows[0][:3] == ("AMU", "3 of 3", "100%")
    assert rows[1][0] == "discharge referral and assessment"  # the runner-up, never primary
    assert rows[1][1:3] == ("0 of 3", "0%")


def test_a_lead_the_replications_cannot_confirm_says_so() -> None:
    # AMU ahead on average by more than the tie margin, but not in every replication.
    found = combine_bottlenecks(replications([200.0, 30.0, 40.0]))
    lead = found.constraints.set_index("cause")["kept_mean"]
    assert lead["amu"] > (1 + TIE_MARGIN) * lead["discharge_referral"]
    assert found.tied == ["amu"]
    assert "cannot tell them apart" in found.verdict
    assert "Run more replications" in found.verdict


def test_a_lead_every_replication_agrees_on_but_cannot_confirm_says_so() -> None:
    found = combine_bottlenecks(replications([300.0, 90.0]))  # AMU first in both, far apart
    assert found.verdict.startswith("AMU: the primary constraint in 2 of 2 replications")
    assert "not yet sure" in found.verdict
    assert "cannot tell them apart" not in found.verdict


def test_one_replication_says_it_cannot_measure_how_often() -> None:
    found = combine_bottlenecks(replications([120.0]))
    assert "One replication" in found.verdict


def test_a_constraint_that_moves_during_the_run_is_explained() -> None:
    early, late = attribution(200.0, referral_hours=10.0), attribution(10.0, referral_hours=900.0)
    whole = attribution(105.0, referral_hours=455.0)
    parts = [
        BottleneckTables(whole, NO_RESOURCES, ((0.0, 30.0, early), (30.0, 60.0, late)))
        for _ in range(2)
    ]
    found = combine_bottlenecks(parts)
    note = found.horizon_note
    assert note.startswith("The answer depends on the run length")
    assert "days 0–30" in note and "days 30–60" in note
    assert note.index("AMU") < note.index("the discharge referral")
    assert found.verdict_text().endswith(note)
    assert set(found.halves["half"]) == {1, 2}


def test_pairs_without_halves_still_combine() -> None:
    old = [(p.attribution, p.resources) for p in replications([120.0, 110.0])]
    found = combine_bottlenecks(old)
    assert found.primary == "amu" and found.horizon_note == ""


def test_chain_links_are_labelled_one_way() -> None:
    chain = ["p1", WARD, "amu", "ed_cubicle", "ambulance"]
    assert chain_labels(chain) == [
        "P1 (home with support)",
        "ward: care of elderly",
        "AMU",
        "ED boarding",
        "ambulance handover",
    ]
    # ED cubicles are the constraint, or patients in them wait to be seen: not boarding.
    assert chain_labels(["ed_cubicle", "ambulance"]) == ["ED cubicles", "ambulance handover"]
    assert chain_labels(["ed_clinician", "ed_cubicle"])[1] == "ED cubicles"
    b = Bottlenecks(pd.DataFrame(), pd.DataFrame(), chain, "p1", {})
    assert b.chain_words() == " → ".join(chain_labels(chain))
