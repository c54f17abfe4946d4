"""Errors of the policy package: a policy pack that cannot be read or does not validate.

`PolicyError` carries every problem found in a file, each pointing at a line and a field
(`uk.yaml:42: rules[3].effects.remove_by: invalid date '2027-13-01'`), so a pack author can fix
them all in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from netvet.errors import InputError


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a policy file: where (file, line, field path) and what."""

    file: str
    line: int | None  # 1-based; None when the problem is about the file as a whole
    path: str  # e.g. "rules[3].effects.remove_by"; "" for the whole file
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class PolicyError(InputError):
    """A policy pack is unreadable or invalid (exit code 2 at the CLI)."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
