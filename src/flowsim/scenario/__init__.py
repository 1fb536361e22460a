"""Scenario files: pure data (schema, loading, validation, diff).

Imports nothing else of flowsim except `flowsim.errors`.
"""

from flowsim.scenario.changes import MISSING, apply_changes, diff_scenarios, diff_settings
from flowsim.scenario.load import load_scenario, load_scenario_data, scenario_from_dict
from flowsim.scenario.schema import Scenario
from flowsim.scenario.yaml_io import scenario_to_yaml

__all__ = [
    "MISSING",
    "Scenario",
    "apply_changes",
    "diff_scenarios",
    "diff_settings",
    "load_scenario",
    "load_scenario_data",
    "scenario_from_dict",
    "scenario_to_yaml",
]
