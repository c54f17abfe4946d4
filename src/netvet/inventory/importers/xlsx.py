"""Excel workbooks (.xlsx/.xlsm), read with openpyxl in read-only mode (rows are streamed from
the sheet XML, not loaded as a cell grid).

The first worksheet is read (a note names the others). Its first non-empty row is the header;
entirely empty rows are skipped (read-only sheets often report thousands of formatted but empty
rows) and counted in a note, so row N is the N-th non-empty row under the header. Cached
formula results are read, never formulas. Cell values become the text a CSV export would hold:
whole numbers without ".0", dates as ISO 8601, booleans as true/false.
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
from netvet.inventory.importers.base import Inventory, UnreadableInventory, check_file, unique_names
from netvet.inventory.importers.report import ImportReport


def read_xlsx(path: Path, mapping: Mapping[str, str] | None = None) -> Inventory:
    """Import the first worksheet of an Excel workbook."""
    check_file(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise UnreadableInventory(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    report = ImportReport(str(path), "xlsx")
    try:
        sheet = book.worksheets[0]
        if len(book.worksheets) > 1:
            others = ", ".join(repr(ws.title) for ws in book.worksheets[1:])
            report.notes.append(f"read sheet {sheet.title!r}; not read: {others}")
        frame = _frame(_rows(sheet.iter_rows(values_only=True), report), report)
    finally:
        book.close()
    report.rows = frame.height
    report.mapping = fieldmap.resolve(frame.columns, mapping)
    return Inventory(frame.lazy(), report.mapping, report)


def _rows(rows: Iterator[tuple[Any, ...]], report: ImportReport) -> Iterator[list[str | None]]:
    """Non-empty rows as text cells; counts the empty ones."""
    blank = 0
    for row in rows:
        cells = [cell_text(v) for v in row]
        if any(c not in (None, "") for c in cells):
            yield cells
        else:
            blank += 1
    if blank:
        report.notes.append(f"{blank} empty row(s) skipped")


def _frame(rows: Iterator[list[str | None]], report: ImportReport) -> pl.DataFrame:
    header = next(rows, None)
    if header is None:
        raise UnreadableInventory(f"{report.source}: the first worksheet is empty")
    # Trailing empty header cells are formatting, not columns.
    while header and header[-1] in (None, ""):
        header.pop()
    names, renamed = unique_names(header)
    report.notes += renamed
    data: dict[str, list[str | None]] = {n: [] for n in names}
    width = len(names)
    for number, cells in enumerate(rows, 1):
        if any(c not in (None, "") for c in cells[width:]):
            report.add("ragged", number, f"values beyond the header's {width} column(s) dropped")
        cells = cells[:width] + [None] * (width - len(cells))
        for name, cell in zip(names, cells, strict=True):
            data[name].append(cell)
    return pl.DataFrame(data, schema={n: pl.String for n in names})


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
