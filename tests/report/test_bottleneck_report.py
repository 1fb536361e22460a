"""The report's bottleneck section states how sure the primary constraint is (the shares across
replications, a near tie as a tie, the drift with run length) and labels the chain in its text
exactly as its figure does. Planted on synthetic tables: no simulation."""

from __future__ import annotations

import re

import pandas as pd

from flowsim.analysis.bottlenecks import BottleneckTables, chain_labels, combine_bottlenecks
from flowsim.report.html import _bottleneck_section, _shares_in_words
from flowsim.report.pathway_figures import blocking_chain_figure

WARD = "ward:care_of_elderly"


def attribution(amu_hours: float, referral_hours: float = 300.0) -> pd.DataFrame:
    """AMU keeps ``amu_hours``; the discharge referral keeps 75 (the ward passes on 3/4)."""
    return pd.DataFrame(
        [
            ("amu", "ed_cubicle", amu_hours),
            (WARD, "ed_cubicle", 100.0),
            ("discharge_referral", WARD, referral_hours),
            ("ed_cubicle", "ambulance", 5.0),
        ],
        columns=["cause", "location", "patient_hours_per_day"],
    )


def resources() -> pd.DataFrame:
    return pd.DataFrame(
        [(unit, 10.0, 8.0, 80.0, 1.0, 20.0, 0.0, 0.0, 0.0, 0.0) for unit in ("amu", WARD)],
        columns=[
            "resource",
            "capacity_mean",
            "occupied_mean",
            "utilisation_pct",
            "queue_mean",
            "full_pct",
            "waiting_for_hours_per_day",
            "blocked_hours_per_day",
            "blocked_pct",
            "delayed_hours_per_day",
        ],
    )


def near_tie() -> list[BottleneckTables]:
    return [
        BottleneckTables(
            attribution(h), resources(), ((0, 10, attribution(h)), (10, 20, attribution(h)))
        )
        for h in (78.0, 72.0, 77.0, 73.0, 74.0)
    ]


def test_the_section_shows_the_shares_and_calls_the_tie() -> None:
    found = combine_bottlenecks(near_tie())
    html = _bottleneck_section(found)
    assert "AMU and the discharge referral and assessment</strong>" in html
    assert "about equally" in html
    shares = html[html.index("id='constraint-shares'") :]
    assert re.search(r"<td>AMU</td><td class='num'>2 of 5</td><td class='num'>40%</td>", shares)
    assert re.search(
        r"<td>discharge referral and assessment</td><td class='num'>3 of 5</td>"
        r"<td class='num'>60%</td>",
        shares,
    )
    assert _shares_in_words(found) == "discharge referral and assessment 3 of 5, AMU 2 of 5"


def test_a_drifting_constraint_is_explained_in_the_report() -> None:
    early, late = attribution(200.0, referral_hours=10.0), attribution(10.0, referral_hours=900.0)
    parts = [
        BottleneckTables(attribution(105.0, 455.0), resources(), ((0, 30, early), (30, 60, late)))
        for _ in range(2)
    ]
    html = _bottleneck_section(combine_bottlenecks(parts))
    assert "The answer depends on the run length" in html


def figure_texts(chain: list[str]) -> list[str]:
    fig = blocking_chain_figure(chain)
    return [t.get_text().replace("\n", " ") for t in fig.axes[0].texts]


def test_text_and_figure_label_every_link_alike() -> None:
    found = combine_bottlenecks(near_tie())
    chain = ["discharge_referral", WARD, "ed_cubicle", "handover"]
    found.chain = ["discharge_referral", WARD, "ed_cubicle", "ambulance"]
    found.chain_hours = dict.fromkeys(found.chain, 1.0)
    html = _bottleneck_section(found)
    words = chain_labels(chain)
    assert words[2] == "ED boarding"
    assert f"Waiting travels upstream: {' → '.join(words)}." in html
    texts = figure_texts(chain)
    assert set(words) <= set(texts), texts  # every box, word for word as the text
    assert "ED cubicles" not in " ".join(texts) and "ED cubicles" not in html.split("<h3>")[0]
