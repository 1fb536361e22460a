"""The scenario library: worked examples of pathway changes, and what each header promises.

Every change file in scenarios/ begins with a comment header that a learning set reads first and
that tools read too, so the table in docs/scenarios.md and the tests come from the same words::

    # Front-door frailty assessment: comprehensive geriatric assessment (CGA) in ED.
    #
    # Stream: prevention and frailty
    # Focus: "frailty from initial assessment pre-admission": ...
    # Changes: ...
    # Evidence: [S4] (M) ...; [C5] (H) ...
    # Expect: admissions lower; ed_time_mean higher
    # Why: ...
    # Weak evidence: ... Test ... from 0.05 to 0.20.

A field is a ``# Name: text`` line; lines indented under it (``#   more``) continue it. ``Expect``
lists KPIs (names as in `flowsim.analysis.kpis`) with the direction the change should move them,
the first being the headline. Pure text parsing: nothing here runs the model.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Final, Literal

from flowsim.errors import ScenarioError

__all__ = ["HEADER_FIELDS", "Expectation", "LibraryEntry", "library_entries", "read_entry"]

HEADER_FIELDS: Final = ("Stream", "Focus", "Changes", "Evidence", "Expect", "Why", "Weak evidence")
"""Header fields every library file has, in the order they are written."""
_REQUIRED: Final = ("Stream", "Changes", "Evidence", "Expect")
_FIELD: Final = re.compile(r"#\s?([A-Z][a-z]+(?: [a-z]+)?):\s*(.*)")
_CONTINUATION: Final = re.compile(r"#\s{2,}(\S.*)")
_EXPECT: Final = re.compile(r"([a-z0-9_]+)\s+(higher|lower)")
_EVIDENCE_ID: Final = re.compile(r"\[([A-Z]\d+)\]\s*\(([HML](?:/[HML])?)")
_BASELINE: Final = "baseline.yaml"


@dataclasses.dataclass(frozen=True)
class Expectation:
    """A KPI and the way the change should move it."""

    kpi: str
    direction: Literal["higher", "lower"]

    def __str__(self) -> str:
        return f"{self.kpi} {self.direction}"


@dataclasses.dataclass(frozen=True)
class LibraryEntry:
    """One change file of the library: its header, read as fields."""

    path: Path
    title: str
    fields: dict[str, str]
    expect: tuple[Expectation, ...]

    @property
    def headline(self) -> Expectation:
        """The first expectation: the effect the file is about."""
        return self.expect[0]

    @property
    def stream(self) -> str:
        return self.fields["Stream"]

    @property
    def evidence_ids(self) -> list[tuple[str, str]]:
        """``[("S4", "M"), ("C5", "H")]``: the parameters.md rows cited, with confidence."""
        return _EVIDENCE_ID.findall(self.fields.get("Evidence", ""))


def read_entry(path: str | os.PathLike[str]) -> LibraryEntry:
    """The header of one library file; a `ScenarioError` says which field is missing or wrong."""
    file = Path(path)
    shown = os.fspath(path)
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ScenarioError(shown, "", f"cannot be read: {error.strerror}") from None
    header: list[str] = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line.rstrip())
    title = header[0].lstrip("# ").strip() if header else ""
    fields: dict[str, str] = {}
    current: str | None = None
    for line in header[1:]:
        if (match := _FIELD.fullmatch(line)) and match.group(1) in HEADER_FIELDS:
            current = match.group(1)
            fields[current] = match.group(2).strip()
        elif current is not None and (more := _CONTINUATION.fullmatch(line)):
            fields[current] = f"{fields[current]} {more.group(1).strip()}".strip()
        else:
            current = None
    missing = [f for f in _REQUIRED if not fields.get(f)]
    if not title or missing:
        what = ", ".join(f"'# {f}:'" for f in missing) or "a first line saying what it is"
        raise ScenarioError(
            shown,
            "",
            f"the header comment lacks {what}; library files start with comment lines "
            f"{', '.join(HEADER_FIELDS)} (see scenarios/front_door_frailty.yaml)",
        )
    expect = tuple(
        Expectation(kpi, direction)  # type: ignore[arg-type]
        for kpi, direction in _EXPECT.findall(fields["Expect"])
    )
    if not expect:
        raise ScenarioError(
            shown,
            "",
            f"'# Expect: {fields['Expect']}' names no KPI with a direction; write e.g. "
            "'# Expect: admissions lower; ed_within_4h higher' (KPI names as in kpis.csv)",
        )
    return LibraryEntry(file, title, fields, expect)


def library_entries(folder: str | os.PathLike[str]) -> list[LibraryEntry]:
    """Every change file directly in ``folder`` (sorted by name), without the baseline.

    Sub-folders (scenarios/sweeps/ holds sweep files, another format) are not read.
    """
    files = sorted(p for p in Path(folder).glob("*.yaml") if p.name != _BASELINE)
    return [read_entry(p) for p in files]
