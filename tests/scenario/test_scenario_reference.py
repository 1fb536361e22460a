"""The scenario reference and JSON Schema are generated from the schema; the committed copies in
docs/ must be exactly what the generator writes, or users read about keys that are gone."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from typer.testing import CliRunner

from flowsim.cli import app
from flowsim.scenario.reference import (
    json_schema,
    json_schema_text,
    reference_markdown,
    reference_rows,
)

ROOT = Path(__file__).resolve().parents[2]
FIX = "run 'flowsim schema' from the repository root to regenerate docs/ and commit the result"


def test_committed_reference_is_generated_from_the_schema() -> None:
    committed = (ROOT / "docs" / "scenario-reference.md").read_text(encoding="utf-8")
    assert committed == reference_markdown(), f"docs/scenario-reference.md is stale: {FIX}"


def test_committed_json_schema_is_generated_from_the_schema() -> None:
    committed = (ROOT / "docs" / "scenario.schema.json").read_text(encoding="utf-8")
    assert committed == json_schema_text(), f"docs/scenario.schema.json is stale: {FIX}"


def test_rows_give_unit_default_and_range_from_the_schema() -> None:
    rows = {r.path: r for r in reference_rows()}
    assert rows["run.horizon_days"].unit == "days"
    assert rows["run.horizon_days"].allowed == "> 0"
    assert rows["ed.handover_minutes"].type == "distribution"
    assert rows["ed.handover_minutes"].unit == "minutes"
    share = rows["ed.front_door_frailty.admission_avoided_share"]
    assert (share.unit, share.allowed, share.default) == ("share (0-1)", "0 to 1", "required")
    assert rows["ed.front_door_frailty.assessors"].default == "2"
    assert rows["sdec.close_hour"].unit == "hour of day"
    assert rows["afu.discharge_share.<band>"].allowed == "0 to 1"
    assert rows["wards.<ward>.los_days.<band>"].unit == "days"
    assert "warm_start.wards.<ward>.occupied" in rows
    assert rows["ed.max_handover_minutes"].type == "number or null"


def test_every_key_of_the_baseline_is_in_the_reference() -> None:
    documented = {r.path for r in reference_rows()}
    data = yaml.safe_load((ROOT / "scenarios" / "baseline.yaml").read_text(encoding="utf-8"))
    missing = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict) and "dist" not in node:
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list) and node and isinstance(node[0], dict):
            for item in node:
                walk(item, f"{path}[]")
        else:
            generic = re.sub(r"\.(fit|frail|severe)(?=\.|$)", ".<band>", path)
            generic = re.sub(r"^wards\.\w+", "wards.<ward>", generic)
            generic = re.sub(r"^ward_routing\.<band>\.\w+", "ward_routing.<band>.<ward>", generic)
            generic = re.sub(r"\.(P[0-3]|home_from_ed)(?=\.|$)", ".<pathway>", generic)
            generic = re.sub(r"(disposition\.<band>)\.\w+", r"\1.<destination>", generic)
            named = re.sub(r"\.[^.]+$", ".<name>", path)  # a mapping with free keys
            if not {path, generic, named} & documented:
                missing.append(path)

    walk(data, "")
    assert not missing, f"not in the reference: {missing[:10]}"


def test_json_schema_is_for_editing_partial_files() -> None:
    schema = json_schema()
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"] == "flowsim scenario"
    assert "extends" in schema["properties"]
    assert '"required"' not in json.dumps(schema), "a file that extends gives only its changes"
    assert schema["additionalProperties"] is False, "misspelt keys are still flagged"


def test_schema_command_writes_the_files(tmp_path: Path) -> None:
    md, js = tmp_path / "ref.md", tmp_path / "s.json"
    runner = CliRunner()
    assert runner.invoke(app, ["schema", "--markdown", "--out", str(md)]).exit_code == 0
    assert runner.invoke(app, ["schema", "--json", "--out", str(js)]).exit_code == 0
    assert md.read_text(encoding="utf-8") == reference_markdown()
    assert json.loads(js.read_text(encoding="utf-8")) == json_schema()
    both = runner.invoke(app, ["schema", "--out", str(md)])
    assert both.exit_code == 2 and "not both" in both.output
