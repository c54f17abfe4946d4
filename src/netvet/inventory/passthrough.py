"""CSV in, CSV out: every record's line written as it was read, followed by the identification.

Why: writing ten million parsed rows back out was the largest single cost of `identify`
(polars' CSV writer looks for characters to quote in each of a row's 15 fields, and the rows
reach it through Python in full). Copying the lines instead takes one more read of the file,
as whole lines, and keeps the user's bytes as they were (their quoting, `""`, CRLF aside).
The identification's five fields are escaped once per distinct answer (`csv_fields`), not
per row. See docs/benchmarks.md for the figures.

When: the CSV importer set `Inventory.lines` (comma-separated, no NUL lines, no value cut, no
column dropped, no ragged row found), the output is CSV, and no input column is replaced.

Lines are matched to records by two scans of the same text: one parses records (only the
fields identification reads are kept, but every field is parsed and ragged lines are not
truncated, so a record with more fields than the header stops the scan), the other takes
lines whole. A record is one line unless a quoted value holds a line break; then lines run
ahead of records. So:

- per batch, the last line must parse (Python's csv module) to as many fields as the header
  and to the record's last value;
- at the end, lines and records must run out together;
- a record whose last value is empty may be short: its fields outside quotes are counted and
  it is padded with commas, as the parser pads it with empty values; a blank line is a record
  of empty values.

When any of these fails, `NotCopyable` is raised and `identify` writes the rows the general
way (`Run.rows`), from the start, in a run of its own.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from polars.io.plugins import register_io_source

from netvet.inventory.importers.base import Lines
from netvet.inventory.judge import CSV_FIELDS, OUTPUT

if TYPE_CHECKING:
    from netvet.inventory.rowrun import Run

_LINE = "line"
_ADDED = "added"
_QUOTED = r'"[^"]*"'  # a quoted value; doubled quotes inside read as two of them


class NotCopyable(Exception):
    """The lines cannot be copied as records: write the rows the general way."""


def escaped(text: pl.Expr) -> pl.Expr:
    """A string column as CSV fields, as polars' writer quotes them: quoted when holding a
    comma, a quote or a line break, or when empty (so that it is not read back as null)."""
    needs = text.str.contains('[,"\r\n]') | (text.str.len_bytes() == 0)
    quoted = pl.lit('"') + text.str.replace_all('"', '""', literal=True) + pl.lit('"')
    return pl.when(needs).then(quoted).otherwise(text).fill_null("")


def csv_fields() -> pl.Expr:
    """The output columns of judged answers (`judge.OUTPUT`) as one string of CSV fields."""
    parts = [
        escaped(pl.col("vendor")),
        escaped(pl.col("vendor_entity")),
        pl.col("vendor_confidence").cast(pl.String).fill_null(""),
        escaped(pl.col("vendor_evidence")),
        escaped(pl.col("vendor_conflict")),
    ]
    return pl.concat_str(parts, separator=",").alias(CSV_FIELDS)


def record_scan(lines: Lines, names: list[str]) -> pl.LazyFrame:
    """The records, parsed as the CSV importer parses them but for ragged lines (kept for
    `NotCopyable`, not truncated)."""
    return pl.scan_csv(
        lines.source,
        has_header=True,
        skip_lines=lines.skip,
        infer_schema=False,
        new_columns=names,
        truncate_ragged_lines=False,
        empty_string_is_null=True,
        raise_if_empty=False,
    )


def line_scan(lines: Lines) -> pl.LazyFrame:
    """The lines after the header, whole (the text holds no NUL: it separates nothing)."""
    return pl.scan_csv(
        lines.source,
        separator="\x00",
        quote_char=None,
        has_header=False,
        skip_lines=lines.skip + 1,
        infer_schema=False,
        new_columns=[_LINE],
        raise_if_empty=False,
    )


def write(run: Run, lines: Lines, out: Path, batch: int) -> None:
    """The rows of `run` (whose inventory frame is `record_scan`) written to `out` as CSV,
    each input line as read; raises `NotCopyable` (see the module docstring)."""
    run.csv_fields = True
    names = run.inventory.frame.collect_schema().names()
    last = names[-1]
    prepared = run.prepared()
    kept = [c for c in prepared.collect_schema().names() if c.startswith("__netvet_")]
    kept += [c for c in (run.plan.fields.get("date"), run.plan.fields.get("sys_descr")) if c]
    columns: list[str | pl.Expr] = list(dict.fromkeys([*kept, last]))
    others = [c for c in names if c not in columns]
    if others:  # every field parsed: projected away, a ragged line would pass unseen
        columns.append(pl.sum_horizontal(pl.col(others).is_null()).alias("__netvet_parsed"))
    records = prepared.select(columns)

    failed: list[BaseException] = []

    def source(
        with_columns: list[str] | None, predicate: Any, n_rows: int | None, _size: Any
    ) -> Iterator[pl.DataFrame]:
        try:
            yield from _rows(run, lines, records, names, batch)
        except BaseException as exc:
            failed.append(exc)
            raise

    written = register_io_source(source, schema={_LINE: pl.String, _ADDED: pl.String})
    try:
        written.sink_csv(out, quote_style="never", include_header=False)
    except pl.exceptions.PolarsError as exc:
        cause = failed[0] if failed else exc
        if isinstance(cause, NotCopyable):
            raise cause from None
        if isinstance(cause, pl.exceptions.PolarsError):  # the strict scan: a ragged line
            raise NotCopyable(str(cause)) from None
        raise cause from None


def _rows(
    run: Run, lines: Lines, records: pl.LazyFrame, names: list[str], batch: int
) -> Iterator[pl.DataFrame]:
    header = ",".join(pl.select(escaped(pl.lit(pl.Series(names, dtype=pl.String)))).to_series())
    yield pl.DataFrame({_LINE: [header], _ADDED: [",".join(OUTPUT)]})
    last = names[-1]
    raw = iter(line_scan(lines).collect_batches(chunk_size=batch))
    pending = pl.Series(_LINE, [], dtype=pl.String)
    for frame, index, answers in run.answered(records.collect_batches(chunk_size=batch)):
        while pending.len() < frame.height:
            more = next(raw, None)
            if more is None:
                raise NotCopyable("fewer lines than records")
            pending = pending.append(more.get_column(_LINE))
        text, pending = pending.head(frame.height), pending.slice(frame.height)
        text = _padded(text, frame.get_column(last), len(names))
        _check_last(text, frame.get_column(last), len(names))
        added = answers.get_column(CSV_FIELDS).gather(index)
        yield pl.DataFrame({_LINE: text, _ADDED: added})
    if pending.len() or next(raw, None) is not None:
        raise NotCopyable("more lines than records (a value holds a line break)")


def _padded(text: pl.Series, last: pl.Series, width: int) -> pl.Series:
    """Short records (only they can have an empty last value) padded with commas to `width`
    fields; a blank line is a record of empty values."""
    text = text.fill_null("")
    maybe = last.is_null()
    if not maybe.any():
        return text
    rows = maybe.arg_true()
    some = text.gather(rows)
    commas = some.str.replace_all(_QUOTED, "").str.count_matches(",", literal=True)
    if (commas > width - 1).any():
        raise NotCopyable("a line with more fields than the header")
    missing = (width - 1 - commas).cast(pl.Int64)
    padding = pl.select(pl.lit("," * (width - 1)).str.slice(0, missing)).to_series()
    return text.scatter(rows, some + padding)


def _check_last(text: pl.Series, last: pl.Series, width: int) -> None:
    """The batch's last line is its last record (see the module docstring)."""
    if not text.len():
        return
    fields = next(csv.reader([text[-1]]), None) or [""]
    value = fields[-1] if fields[-1] != "" else None
    if len(fields) != width or value != last[-1]:
        raise NotCopyable("a line is not its record (a value holds a line break)")
