"""Excel workbooks (.xlsx/.xlsm), read with openpyxl in read-only mode (rows are streamed from
the sheet XML, not loaded as a cell grid).

The first worksheet is read (a note names the others). Its header is found by
`xlsx_sheet.find_header` (a title or blank rows above the table are skipped and named in a
note) unless `header_row` gives its sheet row number. Entirely empty rows are skipped (read-only
sheets often report thousands of formatted but empty rows) and counted in a note, so row N is
the N-th non-empty row under the header. Cached formula results are read, never formulas. Cell
values become the text a CSV export would hold: whole numbers without ".0", dates as ISO 8601,
booleans as true/false. Vertically merged cells are filled down; a last row that is a total
("Summe" and numbers) is not a device and is skipped with a note.

Limits (see `limits`): the zip directory's declared sizes are checked before anything is
inflated (zipfile never inflates a member past its declared size), at most `MAX_XLSX_CELLS`
cells are read, and values over `MAX_FIELD` are cut and reported. Rows are gathered into
polars frames in batches, so memory follows the text read, not Python objects per cell.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import polars as pl
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from netvet.inventory.importers import fields as fieldmap
from netvet.inventory.importers import xlsx_sheet as shape
from netvet.inventory.importers.base import (
    Inventory,
    UnreadableInventory,
    check_file,
    duplicate_notes,
    unique_names,
)
from netvet.inventory.importers.limits import (
    MAX_FIELD,
    MAX_XLSX_CELLS,
    MAX_XLSX_RATIO,
    MAX_XLSX_UNCOMPRESSED,
    RATIO_FLOOR,
)
from netvet.inventory.importers.report import ImportReport

_BATCH = 1 << 16


def read_xlsx(
    path: Path, mapping: Mapping[str, str] | None = None, *, header_row: int | None = None
) -> Inventory:
    """Import the first worksheet of an Excel workbook; `header_row` is the sheet row number
    of the header (found when None)."""
    check_file(path)
    merges = _check_zip(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableInventory(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    report = ImportReport(str(path), "xlsx")
    try:
        sheet = book.worksheets[0]
        if len(book.worksheets) > 1:
            others = ", ".join(repr(ws.title) for ws in book.worksheets[1:])
            report.notes.append(f"read sheet {sheet.title!r}; not read: {others}")
        sheet.reset_dimensions()  # the declared size may be wrong or hostile (XFD1048576)
        rows = enumerate(sheet.iter_rows(values_only=True), 1)
        frame, header = _frame(_rows(rows, report), report, header_row, merges)
    except (zipfile.BadZipFile, OSError, ValueError, KeyError) as exc:
        raise UnreadableInventory(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    finally:
        book.close()
    report.rows = frame.height
    report.mapping = fieldmap.resolve(frame.columns, mapping)
    report.notes += duplicate_notes(header, frame.columns, report.mapping)
    return Inventory(frame.lazy(), report.mapping, report)


def _check_zip(path: Path) -> list[shape.Merge]:
    """Refuse a zip bomb from the directory; the first sheet's merged ranges."""
    try:
        with zipfile.ZipFile(path) as book:
            infos = book.infolist()
            total = sum(i.file_size for i in infos)
            if total > MAX_XLSX_UNCOMPRESSED:
                raise UnreadableInventory(
                    f"{path}: inflates to {total >> 20} MiB, over the limit of "
                    f"{MAX_XLSX_UNCOMPRESSED >> 20} MiB for a workbook"
                )
            for i in infos:
                if i.file_size > RATIO_FLOOR and i.file_size > MAX_XLSX_RATIO * i.compress_size:
                    raise UnreadableInventory(
                        f"{path}: {i.filename} inflates {i.file_size // max(i.compress_size, 1)}"
                        f" times (limit {MAX_XLSX_RATIO}): a zip bomb, not a workbook"
                    )
            names = {i.filename for i in infos}
            first = "xl/worksheets/sheet1.xml"
            return shape.merged_ranges(book, first) if first in names else []
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise UnreadableInventory(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    except SyntaxError as exc:  # ElementTree.ParseError
        raise UnreadableInventory(f"{path}: broken sheet XML ({exc})") from exc


def _rows(
    rows: Iterator[tuple[int, tuple[Any, ...]]], report: ImportReport
) -> Iterator[shape.SheetRow]:
    """Non-empty rows with their sheet row numbers; counts the empty ones and the cells."""
    blank = cells = 0
    for number, values in rows:
        cells += len(values)
        if cells > MAX_XLSX_CELLS:
            raise UnreadableInventory(
                f"{report.source}: more than {MAX_XLSX_CELLS} cells; not read further"
            )
        if shape.filled(values):
            yield shape.SheetRow(number, values)
        else:
            blank += 1
    if blank:
        report.notes.append(f"{blank} empty row(s) skipped")


def _frame(
    rows: Iterator[shape.SheetRow],
    report: ImportReport,
    header_row: int | None,
    merges: list[shape.Merge],
) -> tuple[pl.DataFrame, list[str | None]]:
    head = _head(rows, header_row, report)
    header = [cell_text(v) for v in head[0].values]
    # Trailing empty header cells are formatting, not columns.
    while header and header[-1] in (None, ""):
        header.pop()
    names, renamed = unique_names(header)
    report.notes += renamed
    body: Iterator[tuple[int, tuple[Any, ...]]] = ((r.number, r.values) for r in [*head[1:], *rows])
    if merges:
        merges = [m for m in merges if m.min_row > head[0].number]
        if merges:
            report.notes.append(f"{len(merges)} merged cell range(s) filled down")
        body = shape.fill_down(body, merges)
    parts, batch = [], _Batch(names)
    last: tuple[int, tuple[Any, ...]] | None = None
    for number, values in body:
        if last is not None:
            batch.add(last[1], report)
            if batch.full:
                parts.append(batch.frame())
        last = (number, values)
    if last is not None and shape.is_total(last[1]):
        shown = ", ".join(str(cell_text(v)) for v in last[1] if v not in (None, ""))
        report.notes.append(f"last row (sheet row {last[0]}) is a total, not a device: {shown}")
    elif last is not None:
        batch.add(last[1], report)
    parts.append(batch.frame())
    return _drop_empty_unnamed(pl.concat(parts), header, names, report), header


def _drop_empty_unnamed(
    frame: pl.DataFrame, header: list[str | None], names: list[str], report: ImportReport
) -> pl.DataFrame:
    """Columns without a header cell and without any value: layout, not data."""
    unnamed = [n for n, h in zip(names, header, strict=True) if h in (None, "")]
    empty = [n for n in unnamed if frame.get_column(n).null_count() == frame.height]
    if not empty or len(empty) == len(names):
        return frame
    report.notes = [n for n in report.notes if not any(repr(e) in n for e in empty)]
    report.notes.append(f"{len(empty)} empty column(s) without a header dropped")
    return frame.drop(empty)


def _head(
    rows: Iterator[shape.SheetRow], header_row: int | None, report: ImportReport
) -> list[shape.SheetRow]:
    """The header row first, then the rows read past it while looking for it."""
    seen: list[shape.SheetRow] = []
    for row in rows:
        seen.append(row)
        if header_row is not None and row.number >= header_row:
            break
        if header_row is None and len(seen) > shape.HEADER_SEARCH:
            break
    if not seen:
        raise UnreadableInventory(f"{report.source}: the first worksheet is empty")
    if header_row is not None:
        if seen[-1].number != header_row:
            raise UnreadableInventory(f"{report.source}: sheet row {header_row} is empty")
        at = len(seen) - 1
    else:
        at = shape.find_header(seen)
    if at:
        above = "; ".join(
            " | ".join(str(cell_text(v)) for v in r.values if v not in (None, ""))[:80]
            for r in seen[:at][:3]
        )
        more = "; ..." if at > 3 else ""
        how = "given" if header_row is not None else "found"
        report.notes.append(
            f"header {how} on sheet row {seen[at].number}; {at} row(s) above it skipped: "
            f"{above}{more}"
        )
    return seen[at:]


class _Batch:
    """Rows gathered as text columns, turned into a polars frame every `_BATCH` rows."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.rows = 0
        self.total = 0
        self.data: dict[str, list[str | None]] = {n: [] for n in names}

    @property
    def full(self) -> bool:
        return self.rows >= _BATCH

    def add(self, values: tuple[Any, ...], report: ImportReport) -> None:
        self.rows += 1
        self.total += 1
        width = len(self.names)
        if any(v not in (None, "") for v in values[width:]):
            report.add(
                "ragged", self.total, f"values beyond the header's {width} column(s) dropped"
            )
        cells = [cell_text(v) for v in values[:width]]
        cells += [None] * (width - len(cells))
        for name, cell in zip(self.names, cells, strict=True):
            if cell is not None and len(cell) > MAX_FIELD:
                report.add(
                    "long-field",
                    self.total,
                    f"{name}: {len(cell)} characters, cut to {MAX_FIELD}: {cell[:40]!r}...",
                )
                cell = cell[:MAX_FIELD]
            self.data[name].append(cell)

    def frame(self) -> pl.DataFrame:
        out = pl.DataFrame(self.data, schema={n: pl.String for n in self.names})
        self.data = {n: [] for n in self.names}
        self.rows = 0
        return out


def cell_text(value: Any) -> str | None:
    """A cell value as text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)
