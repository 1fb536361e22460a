"""Errors a user can act on.

A `ScenarioError` says what is wrong with a scenario, where (file, line, dotted key path) and how to
fix it, in words a clinician can follow. The command line prints it without a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ModelError", "Problem", "ScenarioError"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario, and where it is."""

    file: str
    key_path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        place = self.file if self.line is None else f"{self.file}:{self.line}"
        return (
            f"{place}: {self.key_path}: {self.message}"
            if self.key_path
            else f"{place}: {self.message}"
        )


class ScenarioError(Exception):
    """A scenario file (or dict, or set of changes) that cannot be used, with every problem found.

    ``file``, ``key_path``, ``line`` and ``message`` describe the first problem; ``problems`` lists
    them all. ``str()`` gives one line per problem, e.g. ::

        scenarios/afu.yaml:12: wards.surgery.beds: must be a whole number of 0 or more, got -4
    """

    def __init__(self, file: str, key_path: str, message: str, line: int | None = None) -> None:
        self.problems: list[Problem] = [Problem(file, key_path, message, line)]
        super().__init__(str(self))

    @classmethod
    def from_problems(cls, problems: Sequence[Problem]) -> ScenarioError:
        if not problems:
            raise ValueError("a ScenarioError needs at least one problem")
        first = problems[0]
        error = cls(first.file, first.key_path, first.message, first.line)
        error.problems = list(problems)
        error.args = (str(error),)
        return error

    @property
    def file(self) -> str:
        return self.problems[0].file

    @property
    def key_path(self) -> str:
        return self.problems[0].key_path

    @property
    def line(self) -> int | None:
        return self.problems[0].line

    @property
    def message(self) -> str:
        return self.problems[0].message

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class ModelError(Exception):
    """The simulation reached a state the scenario should have ruled out (a bug in flowsim)."""
