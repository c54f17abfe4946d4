"""Delimited text inventories (CSV, TSV, semicolon or pipe separated).

The delimiter is sniffed among `,` `;` TAB `|` on the first 64 KiB (the one giving the most
consistent field count wins; an Excel `sep=;` first line is obeyed). Fields may be quoted
(RFC 4180: doubled quotes inside, line breaks inside quotes). The encoding is decided by
`text.decode`. Every value is read as text, unchanged. UTF-8 files are scanned lazily by polars
and stream through identification; other encodings are transcoded in memory first.

Line ends may be LF, CRLF or CR alone (Excel for Mac's "CSV (Macintosh)"): a file with bare
CRs is read in memory with them turned into LFs (a CR inside a quoted value becomes a line
break). The limits of `limits` apply: a line over `MAX_LINE` refuses the file, a value over
`MAX_FIELD` is cut and its row reported ("long-field"). Binary data is refused. A line of
nothing but NUL bytes (a disk-full or pre-allocated tail) is not a device: it is skipped and
noted. Unnamed trailing columns that hold no value at all (a spreadsheet's formatted but empty
columns) are dropped with a note; unnamed columns with values are kept as `column_N`.

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
from netvet.inventory.importers.base import (
    Inventory,
    Lines,
    UnreadableInventory,
    check_file,
    duplicate_notes,
    unique_names,
)
from netvet.inventory.importers.limits import MAX_FIELD, MAX_LINE, looks_binary, scan_lines
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
    header_row: int | None = None,
) -> Inventory:
    """Import a delimited file; `mapping` is the explicit {column: field} mapping;
    `header_row` the line number of the header when lines above it are not the table."""
    check_file(path)
    scan = scan_lines(path, MAX_LINE, MAX_FIELD)
    with path.open("rb") as f:
        first = f.read(1 << 16)
    if scan.long_line_at is not None:
        raise UnreadableInventory(
            f"{path}: a line longer than {MAX_LINE >> 20} MiB at byte {scan.long_line_at}: "
            "not a table of devices"
        )
    decoded = decode(path)
    if decoded.encoding != "utf-16" and looks_binary(first):
        raise UnreadableInventory(f"{path}: binary data, not a delimited text inventory")
    has_nul, decoded = scan.has_nul, _line_ends(decoded, path, scan.bare_cr)
    if decoded.data is not None:
        has_nul = b"\0" in decoded.data
    head = head_text(decoded, path)
    skip, delimiter = _explicit_separator(head)
    if header_row is not None:
        skip = max(header_row - 1, 0)
    body = head.split("\n", skip)[skip] if skip and head.count("\n") >= skip else head
    delimiter = delimiter or sniff_delimiter(body)
    header = first_record(body, delimiter)
    if not header:
        raise UnreadableInventory(f"{path}: no header line")
    names, renamed = unique_names(header)
    report = ImportReport(str(path), format_name, None, decoded.encoding)
    report.notes += [n for n in (decoded.note,) if n] + renamed
    if header_row is not None and skip:
        report.notes.append(f"header given on line {header_row}; {skip} line(s) above skipped")
    report.notes.append(f"delimiter {delimiter!r}")
    frame = _scan(path, decoded, delimiter, names, skip)
    frame, kept = _drop_empty_trailing(frame, header, names, report)
    if has_nul:
        frame = _skip_nul_rows(frame, report)
    long_value = _check_ragged(path, decoded, delimiter, len(header), skip, report)
    if scan.maybe_long_field or long_value:
        frame = cut_long_fields(frame, report)
    # Lines that can be written out as read: every record's fields are the frame's, unchanged.
    copyable = delimiter == "," and not has_nul and kept == names
    copyable = copyable and not {"long-field", "ragged"} & report.problems.keys()
    lines = Lines(path if decoded.data is None else decoded.data, skip) if copyable else None
    names = kept
    if decoded.data is not None:
        eager = frame.collect()
        report.rows = eager.height
        if decoded.lossy:
            _report_replacements(eager, report)
        frame = eager.lazy()
    report.mapping = fieldmap.resolve(names, mapping, synonyms)
    report.notes += duplicate_notes(header, names, report.mapping)
    return Inventory(frame, report.mapping, report, lines)


def first_record(text: str, delimiter: str) -> list[str] | None:
    """The first record of `text` (any line ends); None when it is not delimited text."""
    try:
        return next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), None)
    except csv.Error:
        return None


def _line_ends(decoded: Decoded, path: Path, bare_cr: bool) -> Decoded:
    """CR-only line ends as LF (polars splits records on LF only)."""
    if decoded.data is not None:
        bare_cr = b"\r" in decoded.data.replace(b"\r\n", b"")
    if not bare_cr:
        return decoded
    raw = decoded.data if decoded.data is not None else path.read_bytes()
    data = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    note = "CR line ends (classic Mac) read as line breaks"
    joined = f"{decoded.note}; {note}" if decoded.note else note
    return Decoded(decoded.encoding, data, decoded.lossy, joined)


def _drop_empty_trailing(
    frame: pl.LazyFrame, header: list[str], names: list[str], report: ImportReport
) -> tuple[pl.LazyFrame, list[str]]:
    """Drop the unnamed trailing columns that hold no value in any row."""
    unnamed = 0
    while unnamed < len(header) - 1 and not header[-1 - unnamed].strip():
        unnamed += 1
    if not unnamed:
        return frame, names
    tail = names[-unnamed:]
    missing = frame.select(pl.col(tail).null_count() - pl.len()).collect().row(0)
    drop: list[str] = []
    for name, gap in reversed(list(zip(tail, missing, strict=True))):
        if gap != 0:  # holds a value: kept, and so are the unnamed columns before it
            break
        drop.append(name)
    if not drop:
        return frame, names
    report.notes = [n for n in report.notes if not any(repr(d) in n for d in drop)]
    report.notes.append(f"{len(drop)} empty unnamed trailing column(s) dropped")
    return frame.drop(drop), [n for n in names if n not in drop]


def _skip_nul_rows(frame: pl.LazyFrame, report: ImportReport) -> pl.LazyFrame:
    """Rows whose every value is NUL bytes or blank: not devices."""
    schema = frame.collect_schema()
    blank = pl.all_horizontal(
        [pl.col(c).is_null() | pl.col(c).str.contains(r"^[\x00\s]*$") for c in schema.names()]
    )
    nul = pl.any_horizontal([pl.col(c).str.contains("\x00", literal=True) for c in schema.names()])
    skipped = frame.with_row_index("_i").filter(blank & nul).select("_i").collect()
    if skipped.height:
        rows = ", ".join(str(i + 1) for i in skipped.get_column("_i").head(10).to_list())
        report.notes.append(
            f"{skipped.height} line(s) of NUL bytes only skipped as blank (row(s) {rows})"
        )
    return frame.filter(~(blank & nul))


def cut_long_fields(frame: pl.LazyFrame, report: ImportReport) -> pl.LazyFrame:
    """Values longer than `MAX_FIELD` characters cut to it; their rows reported."""
    schema = frame.collect_schema()
    text = [c for c, t in schema.items() if t == pl.String]
    if not text:
        return frame
    lengths = frame.select(pl.col(text).str.len_chars()).with_row_index("_i")
    over = lengths.filter(pl.any_horizontal(pl.col(text) > MAX_FIELD)).collect()
    for row in over.head(1000).iter_rows(named=True):
        column = next(c for c in text if (row[c] or 0) > MAX_FIELD)
        value = frame.select(pl.col(column).slice(row["_i"], 1)).collect().item()
        report.add(
            "long-field",
            row["_i"] + 1,
            f"{column}: {row[column]} characters, cut to {MAX_FIELD}: {value[:40]!r}...",
        )
    if over.height > 1000:
        report.problem("long-field").merge(over.height - 1000, [])
    if not over.height:
        return frame
    return frame.with_columns(pl.col(text).str.slice(0, MAX_FIELD))


def sniff_delimiter(sample: str) -> str:
    """The candidate delimiter that splits the sample's records most consistently."""
    # Drop a last record cut by the sample boundary.
    text = sample.rsplit("\n", 1)[0] if sample.count("\n") > 1 else sample
    best: tuple[float, int] = (0.0, 1)
    chosen = ","
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            rows = [r for r in itertools.islice(reader, _SAMPLE_RECORDS) if r]
        except csv.Error:  # NUL bytes or a stray quote: not this delimiter's table
            continue
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
) -> bool:
    """Report rows whose field count is not the header's; True when a value too long for the
    csv module (over 128 KiB, so over `MAX_FIELD` too) stopped the check."""
    size = len(decoded.data) if decoded.data is not None else path.stat().st_size
    if size > RAGGED_CHECK_LIMIT:
        report.notes.append(
            f"field counts not checked (file larger than {RAGGED_CHECK_LIMIT >> 20} MiB)"
        )
        return False
    raw = decoded.data if decoded.data is not None else path.read_bytes()
    text = raw.decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = io.StringIO(text, newline="")
    for _ in range(skip):
        lines.readline()
    records = csv.reader(lines, delimiter=delimiter)
    number = 0
    try:
        next(records, None)  # header
        for record in records:
            text = "".join(record)
            if "\0" in text and not text.strip("\0 \t"):
                continue  # a line of NUL bytes: skipped as blank by the reader too
            number += 1
            if len(record) != width and record:
                report.add("ragged", number, f"{len(record)} field(s), header has {width}")
    except csv.Error as exc:  # a value over the csv module's field limit (long-field)
        report.notes.append(f"field counts not checked from row {number + 1} on ({exc})")
        return True
    return False
