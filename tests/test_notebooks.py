"""Every workshop notebook runs top to bottom (short horizons, via FLOWSIM_NB_* variables),
so a facilitator never meets a broken cell in front of a room."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbclient
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_four_notebooks() -> None:
    assert len(NOTEBOOKS) == 4


def test_notebooks_are_what_the_builder_writes() -> None:
    """A cell edited by hand in a notebook (notebook 04's 2030 section once was) is lost the next
    time scripts/build_notebooks.py runs; compare every cell's kind and text, without executing."""
    spec = importlib.util.spec_from_file_location(
        "build_notebooks", ROOT / "scripts" / "build_notebooks.py"
    )
    assert spec is not None and spec.loader is not None
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    assert sorted(builder.NOTEBOOKS) == [p.name for p in NOTEBOOKS]
    for path in NOTEBOOKS:
        built = [(c.cell_type, c.source) for c in builder.NOTEBOOKS[path.name].cells]
        committed = [(c.cell_type, c.source) for c in nbformat.read(path, as_version=4).cells]
        assert committed == built, (
            f"{path.name} differs from scripts/build_notebooks.py: rebuild it"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_ends_with_questions(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "FLOWSIM_NB_DAYS": "2",
        "FLOWSIM_NB_WARM_UP": "2",
        "FLOWSIM_NB_REPLICATIONS": "3",
        "FLOWSIM_NB_WORKERS": "1",
    }.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(path, as_version=4)
    # A last cell reports what the kernel read, so a notebook that ignores the variables (and
    # silently runs its full-length defaults) fails here.
    nb.cells.append(nbformat.v4.new_code_cell("print(DAYS, WARM_UP, REPS, WORKERS)"))
    nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]  # fmt: skip
    assert not errors
    assert nb.cells[-2].source.startswith("## Questions for the group")
    assert nb.cells[-1].outputs[0].text.split() == ["2.0", "2.0", "3", "1"]
