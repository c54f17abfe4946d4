"""The key tuples judged so far in one run, so that each row only finds its tuple's answer.

A row's key tuple stands as two independent 64-bit hashes (`keyplan.tuple_hash` and
`tuple_check`, 128 bits between them) of its keys *without* the ownership period: most clue
sets hold no member with a validity period, and their tuples get one answer for every period.
The others (`judge.DATED`) are judged per (tuple, period). Each batch of rows meets the known
tuples in one join; the tuples it brings that are new are judged from their first row in the
batch and added.

The join is on the first hash alone while no two tuples share it: polars joins one 64-bit
column three times faster than two (those are row-encoded first), and the join is most of a
batch's cost. The second hash is still compared on every row: a tuple whose first hash is
already taken by another (a 64-bit collision, about one in 10^10 for 100,000 tuples) switches
the cache to joining on both, and the batch is looked up again.

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
_SEEN = "__netvet_seen"  # the second hash of the known tuple a row's first hash found
_PLAIN = [TUPLE, CHECK]
_DATED = [TUPLE, CHECK, PERIOD]
_IDX = pl.UInt32


class _Collision(Exception):
    """Two tuples share a first hash: join on both hashes from now on."""


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
        self.wide = False  # joining on both hashes (see the module docstring)

    @property
    def full(self) -> bool:
        return self._size > self.limit

    def index(self, batch: pl.DataFrame) -> pl.Series:
        """Per row of `batch` (key columns, hashes and whatever `judge` reads), the row of
        `judged` holding its answer; new tuples are judged first. `judged` is one chunk."""
        try:
            index = self._index(batch)
        except _Collision:
            self.wide = True
            index = self._index(batch)
        self._build()
        return index

    def _index(self, batch: pl.DataFrame) -> pl.Series:
        keys = batch.select(_DATED).with_row_index(_AT)
        found = self._find(keys, self._plain, _PLAIN)
        dated = found.get_column(DATED)
        index = found.get_column(INDEX)
        new = dated.is_null()
        if new.any():
            rows = found.filter(new)
            firsts = rows.unique(_PLAIN, keep="first")
            if not self.wide and firsts.get_column(TUPLE).is_duplicated().any():
                raise _Collision
            added = self._add_plain(batch[firsts.get_column(_AT)])
            rows = rows.drop(DATED, INDEX).join(added, on=self._on(_PLAIN), how="left")
            dated = dated.scatter(rows.get_column(_AT), rows.get_column(DATED))
            index = index.scatter(rows.get_column(_AT), rows.get_column(INDEX))
        if dated.any():
            rows = found.filter(dated).drop(INDEX, DATED)
            hit = self._find(rows, self._dated, _DATED)
            missing = hit.get_column(INDEX).is_null()
            if missing.any():
                at = hit.filter(missing).unique(_DATED, keep="first").get_column(_AT)
                added = self._add_dated(batch[at])
                again = hit.filter(missing).drop(INDEX).join(added, on=self._on(_DATED), how="left")
                index = index.scatter(again.get_column(_AT), again.get_column(INDEX))
            known = hit.filter(~missing)
            index = index.scatter(known.get_column(_AT), known.get_column(INDEX))
        return index

    def _on(self, columns: list[str]) -> list[str]:
        return columns if self.wide else [c for c in columns if c != CHECK]

    def _find(self, keys: pl.DataFrame, table: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
        """`keys` with `table`'s other columns for their known tuples (null where unknown)."""
        if self.wide:
            return keys.join(table, on=columns, how="left", maintain_order="left")
        found = keys.join(
            table.rename({CHECK: _SEEN}), on=self._on(columns), how="left", maintain_order="left"
        )
        seen = found.get_column(_SEEN)
        if (seen.is_not_null() & (seen != found.get_column(CHECK))).any():
            raise _Collision
        return found.drop(_SEEN)

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
        if not self.wide and firsts.select(TUPLE, PERIOD).is_duplicated().any():
            raise _Collision
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

    def _build(self) -> None:
        # One chunk, so that each batch gathers its rows' answers straight from it: a batch
        # adds answers only for the tuples it brings, and after the first few, few are new.
        if self._parts:
            parts = ([self.judged] if self.judged is not None else []) + self._parts
            self.judged = pl.concat(parts, rechunk=True)
            self._parts = []
            self._plain = self._plain.rechunk()
            self._dated = self._dated.rechunk()
