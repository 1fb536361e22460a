"""Shared builders for the tests: small scenarios, log-contract checks, Hypothesis strategies."""
