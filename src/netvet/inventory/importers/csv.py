"""Delimited text inventories (CSV, TSV, semicolon or pipe separated).

The delimiter is sniffed among `,` `;` TAB `|` on the first 64 KiB (the one giving the most
consistent field count wins; an Excel `sep=;` first line is obeyed). Fields may be quoted
(RFC 4180: doubled quotes inside, line breaks inside quotes). The encoding is decided by
`text.decode`. Every value is read as text, unchanged. UTF-8 files are scanned lazily by polars
and stream through identification; other encodings are transcoded in memory first.

Rows whose field count differs from the header are kept (short rows padded with empty values,
extra fields dropped) and reported as "ragged"; that check reads the file once more with
Python's csv module, so it is done for files up to `RAGGED_CHECK_LIMIT` bytes and noted as
skipped above.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from netvet.inventory.importers import fields as fieldmap
from netvet.inventory.importers.base import Inventory, UnreadableInventory, check_file, unique_names
from netvet.inventory.importers.report import ImportReport
from netvet.inventory.importers.text import Decoded, decode, head_text

DELIMITERS = (",", ";", "\t", "|")
RAGGED_CHECK_LIMIT = 64 << 20
_SEP_LINE = re.compile(r"sep=(.)\r?\n")
_SAMPLE_RECORDS = 50


def read_csv(
    path: Path,
    mapping: Mapping[str, str] | None = None,
    *,
    synonyms: Mapping[str, tuple[tuple[str, ...], ...]] | None = None,
    format_name: str = "csv",
) -> Inventory:
    """Import a delimited file; `mapping` is the explicit {column: field} mapping."""
    check_file(path)
    decoded = decode(path)
    head = head_text(decoded, path)
    skip, delimiter = _explicit_separator(head)
    body = head.split("\n", 1)[1] if skip else head
    delimiter = delimiter or sniff_delimiter(body)
    header = next(csv.reader(io.StringIO(body), delimiter=delimiter), None)
    if not header:
        raise UnreadableInventory(f"{path}: no header line")
    names, renamed = unique_names(header)
    report = ImportReport(str(path), format_name, None, decoded.encoding)
    report.notes += [n for n in (decoded.note,) if n] + renamed
    report.notes.append(f"delimiter {delimiter!r}")
    frame = _scan(path, decoded, delimiter, names, skip)
    if decoded.data is not None:
        eager = frame.collect()
        report.rows = eager.height
        if decoded.lossy:
            _report_replacements(eager, report)
        frame = eager.lazy()
    _check_ragged(path, decoded, delimiter, len(names), skip, report)
    report.mapping = fieldmap.resolve(names, mapping, synonyms)
    return Inventory(frame, report.mapping, report)


def sniff_delimiter(sample: str) -> str:
    """The candidate delimiter that splits the sample's records most consistently."""
    # Drop a last record cut by the sample boundary.
    text = sample.rsplit("\n", 1)[0] if sample.count("\n") > 1 else sample
    best: tuple[float, int] = (0.0, 1)
    chosen = ","
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        rows = [r for r in itertools.islice(reader, _SAMPLE_RECORDS) if r]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(len(r) == width for r in rows) / len(rows), width)
        if score > best:
            best, chosen = score, delimiter
    return chosen


def _explicit_separator(head: str) -> tuple[int, str | None]:
    """Excel's `sep=X` first line: (lines to skip, delimiter)."""
    found = _SEP_LINE.match(head)
    return (1, found.group(1)) if found else (0, None)


def _scan(
    path: Path, decoded: Decoded, delimiter: str, names: list[str], skip: int
) -> pl.LazyFrame:
    source: Path | bytes = path if decoded.data is None else decoded.data
    try:
        return pl.scan_csv(
            source,
            separator=delimiter,
            has_header=True,
            skip_lines=skip,
            infer_schema=False,
            new_columns=names,
            truncate_ragged_lines=True,
            empty_string_is_null=True,  # written back as empty fields, not ""
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError as exc:
        raise UnreadableInventory(f"{path}: not a readable delimited file: {exc}") from exc


def _report_replacements(frame: pl.DataFrame, report: ImportReport) -> None:
    """Rows where invalid bytes were replaced by U+FFFD."""
    text_cols = [c for c, t in frame.schema.items() if t == pl.String]
    if not text_cols:
        return
    hit = frame.select(pl.any_horizontal(pl.col(text_cols).str.contains("\ufffd", literal=True)))
    for index in hit.to_series().arg_true().to_list():
        report.add("undecodable", index + 1, "invalid byte sequence replaced with U+FFFD")


def _check_ragged(
    path: Path, decoded: Decoded, delimiter: str, width: int, skip: int, report: ImportReport
) -> None:
    size = len(decoded.data) if decoded.data is not None else path.stat().st_size
    if size > RAGGED_CHECK_LIMIT:
        report.notes.append(
            f"field counts not checked (file larger than {RAGGED_CHECK_LIMIT >> 20} MiB)"
        )
        return
    raw = decoded.data if decoded.data is not None else path.read_bytes()
    text = raw.decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = io.StringIO(text, newline="")
    for _ in range(skip):
        lines.readline()
    records = csv.reader(lines, delimiter=delimiter)
    next(records, None)  # header
    for number, record in enumerate(records, 1):
        if len(record) != width and record:
            report.add("ragged", number, f"{len(record)} field(s), header has {width}")
