"""Inventory importers: one module per file format, each returning an `Inventory` (the rows as
a polars frame with their original columns, which columns hold the canonical fields, and an
`ImportReport` of bad rows).

`load_inventory` picks the importer from `fmt` when given, else from the file: extension first
(.xlsx, .parquet, .jsonl), then content (zip or Parquet magic bytes, a CycloneDX `bomFormat`,
NetBox device objects or header, snmpwalk lines in any of net-snmp's output styles, UTF-16
included), else delimited text. Binary data that is none of these is refused.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path

from netvet.inventory.importers.base import Inventory, UnreadableInventory, check_file
from netvet.inventory.importers.csv import first_record, read_csv, sniff_delimiter
from netvet.inventory.importers.cyclonedx import is_cyclonedx, read_cyclonedx
from netvet.inventory.importers.fields import FIELDS, IGNORE, FieldMap, MappingError
from netvet.inventory.importers.jsonl import first_line_value, read_json
from netvet.inventory.importers.limits import MAX_JSON_DEPTH, looks_binary
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
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_HEX_LINE = re.compile(r"^(?:[0-9A-Fa-f]{2} ?)+$")
# A walk line starts with an OID: numeric or iso-rooted (-On, -Of, default), or MIB::name.
_WALK_OID = re.compile(
    r"^(?:\.?(?:iso|1\.3\.6)(?:\.[A-Za-z0-9-]+)+|[A-Za-z][A-Za-z0-9-]*::[^\s=]+)(?: = |[ \t]|$)"
)

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
    path: Path,
    fmt: str | None = None,
    mapping: Mapping[str, str] | None = None,
    *,
    header_row: int | None = None,
) -> Inventory:
    """Import `path` as format `fmt` (one of `READERS`; detected when None); `mapping` is the
    explicit {column: field} mapping; `header_row` the row (xlsx: sheet row, csv: line) of the
    header, found (xlsx) or taken as the first (csv) when None."""
    name = fmt or detect_format(path)
    reader = READERS.get(name)
    if reader is None:
        known = ", ".join(READERS)
        raise UnreadableInventory(f"unknown inventory format {name!r} (one of {known})")
    if header_row is not None:
        if header_row < 1 or name not in ("csv", "xlsx"):
            raise UnreadableInventory(
                f"{path}: a header row (1 or more) can be given for csv and xlsx input only"
                f" (this is {name})"
            )
        reader = partial(read_xlsx if name == "xlsx" else read_csv, header_row=header_row)
    try:
        return reader(path, mapping)
    except RecursionError as exc:  # a nested structure no parser level caught: input, not bug
        raise UnreadableInventory(
            f"{path}: nested too deeply to read (limit {MAX_JSON_DEPTH} levels)"
        ) from exc
    except MemoryError as exc:  # the limits should prevent it; say what, not "bug"
        raise UnreadableInventory(
            f"{path}: not enough memory to read it as {name}; export CSV or Parquet, or split it"
        ) from exc


def detect_format(path: Path) -> str:
    """The importer for `path`, from its extension, then its content."""
    check_file(path)
    by_suffix = _BY_SUFFIX.get(path.suffix.lower())
    if by_suffix == "jsonl":
        return _json_kind(path)
    if by_suffix:
        return by_suffix
    with path.open("rb") as f:
        head = f.read(1 << 16).removeprefix(b"\xef\xbb\xbf")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"  # a zip: the only zipped format read (the reader says if it is not one)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(_UTF16_BOMS):
        text = head.decode("utf-16", errors="replace")
    elif looks_binary(head):
        raise UnreadableInventory(f"{path}: binary data, not an inventory in a known format")
    else:
        text = head.decode("utf-8", errors="replace")
    stripped = text.lstrip()
    if stripped[:1] in ("[", "{"):
        return _json_kind(path)
    if _looks_like_walk(text):
        return "snmpwalk"
    header = first_record(text, sniff_delimiter(text)) or []
    return "netbox" if looks_like_netbox_csv(header) else "csv"


def _json_kind(path: Path) -> str:
    if path.suffix.lower() in (".jsonl", ".ndjson", ".jsonlines"):
        return "netbox" if looks_like_netbox_json([first_line_value(path)]) else "jsonl"
    if path.stat().st_size > _JSON_SNIFF_LIMIT:
        return "json"
    try:
        value = json.loads(path.read_bytes().decode("utf-8", errors="replace"))
    except json.JSONDecodeError as exc:
        # JSON Lines ("Extra data" after the first value), or broken: the reader says which.
        if exc.msg == "Extra data" and looks_like_netbox_json([first_line_value(path)]):
            return "netbox"
        return "json"
    except RecursionError as exc:
        raise UnreadableInventory(
            f"{path}: JSON nested too deeply to read (limit {MAX_JSON_DEPTH} levels)"
        ) from exc
    if is_cyclonedx(value):
        return "cyclonedx"
    return "netbox" if looks_like_netbox_json(value) else "json"


def _looks_like_walk(text: str) -> bool:
    """Most non-blank, non-comment lines of the head are `OID = ...` or `OID value`."""
    lines = [ln for ln in text.splitlines()[:50] if ln.strip() and not ln.startswith(("#", "=="))]
    lines = [ln for ln in lines if not _HEX_LINE.match(ln.strip())]  # -Ox continuation lines
    walk = sum(bool(_WALK_OID.match(ln)) for ln in lines)
    return bool(lines) and walk >= max(1, len(lines) * 0.6)
