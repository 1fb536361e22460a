# ruff: noqa: E501  (cell text is written as it appears in the notebook)
"""Write the workshop notebooks (notebooks/*.ipynb) from the cells below, without outputs.

Why a script: notebooks are JSON that diffs badly; the cells live here as Python text, and
``python scripts/build_notebooks.py`` rewrites the files. Every notebook reads its horizon,
warm-up and replications from the environment (FLOWSIM_NB_DAYS, FLOWSIM_NB_WARM_UP,
FLOWSIM_NB_REPLICATIONS, FLOWSIM_NB_WORKERS), so the test suite runs them on short horizons.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parents[1] / "notebooks"

# The first code cell of every notebook; {imports} is the flowsim imports that notebook uses, so
# no notebook imports a name it never calls (each cell is linted with the project's ruff settings).
SETUP = """\
import os
from pathlib import Path

import pandas as pd

{imports}

SCENARIOS = Path("..") / "scenarios" if Path("../scenarios").is_dir() else Path("scenarios")
DAYS = float(os.environ.get("FLOWSIM_NB_DAYS", 28))  # days measured per replication
WARM_UP = float(os.environ.get("FLOWSIM_NB_WARM_UP", 60))  # days from empty before measuring
REPS = int(os.environ.get("FLOWSIM_NB_REPLICATIONS", 5))  # replications per scenario
WORKERS = int(os.environ["FLOWSIM_NB_WORKERS"]) if "FLOWSIM_NB_WORKERS" in os.environ else None
RUN = {"horizon_days": DAYS, "warm_up_days": WARM_UP, "workers": WORKERS}
pd.set_option("display.width", 140)
baseline = load_scenario(SCENARIOS / "baseline.yaml")
print(f"{REPS} replications of {DAYS:g} days after {WARM_UP:g} days' warm-up")"""

HEADLINE = """\
HEADLINE = [
    "ed_within_4h",
    "handover_mean",
    "admissions",
    "los_mean",
    "occupancy_mean_general_acute",
    "delayed_share_of_ward_beds",
]
COLUMNS = [
    "scenario",
    "kpi",
    "baseline_mean",
    "scenario_mean",
    "difference",
    "ci_low",
    "ci_high",
    "verdict",
    "assessment",
]"""


def notebook(
    title: str, intro: str, imports: str, cells: list[tuple[str, str]], questions: list[str]
) -> nbformat.NotebookNode:
    """One notebook: title and intro, the setup cell with ``imports``, the cells, the questions."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells.append(new_markdown_cell(f"# {title}\n\n{intro}"))
    nb.cells.append(new_code_cell(SETUP.replace("{imports}", imports)))
    for kind, text in cells:
        nb.cells.append(new_markdown_cell(text) if kind == "md" else new_code_cell(text))
    nb.cells.append(
        new_markdown_cell(
            "## Questions for the group\n\n"
            + "\n".join(f"{i}. {q}" for i, q in enumerate(questions, 1))
        )
    )
    return nb


NOTEBOOKS = {
    "01_systems_thinking_finding_the_constraint.ipynb": notebook(
        "Systems thinking: finding the constraint",
        "Systems-thinking module. Where the queue shows (ambulances at the door, a full ED) is "
        "rarely where it starts. We ask the model where patients wait, what they wait *for*, "
        "and then test three fixes: more ED cubicles (the symptom), more P1 packages (the "
        "back door) and a faster assessment before P1 is sought (discharge to assess).",
        "import flowsim\nfrom flowsim import api\nfrom flowsim.scenario import apply_changes, load_scenario",
        [
            (
                "md",
                "## 1. Where does the waiting start?\n\nThe blocking chain runs from the "
                "primary constraint to the front door: each link is patients holding a place while "
                "they wait for the next one.",
            ),
            (
                "code",
                "b = api.bottlenecks(baseline, replications=REPS, **RUN)\n"
                'print("Primary constraint:", b.primary)\n'
                'print("Blocking chain:", b.chain_text())\n'
                'b.resources.sort_values("utilisation_pct", ascending=False).head(10)',
            ),
            ("code", 'b.attribution.sort_values("patient_hours_per_day", ascending=False).head(8)'),
            (
                "md",
                "## 2. Treat the symptom or the constraint?\n\nTwenty more ED cubicles, 15% "
                "more P1 (home with support) packages, or the assessment before a P1 package is "
                "sought in 2 days instead of 4. All run on the same random numbers as the "
                "baseline, so the differences are paired.",
            ),
            (
                "code",
                HEADLINE + "\n"
                'cubicles = apply_changes(baseline, {"ed.cubicles": baseline.ed.cubicles + 20})\n'
                "p1 = apply_changes(\n"
                '    baseline, {"community.p1.capacity": round(baseline.community.p1.capacity * 1.15)}\n'
                ")\n"
                'assess = apply_changes(baseline, {"discharge.referral_days.P1.median": 2.0})\n'
                "table = flowsim.compare(\n"
                "    baseline,\n"
                '    cubicles.model_copy(update={"name": "+20 ED cubicles"}),\n'
                '    p1.model_copy(update={"name": "+15% P1 packages"}),\n'
                '    assess.model_copy(update={"name": "P1 assessment in 2 days"}),\n'
                "    replications=REPS,\n"
                "    kpis=HEADLINE,\n"
                "    **RUN,\n"
                ")\n"
                "table[COLUMNS].round(2)",
            ),
        ],
        [
            "Where does the blocking chain start, and how far is that from where the pressure "
            "is felt?",
            "Extra cubicles shorten the 4-hour wait: do they change ward occupancy or delayed "
            "discharges? Why not?",
            "More P1 packages change nothing here, a faster assessment does: what was the "
            "back door really waiting for?",
            "Which team or budget owns the constraint? Who would have to act?",
            "What would you measure in your own system to find its constraint?",
        ],
    ),
    "02_testing_a_pathway_change.ipynb": notebook(
        "Testing a pathway change, with its uncertainty",
        "Theory-of-change module. A change to the pathway is a hypothesis: *if* we expand the "
        "acute frailty unit, *then* frail patients leave sooner and beds free up. We test it "
        "against the baseline on common random numbers and read each effect with its 95% "
        "confidence interval.",
        "import flowsim\nfrom flowsim import api\nfrom flowsim.scenario import load_scenario",
        [
            (
                "code",
                HEADLINE + "\n"
                'afu = load_scenario(SCENARIOS / "afu_expansion.yaml")\n'
                "table = flowsim.compare(baseline, afu, replications=REPS, kpis=HEADLINE, **RUN)\n"
                "table[COLUMNS].round(2)",
            ),
            (
                "md",
                "## Paired or not?\n\nThe same replications compared as if they were "
                "independent (unpaired): the interval is much wider, because the noise both runs "
                "share no longer cancels.",
            ),
            (
                "code",
                "from flowsim.analysis.compare import paired_comparison\n"
                "\n"
                "kpis = api.run_kpis([baseline, afu], REPS, **RUN)\n"
                "paired = paired_comparison(kpis, baseline.name)\n"
                "unpaired = paired_comparison(kpis, baseline.name, paired=False)\n"
                "\n"
                "\n"
                "def width(t):\n"
                '    return (t["ci_high"] - t["ci_low"]).to_numpy()\n'
                "\n"
                "\n"
                "pd.DataFrame(\n"
                '    {"kpi": paired["kpi"], "paired CI width": width(paired), "unpaired CI width": width(unpaired)}\n'
                ').set_index("kpi").loc[HEADLINE].round(3)',
            ),
        ],
        [
            "Which effects does the model support (interval excluding 0) and which not?",
            "Does the result match the expected direction in the scenario file's header? If "
            "not, which link in your theory of change is weakest?",
            "How many replications would you need before reporting this to a board?",
            "Which inputs rest on weak evidence (see `flowsim sensitivity`), and would they "
            "change the verdict?",
        ],
    ),
    "03_variation_why_one_run_lies.ipynb": notebook(
        "Variation: why one run lies",
        "Systems-thinking module. The same hospital, the same rules, different days: every "
        "replication is a different but equally likely month. One run can look good or bad "
        "by chance; the mean of several, with its interval, is what we can act on.",
        "from flowsim import api\nfrom flowsim.scenario import load_scenario",
        [
            (
                "code",
                "kpis = api.run_kpis([baseline], REPS, **RUN)\n"
                'wide = kpis.pivot_table(index="replication", columns="kpi", values="value")\n'
                'wide[["ed_within_4h", "handover_mean", "occupancy_mean_general_acute"]].round(2)',
            ),
            (
                "md",
                "## How the interval narrows\n\nThe mean and 95% interval of the 4-hour "
                "performance after 2, 3, ... replications.",
            ),
            (
                "code",
                "from flowsim.analysis import summarise\n"
                "\n"
                "rows = []\n"
                "for n in range(2, REPS + 1):\n"
                '    s = summarise(kpis[kpis["replication"] < n])\n'
                '    r = s[s["kpi"] == "ed_within_4h"].iloc[0]\n'
                "    rows.append(\n"
                '        {"replications": n, "mean": r["mean"], "ci_low": r["ci_low"], "ci_high": r["ci_high"]}\n'
                "    )\n"
                "pd.DataFrame(rows).round(2)",
            ),
            (
                "code",
                'best = wide["ed_within_4h"].idxmax()\n'
                'worst = wide["ed_within_4h"].idxmin()\n'
                "print(\n"
                "    f\"Best run: {wide.loc[best, 'ed_within_4h']:.1f}%, \"\n"
                "    f\"worst run: {wide.loc[worst, 'ed_within_4h']:.1f}%\"\n"
                ")",
            ),
        ],
        [
            "If you had seen only the best run, what would you have told your board? Only the "
            "worst?",
            "Where does variation come from in the real system? Which of it could be reduced "
            "(discharge timing, weekend working) and which not (arrivals)?",
            "Your own weekly performance figures are single runs. How would you read them now?",
        ],
    ),
    "04_population_health_and_places.ipynb": notebook(
        "Population health and places",
        "Population-health module. Demand is people: residents of four places, in age and "
        "frailty segments, each with its own rate of 999 calls, walk-ins and GP referrals. We "
        "see where urgent demand comes from, then test a place-based proactive-care programme "
        "for severely frail people in Nottingham City.",
        "import flowsim\nfrom flowsim.scenario import load_scenario",
        [
            (
                "code",
                "rows = []\n"
                "for place in baseline.population.places:\n"
                "    for s in place.segments:\n"
                "        per_year = (\n"
                "            s.people\n"
                "            * (\n"
                "                s.ambulance_per_person_year\n"
                "                + s.walk_in_per_person_year\n"
                "                + s.gp_referral_per_person_year\n"
                "            )\n"
                "            * place.demand_multiplier\n"
                "        )\n"
                "        rows.append(\n"
                "            {\n"
                '                "place": place.name,\n'
                '                "age": s.age_band,\n'
                '                "frailty": s.frailty,\n'
                '                "people": s.people,\n'
                '                "urgent contacts a day": per_year / 365,\n'
                "            }\n"
                "        )\n"
                "segments = pd.DataFrame(rows)\n"
                "segments.pivot_table(\n"
                '    index="place", columns="frailty", values=["people", "urgent contacts a day"], aggfunc="sum"\n'
                ").round(0)",
            ),
            (
                "code",
                'by_frailty = segments.groupby("frailty")[["people", "urgent contacts a day"]].sum()\n'
                '(100 * by_frailty / by_frailty.sum()).round(1).rename(columns=lambda c: c + " (% of all)")',
            ),
            (
                "md",
                "## A place-based programme\n\nSeverely frail people in Nottingham City need "
                "urgent care 20% less often (scenarios/proactive_care_city.yaml).",
            ),
            (
                "code",
                HEADLINE + "\n"
                'city = load_scenario(SCENARIOS / "proactive_care_city.yaml")\n'
                "table = flowsim.compare(baseline, city, replications=REPS, kpis=HEADLINE, **RUN)\n"
                "table[COLUMNS].round(2)",
            ),
            (
                "md",
                "## 2030: an older, frailer population\n\nThe same places in 2030 "
                "(`population.projection_year: 2030`, scenarios/2030_nothing_changes.yaml; sources "
                "in docs/planning.md). Each age band grows at its own projected rate and the frailty "
                "shares within a band stay, so the growth falls on the people who need urgent care "
                "most. Nothing about the services changes.",
            ),
            (
                "code",
                "from flowsim.analysis.projection import demand_now_and_then, projection_by_year\n"
                "\n"
                "mix = demand_now_and_then(baseline, 2030)\n"
                'by_age = mix.groupby("age_band")[["people_2025", "people_2030", "total_2025", "total_2030"]].sum()\n'
                'by_age["contacts change %"] = 100 * (by_age["total_2030"] / by_age["total_2025"] - 1)\n'
                "by_age.round(1)",
            ),
            (
                "code",
                "# places needed at 92% occupancy, from offered load (no simulation); 'places' is today's\n"
                "needed = projection_by_year(baseline, [2025, 2030, 2035])\n"
                'table = needed.pivot_table(index="label", columns="year", values="places_needed")\n'
                'table.insert(0, "places", needed.drop_duplicates("unit").set_index("label")["places"])\n'
                "table.round(0)",
            ),
            (
                "code",
                'in_2030 = load_scenario(SCENARIOS / "2030_nothing_changes.yaml")\n'
                "table = flowsim.compare(baseline, in_2030, replications=REPS, kpis=HEADLINE, **RUN)\n"
                "table[COLUMNS].round(2)",
            ),
            (
                "md",
                "Talk about it: contacts grow by about 4% by 2030, but beds for older people grow by "
                "about 10%. Why the difference? Which of the programme's changes "
                "(scenarios/2030_combined_programme.yaml) would you start first to absorb it?",
            ),
        ],
        [
            "What share of people are severely frail, and what share of urgent demand do they "
            "make? What does that say about where to target?",
            "The programme helps one place. Who else benefits (other places sharing the same "
            "hospital)?",
            "How long would a programme take to show in these measures, and what would you "
            "measure first?",
            "Which segment of your own population would you pick, and why?",
        ],
    ),
}


def main() -> None:
    """Write every notebook."""
    OUT.mkdir(exist_ok=True)
    for name, nb in NOTEBOOKS.items():
        nbformat.write(nb, OUT / name)
        print(OUT / name)


if __name__ == "__main__":
    main()
