"""Vendor identification of inventory rows: `identify_frame` (a polars frame in memory) and
`identify_file` (any importable file to CSV, JSON, JSON Lines or Parquet, streamed).

Each row keeps its columns and gains `vendor` (family slug, "" when unknown), `vendor_entity`,
`vendor_confidence` (0-1), `vendor_evidence` (what each signal said, e.g.
`manufacturer='LTS'→hikvision(white-label); oui=C0:56:E3→hikvision`) and `vendor_conflict`.
The precedence and confidence model is in `combine` and docs/identify.md.

Rows are read once (`rowrun`), as a polars stream: the key columns are computed vectorised, each
batch of rows meets the signal tuples judged so far, Python judges the new ones once each
(per-signal keys, periods and combinations are cached in `tables`), and the rows are written
in input order. Ten million rows cost one read, one write and work proportional to what is
*distinct*. CSV to CSV copies each input line as read instead of writing the parsed values
back (`passthrough`: the file is read a second time, as lines).

Ownership is judged on the row's own date when a `date` column (purchase, installation...) is
mapped and readable, else on `as_of` (default: today).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import polars as pl

from netvet.inventory.clues import ClueSource
from netvet.inventory.families import Families, load_families
from netvet.inventory.importers import FieldMap, ImportReport, Inventory, load_inventory
from netvet.inventory.importers.base import Lines
from netvet.inventory.importers.fields import resolve as resolve_fields
from netvet.inventory.passthrough import NotCopyable, record_scan, write
from netvet.inventory.registry import OuiRegistry, PenRegistry, load_oui, load_pen
from netvet.inventory.rowrun import BATCH, OUTPUT, Run
from netvet.inventory.signals import Periods
from netvet.inventory.summary import IdentifyReport
from netvet.inventory.tables import Tables

FORMATS = ("csv", "json", "jsonl", "parquet")

__all__ = ["FORMATS", "OUTPUT", "Identifier", "IdentifyReport", "identify_file", "identify_frame"]


class Identifier:
    """Registries, vendor families and the lookup tables they fill; reusable across runs (the
    tables keep what earlier runs learnt)."""

    def __init__(
        self,
        oui: OuiRegistry | None = None,
        pen: PenRegistry | None = None,
        families: Families | None = None,
    ) -> None:
        self.oui = oui or load_oui()
        self.pen = pen or load_pen()
        self.families = families or load_families()
        self.source = ClueSource(self.oui, self.pen, self.families)
        self.periods = Periods(self.families)
        self.tables = Tables(self.source, self.periods)

    def registries(self) -> dict[str, str]:
        return {"IEEE OUI": self.oui.info.date, "IANA PEN": self.pen.info.date}


def identify_frame(
    df: pl.DataFrame,
    as_of: dt.date | None = None,
    *,
    mapping: Mapping[str, str] | None = None,
    fields: FieldMap | None = None,
    identifier: Identifier | None = None,
) -> tuple[pl.DataFrame, IdentifyReport]:
    """Identify every row of `df`; columns are mapped automatically unless `fields` is given
    (`mapping` is the explicit {column: field} part)."""
    fields = fields or resolve_fields(df.columns, mapping)
    report = ImportReport("<frame>", "frame", df.height, mapping=fields)
    run = Run(identifier or Identifier(), Inventory(df.lazy(), fields, report), _day(as_of))
    prepared = run.prepared().collect()
    batches = (prepared.slice(start, BATCH) for start in range(0, prepared.height, BATCH))
    out = list(run.batches(batches))
    rows = pl.concat(out) if out else pl.DataFrame(schema=run.schema)
    return rows, run.finish()


def identify_file(
    path: Path,
    out: Path,
    fmt: str = "csv",
    mapping: Mapping[str, str] | None = None,
    as_of: dt.date | None = None,
    *,
    input_format: str | None = None,
    identifier: Identifier | None = None,
    header_row: int | None = None,
) -> IdentifyReport:
    """Import `path` (format detected unless `input_format`; column names on `header_row`,
    see `load_inventory`), identify every row and write them to `out` as `fmt`: csv, jsonl
    and parquet are streamed; json (one array) is built in memory."""
    if fmt not in FORMATS:
        raise ValueError(f"output format {fmt!r} is not one of {', '.join(FORMATS)}")
    inventory = load_inventory(path, input_format, mapping, header_row=header_row)
    return identify_inventory(inventory, out, fmt, as_of, identifier)


def identify_inventory(
    inventory: Inventory,
    out: Path,
    fmt: str = "csv",
    as_of: dt.date | None = None,
    identifier: Identifier | None = None,
) -> IdentifyReport:
    """`identify_file` for an inventory already imported."""
    ident = identifier or Identifier()
    if fmt == "csv" and inventory.lines is not None:
        report = _copying_lines(inventory, inventory.lines, out, _day(as_of), ident)
        if report is not None:
            return report
    run = Run(ident, inventory, _day(as_of))
    rows = run.rows()
    try:
        if fmt == "csv":
            rows.sink_csv(out)
        elif fmt == "jsonl":
            rows.sink_ndjson(out)
        elif fmt == "parquet":
            rows.sink_parquet(out)
        else:
            rows.collect(engine="streaming").write_json(out)
    except pl.exceptions.PolarsError:
        if run.error is not None:  # raised by netvet inside the stream: the real cause
            raise run.error from None
        raise
    report = run.finish()
    report.output = str(out)
    return report


def _copying_lines(
    inventory: Inventory, lines: Lines, out: Path, as_of: dt.date, ident: Identifier
) -> IdentifyReport | None:
    """`identify_inventory` to CSV with each input line copied as read (`passthrough`); None
    when the lines cannot be (nothing of the attempt is kept in `inventory`'s report)."""
    names = inventory.frame.collect_schema().names()
    report = copy.deepcopy(inventory.report)
    try:
        run = Run(ident, replace(inventory, frame=record_scan(lines, names), report=report), as_of)
        if run.renamed or run.dropped:
            return None
        write(run, lines, out, BATCH)
    except (NotCopyable, pl.exceptions.PolarsError):
        return None
    inventory.report = report
    result = run.finish()
    result.output = str(out)
    return result


def _day(as_of: dt.date | None) -> dt.date:
    return as_of or dt.date.today()
