"""Which key columns a run computes for the rows, built from the field mapping (see `signals`
for what each key is), and the two hashes that stand for a row's key tuple in `rowrun`."""

from __future__ import annotations

import polars as pl

from netvet.inventory.clues import ClueSource
from netvet.inventory.evidence import SIGNALS
from netvet.inventory.importers import FieldMap
from netvet.inventory.importers.base import as_text
from netvet.inventory.signals import (
    DATE_FORMATS,
    Periods,
    date_formats,
    joined_keys,
    mac_digits,
    mac_key,
    parse_dates,
    present,
    token_key,
)

PREFIX = "__netvet_"
KEY = {s: f"{PREFIX}{s}" for s in SIGNALS}
PERIOD = f"{PREFIX}period"
DATE_BAD = f"{PREFIX}date_bad"
KEYS = [*KEY.values(), PERIOD, DATE_BAD]
DESCR_TEXT = f"{PREFIX}descr_text"
DESCR_REPEAT = 0.5  # hash sysDescr when the sample has at most this many distinct texts per row
TUPLE = f"{PREFIX}tuple"  # 64-bit hash of a row's KEYS but the period
CHECK = f"{PREFIX}check"  # a second, independent one
HASHED = [k for k in KEYS if k != PERIOD]
FIELD_OF = {
    "manufacturer": "manufacturer",
    "pen": "sys_object_id",
    "oui": "mac",
    "sysdescr": "sys_descr",
    "model": "model",
}


class KeyPlan:
    """The key expressions of one inventory."""

    def __init__(
        self,
        fields: FieldMap,
        schema: pl.Schema,
        source: ClueSource,
        periods: Periods,
        default_period: int,
    ) -> None:
        self.fields = fields
        self.schema = schema
        self.source = source
        self.periods = periods
        self.default_period = default_period
        self.signals = [s for s in SIGNALS if fields.all(FIELD_OF[s])]
        self.date_formats: tuple[str, ...] = DATE_FORMATS
        # sysDescr as a hash of its text (the regex then runs once per distinct text, in
        # `rowrun`), unless `sample` finds texts too varied (host names in them): then the
        # vendor word is extracted row by row and the distinct tuples stay few.
        self.descr_hashed = False

    def sample(self, frame: pl.LazyFrame, rows: int = 10_000) -> None:
        """Settle what the first `rows` rows tell: the date formats in use, and whether
        sysDescr texts repeat enough to be hashed per row and read once per distinct text."""
        exprs = []
        date = self.fields.get("date")
        if date is not None and not _is_date_type(self.schema[date]):
            exprs.append(present(self._text(date)).alias("date"))
        descr = self.fields.get("sys_descr")
        if descr is not None:
            exprs.append(present(self._text(descr)).alias("descr"))
        if not exprs:
            return
        head = frame.select(exprs).head(rows).collect()
        if "date" in head.columns:
            dates = head.get_column("date").drop_nulls()
            self.date_formats = date_formats(dates.head(2000).to_list())
        if "descr" in head.columns:
            texts = head.get_column("descr").drop_nulls()
            self.descr_hashed = texts.n_unique() <= max(1, texts.len()) * DESCR_REPEAT

    def add(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """`frame` with the `KEYS` columns added."""
        first: list[pl.Expr] = []
        second: list[pl.Expr] = []  # from `first`
        keys: list[pl.Expr] = []
        for signal in SIGNALS:
            texts = [self._text(c) for c in self.fields.all(FIELD_OF[signal])]
            if not texts:
                keys.append(pl.lit(None, pl.String).alias(KEY[signal]))
            elif signal == "oui":
                trimmed = [f"{PREFIX}mac{i}" for i in range(len(texts))]
                digits = [f"{PREFIX}digits{i}" for i in range(len(texts))]
                first += [t.str.strip_chars().alias(n) for t, n in zip(texts, trimmed, strict=True)]
                second += [
                    mac_digits(pl.col(t)).alias(d) for t, d in zip(trimmed, digits, strict=True)
                ]
                each = [
                    mac_key(pl.col(t), pl.col(d), self.source.blocks)
                    for t, d in zip(trimmed, digits, strict=True)
                ]
                keys.append((each[0] if len(each) == 1 else joined_keys(each)).alias(KEY["oui"]))
            elif signal == "sysdescr" and self.descr_hashed:
                keys.append(texts[0].hash().cast(pl.String).alias(KEY[signal]))
            elif signal == "sysdescr":
                keys.append(token_key(texts[0], self.source.tokens.pattern).alias(KEY[signal]))
            else:
                # The text as it is: trimming ten million values cost more than judging the
                # few distinct untrimmed spellings (`tables` trims each once).
                keys.append(texts[0].alias(KEY[signal]))
        date = self.fields.get("date")
        if date is None:
            keys.append(pl.lit(self.default_period, pl.Int32).alias(PERIOD))
            keys.append(pl.lit(False).alias(DATE_BAD))
        else:
            day = pl.col(f"{PREFIX}day")
            parsed = parse_dates(pl.col(date), self.schema[date], self.date_formats)
            first.append(parsed.alias(f"{PREFIX}day"))
            period = self.periods.expr(day).fill_null(self.default_period).cast(pl.Int32)
            keys.append(period.alias(PERIOD))
            # Blank dates are set aside when the batch reports these rows (few).
            keys.append((pl.col(date).is_not_null() & day.is_null()).alias(DATE_BAD))
        temporary = [e.meta.output_name() for e in first + second]
        frame = frame.with_columns(first)
        if second:
            frame = frame.with_columns(second)
        return frame.with_columns(keys).drop(temporary)

    @staticmethod
    def tuple_hash() -> pl.Expr:
        """The `TUPLE` column, from the `KEYS` columns but the period (see `tuplecache`)."""
        return pl.struct(HASHED).hash(seed=0).alias(TUPLE)

    @staticmethod
    def tuple_check() -> pl.Expr:
        """A second, independent hash of the same keys: with `TUPLE`, 128 bits that tell
        distinct tuples apart (tuples are told apart by the pair, not by the six keys)."""
        return pl.struct(HASHED).hash(seed=0x6E657476).alias(CHECK)

    def _text(self, column: str) -> pl.Expr:
        return as_text(column, self.schema[column])

    def descr_text(self) -> pl.Expr:
        """The sysDescr text a hashed key stands for (null when the key is the word itself)."""
        descr = self.fields.get("sys_descr")
        if descr is None or not self.descr_hashed:
            return pl.lit(None, pl.String).alias(DESCR_TEXT)
        return present(self._text(descr)).alias(DESCR_TEXT)

    def descr_token(self) -> pl.Expr:
        """The sysDescr lookup key of a distinct tuple: its vendor word."""
        if not self.descr_hashed:
            return pl.col(KEY["sysdescr"])
        return token_key(pl.col(DESCR_TEXT), self.source.tokens.pattern)


def _is_date_type(dtype: pl.DataType) -> bool:
    return dtype == pl.Date or isinstance(dtype, pl.Datetime)
