"""The scenario library: every example validates, runs, says what it promises, and keeps it.

A learning set starts from these files, so a file that no longer loads, a header that lost its
evidence, or a change whose headline effect has turned round is a broken worked example. The
direction test runs the full-size system (small systems are noisier than the effects) with two
paired replications per file on common random numbers, where a real effect shows in each pair,
every file from the same census of the baseline.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from flowsim.analysis import compute_kpis
from flowsim.analysis.kpis import kpi_unit
from flowsim.model.build import simulate
from flowsim.scenario import diff_scenarios, load_scenario
from flowsim.scenario.library import LibraryEntry, library_entries, read_entry

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
DOCS = Path(__file__).resolve().parents[2] / "docs"
FILES = sorted(SCENARIOS.glob("*.yaml"))  # scenarios/sweeps/ is another format
ENTRIES = library_entries(SCENARIOS)


def test_the_library_has_at_least_ten_changes() -> None:
    assert len(ENTRIES) >= 10


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_file_validates_and_runs_on_a_short_horizon(path: Path) -> None:
    scenario = load_scenario(path)
    log = simulate(scenario, 0, horizon_days=2, warm_up_days=1)
    kpis = compute_kpis(log).set_index("kpi")["value"]
    assert kpis["ed_attendances"] > 0
    assert kpis["admissions"] > 0


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.path.stem)
def test_header_says_stream_changes_evidence_and_expected_direction(entry: LibraryEntry) -> None:
    raw = yaml.safe_load(entry.path.read_text(encoding="utf-8"))
    assert raw["extends"] == "baseline.yaml"
    assert raw.get("name") and raw.get("description"), "give the file a name and a description"
    assert "warm_start" not in raw, "library files start empty and use the baseline's warm-up"
    assert entry.evidence_ids, "cite parameters.md rows as [ID] (confidence)"
    for expectation in entry.expect:
        assert kpi_unit(expectation.kpi), f"{expectation.kpi} is not a KPI name"
    weak = [c for _, c in entry.evidence_ids if "L" in c] or "estimate" in entry.fields["Evidence"]
    if weak:
        assert re.search(r"[Tt]est .*\d", entry.fields.get("Weak evidence", "")), (
            "where evidence is weak, the header suggests a range to test"
        )


def test_a_header_without_expectations_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "change.yaml"
    path.write_text("# A change\n#\n# Stream: x\n# Changes: y\nextends: baseline.yaml\n")
    with pytest.raises(Exception, match="lacks '# Evidence:', '# Expect:'"):
        read_entry(path)


def test_proactive_care_changes_only_city_severe_rates() -> None:
    base = load_scenario(SCENARIOS / "baseline.yaml")
    city = load_scenario(SCENARIOS / "proactive_care_city.yaml")
    assert {path for path, _, _ in diff_scenarios(base, city)} == {
        "name",
        "description",
        "population.places",
    }
    rates = ("ambulance_per_person_year", "walk_in_per_person_year", "gp_referral_per_person_year")
    for i, (a, b) in enumerate(zip(base.population.places, city.population.places, strict=True)):
        for sa, sb in zip(a.segments, b.segments, strict=True):
            changed = i == 0 and sa.frailty == "severe"
            for rate in rates:
                before, after = getattr(sa, rate), getattr(sb, rate)
                assert after == pytest.approx(before * (0.8 if changed else 1.0), abs=6e-5)
            assert sa.model_dump(exclude=set(rates)) == sb.model_dump(exclude=set(rates))


def test_docs_scenarios_lists_every_library_file_with_its_expectations() -> None:
    from flowsim.report.labels import kpi_label

    text = (DOCS / "scenarios.md").read_text(encoding="utf-8")
    stale = []
    for entry in ENTRIES:
        row = next((line for line in text.splitlines() if f"`{entry.path.name}`" in line), "")
        if not row or any(kpi_label(e.kpi) not in row for e in entry.expect):
            stale.append(entry.path.name)
    assert not stale, (
        f"docs/scenarios.md is out of date for {stale}: run 'flowsim library --markdown' "
        "(about 5 minutes on 2 cores)"
    )


# ---------------------------------------------------------------- directions


DIRECTION_REPLICATIONS = 2
DIRECTION_DAYS = 30.0
SETTLE_DAYS = 7.0


@pytest.fixture(scope="module")
def library_kpis(tmp_path_factory: pytest.TempPathFactory) -> object:
    """Every file from one census of the baseline taken at the end of its warm-up (the day its
    measured period begins), as the app runs them (`flowsim.app.census`): each file's changes
    act from the census on, settle for a week, then 30 days are measured. Each file used to run
    its own 60 days from empty first (257 s of setup in a 14-minute suite), then 60 days from
    the census (236 s in a 17-minute suite on a slower day). At 30 days every headline had its
    documented sign in each of 4 paired replications; the closest is afu_expansion's peak G&A
    occupancy (-0.17, -0.48, -2.31, -0.66 points), the rest have paired t of 4 or more."""
    from flowsim.api import run_kpis
    from flowsim.app.cache import DiskCache
    from flowsim.app.census import census, with_warm_start
    from flowsim.app.engine import ComparisonSettings
    from flowsim.experiment.pool import WorkerPool

    base = load_scenario(SCENARIOS / "baseline.yaml")
    settings = ComparisonSettings(
        replications=DIRECTION_REPLICATIONS,
        horizon_days=DIRECTION_DAYS,
        warm_up_days=SETTLE_DAYS,
        census_day=base.run.warm_up_days,
    )
    pool = WorkerPool(1)
    try:
        start = census(base, settings, pool, DiskCache(tmp_path_factory.mktemp("census")))
    finally:
        pool.close()
    scenarios = [base] + [load_scenario(e.path) for e in ENTRIES]
    return run_kpis(
        [with_warm_start(s, start, settle_days=settings.warm_up_days) for s in scenarios],
        settings.replications,
        horizon_days=settings.horizon_days,
        warm_up_days=settings.warm_up_days,
        workers=2,
    )


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.path.stem)
def test_headline_effect_has_the_documented_direction(
    entry: LibraryEntry, library_kpis: object
) -> None:
    import pandas as pd

    assert isinstance(library_kpis, pd.DataFrame)
    name = load_scenario(entry.path).name
    headline = entry.headline
    rows = library_kpis[library_kpis["kpi"] == headline.kpi]
    base = rows[rows["scenario"] == "baseline"].set_index("replication")["value"]
    alt = rows[rows["scenario"] == name].set_index("replication")["value"]
    differences = (alt - base).dropna()
    assert len(differences) == DIRECTION_REPLICATIONS
    sign = 1.0 if headline.direction == "higher" else -1.0
    assert (sign * differences > 0).all(), (
        f"{entry.path.name}: expected {headline}, but the paired differences are "
        f"{differences.round(3).tolist()} ({DIRECTION_REPLICATIONS} replications of "
        f"{DIRECTION_DAYS:g} days after {SETTLE_DAYS:g} from the baseline's census at the end of "
        "its warm-up)"
    )


def test_library_command_tabulates_a_folder(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from flowsim.cli import app
    from flowsim.scenario import scenario_to_yaml
    from helpers.model_helpers import small_scenario

    (tmp_path / "baseline.yaml").write_text(scenario_to_yaml(small_scenario()), encoding="utf-8")
    header = (ENTRIES[0].path.read_text(encoding="utf-8").split("extends:")[0]).strip()
    (tmp_path / "change.yaml").write_text(
        f"{header}\nextends: baseline.yaml\nname: change\nsdec: {{chairs: 1}}\n", encoding="utf-8"
    )
    out = tmp_path / "library.md"
    args = ["library", str(tmp_path), "--markdown", "--out", str(out), "--replications", "2"]
    args += ["--days", "4", "--warm-up", "2", "--workers", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "`change.yaml`" in text and "2 replications of 4 days after 2 days' warm-up" in text
