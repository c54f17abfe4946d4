"""JSON inventories: a JSON array of objects, an object wrapping one (`{"results": [...]}`,
as REST APIs page them), or JSON Lines (one object per line; `.jsonl`/`.ndjson`, or any file
whose whole text is not one JSON value).

Nested objects are flattened into dotted column names (`device_type.model`); lists of scalars
are joined by blanks (several MACs in one field), other lists kept as JSON text. A JSON Lines
line that does not parse, or an array element that is not an object, is reported
("not-a-record") and kept as an empty row so that row numbers and order stay those of the file.
Blank lines are not rows. JSON is UTF-8 (RFC 8259): invalid bytes are replaced and reported.

Nesting is bounded: a document nested deeper than Python's parser can follow is refused with a
message; a JSON Lines line or an array element nested deeper than `limits.MAX_JSON_DEPTH` is a
bad row ("not-a-record"), the others are kept. A page of a paginated API answer (`"count"`
above the records read, a `"next"` URL) is read with a note saying that the other pages are
missing.
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
from netvet.inventory.importers.limits import MAX_JSON_DEPTH, MAX_LINE, read_whole
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
    raw = read_whole(path, "JSON").removeprefix(b"\xef\xbb\xbf")
    if path.suffix.lower() in LINE_SUFFIXES:
        return list(_lines(raw, report))
    text = _text(raw, report)
    try:
        value = loads(text, path)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":  # "Extra data": several values, i.e. JSON Lines
            raise UnreadableInventory(f"{path}: not JSON ({exc})") from exc
        report.format += " lines"
        return list(_lines(raw, report))
    records = unwrap(value)
    report.notes += page_notes(value, len(records))
    return _records(records, report)


class TooDeep(ValueError):
    """A JSON value nested deeper than `MAX_JSON_DEPTH`."""


def loads(text: str | bytes, path: Path | str) -> Any:
    """`json.loads`, with nesting beyond the parser's recursion limit refused (json's C
    parser recurses once per level and raises RecursionError, which is not a bug here but
    hostile or broken input). `json.JSONDecodeError` passes through."""
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise UnreadableInventory(
            f"{path}: JSON nested too deeply to read (more than {MAX_JSON_DEPTH} levels "
            "make no inventory)"
        ) from exc


def page_notes(value: Any, read: int) -> list[str]:
    """A warning when `value` is one page of a paginated REST answer (NetBox, DRF style)."""
    if not isinstance(value, dict):
        return []
    count, following = value.get("count"), value.get("next")
    if not isinstance(count, int) or isinstance(count, bool) or count <= read:
        return []
    pages = -(-count // read) if read else "?"
    where = f"; next page: {following}" if isinstance(following, str) else ""
    return [
        f"warning: this is page 1 of {pages} of a paginated answer ({read} of {count} "
        f"records){where}; export all pages (e.g. ?limit=0 or follow `next`) to read them all"
    ]


def first_line_value(path: Path) -> Any:
    """The parsed first non-blank line of a JSON Lines file (None when it does not parse)."""
    with path.open("rb") as f:
        for _ in range(1000):
            line = f.readline(MAX_LINE)
            if not line:
                break
            if line.strip():
                try:
                    return json.loads(line.removeprefix(b"\xef\xbb\xbf"))
                except (json.JSONDecodeError, RecursionError, UnicodeDecodeError):
                    return None
    return None


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


def line_values(raw: bytes, report: ImportReport) -> Iterator[tuple[int, Any]]:
    """(row, parsed value) of each non-blank JSON Lines line; a line that does not parse is
    reported and yields `_BAD`."""
    row = 0
    for number, line in enumerate(raw.split(b"\n"), 1):
        if not line.strip():
            continue
        row += 1
        if len(line) > MAX_LINE:
            report.add("not-a-record", row, f"line {number}: longer than {MAX_LINE >> 20} MiB")
            yield row, BAD
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            text = line.decode("utf-8", errors="replace")
            report.add("undecodable", row, f"line {number}: invalid UTF-8 replaced with U+FFFD")
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            report.add("not-a-record", row, f"line {number}: not JSON ({exc.msg})")
            yield row, BAD
            continue
        except RecursionError:
            report.add("not-a-record", row, f"line {number}: JSON nested too deeply")
            yield row, BAD
            continue
        yield row, value


BAD = object()  # a line that did not parse (already reported)


def _lines(raw: bytes, report: ImportReport) -> Iterator[dict[str, Any] | None]:
    for row, value in line_values(raw, report):
        yield None if value is BAD else _record(value, row, report)


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
        try:
            return flatten(value)
        except TooDeep:
            report.add("not-a-record", row, f"nested deeper than {MAX_JSON_DEPTH} levels")
            return None
    report.add("not-a-record", row, f"a JSON {type(value).__name__}, not an object")
    return None


def flatten(obj: Mapping[str, Any], prefix: str = "", depth: int = 1) -> dict[str, Any]:
    """Nested objects as dotted keys; scalar lists joined by blanks; values as text.
    `TooDeep` beyond `MAX_JSON_DEPTH` levels."""
    if depth > MAX_JSON_DEPTH:
        raise TooDeep(prefix)
    out: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + ".", depth + 1))
        elif isinstance(value, list):
            if all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in value):
                out[name] = " ".join(str(v) for v in value)
            else:
                out[name] = _dumps(value)
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


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except RecursionError as exc:
        raise TooDeep("list") from exc
