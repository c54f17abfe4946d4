"""The key tuples judged so far in one run, so that each row only finds its tuple's answer.

A row's key tuple stands as two independent 64-bit hashes (`keyplan.tuple_hash` and
`tuple_check`, 128 bits between them) of its keys *without* the ownership period: most clue
sets hold no member with a validity period, and their tuples get one answer for every period.
The others (`judge.DATED`) are judged per (tuple, period). Each batch of rows meets the known
tuples in one join; the tuples it brings that are new are judged from their first row in the
batch and added.

Bounded memory: once more than `limit` tuples are held, the caller `clear`s the cache (and the
lookup tables its verdict ids refer to) between two batches. An inventory whose every row is
a new combination then costs one judgement per row, in bounded memory.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from netvet.inventory.judge import BAD, DATED, JUDGED
from netvet.inventory.keyplan import CHECK, PERIOD, TUPLE

INDEX = "__netvet_index"
_AT = "__netvet_at"  # a row's position in its batch
_PLAIN = [TUPLE, CHECK]
_DATED = [TUPLE, CHECK, PERIOD]
_IDX = pl.UInt32
_CHUNKS = 32


class TupleCache:
    """Judged tuples: per tuple (or tuple and period) the index of its row in `judged`."""

    def __init__(self, judge: Callable[[pl.DataFrame], pl.DataFrame], limit: int) -> None:
        self._judge = judge  # first rows of new tuples -> the same rows with `JUDGED` columns
        self.limit = limit
        self.clear()

    def clear(self) -> None:
        self.judged: pl.DataFrame | None = None  # `JUDGED` columns, one row per answer
        self._parts: list[pl.DataFrame] = []  # answers added since `judged` was built
        self._size = 0
        self._plain = pl.DataFrame(
            schema={TUPLE: pl.UInt64, CHECK: pl.UInt64, DATED: pl.Boolean, INDEX: _IDX}
        )
        self._dated = pl.DataFrame(
            schema={TUPLE: pl.UInt64, CHECK: pl.UInt64, PERIOD: pl.Int32, INDEX: _IDX}
        )
        self.bad: dict[str, pl.Series] = {s: pl.Series([], dtype=_IDX) for s in BAD}

    @property
    def full(self) -> bool:
        return self._size > self.limit

    def index(self, batch: pl.DataFrame) -> pl.Series:
        """Per row of `batch` (key columns, hashes and whatever `judge` reads), the row of
        `judged` holding its answer; new tuples are judged first."""
        keys = batch.select(_PLAIN + [PERIOD]).with_row_index(_AT)
        found = keys.join(self._plain, on=_PLAIN, how="left", maintain_order="left")
        dated = found.get_column(DATED)
        index = found.get_column(INDEX)
        new = dated.is_null()
        if new.any():
            rows = found.filter(new)
            at = rows.unique(_PLAIN, keep="first").get_column(_AT)
            added = self._add_plain(batch[at])
            rows = rows.drop(DATED, INDEX).join(added, on=_PLAIN, how="left")
            dated = dated.scatter(rows.get_column(_AT), rows.get_column(DATED))
            index = index.scatter(rows.get_column(_AT), rows.get_column(INDEX))
        if dated.any():
            rows = found.filter(dated).drop(INDEX, DATED)
            hit = rows.join(self._dated, on=_DATED, how="left", maintain_order="left")
            missing = hit.get_column(INDEX).is_null()
            if missing.any():
                at = hit.filter(missing).unique(_DATED, keep="first").get_column(_AT)
                added = self._add_dated(batch[at])
                again = hit.filter(missing).drop(INDEX).join(added, on=_DATED, how="left")
                index = index.scatter(again.get_column(_AT), again.get_column(INDEX))
            known = hit.filter(~missing)
            index = index.scatter(known.get_column(_AT), known.get_column(INDEX))
        self._build()
        return index

    def _add_plain(self, firsts: pl.DataFrame) -> pl.DataFrame:
        """Judge the first rows of new tuples; their (tuple -> dated, index) entries. A dated
        tuple's answer is kept for the period it was judged on."""
        judged = self._answers(firsts)
        entries = judged.select(
            *_PLAIN, PERIOD, DATED, (pl.int_range(pl.len(), dtype=_IDX) + self._size).alias(INDEX)
        )
        self._append(judged)
        plain = entries.select(_PLAIN + [DATED, INDEX]).with_columns(
            pl.when(~pl.col(DATED)).then(pl.col(INDEX)).alias(INDEX)
        )
        self._plain = pl.concat([self._plain, plain], rechunk=False)
        self._dated = pl.concat(
            [self._dated, entries.filter(DATED).select(_DATED + [INDEX])], rechunk=False
        )
        return plain

    def _add_dated(self, firsts: pl.DataFrame) -> pl.DataFrame:
        judged = self._answers(firsts)
        entries = judged.select(
            *_DATED, (pl.int_range(pl.len(), dtype=_IDX) + self._size).alias(INDEX)
        )
        self._append(judged)
        self._dated = pl.concat([self._dated, entries], rechunk=False)
        return entries

    def _answers(self, firsts: pl.DataFrame) -> pl.DataFrame:
        return self._judge(firsts).select(*_DATED, *JUDGED)

    def _append(self, judged: pl.DataFrame) -> None:
        for signal in BAD:
            where = judged.get_column(f"bad_{signal}").is_not_null().arg_true().cast(_IDX)
            self.bad[signal] = self.bad[signal].append(where + self._size)
        self._parts.append(judged.select(JUDGED))
        self._size += judged.height

    def answers(self, rows: pl.Series) -> pl.DataFrame:
        """The `JUDGED` columns of `rows` (indexes from `index`), as one chunk."""
        if self.judged is None:
            raise RuntimeError("index() first")
        return self.judged[rows].rechunk()

    def _build(self) -> None:
        # `judged` is kept in chunks, one per batch that added answers: rechunking it whole
        # every batch would copy every answer string again and again.
        if self._parts:
            parts = ([self.judged] if self.judged is not None else []) + self._parts
            self.judged = pl.concat(parts, rechunk=False)
            if self.judged.n_chunks() > _CHUNKS:
                self.judged = self.judged.rechunk()
            self._parts = []
            self._plain = self._plain.rechunk()
            self._dated = self._dated.rechunk()
