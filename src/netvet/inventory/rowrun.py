"""One identification run over one inventory, in two passes over the rows.

Pass 1 (`survey`) computes the key columns (`keyplan`) of every row and keeps, in row order,
two independent 64-bit hashes of each row's key tuple (and a hash of its id). `judge` finds the
distinct tuples among those hashes, fetches the keys of one row per tuple (`representatives`: a
scan whose row filter runs before the key expressions), meets them with the lookup tables
(`tables`: Python computes only what is new), tallies verdicts and bad values, and gives every
row the index of its judged tuple. Pass 2 (`apply`) reads the rows again and gathers each row's
output columns by that index: no key is computed twice and no join has to re-sequence the
stream. Memory: about 30 bytes per row plus the distinct tuples.

Output columns that already exist in the input are replaced (re-identifying netvet's own
output), except one the mapping reads a signal from, which is kept as `<name>_input`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import polars as pl

from netvet.inventory.evidence import SIGNALS
from netvet.inventory.importers import Inventory
from netvet.inventory.importers.base import as_text
from netvet.inventory.importers.report import ROW_LIMIT
from netvet.inventory.keyplan import CHECK, DATE_BAD, KEY, KEYS, PERIOD, TUPLE, KeyPlan
from netvet.inventory.signals import present
from netvet.inventory.summary import IdentifyReport, Summary

if TYPE_CHECKING:
    from netvet.inventory.identify import Identifier

ROW = "__netvet_row"
ID = "__netvet_id"
INDEX = "__netvet_index"
TOKEN = "__netvet_token"  # a distinct tuple's sysDescr vendor word
OUTPUT: dict[str, pl.DataType] = {
    "vendor": pl.String(),
    "vendor_entity": pl.String(),
    "vendor_confidence": pl.Float64(),
    "vendor_evidence": pl.String(),
    "vendor_conflict": pl.String(),
}
_BAD_KIND = {"oui": "bad-mac", "pen": "bad-oid"}


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
        self.summary = Summary()
        self.judged: pl.DataFrame | None = None
        self.index: pl.Series | None = None  # per row: its judged tuple

    def survey(self) -> pl.LazyFrame:
        """Pass 1: per row, in order, the two hashes of its key tuple (and of its id)."""
        rows = self.plan.add(self.inventory.frame)
        columns = [self.plan.tuple_hash(), self.plan.tuple_check()]
        id_column = self.inventory.fields.get("id")
        if id_column is not None:
            columns.append(
                present(as_text(id_column, self.plan.schema[id_column])).hash().alias(ID)
            )
        return rows.select(columns)

    def representatives(self, firsts: pl.Series) -> pl.LazyFrame:
        """The key tuples of rows `firsts` (0-based): the filter on the row number is pushed
        below the key expressions, so they run on those rows only."""
        rows = self.inventory.frame.with_row_index(ROW).filter(pl.col(ROW).is_in(firsts.implode()))
        date = self.inventory.fields.get("date")
        example = pl.lit(None, pl.String)
        if date is not None:
            example = pl.when(pl.col(DATE_BAD)).then(as_text(date, self.plan.schema[date]))
        columns = [*KEYS, self.plan.tuple_hash(), self.plan.tuple_check()]
        return self.plan.add(rows).select(
            *columns, example.alias("date_example"), self.plan.descr_text()
        )

    def judge(self, hashes: pl.DataFrame, collect: Callable[[pl.LazyFrame], pl.DataFrame]) -> None:
        """Find the distinct tuples among the row hashes of pass 1, fetch and judge them, tally
        the report, and give every row the index of its judged tuple."""
        tuples = (
            hashes.with_row_index(ROW)
            .group_by(TUPLE, CHECK)
            .agg(pl.col(ROW).min().alias("first"), pl.len().alias("rows"))
        )
        groups = collect(self.representatives(tuples.get_column("first")))
        groups = groups.join(tuples, on=[TUPLE, CHECK]).with_columns(
            self.plan.descr_token().alias(TOKEN)
        )
        judged = _judge(groups, self.ident, self.plan.signals).with_row_index(INDEX)
        self.index = _row_index(hashes, judged)
        for verdict, n in judged.group_by("verdict").agg(pl.col("rows").sum()).iter_rows():
            self.summary.add(self.ident.tables.verdicts.values[verdict], n)
        for signal, kind in _BAD_KIND.items():
            self._problems(judged.filter(pl.col(f"bad_{signal}").is_not_null()), kind)
        self._problems(judged.filter(pl.col(DATE_BAD)), "bad-date")
        if ID in hashes.columns:
            self._duplicates(hashes.get_column(ID))
        self.report.rows = hashes.height
        self.judged = judged.select(*OUTPUT)

    def apply(self) -> pl.LazyFrame:
        """Pass 2: every row with its output columns, in input order, gathered by index."""
        if self.judged is None or self.index is None:
            raise RuntimeError("judge() first")
        rows = self.inventory.frame.drop(self.dropped).rename(self.renamed)
        at = pl.lit(self.index).gather(pl.col(ROW)).alias(INDEX)
        looked_up = [pl.lit(self.judged.get_column(c)).gather(pl.col(INDEX)) for c in OUTPUT]
        rows = rows.with_row_index(ROW).with_columns(at).with_columns(looked_up)
        return rows.drop(ROW, INDEX)

    def finish(self) -> IdentifyReport:
        return IdentifyReport(self.report, self.summary, self.as_of, self.ident.registries())

    def _problems(self, bad: pl.DataFrame, kind: str) -> None:
        """Count the rows of `bad` tuples and name the first of them."""
        if not bad.height or self.index is None:
            return
        where = self.index.is_in(bad.get_column(INDEX).implode()).arg_true()
        numbers = (where.head(ROW_LIMIT) + 1).to_list()
        messages = dict(zip(bad.get_column(INDEX), _messages(bad, kind), strict=True))
        examples = [f"row {n}: {messages[self.index[n - 1]]}" for n in numbers[:5]]
        self.report.problem(kind).merge(where.len(), numbers, examples)

    def _duplicates(self, ids: pl.Series) -> None:
        """Rows whose id an earlier row already used (ids compared by 64-bit hash; blank ids
        are not ids)."""
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


def _row_index(hashes: pl.DataFrame, judged: pl.DataFrame) -> pl.Series:
    """Per row, the index of its judged tuple: by the first hash alone when it tells the
    distinct tuples apart (nearly always), else by both hashes."""
    tuples = judged.get_column(TUPLE)
    if not tuples.is_duplicated().any():
        index = judged.get_column(INDEX)
        return hashes.get_column(TUPLE).replace_strict(tuples, index, return_dtype=pl.UInt32)
    keyed = judged.select(TUPLE, CHECK, INDEX)
    joined = hashes.select(TUPLE, CHECK).join(
        keyed, on=[TUPLE, CHECK], how="left", maintain_order="left"
    )
    return joined.get_column(INDEX)


def _messages(bad: pl.DataFrame, kind: str) -> list[str]:
    """The message of each bad tuple."""
    if kind == "bad-date":
        return [
            f"not a date in an accepted form, or ambiguous: {value!r}"
            for value in bad.get_column("date_example")
        ]
    signal = next(s for s, k in _BAD_KIND.items() if k == kind)
    return [str(m) for m in bad.get_column(f"bad_{signal}")]


def _judge(groups: pl.DataFrame, ident: Identifier, signals: list[str]) -> pl.DataFrame:
    """Distinct key tuples with their verdict, output columns and malformed-value messages."""
    tables = ident.tables
    frame = groups
    for s in SIGNALS:
        key = TOKEN if s == "sysdescr" else KEY[s]
        names = {"key": key, "set": f"set_{s}", "text": f"text_{s}", "bad": f"bad_{s}"}
        frame = tables.keys[s].lookup(frame, names).with_columns(pl.col(f"set_{s}").fill_null(0))
    for s in SIGNALS:
        names = {"set": f"set_{s}", "period": PERIOD, "res": f"r_{s}", "arrow": f"arrow_{s}"}
        frame = tables.periods_table.lookup(frame, names)
    frame = tables.combos.lookup(frame)
    # A value that matched nothing and was set aside for no reason says nothing: left out.
    fragments = [
        pl.when(pl.col(f"arrow_{s}") != "→-").then(pl.col(f"text_{s}") + pl.col(f"arrow_{s}"))
        for s in signals
    ]
    evidence = pl.concat_str(fragments, separator="; ", ignore_nulls=True) if fragments else None
    return frame.with_columns(
        (evidence if evidence is not None else pl.lit("")).fill_null("").alias("vendor_evidence")
    )
