"""Inventory importers: one module per file format, each returning an `Inventory` (the rows as
a polars frame with their original columns, which columns hold the canonical fields, and an
`ImportReport` of bad rows).

`load_inventory` picks the importer from `fmt` when given, else from the file: extension first
(.xlsx, .parquet, .jsonl), then content (a CycloneDX `bomFormat`, NetBox device objects or
header, snmpwalk lines), else delimited text.
"""

from __future__ import annotations

import csv as _csv
import io
import json
from collections.abc import Callable, Mapping
from pathlib import Path

from netvet.inventory.importers.base import Inventory, UnreadableInventory, check_file
from netvet.inventory.importers.csv import read_csv, sniff_delimiter
from netvet.inventory.importers.cyclonedx import is_cyclonedx, read_cyclonedx
from netvet.inventory.importers.fields import FIELDS, IGNORE, FieldMap, MappingError
from netvet.inventory.importers.jsonl import read_json
from netvet.inventory.importers.netbox import (
    looks_like_netbox_csv,
    looks_like_netbox_json,
    read_netbox,
)
from netvet.inventory.importers.parquet import read_parquet
from netvet.inventory.importers.report import ImportReport, Problem
from netvet.inventory.importers.snmpwalk import read_snmpwalk
from netvet.inventory.importers.xlsx import read_xlsx

Reader = Callable[[Path, Mapping[str, str] | None], Inventory]
READERS: dict[str, Reader] = {
    "csv": read_csv,
    "xlsx": read_xlsx,
    "json": read_json,
    "jsonl": read_json,
    "parquet": read_parquet,
    "netbox": read_netbox,
    "cyclonedx": read_cyclonedx,
    "snmpwalk": read_snmpwalk,
}
_BY_SUFFIX = {
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".walk": "snmpwalk",
    ".snmpwalk": "snmpwalk",
}
_JSON_SNIFF_LIMIT = 64 << 20  # parse whole JSON documents up to this size to tell them apart

__all__ = [
    "FIELDS",
    "IGNORE",
    "READERS",
    "FieldMap",
    "ImportReport",
    "Inventory",
    "MappingError",
    "Problem",
    "UnreadableInventory",
    "detect_format",
    "load_inventory",
]


def load_inventory(
    path: Path, fmt: str | None = None, mapping: Mapping[str, str] | None = None
) -> Inventory:
    """Import `path` as format `fmt` (one of `READERS`; detected when None); `mapping` is the
    explicit {column: field} mapping."""
    name = fmt or detect_format(path)
    reader = READERS.get(name)
    if reader is None:
        known = ", ".join(READERS)
        raise UnreadableInventory(f"unknown inventory format {name!r} (one of {known})")
    return reader(path, mapping)


def detect_format(path: Path) -> str:
    """The importer for `path`, from its extension, then its content."""
    check_file(path)
    by_suffix = _BY_SUFFIX.get(path.suffix.lower())
    if by_suffix:
        return by_suffix
    with path.open("rb") as f:
        head = f.read(1 << 16).removeprefix(b"\xef\xbb\xbf")
    text = head.decode("utf-8", errors="replace")
    stripped = text.lstrip()
    if stripped[:1] in ("[", "{"):
        return _json_kind(path)
    if _looks_like_walk(text):
        return "snmpwalk"
    header = next(_csv.reader(io.StringIO(text), delimiter=sniff_delimiter(text)), [])
    return "netbox" if looks_like_netbox_csv(header) else "csv"


def _json_kind(path: Path) -> str:
    if path.stat().st_size > _JSON_SNIFF_LIMIT:
        return "json"
    try:
        value = json.loads(path.read_bytes().decode("utf-8", errors="replace"))
    except json.JSONDecodeError:
        return "json"  # JSON Lines, or broken: the JSON reader says which
    if is_cyclonedx(value):
        return "cyclonedx"
    return "netbox" if looks_like_netbox_json(value) else "json"


def _looks_like_walk(text: str) -> bool:
    """Most non-blank, non-comment lines of the head are `OID = ...`."""
    lines = [ln for ln in text.splitlines()[:50] if ln.strip() and not ln.startswith(("#", "=="))]
    walk = sum(" = " in ln and ln.split(" = ", 1)[0].count(".") >= 1 for ln in lines)
    return bool(lines) and walk >= max(1, len(lines) * 0.6)
