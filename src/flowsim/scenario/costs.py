"""Unit costs: what a day of each thing the model counts costs, with where each figure comes from.

Costs change no behaviour: the model never reads them. They turn the event log into money
(`flowsim.analysis.costs`), so a capacity question can be asked the way a board asks it (is the
saving in delayed bed-days worth the packages?) and the delay-against-capacity trade-off of Wood
et al. (2023, "the false economy of seeking to eliminate delayed discharges", Appl Health Econ
Health Policy 21(2):243-251) can be drawn. The defaults are the cited figures, in the price year
each source gives: they are not inflated to one year, so compare options at the same prices and
treat totals as orders of magnitude. Row ids (C1, E6...) are those of
../shared/domain/planning.md; confidence H/M/L as there, "estimate" where no figure was found.

Community places are charged by the place-day provided (``community_charged_for: places``), as a
block contract pays for capacity whether it is used or not: that is what makes an optimum exist
(more places cost more every day; fewer cost delayed bed-days). IPACS charges the places occupied
(``occupied``); both KPIs are reported, the setting says which one goes into the totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["COST_SOURCES", "CostSource", "Costs"]

Pounds = Annotated[float, Field(ge=0, allow_inf_nan=False)]


@dataclass(frozen=True)
class CostSource:
    """Where a default unit cost comes from."""

    source: str
    price_year: str
    confidence: str
    estimate: bool = False


COST_SOURCES: dict[str, CostSource] = {
    "acute_delayed_day": CostSource(
        "IPACS costs sheet (BNSSG, doi:10.5281/zenodo.7845908; £2,422/week, NHS reference "
        "costs); planning.md C1. NCC 2020/21 'hotel' bed-day £344.60 (C10, H) agrees",
        "2017/18",
        "M",
    ),
    "ga_bed_day": CostSource(
        "NHS national cost collection 2020/21, non-elective bed-day £901 (DHSC written answer "
        "HC 165361); planning.md C11",
        "2020/21",
        "H",
    ),
    "escalation_bed_day": CostSource(
        "Extra over a G&A bed-day for an escalation bed open: UHB, 56 winter beds for a "
        "quarter at about £1.2m = £235 per bed-day (planning.md E6, M); agency premium up to "
        "55% above basic pay (E2, M). Derived",
        "c.2019",
        "L",
        estimate=True,
    ),
    "ambulance_hour": CostSource(
        "No per-hour figure found. Reference costs 2013/14 see-and-convey £216 an incident "
        "(planning.md C15, L) over a job cycle of about 1.5 h, inflated: estimate",
        "estimate",
        "L",
        estimate=True,
    ),
    "ed_attendance": CostSource(
        "Type 1 A&E attendance £282 cited as NCC 2022/23 (planning.md C14, L); reference "
        "costs 2016/17 £148 (C12, H, old)",
        "2022/23",
        "L",
    ),
    "cancelled_elective": CostSource(
        "No UK figure found: day-of-surgery cancellation €2,460 (Turunen et al. 2018, "
        "Finland; planning.md E10, M) at about £0.85 per euro. Placeholder",
        "2018",
        "L",
        estimate=True,
    ),
    "p1_day": CostSource(
        "IPACS costs sheet: P1 home-based discharge to assess £875/week (NHS reference costs); "
        "planning.md C2",
        "2017/18",
        "M",
    ),
    "p2_day": CostSource(
        "IPACS costs sheet: P2 bedded rehabilitation £1,050/week (National Audit of "
        "Intermediate Care); planning.md C3",
        "2017/18",
        "M",
    ),
    "p3_day": CostSource(
        "IPACS costs sheet: P3 care-home discharge to assess £1,150/week (Bristol system "
        "costs); planning.md C4",
        "2017/18",
        "M",
    ),
    "virtual_ward_day": CostSource(
        "Hospital at home, West Herts/CLCH evaluation 2023-24: £118.49 a bed-day "
        "(planning.md C17, M); Wigan £935 per bed-day avoided (C16, M) is the high case",
        "2023/24",
        "M",
    ),
}
"""The source, price year and confidence of each default in `Costs`."""


def _described(key: str, what: str) -> str:
    c = COST_SOURCES[key]
    flag = "; an estimate" if c.estimate else ""
    return f"{what} Source: {c.source} ({c.price_year} prices, {c.confidence}{flag})."


class Costs(BaseModel):
    """Unit costs in pounds, with their sources (`COST_SOURCES`); used only for cost KPIs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    acute_delayed_day: Pounds = Field(
        346.0,
        description=_described(
            "acute_delayed_day", "A delayed bed-day (no criteria to reside) in an acute bed."
        ),
    )
    ga_bed_day: Pounds = Field(
        901.0,
        description=_described(
            "ga_bed_day", "A G&A (AMU, AFU, ward) bed-day of a patient still being treated."
        ),
    )
    escalation_bed_day: Pounds = Field(
        235.0,
        description=_described(
            "escalation_bed_day",
            "Extra for each escalation bed open for a day, over the bed-days of its patients.",
        ),
    )
    ambulance_hour: Pounds = Field(
        150.0,
        description=_described(
            "ambulance_hour", "An ambulance hour lost at handover (beyond 15 minutes)."
        ),
    )
    ed_attendance: Pounds = Field(
        282.0, description=_described("ed_attendance", "An ED attendance.")
    )
    cancelled_elective: Pounds = Field(
        2100.0,
        description=_described(
            "cancelled_elective",
            "An elective operation cancelled for pressure or for want of a bed.",
        ),
    )
    p1_day: Pounds = Field(
        125.0, description=_described("p1_day", "A day of a P1 package (home with support).")
    )
    p2_day: Pounds = Field(
        150.0, description=_described("p2_day", "A day of a P2 bed (rehabilitation).")
    )
    p3_day: Pounds = Field(
        164.0, description=_described("p3_day", "A day of a P3 place (care home).")
    )
    virtual_ward_day: Pounds = Field(
        118.0, description=_described("virtual_ward_day", "A day of a virtual-ward place.")
    )
    community_charged_for: Literal["places", "occupied"] = Field(
        "places",
        description="What community services cost in the totals: every place provided, used or "
        "not (block contracts; Wood et al. 2023), or only places occupied (IPACS).",
    )

    def community_day(self, pathway: str) -> float:
        """The cost of a day of a community service by its capacity section's name (``p1``,
        ``virtual_ward``)."""
        return float(getattr(self, f"{pathway}_day"))
