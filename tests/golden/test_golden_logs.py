"""The model's behaviour, frozen: saved runs must give the same event log, bit for bit.

A refactor that changes one event of one run fails here. The digests were saved from main before
the redesign of issue 13 (``tests/golden/logs.py`` says how to regenerate them, which is only
right when behaviour is meant to change).
"""

from __future__ import annotations

import json

import pytest

from .logs import CASES, DIGESTS, run_case

SAVED = json.loads(DIGESTS.read_text())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_event_log_is_unchanged(case) -> None:  # type: ignore[no-untyped-def]
    assert run_case(case) == SAVED[case.name], (
        f"{case.name}: the event log differs from the one saved from main"
    )
