"""The shape of a worksheet around its table: which row is the header, which merged ranges to
fill in, and whether the last row is a total rather than a device.

Spreadsheets kept by people rarely start with the header in A1: a title ("Netzinventar Berlin
- Stand 03.12.2026", often merged across the table) or a blank row comes first, and a "Summe"
row with formulas may close the table. Taking the first non-empty row as the header would map
one column and report every row as ragged.

The header is the first row among the first `HEADER_SEARCH` non-empty ones that looks like
one: only text cells, at least two of them (one for a one-column sheet), covering at least
half the width of the rows below. When some such rows hold known column names, the first of
those holding the most wins. The user can say `header_row` instead.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from netvet.inventory.importers.fields import is_known_name

HEADER_SEARCH = 20
MAX_MERGES = 10_000
# The first cell of a total row, folded: German, English, French, Spanish, Italian.
TOTAL_WORDS = frozenset(
    {"summe", "gesamt", "gesamtsumme", "insgesamt", "total", "totals", "sum", "grand total"}
    | {"total général", "totaux", "suma", "totale", "somma"}
)
_REF = re.compile(r"^([A-Z]{1,3})(\d{1,7}):([A-Z]{1,3})(\d{1,7})$")


@dataclass(frozen=True, slots=True)
class SheetRow:
    """A non-empty row: its sheet row number and raw cell values."""

    number: int
    values: tuple[Any, ...]


def filled(values: Sequence[Any]) -> list[int]:
    """Indexes of the non-empty cells."""
    return [i for i, v in enumerate(values) if v is not None and v != ""]


def find_header(rows: Sequence[SheetRow]) -> int:
    """Index in `rows` (the sheet's first non-empty rows) of the header row."""
    candidates: list[tuple[int, int]] = []  # (index, known names)
    for k, row in enumerate(rows[:HEADER_SEARCH]):
        cells = filled(row.values)
        if not cells or not all(isinstance(row.values[i], str) for i in cells):
            continue
        below = max((max(filled(r.values), default=-1) + 1 for r in rows[k + 1 :]), default=0)
        if len(cells) < min(2, max(below, 1)) or 2 * len(cells) < below:
            continue
        candidates.append((k, sum(is_known_name(str(row.values[i])) for i in cells)))
    if not candidates:
        return 0
    best = max(known for _, known in candidates)
    return next(k for k, known in candidates if known == best)


def is_total(values: Sequence[Any]) -> bool:
    """A closing total line: its first value is a total word, every other one a number (a
    formula never calculated has no cached value: the word may stand alone)."""
    cells = filled(values)
    if not cells or not isinstance(values[cells[0]], str):
        return False
    word = values[cells[0]].strip().rstrip(":").strip().casefold()
    numbers = (int, float)
    return word in TOTAL_WORDS and all(
        isinstance(values[i], numbers) and not isinstance(values[i], bool) for i in cells[1:]
    )


@dataclass(frozen=True, slots=True)
class Merge:
    """A merged range (1-based, inclusive)."""

    min_col: int
    min_row: int
    max_col: int
    max_row: int


def merged_ranges(book_zip: zipfile.ZipFile, member: str) -> list[Merge]:
    """The `<mergeCell ref="E2:E6"/>` ranges of a sheet (read-only openpyxl does not expose
    them), streamed; at most `MAX_MERGES`."""
    out: list[Merge] = []
    with book_zip.open(member) as src:
        for _, elem in ElementTree.iterparse(src):
            if elem.tag.endswith("}mergeCell") or elem.tag == "mergeCell":
                found = _REF.match(elem.get("ref", ""))
                if found:
                    a, r1, b, r2 = found.groups()
                    out.append(Merge(_col(a), int(r1), _col(b), int(r2)))
                if len(out) >= MAX_MERGES:
                    break
            elem.clear()
    return out


def _col(letters: str) -> int:
    n = 0
    for c in letters:
        n = n * 26 + ord(c) - 64
    return n


def fill_down(
    rows: Iterator[tuple[int, tuple[Any, ...]]], merges: list[Merge]
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """Rows where the cells under a merged range's top cell hold its value ("Berlin" merged
    over E2:E6 is every one of those devices' site). Only down the range's first column: a
    value merged across columns is one value, not one per column."""
    pending = sorted((m for m in merges if m.max_row > m.min_row), key=lambda m: m.min_row)
    active: list[tuple[Merge, Any]] = []
    for number, values in rows:
        while pending and pending[0].min_row <= number:
            m = pending.pop(0)
            top = (
                values[m.min_col - 1] if m.min_row == number and len(values) >= m.min_col else None
            )
            active.append((m, top))
        active = [(m, v) for m, v in active if m.max_row >= number]
        if not active:
            yield number, values
            continue
        cells = list(values)
        for m, value in active:
            if number == m.min_row or value is None:
                continue
            cells += [None] * (m.min_col - len(cells))
            if cells[m.min_col - 1] in (None, ""):
                cells[m.min_col - 1] = value
        yield number, tuple(cells)
