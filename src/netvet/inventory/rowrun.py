"""One identification run over one inventory, in a single streamed pass over the rows.

The key columns of every row (`keyplan`) and two 64-bit hashes of its key tuple are computed
by the polars streaming engine while the rows are read. Python takes them in batches of
`BATCH` rows: each batch meets the tuples judged so far (`tuplecache`: one join), the tuples
new in it are judged from their first row (`judge`: lookup tables where Python computes only
what is new), and every row gathers its output columns by the index of its tuple. The batches
leave in input order, as a polars source that any sink writes (`Run.rows`).

Memory: one batch in flight, the judged tuples (capped by `LIMIT`, see `tuplecache`) and an
8-byte hash of each row's id for the duplicate-id check.

Output columns that already exist in the input are replaced (re-identifying netvet's own
output), except one the mapping reads a signal from, which is kept as `<name>_input`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import polars as pl
from polars.io.plugins import register_io_source

from netvet.inventory.importers import Inventory
from netvet.inventory.importers.base import as_text
from netvet.inventory.importers.report import EXAMPLE_LIMIT, ROW_LIMIT
from netvet.inventory.judge import BAD, CSV_FIELDS, OUTPUT, TOKEN, judge
from netvet.inventory.keyplan import CHECK, DATE_BAD, KEYS, TUPLE, KeyPlan
from netvet.inventory.passthrough import csv_fields
from netvet.inventory.signals import present
from netvet.inventory.summary import IdentifyReport, Summary
from netvet.inventory.tuplecache import TupleCache

if TYPE_CHECKING:
    from netvet.inventory.identify import Identifier

__all__ = ["BATCH", "LIMIT", "OUTPUT", "Run"]

ROW = "__netvet_row"
ID = "__netvet_id"
BATCH = 250_000  # rows per batch handed to Python
LIMIT = 1_000_000  # judged tuples (and lookup-table entries) held before they are dropped
TALLY_PARTS = 16  # batches whose rows per verdict are held before they are summed


class Run:
    """State of one identification run (see the module docstring)."""

    def __init__(self, ident: Identifier, inventory: Inventory, as_of: dt.date) -> None:
        self.ident = ident
        self.inventory = inventory
        self.report = inventory.report
        self.as_of = as_of
        schema = inventory.frame.collect_schema()
        self.plan = KeyPlan(
            inventory.fields, schema, ident.source, ident.periods, ident.periods.index(as_of)
        )
        self.plan.sample(inventory.frame)
        used = {c for cols in inventory.fields.columns.values() for c in cols}
        self.renamed = {c: f"{c}_input" for c in OUTPUT if c in schema and c in used}
        self.dropped = [c for c in OUTPUT if c in schema and c not in used]
        for c in self.dropped:
            self.report.notes.append(f"input column {c!r} replaced by the new identification")
        for c, new in self.renamed.items():
            self.report.notes.append(f"input column {c!r} kept as {new!r}")
        self.kept = [c for c in schema if c not in self.dropped]
        self.schema: dict[str, pl.DataType] = {
            self.renamed.get(c, c): schema[c] for c in self.kept
        } | OUTPUT
        self.summary = Summary()
        self.cache = TupleCache(self._judge, LIMIT)
        self.error: BaseException | None = None  # raised inside the source, re-raised by callers
        self.csv_fields = False  # answers also hold their output as CSV fields (`passthrough`)
        self._rows = 0
        self._ids: list[pl.Series] = []
        self._tally: list[pl.DataFrame] = []  # per batch: rows per verdict id

    def prepared(self) -> pl.LazyFrame:
        """The rows with their key columns and key-tuple hashes (and a hash of the id)."""
        rows = self.plan.add(self.inventory.frame)
        extra = [self.plan.tuple_hash(), self.plan.tuple_check()]
        id_column = self.inventory.fields.get("id")
        if id_column is not None:
            text = as_text(id_column, self.plan.schema[id_column])
            extra.append(present(text).hash().alias(ID))
        return rows.with_columns(extra)

    def rows(self) -> pl.LazyFrame:
        """The identified rows, in input order, as a lazy source for a sink (streamed in
        batches: the report is complete once the sink has taken every row)."""

        def source(
            with_columns: list[str] | None, predicate: Any, n_rows: int | None, _size: Any
        ) -> Iterator[pl.DataFrame]:
            batches = self.prepared().collect_batches(chunk_size=BATCH)
            left = n_rows
            for out in self.batches(batches):
                if with_columns is not None:
                    out = out.select(with_columns)
                if predicate is not None:
                    out = out.filter(predicate)
                if left is not None:
                    out = out.head(left)
                    left -= out.height
                yield out
                if left is not None and left <= 0:
                    return

        return register_io_source(source, schema=self.schema)

    def batches(self, frames: Iterable[pl.DataFrame]) -> Iterator[pl.DataFrame]:
        """The identified rows of each prepared batch (see `answered`)."""
        for frame, index, answers in self.answered(frames):
            out = frame.select(self.kept).rename(self.renamed)
            yield out.with_columns(answers.get_column(c).gather(index) for c in OUTPUT)

    def answered(
        self, frames: Iterable[pl.DataFrame]
    ) -> Iterator[tuple[pl.DataFrame, pl.Series, pl.DataFrame]]:
        """Each prepared batch with, per row, the row of the answers frame (`JUDGED` columns)
        holding its answer, and that frame; the report is completed after the last batch. An
        exception is kept in `error` too (a polars sink wraps what a source raises)."""
        try:
            for frame in frames:
                if frame.height:
                    yield frame, *self._answer(frame)
            self._count_verdicts()
            self._finish_ids()
            self.report.rows = self._rows
        except Exception as exc:
            self.error = exc
            raise

    def finish(self) -> IdentifyReport:
        return IdentifyReport(self.report, self.summary, self.as_of, self.ident.registries())

    def _judge(self, firsts: pl.DataFrame) -> pl.DataFrame:
        """The first rows of new tuples, judged (and their output as CSV fields, when asked)."""
        groups = firsts.select(*KEYS, TUPLE, CHECK, self.plan.descr_text()).with_columns(
            self.plan.descr_token().alias(TOKEN)
        )
        fields = csv_fields() if self.csv_fields else pl.lit(None, pl.String).alias(CSV_FIELDS)
        return judge(groups, self.ident, self.plan.signals).with_columns(fields)

    def _answer(self, frame: pl.DataFrame) -> tuple[pl.Series, pl.DataFrame]:
        """One batch of prepared rows answered (the rows of the answers frame, and that frame,
        which stays valid when the cache is cleared); the report tallied."""
        index = self.cache.index(frame)
        answers = self.cache.judged
        assert answers is not None  # index() built it
        counts = index.value_counts(name="n")
        verdicts = answers.get_column("verdict").gather(counts.get_column(index.name))
        self._tally.append(
            counts.select(verdicts.alias("verdict"), pl.col("n").cast(pl.UInt64))
            .group_by("verdict")
            .sum()
        )
        for signal, kind in BAD.items():
            bad = self.cache.bad[signal]
            if bad.len():
                rows = index.is_in(bad.implode()).arg_true()
                self._problems(kind, rows, answers.get_column(f"bad_{signal}").gather(index[rows]))
        date = self.inventory.fields.get("date")
        if date is not None:
            rows = frame.get_column(DATE_BAD).arg_true()
            values = frame[rows].select(present(as_text(date, self.plan.schema[date]))).to_series()
            rows = rows.filter(values.is_not_null())  # blank: no date, not a bad one
            messages = [
                f"not a date in an accepted form, or ambiguous: {v!r}" for v in values.drop_nulls()
            ]
            self._problems("bad-date", rows, pl.Series(messages, dtype=pl.String))
        if ID in frame.columns:
            self._ids.append(frame.get_column(ID))
        self._rows += frame.height
        tables = self.ident.tables
        # Counted before trim() renumbers the verdicts the tallies hold.
        if len(self._tally) >= TALLY_PARTS or tables.renumbers(LIMIT):
            self._count_verdicts()
        renumbered = tables.trim(LIMIT)
        if renumbered or self.cache.full:
            self.cache.clear()
        return index, answers

    def _count_verdicts(self) -> None:
        """Add the batches' rows per verdict to the summary (once per verdict, not per batch:
        a batch meets thousands of verdicts)."""
        if not self._tally:
            return
        per_verdict = pl.concat(self._tally).group_by("verdict").sum()
        self._tally = []
        values = self.ident.tables.verdicts.values
        for verdict, n in per_verdict.iter_rows():
            self.summary.add(values[verdict], n)

    def _problems(self, kind: str, rows: pl.Series, messages: pl.Series) -> None:
        """Count `rows` (0-based in the current batch) as `kind`; name the first ones."""
        if not rows.len():
            return
        problem = self.report.problem(kind)
        numbers = (rows.head(ROW_LIMIT) + self._rows + 1).to_list()
        head = messages.head(max(0, EXAMPLE_LIMIT - len(problem.examples))).to_list()
        examples = [f"row {n}: {m}" for n, m in zip(numbers, head, strict=False)]
        problem.merge(rows.len(), numbers, examples)

    def _finish_ids(self) -> None:
        """Rows whose id an earlier row already used (ids compared by 64-bit hash; blank ids
        are not ids)."""
        if not self._ids:
            return
        ids = pl.concat(self._ids)
        self._ids = []
        blank = pl.Series([None], dtype=pl.String).hash().item()
        ids = ids.set(ids == blank, None)
        if ids.drop_nulls().n_unique() == ids.len() - ids.null_count():  # the common case
            return
        frame = ids.to_frame("h").with_row_index(ROW, offset=1).drop_nulls()
        frame = frame.filter(pl.col("h").is_duplicated())
        firsts = frame.group_by("h").agg(pl.col(ROW).min().alias("first"))
        later = frame.join(firsts, on="h").filter(pl.col(ROW) != pl.col("first")).sort(ROW)
        rows = later.get_column(ROW).head(ROW_LIMIT).to_list()
        examples = [
            f"row {r}: id already used by row {f}"
            for r, f in later.select(ROW, "first").head(5).iter_rows()
        ]
        self.report.problem("duplicate-id").merge(later.height, rows, examples)
