"""Row signals reduced to small lookup keys with polars expressions, so that millions of rows
cost a few vectorised passes and Python only ever sees distinct keys.

- MAC: the common spellings (colon, dash or blank separated octets, Cisco dotted, bare hex)
  become the prefix of the registry block they fall in, as far as the block sizes go: 9 hex
  digits inside an MA-S/IAB block, 7 inside an MA-M block, else the 24-bit OUI as 6 (the
  registry then looks the key up among blocks no longer than it: `OuiRegistry.lookup_prefix`),
  so Python judges each block once, not each of its sub-ranges. "ZERO" marks the all-zero
  placeholder, "LOCAL" a locally administered address and "GROUP" a multicast one: their
  prefixes name no maker, and randomised addresses (phones, laptops, VMs) would otherwise each
  be a key, and each row a combination, of their own. Any other spelling (octets without leading
  zeros, several MACs in one cell, garbage) is kept as `RAW:<text>` for Python to read with
  `registry.mac.parse_mac` (and report when malformed). Several MAC columns give their keys
  sorted and joined by `JOIN`.
- sysDescr: the first vendor word it contains (see `matchers.TokenIndex`), lower-cased.
- manufacturer, model, sysObjectID: the text as it is; Python trims and reads each distinct
  value once (a sysObjectID in any form `registry.pen.parse_oid` takes; its clues are worked
  out once per enterprise number).
- date: the row's purchase/installation date reduced to a *period*: the number of ownership
  boundary days (divestitures, acquisitions in the vendor families) on or before it. Rows of
  one period judge ownership alike. Accepted: ISO `2021-03-04` (a time may follow),
  `2021/03/04`, `04.03.2021`, `20210304`, and `D/M/YYYY` or `M/D/YYYY` when only one reading
  is a valid date or both agree; `03/04/2021` is ambiguous and reported. Parquet date and
  datetime columns are used as they are.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass

import polars as pl

from netvet.inventory.families import Families, date_bounds
from netvet.inventory.registry.mac import GROUP_BIT, LOCAL_BIT

HEX = "[0-9A-Fa-f]"
_FULL = (
    rf"^{HEX}{{2}}(?::{HEX}{{2}}){{5}}$|^{HEX}{{2}}(?:-{HEX}{{2}}){{5}}$"
    rf"|^{HEX}{{4}}\.{HEX}{{4}}\.{HEX}{{4}}$|^{HEX}{{12}}$|^{HEX}{{2}}(?: {HEX}{{2}}){{5}}$"
)
_ZEROS = r"^[0:.\- ]+$"
LIST_SEPARATORS = r"[\s,;|]+"
RAW = "RAW:"
JOIN = "\x1f"  # between the keys of several MAC columns (RAW text may hold any printable)
ZERO = "ZERO"
LOCAL = "LOCAL"  # the U/L bit of the first octet
GROUP = "GROUP"  # the I/G bit (multicast and broadcast)
# The first octet's second hex digit carries both bits (I/G is bit 0, U/L bit 1).
_GROUP_DIGITS = [f"{d:X}" for d in range(16) if d & 1]
_LOCAL_DIGITS = [f"{d:X}" for d in range(16) if d & 2 and not d & 1]


def present(expr: pl.Expr) -> pl.Expr:
    """Trimmed text, null when blank."""
    text = expr.str.strip_chars()
    return pl.when(text.str.len_bytes() > 0).then(text)


def mac_digits(text: pl.Expr) -> pl.Expr:
    """The first 9 hex digits, upper-case, of a MAC in one of the common spellings (`text`
    trimmed); meaningless for other text, which `mac_key` sets aside first. Nine are all a key
    keeps, and the first 13 characters hold them in every spelling: cutting there and dropping
    separators with literal replaces costs half a regex replace over the whole value."""
    digits = text.str.slice(0, 13)
    for separator in ":-. ":
        digits = digits.str.replace_all(separator, "", literal=True)
    return digits.str.slice(0, 9).str.to_uppercase()


@dataclass(frozen=True, slots=True)
class BlockPrefixes:
    """Upper-case hex prefixes: OUIs carved into smaller blocks, and those blocks."""

    carved: frozenset[str]  # 6 digits
    m28: frozenset[str]  # 7 digits (MA-M)
    s36: frozenset[str]  # 9 digits (MA-S, IAB)

    def series(self) -> tuple[pl.Series, pl.Series, pl.Series]:
        carved, m28, s36 = (
            pl.Series(sorted(p), dtype=pl.String) for p in (self.carved, self.m28, self.s36)
        )
        return carved, m28, s36


def mac_key(text: pl.Expr, digits: pl.Expr, blocks: BlockPrefixes) -> pl.Expr:
    """The OUI lookup key of a MAC value (see the module docstring), from its trimmed `text`
    and its `mac_digits` (both computed once beforehand: polars would evaluate them once per
    use here)."""
    carved, m28, s36 = blocks.series()
    oui = digits.str.slice(0, 6)
    m28_key = digits.str.slice(0, 7)
    sub_block = (
        pl.when(digits.is_in(s36.implode()))
        .then(digits)
        .when(m28_key.is_in(m28.implode()))
        .then(m28_key)
        .otherwise(oui)
    )
    return (
        pl.when(text.str.len_bytes() == 0)
        .then(None)
        .when(~text.str.contains(_FULL))
        .then(RAW + text)
        .when(text.str.contains(_ZEROS))  # a valid spelling of nothing but zeros
        .then(pl.lit(ZERO))
        .when(digits.str.slice(1, 1).is_in(_GROUP_DIGITS))
        .then(pl.lit(GROUP))
        .when(digits.str.slice(1, 1).is_in(_LOCAL_DIGITS))
        .then(pl.lit(LOCAL))
        .when(oui.is_in(carved.implode()))
        .then(sub_block)
        .otherwise(oui)
    )


def joined_keys(keys: list[pl.Expr]) -> pl.Expr:
    """One key for several MAC columns: their keys, distinct, sorted, joined by `JOIN`."""
    listed = pl.concat_list(keys).list.drop_nulls()
    joined = listed.list.unique().list.sort().list.join(JOIN)
    return pl.when(joined.str.len_bytes() > 0).then(joined)


def oui_key(value: int, blocks: BlockPrefixes) -> str:
    """`mac_key` for one parsed address (Python side, for RAW values)."""
    if value == 0:
        return ZERO
    if value & GROUP_BIT:
        return GROUP
    if value & LOCAL_BIT:
        return LOCAL
    digits = f"{value:012X}"
    if digits[:6] not in blocks.carved:
        return digits[:6]
    if digits[:9] in blocks.s36:
        return digits[:9]
    return digits[:7] if digits[:7] in blocks.m28 else digits[:6]


def token_key(expr: pl.Expr, pattern: str) -> pl.Expr:
    """The first vendor word of free text, lower-cased with single blanks."""
    found = expr.str.extract(pattern, 1)
    return found.str.to_lowercase().str.replace_all(r"\s+", " ")


class Periods:
    """Ownership boundaries of the vendor families, and the representative day of each period
    between them (any day of a period gives the same answer to `Hit.active_on`)."""

    def __init__(self, families: Families) -> None:
        days: set[dt.date] = set()
        for family in families:
            for member in family.members:
                for bound in (member.valid_from, member.valid_to):
                    if bound:
                        first, last = date_bounds(bound)
                        days |= {first, last, last + dt.timedelta(days=1)}
        self.breaks = sorted(days)

    def index(self, day: dt.date) -> int:
        """The period of `day`: how many boundaries fall on or before it."""
        return bisect.bisect_right(self.breaks, day)

    def expr(self, dates: pl.Expr) -> pl.Expr:
        """Period index of each date (null stays null)."""
        if not self.breaks:
            return pl.when(dates.is_not_null()).then(pl.lit(0, pl.Int32))
        count = pl.sum_horizontal([(dates >= b).cast(pl.Int32) for b in self.breaks])
        return pl.when(dates.is_not_null()).then(count)  # sum_horizontal counts nulls as 0

    def day(self, index: int) -> dt.date:
        """A day of period `index`."""
        if index <= 0:
            return self.breaks[0] - dt.timedelta(days=1) if self.breaks else dt.date(1970, 1, 1)
        return self.breaks[index - 1]


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%Y%m%d", "%d/%m/%Y", "%m/%d/%Y")
_SLASHED = ("%d/%m/%Y", "%m/%d/%Y")


def date_formats(sample: list[str]) -> tuple[str, ...]:
    """The formats a column's sample is written in (all of them for an empty sample), so that
    the vectorised parse only tries those: a file keeps one convention. Day/month order is
    settled when a sample value can only be read one way."""
    found: list[str] = []
    for fmt in DATE_FORMATS:
        for text in sample:
            try:
                dt.datetime.strptime(_first(text, fmt), fmt)
            except ValueError:
                continue
            found.append(fmt)
            break
    if all(f in found for f in _SLASHED):
        only = {f for f in _SLASHED if any(_reads_only(t, f) for t in sample)}
        if len(only) == 1:
            found.remove(next(f for f in _SLASHED if f not in only))
    return tuple(found) or DATE_FORMATS


def _first(text: str, fmt: str) -> str:
    word = text.strip().split(" ")[0] if text.strip() else ""
    return word[:10] if fmt in ("%Y-%m-%d", "%Y/%m/%d") else word


def _reads_only(text: str, fmt: str) -> bool:
    """Whether `text` is a date in `fmt` but not in the other day/month order."""
    other = _SLASHED[1 - _SLASHED.index(fmt)]
    try:
        dt.datetime.strptime(_first(text, fmt), fmt)
    except ValueError:
        return False
    try:
        dt.datetime.strptime(_first(text, other), other)
    except ValueError:
        return True
    return False


def parse_dates(
    expr: pl.Expr, dtype: pl.DataType, formats: tuple[str, ...] = DATE_FORMATS
) -> pl.Expr:
    """A column of dates as polars dates, trying `formats` (see the module docstring); a value
    both day/month orders read differently is null (ambiguous)."""
    if dtype == pl.Date:
        return expr
    if isinstance(dtype, pl.Datetime):
        return expr.dt.date()
    text = present(expr.cast(pl.String, strict=False))
    first = text.str.extract(r"^(\S+)", 1)  # only built into the expression where needed
    tries = []
    for fmt in formats:
        if fmt in _SLASHED:
            continue
        # ISO forms: the date is the first ten characters, whatever time follows.
        source = text.str.slice(0, 10) if fmt in ("%Y-%m-%d", "%Y/%m/%d") else first
        parsed = source.str.to_date(fmt, strict=False)
        if fmt == "%Y%m%d":
            parsed = pl.when(first.str.contains(r"^\d{8}$")).then(parsed)
        tries.append(parsed)
    readings = [first.str.to_date(f, strict=False) for f in _SLASHED if f in formats]
    if len(readings) == 2:
        dmy, mdy = readings
        ambiguous = dmy.is_not_null() & mdy.is_not_null() & (dmy != mdy)
        tries.append(pl.when(ambiguous).then(None).otherwise(pl.coalesce(dmy, mdy)))
    else:
        tries += readings
    return pl.coalesce(tries) if len(tries) > 1 else tries[0]
