"""What every importer returns: the file's rows as a polars frame, which columns hold the
canonical fields, and the import report.

The frame keeps every original column under its own name. Columns read from text formats are
strings (nothing is re-typed: "007" stays "007"); Parquet columns keep their types. Formats
without columns of their own (snmpwalk, CycloneDX, NetBox JSON) name theirs after the canonical
fields. The frame is lazy so that large CSV and Parquet files stream through identification
instead of being held in memory whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from netvet.errors import InputError
from netvet.inventory.errors import InventoryError
from netvet.inventory.importers.fields import FIELDS, FieldMap
from netvet.inventory.importers.report import ImportReport


class UnreadableInventory(InventoryError, InputError):
    """The file cannot be read as an inventory at all (missing, empty, wrong format)."""


@dataclass(frozen=True, slots=True)
class Lines:
    """Where a comma-separated inventory's records are, one per line, for writing them out as
    they were read (`inventory.passthrough`): the text (a file, or bytes transcoded to UTF-8)
    and the lines above the header."""

    source: Path | bytes
    skip: int


@dataclass(slots=True)
class Inventory:
    """An imported inventory."""

    frame: pl.LazyFrame
    fields: FieldMap
    report: ImportReport
    lines: Lines | None = None  # set by the CSV reader when its lines can be copied as read

    def collect(self) -> pl.DataFrame:
        """All rows in memory (for small inventories and tests)."""
        return self.frame.collect()

    def canonical(self) -> pl.DataFrame:
        """The canonical fields only, as strings (null where absent); several MAC columns are
        joined by blanks. For inspection and tests: identification works on `frame`."""
        schema = self.frame.collect_schema()
        exprs = []
        for name in FIELDS:
            texts = [as_text(c, schema[c]) for c in self.fields.all(name)]
            if not texts:
                exprs.append(pl.lit(None, pl.String).alias(name))
            else:
                joined = pl.concat_str(texts, separator=" ", ignore_nulls=True)
                exprs.append((texts[0] if len(texts) == 1 else joined).alias(name))
        return self.frame.select(exprs).collect()


def as_text(column: str, dtype: pl.DataType) -> pl.Expr:
    """A column as text whatever its type (lists joined by blanks)."""
    if dtype == pl.String:
        return pl.col(column)
    if isinstance(dtype, pl.List):
        return pl.col(column).cast(pl.List(pl.String), strict=False).list.join(" ")
    return pl.col(column).cast(pl.String, strict=False)


def frame_from_records(records: Iterable[Mapping[str, Any]], columns: list[str]) -> pl.DataFrame:
    """A string frame from row dicts, keeping `columns` in order (missing values are null)."""
    data: dict[str, list[str | None]] = {c: [] for c in columns}
    for record in records:
        for c in columns:
            value = record.get(c)
            data[c].append(None if value is None else str(value))
    return pl.DataFrame(data, schema={c: pl.String for c in columns})


def check_file(path: Path) -> None:
    """`UnreadableInventory` unless `path` is a readable, non-empty regular file."""
    if not path.exists():
        raise UnreadableInventory(f"{path}: no such file")
    if path.is_dir():
        raise UnreadableInventory(f"{path}: is a directory, not an inventory file")
    if not path.is_file():
        raise UnreadableInventory(f"{path}: not a regular file (a device, pipe or socket)")
    if path.stat().st_size == 0:
        raise UnreadableInventory(f"{path}: empty file")


def unique_names(names: Iterable[object]) -> tuple[list[str], list[str]]:
    """Header cells as unique, non-empty column names, and notes about what was renamed."""
    out: list[str] = []
    notes: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(names, 1):
        name = "" if raw is None else str(raw).strip()
        base = name or f"column_{i}"
        candidate, n = base, 1
        while candidate in seen:
            n += 1
            candidate = f"{base}_{n}"
        if candidate != name:
            notes.append(f"header cell {i} {name!r} renamed {candidate!r}")
        seen.add(candidate)
        out.append(candidate)
    return out, notes


def duplicate_notes(header: Iterable[object], names: list[str], mapping: FieldMap) -> list[str]:
    """What became of header names that appear more than once: every column of a field that
    takes several (mac) is used; for the others the first is used and the rest are named so
    that the user can choose with --map."""
    first: dict[str, str] = {}
    notes = []
    for raw, name in zip(header, names, strict=False):
        text = "" if raw is None else str(raw).strip()
        if not text:
            continue
        if text not in first:
            first[text] = name
            continue
        field = next((f for f, cols in mapping.columns.items() if first[text] in cols), None)
        if field is None:
            continue
        if name in mapping.all(field):
            notes.append(f"column {text!r} appears twice: both used for {field} ({name!r})")
        else:
            notes.append(
                f"column {text!r} appears twice: the first is used for {field}, the second"
                f" ({name!r}) is not; --map {name}={field} --map {first[text]}=- to use it"
            )
    return notes
