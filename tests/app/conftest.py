"""App tests keep the result cache in a folder of their own, so a run never answers from
(or leaves results in) the user's cache, and the browser test's server inherits it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def private_result_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("app-result-cache")
    before = os.environ.get("FLOWSIM_APP_CACHE")
    os.environ["FLOWSIM_APP_CACHE"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("FLOWSIM_APP_CACHE", None)
    else:
        os.environ["FLOWSIM_APP_CACHE"] = before
