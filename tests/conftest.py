"""Hypothesis profiles for the property and fuzz tests.

``ci`` (the default) is derandomized and keeps no example database: every run of the suite, on
any machine, tries the same examples, so a failure reproduces anywhere and nothing is written
under .hypothesis/. ``dev`` explores new examples on each run and remembers failures; use it to
hunt for bugs:
``HYPOTHESIS_PROFILE=dev .venv/bin/python -m pytest tests/properties/test_properties.py``.
Each test sets its own ``max_examples``.

Derandomized is not quite context-free: Hypothesis also draws literal constants harvested from
the project's modules imported so far, so one test run alone may try other examples than the same
test in the full suite. The full suite, which CI runs, tries the same examples every time.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
