"""The three lookup tables identification joins rows against, grown as new keys turn up.

1. per signal, key -> clue set id, evidence text (left of the arrow), malformed-value message;
2. (clue set id, period) -> resolved clue set id, evidence text right of the arrow;
3. one resolved set id per signal -> verdict id, vendor, entity, confidence, conflict.

Id 0 is the empty set everywhere (signal absent or blank). Python computes each new entry once;
rows only ever meet the tables through polars joins. Not thread-safe: one run at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, Generic, TypeVar

import polars as pl

from netvet.inventory.clues import ClueSource, resolve
from netvet.inventory.combine import combine
from netvet.inventory.evidence import SIGNALS, UNKNOWN, ClueSet, Verdict, arrow
from netvet.inventory.signals import Periods

T = TypeVar("T", bound=Hashable)
ID = pl.UInt32


class Interned(Generic[T]):
    """Values numbered in order of first appearance; 0 is `empty`."""

    def __init__(self, empty: T) -> None:
        self.values: list[T] = [empty]
        self._ids: dict[T, int] = {empty: 0}

    def id(self, value: T) -> int:
        found = self._ids.get(value)
        if found is None:
            found = self._ids[value] = len(self.values)
            self.values.append(value)
        return found


class Table:
    """A polars lookup table, grown by the keys it has not seen yet."""

    def __init__(
        self,
        schema: dict[str, Any],
        keys: Sequence[str],
        make: Callable[[tuple[Any, ...]], tuple[Any, ...]],
    ) -> None:
        self.frame = pl.DataFrame(schema=schema)
        self.keys = list(keys)
        self.make = make  # key tuple -> value tuple, for keys not yet in the table

    def lookup(self, frame: pl.DataFrame, rename: dict[str, str] | None = None) -> pl.DataFrame:
        """`frame` with the table's values for its keys (table columns renamed by `rename`);
        keys not yet in the table are added first. Null keys get null values."""
        rename = rename or {}
        on = [rename.get(k, k) for k in self.keys]
        joined = self._join(frame, rename, on)
        probe = rename.get(self.value_columns[0], self.value_columns[0])
        missing = joined.filter(
            pl.col(probe).is_null() & pl.all_horizontal(pl.col(on).is_not_null())
        )
        if missing.height:
            self.grow(missing.select(on).unique().iter_rows())
            joined = self._join(frame, rename, on)
        return joined

    @property
    def value_columns(self) -> list[str]:
        return [c for c in self.frame.columns if c not in self.keys]

    def clear(self) -> None:
        self.frame = self.frame.clear()

    def grow(self, keys: Iterable[tuple[Any, ...]]) -> None:
        rows = [(*k, *self.make(k)) for k in keys]
        added = pl.DataFrame(rows, schema=self.frame.schema, orient="row")
        self.frame = pl.concat([self.frame, added], how="vertical", rechunk=True)

    def _join(self, frame: pl.DataFrame, rename: dict[str, str], on: list[str]) -> pl.DataFrame:
        table = self.frame.rename(rename)
        return frame.join(table, on=on, how="left", maintain_order="left")


class Tables:
    """All lookup tables of one `Identifier`."""

    def __init__(self, source: ClueSource, periods: Periods) -> None:
        self.source = source
        self.periods = periods
        self._reset()

    def _reset(self) -> None:
        self.sets: Interned[ClueSet] = Interned(())
        self._dated: list[bool] = []  # per set id: holds a clue with a validity period
        self.resolved: Interned[ClueSet] = Interned(())
        self.verdicts: Interned[Verdict] = Interned(UNKNOWN)
        key_schema = {"key": pl.String, "set": ID, "text": pl.String, "bad": pl.String}
        self.keys = {s: Table(key_schema, ["key"], self._key_entry(s)) for s in SIGNALS}
        self.periods_table = Table(
            {"set": ID, "period": pl.Int32, "res": ID, "arrow": pl.String},
            ["set", "period"],
            self._period_entry,
        )
        out = {"verdict": ID, "vendor": pl.String, "vendor_entity": pl.String}
        out |= {"vendor_confidence": pl.Float64, "vendor_conflict": pl.String}
        combo_keys = [f"r_{s}" for s in SIGNALS]
        self.combos = Table({**dict.fromkeys(combo_keys, ID), **out}, combo_keys, self._combo_entry)

    def trim(self, limit: int) -> bool:
        """Forget what grew past `limit` entries (bounded memory on inputs where nearly every
        value is new). Per-signal keys go table by table: the clue sets they point to stay.
        True when verdict ids were renumbered: answers holding them must be forgotten too."""
        for table in self.keys.values():
            if table.frame.height > limit:
                table.clear()
        if max(len(self.sets.values), len(self.resolved.values)) > limit:
            self._reset()
            return True
        if self.periods_table.frame.height > limit:
            self.periods_table.clear()
        if max(self.combos.frame.height, len(self.verdicts.values)) > limit:
            self.combos.clear()
            self.verdicts = Interned(UNKNOWN)
            return True
        return False

    def renumbers(self, limit: int) -> bool:
        """Whether `trim(limit)` would renumber the verdict ids."""
        sets = max(len(self.sets.values), len(self.resolved.values))
        return max(sets, self.combos.frame.height, len(self.verdicts.values)) > limit

    def dated_sets(self) -> pl.Series:
        """Ids of the clue sets holding a clue with a validity period: only they can resolve
        differently on different days."""
        for clues in self.sets.values[len(self._dated) :]:
            self._dated.append(any(c.valid_from or c.valid_to for c in clues))
        return pl.Series(self._dated, dtype=pl.Boolean).arg_true().cast(ID)

    def _key_entry(self, signal: str) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
        def make(key: tuple[Any, ...]) -> tuple[Any, ...]:
            value = key[0].strip()
            if not value:  # keys are untrimmed text (`keyplan`): blank says nothing
                return 0, None, None
            clues, text, bad = self.source.clues(signal, value)
            return self.sets.id(clues), text, bad

        return make

    def _period_entry(self, key: tuple[Any, ...]) -> tuple[Any, ...]:
        set_id, period = key
        clues = resolve(self.sets.values[set_id], self.periods.day(period))
        return self.resolved.id(clues), arrow(clues)

    def _combo_entry(self, key: tuple[Any, ...]) -> tuple[Any, ...]:
        v = combine([self.resolved.values[i] for i in key])
        return self.verdicts.id(v), v.vendor, v.entity, v.confidence, v.conflict
