"""JSON inventories: a JSON array of objects, an object wrapping one (`{"results": [...]}`,
as REST APIs page them), or JSON Lines (one object per line; `.jsonl`/`.ndjson`, or any file
whose whole text is not one JSON value).

Nested objects are flattened into dotted column names (`device_type.model`); lists of scalars
are joined by blanks (several MACs in one field), other lists kept as JSON text. A JSON Lines
line that does not parse, or an array element that is not an object, is reported
("not-a-record") and kept as an empty row so that row numbers and order stay those of the file.
Blank lines are not rows. JSON is UTF-8 (RFC 8259): invalid bytes are replaced and reported.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from netvet.inventory.importers import fields as fieldmap
from netvet.inventory.importers.base import (
    Inventory,
    UnreadableInventory,
    check_file,
    frame_from_records,
)
from netvet.inventory.importers.report import ImportReport

LINE_SUFFIXES = (".jsonl", ".ndjson", ".jsonlines")
# Keys under which an object wraps its list of records.
WRAPPERS = ("results", "data", "devices", "items", "rows", "records", "inventory", "objects")
Synonyms = Mapping[str, tuple[tuple[str, ...], ...]]


def read_json(
    path: Path,
    mapping: Mapping[str, str] | None = None,
    *,
    synonyms: Synonyms | None = None,
    format_name: str = "json",
) -> Inventory:
    """Import a JSON or JSON Lines file of flat or nested objects."""
    check_file(path)
    report = ImportReport(str(path), format_name)
    return build(records_of(path, report), report, mapping, synonyms)


def records_of(path: Path, report: ImportReport) -> list[dict[str, Any] | None]:
    """The file's records (None for a bad one, already reported)."""
    raw = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    if path.suffix.lower() in LINE_SUFFIXES:
        return list(_lines(raw, report))
    text = _text(raw, report)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":  # "Extra data": several values, i.e. JSON Lines
            raise UnreadableInventory(f"{path}: not JSON ({exc})") from exc
        report.format += " lines"
        return list(_lines(raw, report))
    return _records(unwrap(value), report)


def unwrap(value: Any) -> list[Any]:
    """The list of records in a parsed document."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        for key in WRAPPERS:
            if isinstance(value.get(key), list):
                return list(value[key])
        lists = [v for v in value.values() if isinstance(v, list)]
        if len(lists) == 1 and all(isinstance(x, dict) for x in lists[0]):
            return list(lists[0])
    return [value]


def _text(raw: bytes, report: ImportReport) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        report.encoding = "utf-8 (damaged)"
        report.notes.append("invalid UTF-8 byte sequences replaced with U+FFFD")
        return raw.decode("utf-8", errors="replace")


def _lines(raw: bytes, report: ImportReport) -> Iterator[dict[str, Any] | None]:
    row = 0
    for number, line in enumerate(raw.split(b"\n"), 1):
        if not line.strip():
            continue
        row += 1
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            text = line.decode("utf-8", errors="replace")
            report.add("undecodable", row, f"line {number}: invalid UTF-8 replaced with U+FFFD")
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            report.add("not-a-record", row, f"line {number}: not JSON ({exc.msg})")
            yield None
            continue
        yield _record(value, row, report)


def _records(values: list[Any], report: ImportReport) -> list[dict[str, Any] | None]:
    out = []
    for row, value in enumerate(values, 1):
        record = _record(value, row, report)
        if record and any(isinstance(v, str) and "\ufffd" in v for v in record.values()):
            report.add("undecodable", row, "invalid UTF-8 replaced with U+FFFD")
        out.append(record)
    return out


def _record(value: Any, row: int, report: ImportReport) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return flatten(value)
    report.add("not-a-record", row, f"a JSON {type(value).__name__}, not an object")
    return None


def flatten(obj: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted keys; scalar lists joined by blanks; values as text."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        elif isinstance(value, list):
            if all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in value):
                out[name] = " ".join(str(v) for v in value)
            else:
                out[name] = json.dumps(value, ensure_ascii=False)
        else:
            out[name] = scalar_text(value)
    return out


def scalar_text(value: Any) -> str | None:
    """A JSON scalar as the text a CSV export would hold."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build(
    records: list[dict[str, Any] | None],
    report: ImportReport,
    mapping: Mapping[str, str] | None,
    synonyms: Synonyms | None = None,
) -> Inventory:
    """An inventory from records (None = bad record, kept as an empty row)."""
    columns: dict[str, None] = {}
    for record in records:
        if record:
            columns.update(dict.fromkeys(record))
    if not columns:
        raise UnreadableInventory(f"{report.source}: no records with fields")
    frame = frame_from_records((r or {} for r in records), list(columns))
    report.rows = frame.height
    report.mapping = fieldmap.resolve(list(columns), mapping, synonyms)
    return Inventory(frame.lazy(), report.mapping, report)
