"""Scenario files: pure data (schema, loading, validation, diff). Imports nothing else of flowsim."""
