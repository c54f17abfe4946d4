"""What an import found wrong, row by row, without stopping.

Rows are numbered from 1 in the order the file holds them, header excluded: row 1 is the first
device (for a spreadsheet that is its line 2). A bad row is counted and kept; only its bad value
is left out of identification. Each kind of problem keeps its count, the first `ROW_LIMIT` row
numbers and a few example messages, so ten million bad rows still make a short report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from netvet.inventory.importers.fields import FieldMap

ROW_LIMIT = 100
EXAMPLE_LIMIT = 5

# Problem kinds and how a report names them.
KINDS = {
    "bad-mac": "malformed MAC address",
    "bad-oid": "malformed sysObjectID",
    "bad-date": "unreadable or ambiguous date",
    "undecodable": "bytes that are not valid text in the file's encoding",
    "ragged": "field count differs from the header",
    "not-a-record": "not a record (JSON value that is not an object, unparsable line)",
    "duplicate-id": "id already used by an earlier row",
    "long-field": "value longer than the field limit (cut)",
}


@dataclass(slots=True)
class Problem:
    """One kind of bad value: how many rows, which (the first ROW_LIMIT), examples."""

    kind: str
    count: int = 0
    rows: list[int] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)

    def add(self, row: int, detail: str = "") -> None:
        self.count += 1
        if len(self.rows) < ROW_LIMIT:
            self.rows.append(row)
        if detail and len(self.examples) < EXAMPLE_LIMIT:
            self.examples.append(f"row {row}: {detail}")

    def merge(self, count: int, rows: Iterable[int], examples: Iterable[str] = ()) -> None:
        """Add `count` rows of which `rows` are (some of) the numbers; keeps the lowest."""
        self.count += count
        self.rows = sorted({*self.rows, *rows})[:ROW_LIMIT]
        self.examples = [*self.examples, *examples][:EXAMPLE_LIMIT]

    def describe(self) -> str:
        more = "" if self.count <= len(self.rows) else f" (first {len(self.rows)} listed)"
        rows = ", ".join(map(str, self.rows))
        return f"{self.count} row(s) with {KINDS.get(self.kind, self.kind)}: {rows}{more}"


@dataclass(slots=True)
class ImportReport:
    """The outcome of reading one inventory file."""

    source: str
    format: str
    rows: int | None = None  # None until counted (streamed files are counted by identify)
    encoding: str = "utf-8"
    mapping: FieldMap = field(default_factory=lambda: FieldMap({}))
    notes: list[str] = field(default_factory=list)
    problems: dict[str, Problem] = field(default_factory=dict)

    def problem(self, kind: str) -> Problem:
        """The record of one kind of problem (created on first use)."""
        if kind not in KINDS:
            raise ValueError(f"unknown problem kind {kind!r}")
        return self.problems.setdefault(kind, Problem(kind))

    def add(self, kind: str, row: int, detail: str = "") -> None:
        self.problem(kind).add(row, detail)

    @property
    def problem_count(self) -> int:
        """Bad values counted over all kinds (a row with two bad values counts twice)."""
        return sum(p.count for p in self.problems.values())

    def lines(self) -> list[str]:
        """The report as short lines of text, for a summary."""
        count = "?" if self.rows is None else str(self.rows)
        out = [f"{self.source}: {count} row(s) read as {self.format} ({self.encoding})"]
        if self.mapping.columns:
            out.append(f"columns: {self.mapping.describe()}")
        out += self.notes
        out += [p.describe() for p in self.problems.values() if p.count]
        for p in self.problems.values():
            out += [f"  {e}" for e in p.examples]
        return out
