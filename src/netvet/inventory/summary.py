"""What identification found over a whole inventory: devices per family, unknowns, conflicts,
white labels, and the import report with its bad rows."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import TypeVar

from netvet.inventory.evidence import Verdict
from netvet.inventory.importers.report import ImportReport

K = TypeVar("K", str, tuple[str, str])


@dataclass(slots=True)
class Summary:
    """Row counts by outcome."""

    rows: int = 0
    identified: int = 0  # a vendor family was named
    outside: int = 0  # no family, but a maker outside the families was named
    unknown: int = 0  # nothing named (no evidence, notes only, or chip makers only)
    chip_only: int = 0  # of the unknown: only chip-maker evidence
    conflicts: int = 0  # rows whose signals disagreed
    per_family: Counter[str] = field(default_factory=Counter)
    white_labels: Counter[tuple[str, str]] = field(default_factory=Counter)  # (brand, family)

    def add(self, verdict: Verdict, rows: int) -> None:
        self.rows += rows
        if verdict.vendor:
            self.identified += rows
            self.per_family[verdict.vendor] += rows
        elif verdict.entity:
            self.outside += rows
        else:
            self.unknown += rows
            self.chip_only += rows if verdict.chip_only else 0
        self.conflicts += rows if verdict.conflict else 0
        if verdict.white_label:
            self.white_labels[(verdict.white_label, verdict.vendor)] += rows


@dataclass(slots=True)
class IdentifyReport:
    """The outcome of `identify_frame` / `identify_file`."""

    imported: ImportReport
    summary: Summary
    as_of: dt.date  # the day ownership was judged on for rows without a date of their own
    registries: dict[str, str]  # registry -> snapshot date
    output: str | None = None

    def lines(self) -> list[str]:
        """A short text summary (the CLI may render its own from the fields)."""
        s = self.summary
        out = [
            f"{s.rows} device(s): {s.identified} identified, {s.outside} by a maker outside "
            f"the vendor families, {s.unknown} unknown ({s.chip_only} with chip-maker evidence "
            f"only), {s.conflicts} with conflicting evidence",
        ]
        out += [f"  {slug}: {n}" for slug, n in _by_count(s.per_family)]
        out += [f"  white label {b!r} -> {f}: {n}" for (b, f), n in _by_count(s.white_labels)]
        dates = ", ".join(f"{k} {v}" for k, v in self.registries.items())
        out.append(f"ownership judged on {self.as_of} where a row has no date; registries: {dates}")
        return out + self.imported.lines()


def _by_count(counts: Counter[K]) -> list[tuple[K, int]]:
    """Most rows first, ties by name: the same order on every run (verdicts are counted in
    whatever order the batches' groups come)."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
