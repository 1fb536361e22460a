"""Where each setting of a scenario file comes from: the evidence cited in its comments.

Scenario files cite the domain brief's parameter table inline — ``beds: 24  # [S7] (M)`` — so
a report can list every parameter with its source and confidence without a second copy of the
evidence to drift out of date. This reads those comments back, following ``extends`` to the
base file; a comment on its own line applies to the setting below it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ParameterSource", "extends_chain", "parameter_sources"]

_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][\w\-:]*|\"[^\"]+\"):(?P<rest>.*)$")
_REF = re.compile(r"\[([A-Z]{1,3}\d{1,3}[a-z]?)\]")
_CONFIDENCE = re.compile(r"\((H|M|L)(?:/(H|M|L))?\)|\b(estimate|calibrated)\b")


@dataclass(frozen=True)
class ParameterSource:
    """One setting as written in a scenario file, with what its comment cites."""

    key: str
    value: str
    refs: tuple[str, ...]
    confidence: str
    note: str
    file: str
    line: int


def extends_chain(path: str | Path) -> list[Path]:
    """The file and every file it extends, the file itself first."""
    chain: list[Path] = []
    current: Path | None = Path(path).resolve()
    while current is not None and current not in chain and current.is_file():
        chain.append(current)
        current = _extends(current)
    return chain


def _extends(path: Path) -> Path | None:
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = re.match(r"^extends:\s*['\"]?([^'\"#]+?)['\"]?\s*(#.*)?$", line)
        if m:
            return (path.parent / m.group(1).strip()).resolve()
    return None


def parameter_sources(path: str | Path) -> list[ParameterSource]:
    """Every setting with a comment in the file and the files it extends (the file's own rows
    first; a setting the file changes hides the base file's row for it)."""
    rows: list[ParameterSource] = []
    seen: set[str] = set()
    for file in extends_chain(path):
        for row in _read(file):
            if row.key not in seen:
                rows.append(row)
                seen.add(row.key)
    return rows


def _read(file: Path) -> list[ParameterSource]:
    out = []
    stack: list[tuple[int, str]] = []
    pending: list[str] = []
    lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            pending.append(stripped.lstrip("#").strip())
            continue
        m = _KEY.match(line)
        if not m:
            if not stripped:
                pending = []
            continue
        indent, key = len(m.group("indent")), m.group("key").strip('"')
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, key))
        value, _, comment = _split_comment(m.group("rest"))
        note = " ".join([*pending, comment]).strip()
        pending = []
        if indent == 0 and key in ("name", "description", "extends"):
            continue
        refs = tuple(dict.fromkeys(_REF.findall(note)))
        if not (refs or _CONFIDENCE.search(note)):
            continue
        out.append(
            ParameterSource(
                key=".".join(k for _, k in stack),
                value=value.strip() or "(section)",
                refs=refs,
                confidence=_confidence(comment) or _confidence(note),
                note=note,
                file=file.name,
                line=number,
            )
        )
    return out


def _split_comment(rest: str) -> tuple[str, str, str]:
    """``value  # comment`` -> (value, "#", comment), minding ``#`` inside quotes."""
    quote = ""
    for i, ch in enumerate(rest):
        if ch in "\"'" and not quote:
            quote = ch
        elif ch == quote:
            quote = ""
        elif ch == "#" and not quote and (i == 0 or rest[i - 1] in " \t"):
            return rest[:i], "#", rest[i + 1 :].strip()
    return rest, "", ""


def _confidence(note: str) -> str:
    """``H``, ``M``, ``L`` (or ``H/L`` for a range), else ``estimate`` or ``calibrated``: the
    letter wins where a comment gives both (``estimate, L``)."""
    graded = [m for m in _CONFIDENCE.finditer(note) if m.group(1)]
    if graded:
        m = graded[0]
        return m.group(1) + (f"/{m.group(2)}" if m.group(2) else "")
    found = _CONFIDENCE.search(note)
    return found.group(3) if found else ""
