"""Parquet inventories, scanned lazily by polars (row groups stream through identification).

Columns keep their Parquet types in the output; identification reads the canonical ones as
text (a list column of MACs is joined by blanks). The row count comes from the file footer.
Columns are mapped like a CSV file's, NetBox's column meanings included: a Parquet file that
`identify --format parquet` wrote from a NetBox export reads back as that export did.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from netvet.inventory.importers import fields as fieldmap
from netvet.inventory.importers.base import Inventory, UnreadableInventory, check_file
from netvet.inventory.importers.netbox import SYNONYMS, looks_like_netbox_csv
from netvet.inventory.importers.report import ImportReport


def read_parquet(path: Path, mapping: Mapping[str, str] | None = None) -> Inventory:
    """Import a Parquet file."""
    check_file(path)
    try:
        frame = pl.scan_parquet(path)
        schema = frame.collect_schema()
        rows = frame.select(pl.len()).collect().item()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise UnreadableInventory(f"{path}: not a readable Parquet file ({exc})") from exc
    names = list(schema.names())
    netbox = looks_like_netbox_csv(names)
    report = ImportReport(str(path), "netbox-parquet" if netbox else "parquet", rows, "parquet")
    report.mapping = fieldmap.resolve(names, mapping, SYNONYMS if netbox else None)
    lists = [n for n, t in schema.items() if isinstance(t, pl.List)]
    if lists:
        # Text views of list columns for identification; the originals stay untouched.
        report.notes.append(f"list column(s) joined by blanks for identification: {lists}")
    return Inventory(frame, report.mapping, report)
